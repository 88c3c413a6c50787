//! The `carnet` binary on its own (no server): help, completions, usage errors. Commands
//! against a server are tested end to end in the `carnet-tests` crate.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

use std::process::Command;

fn carnet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_carnet"))
        .args(args)
        .env_remove("CARNET_SERVER")
        .env_remove("CARNET_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn help_documents_exit_codes_and_examples() {
    let out = carnet(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Exit codes",
        "vendor",
        "interaction",
        "followups",
        "grant",
        "receipts",
        "audit",
        "SCOPE",
        "CARNET_TOKEN",
        "unlock",
        "lock",
        "5  the vault is sealed",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from --help:\n{text}"
        );
    }
}

#[test]
fn completions_are_generated_for_bash() {
    let out = carnet(&["completions", "bash"]);
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("carnet"));
}

#[test]
fn a_bad_value_is_a_usage_error_naming_the_flag() {
    let out = carnet(&[
        "purchase",
        "add",
        "Acme",
        "--item",
        "x",
        "--amount",
        "12,50",
        "--currency",
        "EUR",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--amount"), "{err}");
}
