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

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_busy_port_leaves_no_fresh_vault_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = carnetd(&data).args(["--listen", &addr]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains(&format!("cannot listen on {addr}")),
        "{}",
        stderr_of(&out)
    );
    for file in ["vault.key.age", "identity.txt", "owner.token", "carnet.db"] {
        assert!(
            !data.join(file).exists(),
            "{file} was created although carnetd could not listen"
        );
    }
}

#[test]
fn an_unreachable_public_url_is_warned_about_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--listen", "0.0.0.0:8787", "print-config"][..],
        &["print-config", "--public-url", "http://[::]:8787"][..],
    ] {
        let out = carnetd(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(
            err.contains("no vendor can reach") && err.contains("--public-url"),
            "{args:?}: {err}"
        );
    }
    let out = carnetd(dir.path())
        .args([
            "--listen",
            "0.0.0.0:8787",
            "--public-url",
            "https://carnet.example.net",
        ])
        .arg("print-config")
        .output()
        .unwrap();
    assert!(
        !stderr_of(&out).contains("no vendor can reach"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_misspelt_carnet_variable_is_named_with_the_one_meant() {
    let dir = tempfile::tempdir().unwrap();
    let out = carnetd(dir.path())
        .env("CARNET_LISTN", "127.0.0.1:9")
        .env("CARNET_WHATEVER_THIS_IS", "1")
        .env("CARNET_SERVER", "http://127.0.0.1:8787")
        .arg("print-config")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("CARNET_LISTN") && err.contains("did you mean CARNET_LISTEN"),
        "{err}"
    );
    assert!(err.contains("CARNET_WHATEVER_THIS_IS"), "{err}");
    // The carnet CLI's own variable is not carnetd's business.
    assert!(!err.contains("CARNET_SERVER"), "{err}");
}

#[test]
fn a_log_level_that_names_no_level_is_said_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = carnetd(dir.path())
        .env("CARNET_LOG_LEVEL", "verbose")
        .arg("print-config")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("\"verbose\"") && err.contains("logs nothing"),
        "{err}"
    );
    for level in ["debug", "WARN", "carnet_server=debug,info"] {
        let out = carnetd(dir.path())
            .env("CARNET_LOG_LEVEL", level)
            .arg("print-config")
            .output()
            .unwrap();
        assert!(
            !stderr_of(&out).contains("logs nothing"),
            "{level}: {}",
            stderr_of(&out)
        );
    }
}

#[test]
fn serving_flags_are_refused_by_verbs_that_do_not_serve() {
    let dir = tempfile::tempdir().unwrap();
    let help = carnetd(dir.path())
        .args(["init", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    assert!(text.contains("--data-dir"), "{text}");
    for flag in ["--listen", "--public-url", "--log-format"] {
        assert!(!text.contains(flag), "init --help shows {flag}:\n{text}");
    }
    let serve = carnetd(dir.path())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&serve.stdout).contains("--listen"));

    let after = carnetd(dir.path())
        .args(["init", "--listen", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(after.status.code(), Some(2), "{}", stderr_of(&after));
    let before = carnetd(dir.path())
        .args(["--listen", "127.0.0.1:1", "init"])
        .output()
        .unwrap();
    assert!(!before.status.success());
    assert!(
        stderr_of(&before).contains("--listen") && stderr_of(&before).contains("carnetd init"),
        "{}",
        stderr_of(&before)
    );
    assert!(
        !dir.path().join("vault.key.age").exists(),
        "a refused init created a vault"
    );
    let shown = carnetd(dir.path())
        .args(["print-config", "--listen", "127.0.0.1:9003"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("127.0.0.1:9003"));
}
