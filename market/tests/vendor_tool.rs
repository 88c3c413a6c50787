//! `carnet-vendor` as a person runs it, where no relay is needed: its keys, and mistakes on the
//! command line, which fail at once with a hint instead of waiting for a relay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{path_str, stderr, vendor_cmd};

#[test]
fn keygen_prints_the_public_keys_and_keeps_the_private_file_private() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor.key");
    let out = vendor_cmd()
        .args(["keygen", "--out", path_str(&key)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("ed25519: ") && lines[1].starts_with("x25519: age1"));
    let file = std::fs::read_to_string(&key).unwrap();
    assert!(file.contains("AGE-SECRET-KEY-1"));
    // The private key never reaches stdout or stderr.
    assert!(!text.contains("AGE-SECRET-KEY") && !stderr(&out).contains("AGE-SECRET-KEY"));
    let mode = std::fs::metadata(&key).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let again = vendor_cmd()
        .args(["keygen", "--out", path_str(&key), "--json"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("never overwritten"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), file);
}

#[test]
fn command_line_mistakes_fail_at_once_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor.key");
    vendor_cmd()
        .args(["keygen", "--out", path_str(&key)])
        .output()
        .unwrap();
    // Nothing listens on this relay: each mistake must be reported before trying to reach it.
    let base = |sub: &str| {
        let mut c = vendor_cmd();
        c.args([
            sub,
            "--relay",
            "nats://127.0.0.1:9",
            "--key",
            path_str(&key),
            "--state",
        ])
        .arg(dir.path().join("state"));
        c
    };
    let cases: Vec<(Vec<&str>, &str, &str, i32)> = vec![
        (
            vec!["listen", "--id", "acme", "--category", "home.*"],
            "category 'home.*' is not valid",
            "hint:",
            2,
        ),
        (
            vec![
                "listen",
                "--id",
                "acme",
                "--category",
                "home",
                "--region",
                "fr",
            ],
            "region 'fr' is not valid",
            "hint:",
            2,
        ),
        (
            vec!["listen", "--id", "Acme", "--category", "home"],
            "vendor id 'Acme' is not valid",
            "hint:",
            2,
        ),
        (
            vec![
                "listen",
                "--id",
                "acme",
                "--category",
                "home",
                "--since",
                "yesterday",
            ],
            "'yesterday' is not a time",
            "RFC 3339",
            2,
        ),
        (
            vec![
                "offer",
                "--id",
                "acme",
                "abc",
                "--price",
                "1",
                "--currency",
                "EUR",
            ],
            "intent_ref 'abc' is not valid",
            "hint:",
            2,
        ),
        (
            vec![
                "offer",
                "--id",
                "acme",
                "AAAAAAAAAAAAAAAAAAAAAA",
                "--price",
                "1e3",
                "--currency",
                "EUR",
            ],
            "price '1e3' is not valid",
            "hint:",
            2,
        ),
        (
            vec![
                "offer",
                "--id",
                "acme",
                "AAAAAAAAAAAAAAAAAAAAAA",
                "--price",
                "1",
                "--currency",
                "EUR",
            ],
            "no intent AAAAAAAAAAAAAAAAAAAAAA",
            "carnet-vendor listen",
            1,
        ),
    ];
    for (args, message, hint, code) in cases {
        let sub = args[0];
        let out = base(sub).args(&args[1..]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(
            err.contains(message) && err.contains(hint),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = vendor_cmd()
        .args([
            "listen",
            "--relay",
            "nats://127.0.0.1:9",
            "--id",
            "acme",
            "--category",
            "home",
        ])
        .arg("--key")
        .arg(dir.path().join("missing.key"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}
