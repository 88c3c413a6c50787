//! The `carnetd` binary's command line: configuration layers and verbs that do not serve.
//! (Serving is tested end to end in the `carnet-tests` crate.)
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

use std::process::Command;

fn carnetd(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carnetd"));
    c.arg("--data-dir").arg(data_dir);
    for var in [
        "CARNET_CONFIG",
        "CARNET_LISTEN",
        "CARNET_PUBLIC_URL",
        "CARNET_IDENTITY_FILE",
    ] {
        c.env_remove(var);
    }
    c
}

#[test]
fn print_config_shows_flags_over_environment_over_file_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("carnetd.toml"),
        "listen = \"127.0.0.1:9001\"\npublic_url = \"https://file.example\"\nlog_format = \"json\"\n",
    )
    .unwrap();
    let out = carnetd(dir.path())
        .env("CARNET_PUBLIC_URL", "https://env.example")
        .args(["--listen", "127.0.0.1:9002", "print-config"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:9002\""), "{text}");
    assert!(
        text.contains("public_url = \"https://env.example\""),
        "{text}"
    );
    assert!(text.contains("log_format = \"json\""), "{text}");
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
}

#[test]
fn an_unknown_config_key_stops_carnetd_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("carnetd.toml"),
        "listen_addr = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = carnetd(dir.path()).arg("print-config").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("listen_addr"), "{err}");
    assert!(err.contains("carnetd.toml"), "{err}");
}

#[test]
fn a_busy_listen_address_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = carnetd(dir.path())
        .args(["--listen", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

#[test]
fn owner_token_rotate_replaces_the_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let init = carnetd(dir.path()).arg("init").output().unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let before = std::fs::read_to_string(dir.path().join("owner.token")).unwrap();
    let out = carnetd(dir.path())
        .args(["owner-token", "rotate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(dir.path().join("owner.token")).unwrap();
    assert_ne!(before, after);
    assert_eq!(after.trim().len(), 43);
}
