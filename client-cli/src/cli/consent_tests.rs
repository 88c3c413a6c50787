//! Parsing of the consent, password and invite verbs.

use clap::Parser;
use clap::error::ErrorKind;

use super::ConsentCode;
use crate::cli::{Cli, Command, ConsentCmd, PasswordCmd, VendorCmd};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("carnet").chain(args.iter().copied()))
}

fn usage_error(args: &[&str]) -> clap::Error {
    let e = parse(args).expect_err(&format!("{args:?} should be refused"));
    assert_eq!(e.exit_code(), 2, "{args:?}: {e}");
    e
}

fn approve(extra: &[&str]) -> Vec<String> {
    ["consent", "approve", "K7QM-2XPA"]
        .iter()
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

fn parse_owned(line: &[String]) -> Result<Cli, clap::Error> {
    parse(&line.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn every_consent_verb_parses() {
    let lines: &[&[&str]] = &[
        &["consent", "list"],
        &["--json", "consent", "list"],
        &["consent", "approve", "K7QM-2XPA"],
        &[
            "consent",
            "approve",
            "k7qm2xpa",
            "--category",
            "home.appliances",
            "--category",
            "garden",
            "--days",
            "7",
            "--yes",
        ],
        &["consent", "approve", "K7QM-2XPA", "--all-categories", "-y"],
        &["consent", "deny", "k7qm-2xpa"],
        &["password", "set"],
        &["password", "set", "--password-file", "-"],
        &["password", "set", "--password-file", "/tmp/pw"],
        &["vendor", "invite", "Acme"],
        &["vendor", "invite", "ven_0123456789abcdef"],
    ];
    for line in lines {
        if let Err(e) = parse(line) {
            panic!("{line:?}: {e}");
        }
    }
}

#[test]
fn codes_read_the_same_however_typed() {
    for typed in [
        "K7QM-2XPA",
        "k7qm2xpa",
        "k7qm-2xpa",
        "K7QM 2XPA",
        " K7QM2XPA ",
    ] {
        let c: ConsentCode = typed.parse().unwrap_or_else(|e| panic!("{typed}: {e}"));
        assert_eq!(c.as_str(), "K7QM-2XPA", "{typed}");
        assert_eq!(c.to_string(), "K7QM-2XPA");
        assert!(c.matches("K7QM-2XPA"));
        assert!(c.matches("k7qm2xpa"));
        assert!(!c.matches("K7QM-2XPB"));
        assert!(!c.matches(""));
    }
    for bad in [
        "",
        "K7QM",
        "K7QM-2XPAA",
        "K7QM_2XPA",
        "K7QM/2XPA",
        "../../v1",
        "K7QM-2XPÄ",
        "K7QM--2XP",
    ] {
        assert!(bad.parse::<ConsentCode>().is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn a_bad_code_is_a_usage_error_naming_the_argument() {
    for line in [
        &["consent", "approve", "K7QM"][..],
        &["consent", "deny", "K7QM/2XPA"],
    ] {
        let text = usage_error(line).to_string();
        assert!(
            text.contains("<CODE>") && text.contains("K7QM-2XPA"),
            "{text}"
        );
    }
    let Command::Consent(ConsentCmd::Deny { code }) =
        parse(&["consent", "deny", "k7qm2xpa"]).unwrap().command
    else {
        panic!("wrong command")
    };
    assert_eq!(code.as_str(), "K7QM-2XPA");
}

#[test]
fn categories_and_all_categories_conflict() {
    let e = usage_error(&[
        "consent",
        "approve",
        "K7QM-2XPA",
        "--category",
        "home",
        "--all-categories",
    ]);
    assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
    let text = usage_error(&[
        "consent",
        "approve",
        "K7QM-2XPA",
        "--category",
        "Home Stuff",
    ])
    .to_string();
    assert!(text.contains("--category"), "{text}");
    // Neither is fine: the vendor's own list is granted.
    let Command::Consent(ConsentCmd::Approve(a)) = parse_owned(&approve(&[])).unwrap().command
    else {
        panic!("wrong command")
    };
    assert!(a.categories.is_empty() && !a.all_categories && !a.yes);
}

#[test]
fn approval_lasts_1_to_365_days_30_by_default() {
    for days in ["0", "366", "-1", "thirty", ""] {
        let e = usage_error(
            &approve(&["--days", days])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert!(e.to_string().contains("--days"), "{days}: {e}");
    }
    for (given, want) in [(None, 30), (Some("1"), 1), (Some("365"), 365)] {
        let extra: Vec<&str> = given.map(|d| vec!["--days", d]).unwrap_or_default();
        let Command::Consent(ConsentCmd::Approve(a)) =
            parse_owned(&approve(&extra)).unwrap().command
        else {
            panic!("wrong command")
        };
        assert_eq!(a.days, want);
    }
}

#[test]
fn the_password_is_never_an_argument() {
    // No positional value, no --password flag.
    usage_error(&["password", "set", "hunter2hunter2"]);
    let e = usage_error(&["password", "set", "--password", "hunter2hunter2"]);
    assert_eq!(e.kind(), ErrorKind::UnknownArgument);
    usage_error(&["password", "set", "--password-file"]);
    let Command::Password(PasswordCmd::Set(p)) = parse(&["password", "set"]).unwrap().command
    else {
        panic!("wrong command")
    };
    assert!(p.password_file.is_none());
    let Command::Password(PasswordCmd::Set(p)) =
        parse(&["password", "set", "--password-file", "-"])
            .unwrap()
            .command
    else {
        panic!("wrong command")
    };
    assert_eq!(p.password_file.as_deref(), Some(std::path::Path::new("-")));
}

#[test]
fn invite_names_one_vendor() {
    usage_error(&["vendor", "invite"]);
    let Command::Vendor(VendorCmd::Invite { vendor }) =
        parse(&["vendor", "invite", "Acme"]).unwrap().command
    else {
        panic!("wrong command")
    };
    assert!(matches!(vendor, crate::cli::VendorRef::Name(n) if n.as_str() == "Acme"));
}
