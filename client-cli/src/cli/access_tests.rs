//! Parsing of the vendor access verbs: connect, grants, receipts, the access log, webhooks.

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{AuditCmd, Cli, Command, GrantCmd, VendorCmd, VendorRef};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("carnet").chain(args.iter().copied()))
}

fn usage_error(args: &[&str]) -> clap::Error {
    let e = parse(args).expect_err(&format!("{args:?} should be refused"));
    assert_eq!(e.exit_code(), 2, "{args:?}: {e}");
    e
}

#[test]
fn every_access_verb_parses() {
    let grt = "grt_0123456789abcdef";
    let lines: &[&[&str]] = &[
        &[
            "vendor",
            "connect",
            "Acme",
            "--redirect-uri",
            "https://acme.example/cb",
            "--redirect-uri",
            "http://127.0.0.1:9000/cb",
            "--webhook-url",
            "http://192.168.1.20/hook",
        ],
        &["vendor", "rotate-secret", "Acme"],
        &[
            "vendor",
            "rotate-secret",
            "ven_0123456789abcdef",
            "--webhook",
        ],
        &["vendor", "client", "Acme"],
        &["vendor", "disconnect", "Acme", "--yes"],
        &[
            "grant",
            "create",
            "Acme",
            "--scope",
            "intents:read",
            "--scope",
            "offers:write",
            "--category",
            "home.appliances",
            "--category",
            "garden",
            "--days",
            "365",
            "--purpose",
            "washing machine",
        ],
        &[
            "grant",
            "create",
            "Acme",
            "--scope",
            "profile:read",
            "--all-categories",
        ],
        &["grant", "list"],
        &["grant", "list", "--vendor", "Acme", "--live"],
        &["grant", "show", grt],
        &["grant", "revoke", grt],
        &["receipts"],
        &["receipts", "--vendor", "Acme"],
        &["audit"],
        &["audit", "--vendor", "Acme", "--since", "2026-12-01"],
        &["audit", "--since", "2026-12-01T10:00:00+01:00"],
        &["audit", "verify"],
        &["--json", "audit", "verify"],
        &["audit", "verify", "--json"],
        &["webhooks"],
        &["webhooks", "--vendor", "Acme"],
        &[
            "webhooks",
            "--vendor",
            "ven_0123456789abcdef",
            "--limit",
            "1000",
        ],
        &["--json", "webhooks", "--limit", "1"],
    ];
    for line in lines {
        if let Err(e) = parse(line) {
            panic!("{line:?}: {e}");
        }
    }
}

#[test]
fn a_grant_names_its_categories_or_all_of_them_not_both() {
    let neither = usage_error(&["grant", "create", "Acme", "--scope", "intents:read"]);
    assert_eq!(neither.kind(), ErrorKind::MissingRequiredArgument);
    let text = neither.to_string();
    assert!(
        text.contains("--category") && text.contains("--all-categories"),
        "{text}"
    );
    let both = usage_error(&[
        "grant",
        "create",
        "Acme",
        "--scope",
        "intents:read",
        "--category",
        "home",
        "--all-categories",
    ]);
    assert_eq!(both.kind(), ErrorKind::ArgumentConflict);
}

#[test]
fn a_grant_needs_a_known_scope() {
    let e = usage_error(&[
        "grant",
        "create",
        "Acme",
        "--scope",
        "intents:write",
        "--all-categories",
    ]);
    let text = e.to_string();
    assert!(
        text.contains("--scope") && text.contains("intents:read"),
        "{text}"
    );
    let none = usage_error(&["grant", "create", "Acme", "--all-categories"]);
    assert!(none.to_string().contains("--scope"), "{none}");
}

#[test]
fn a_grant_lasts_1_to_365_days_30_by_default() {
    for days in ["0", "366", "-1", "thirty"] {
        let e = usage_error(&[
            "grant",
            "create",
            "Acme",
            "--scope",
            "intents:read",
            "--all-categories",
            "--days",
            days,
        ]);
        assert!(e.to_string().contains("--days"), "{days}: {e}");
    }
    for (given, want) in [(None, 30), (Some("1"), 1), (Some("365"), 365)] {
        let mut line = vec![
            "grant",
            "create",
            "Acme",
            "--scope",
            "intents:read",
            "--all-categories",
        ];
        if let Some(d) = given {
            line.extend(["--days", d]);
        }
        let Command::Grant(GrantCmd::Create(g)) = parse(&line).unwrap().command else {
            panic!("wrong command")
        };
        assert_eq!(g.days, want);
        assert!(g.all_categories && g.categories.is_empty());
    }
}

#[test]
fn ids_and_uris_are_checked_before_any_request() {
    let cases: &[(&[&str], &str)] = &[
        (&["grant", "revoke", "grt_nope"], "<ID>"),
        (&["grant", "show", "ven_0123456789abcdef"], "<ID>"),
        (
            &[
                "vendor",
                "connect",
                "Acme",
                "--redirect-uri",
                "http://acme.example/cb",
            ],
            "--redirect-uri",
        ),
        (
            &[
                "vendor",
                "connect",
                "Acme",
                "--redirect-uri",
                "https://acme.example/cb#x",
            ],
            "--redirect-uri",
        ),
        (&["vendor", "connect", "Acme"], "--redirect-uri"),
        (
            &[
                "vendor",
                "connect",
                "Acme",
                "--redirect-uri",
                "https://acme.example/cb",
                "--webhook-url",
                "acme.example/hook",
            ],
            "--webhook-url",
        ),
        (&["audit", "--since", "yesterday"], "--since"),
        (
            &[
                "grant",
                "create",
                "Acme",
                "--scope",
                "intents:read",
                "--category",
                "Home Stuff",
            ],
            "--category",
        ),
    ];
    for (line, flag) in cases {
        let text = usage_error(line).to_string();
        assert!(text.contains(flag), "{line:?}: {text}");
    }
}

#[test]
fn connect_keeps_every_redirect_uri_in_order() {
    let cli = parse(&[
        "vendor",
        "connect",
        "Acme",
        "--redirect-uri",
        "https://acme.example/b",
        "--redirect-uri",
        "https://acme.example/a",
    ])
    .unwrap();
    let Command::Vendor(VendorCmd::Connect(c)) = cli.command else {
        panic!("wrong command")
    };
    let uris: Vec<&str> = c.redirect_uris.iter().map(|u| u.as_str()).collect();
    assert_eq!(uris, ["https://acme.example/b", "https://acme.example/a"]);
    assert!(c.webhook_url.is_none());
}

#[test]
fn audit_lists_without_verify_and_checks_with_it() {
    let Command::Audit(a) = parse(&["audit"]).unwrap().command else {
        panic!("wrong command")
    };
    assert!(a.check.is_none() && a.vendor.is_none() && a.since.is_none());
    let Command::Audit(a) = parse(&["audit", "--vendor", "Acme", "--since", "2026-12-01"])
        .unwrap()
        .command
    else {
        panic!("wrong command")
    };
    assert!(a.check.is_none() && a.since.is_some());
    assert!(matches!(a.vendor, Some(VendorRef::Name(n)) if n.as_str() == "Acme"));
    // A vendor named like the subcommand is still a vendor.
    let Command::Audit(a) = parse(&["audit", "--vendor", "verify"]).unwrap().command else {
        panic!("wrong command")
    };
    assert!(a.check.is_none());
    assert!(matches!(a.vendor, Some(VendorRef::Name(n)) if n.as_str() == "verify"));
    let cli = parse(&["audit", "verify", "--json"]).unwrap();
    assert!(cli.json);
    let Command::Audit(a) = cli.command else {
        panic!("wrong command")
    };
    assert_eq!(a.check, Some(AuditCmd::Verify));
}

#[test]
fn verify_takes_none_of_the_listing_flags() {
    for line in [
        &["audit", "--vendor", "Acme", "verify"][..],
        &["audit", "--since", "2026-12-01", "verify"],
        &["audit", "verify", "--vendor", "Acme"],
        &["audit", "verify", "--since", "2026-12-01"],
        &["audit", "verify", "extra"],
        &["audit", "check"],
    ] {
        usage_error(line);
    }
}

#[test]
fn webhooks_take_a_vendor_and_a_limit_of_1_to_1000() {
    let Command::Webhooks(w) = parse(&["webhooks"]).unwrap().command else {
        panic!("wrong command")
    };
    assert!(w.vendor.is_none() && w.limit.is_none());
    let Command::Webhooks(w) = parse(&["webhooks", "--vendor", "Acme", "--limit", "20"])
        .unwrap()
        .command
    else {
        panic!("wrong command")
    };
    assert_eq!(w.limit, Some(20));
    assert!(matches!(w.vendor, Some(VendorRef::Name(n)) if n.as_str() == "Acme"));
    for limit in ["0", "1001", "-1", "many"] {
        let e = usage_error(&["webhooks", "--limit", limit]);
        assert!(e.to_string().contains("--limit"), "{limit}: {e}");
    }
    usage_error(&["webhooks", "Acme"]);
}
