//! Parsing of the intent and offer verbs.

use carnet_schemas::{IntentField, IntentState, ItemCondition};
use clap::Parser;
use clap::error::ErrorKind;

use super::{CONDITIONS, WITHHOLDABLE};
use crate::cli::{Cli, Command, IntentCmd, OfferCmd, OrClear};

const ITT: &str = "itt_0123456789abcdef";
const OFR: &str = "ofr_0123456789abcdef";

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("carnet").chain(args.iter().copied()))
}

fn usage_error(args: &[&str]) -> clap::Error {
    let e = parse(args).expect_err(&format!("{args:?} should be refused"));
    assert_eq!(e.exit_code(), 2, "{args:?}: {e}");
    e
}

fn new_with(extra: &[&'static str]) -> Vec<&'static str> {
    let mut line = vec![
        "intent",
        "new",
        "--category",
        "home.appliances.washing-machine",
        "--title",
        "Washing machine",
    ];
    line.extend_from_slice(extra);
    line
}

#[test]
fn every_intent_and_offer_verb_parses() {
    let lines: Vec<Vec<&str>> = vec![
        new_with(&[]),
        new_with(&[
            "--description",
            "8 kg",
            "--min-price",
            "500",
            "--max-price",
            "700.00",
            "--currency",
            "EUR",
            "--quantity",
            "1",
            "--area",
            "Lyon",
            "--from",
            "2026-12-01",
            "--until",
            "2026-12-15",
            "--max-offers",
            "100",
            "--activate",
            "--delivery",
            "home delivery",
            "--condition",
            "refurbished",
            "--purpose",
            "one quote",
            "--retention-days",
            "3650",
            "--allow-resale",
            "--allow-tracking",
            "--withhold",
            "description,area_served",
            "--withhold",
            "item_condition",
        ]),
        new_with(&["--currency", "EUR"]),
        vec!["intent", "list"],
        vec!["intent", "list", "--state", "active"],
        vec!["intent", "show", ITT],
        vec!["intent", "edit", ITT, "--title", "Dryer"],
        vec![
            "intent",
            "edit",
            ITT,
            "--description",
            "",
            "--min-price",
            "",
            "--max-price",
            "750",
            "--quantity",
            "",
            "--area",
            "",
            "--from",
            "",
            "--until",
            "2026-12-20T18:00",
            "--max-offers",
            "",
            "--delivery",
            "",
            "--condition",
            "",
            "--purpose",
            "",
            "--retention-days",
            "7",
            "--forbid-resale",
            "--allow-tracking",
            "--withhold",
            "",
            "--activate",
        ],
        vec!["intent", "activate", ITT],
        vec!["intent", "withdraw", ITT],
        vec!["intent", "fulfil", ITT],
        vec!["offers"],
        vec!["offers", "--intent", ITT],
        vec!["offer", "show", OFR],
        vec!["offer", "accept", OFR],
        vec!["offer", "accept", OFR, "--keep-open"],
        vec!["offer", "decline", OFR],
        vec!["offer", "decline", OFR, "--reason", "Too far"],
        vec![
            "--json",
            "intent",
            "new",
            "--category",
            "garden",
            "--title",
            "Hose",
        ],
    ];
    for line in lines {
        if let Err(e) = parse(&line) {
            panic!("{line:?}: {e}");
        }
    }
}

#[test]
fn new_fills_what_was_given() {
    let cli = parse(&new_with(&[
        "--max-price",
        "700",
        "--currency",
        "EUR",
        "--condition",
        "used",
        "--withhold",
        "price_specification,eligible_quantity",
        "--withhold",
        "available_delivery_method",
        "--activate",
    ]))
    .unwrap();
    let Command::Intent(IntentCmd::New(n)) = cli.command else {
        panic!("wrong command")
    };
    assert_eq!(n.max_price.unwrap().as_str(), "700");
    assert!(n.min_price.is_none());
    assert_eq!(n.currency.unwrap().as_str(), "EUR");
    assert_eq!(n.extra.condition, Some(ItemCondition::Used));
    assert_eq!(
        n.extra.withhold,
        [
            IntentField::PriceSpecification,
            IntentField::EligibleQuantity,
            IntentField::AvailableDeliveryMethod
        ]
    );
    assert!(n.activate && !n.extra.allow_resale && !n.extra.allow_tracking);
}

#[test]
fn prices_need_a_currency() {
    for flag in ["--min-price", "--max-price"] {
        let e = usage_error(&new_with(&[flag, "700"]));
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument, "{e}");
        assert!(e.to_string().contains("--currency"), "{flag}: {e}");
    }
    let e = usage_error(&new_with(&["--min-price", "500", "--max-price", "700"]));
    assert!(e.to_string().contains("--currency"), "{e}");
}

#[test]
fn bad_values_are_usage_errors_naming_the_flag() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["intent", "list", "--state", "open"], "--state"),
        (vec!["intent", "list", "--state", "Active"], "--state"),
        (new_with(&["--condition", "mint"]), "--condition"),
        (new_with(&["--withhold", "title"]), "--withhold"),
        (
            new_with(&["--withhold", "description,category"]),
            "--withhold",
        ),
        (new_with(&["--withhold", ""]), "--withhold"),
        (new_with(&["--condition", ""]), "--condition"),
        (
            new_with(&["--max-price", "12,50", "--currency", "EUR"]),
            "--max-price",
        ),
        (
            new_with(&["--max-price", "-1", "--currency", "EUR"]),
            "--max-price",
        ),
        (
            new_with(&["--max-price", "700", "--currency", "eur"]),
            "--currency",
        ),
        (new_with(&["--quantity", "0"]), "--quantity"),
        (new_with(&["--quantity", "-1"]), "--quantity"),
        (new_with(&["--max-offers", "-3"]), "--max-offers"),
        (
            vec!["intent", "edit", ITT, "--max-price", "-5"],
            "--max-price",
        ),
        (
            vec!["intent", "edit", ITT, "--retention-days", "-5"],
            "--retention-days",
        ),
        (new_with(&["--max-offers", "0"]), "--max-offers"),
        (new_with(&["--max-offers", "101"]), "--max-offers"),
        (new_with(&["--retention-days", "0"]), "--retention-days"),
        (new_with(&["--retention-days", "3651"]), "--retention-days"),
        (new_with(&["--until", "next week"]), "--until"),
        (new_with(&["--from", "2026-13-01"]), "--from"),
        (
            vec!["intent", "new", "--category", "Home Stuff", "--title", "x"],
            "--category",
        ),
        (vec!["intent", "new", "--title", "x"], "--category"),
        (vec!["intent", "new", "--category", "garden"], "--title"),
        (vec!["intent", "show", "itt_nope"], "<ID>"),
        (vec!["intent", "show", OFR], "<ID>"),
        (vec!["offer", "accept", ITT], "<ID>"),
        (vec!["offers", "--intent", OFR], "--intent"),
        (vec!["intent", "edit", ITT], "--category"),
        (vec!["intent", "edit", ITT, "--activate"], "--title"),
        (
            vec!["intent", "edit", ITT, "--condition", "mint"],
            "--condition",
        ),
        (
            vec!["intent", "edit", ITT, "--withhold", "title"],
            "--withhold",
        ),
        (vec!["intent", "edit", ITT, "--quantity", "0"], "--quantity"),
        (
            vec!["intent", "edit", ITT, "--max-offers", "101"],
            "--max-offers",
        ),
        (
            vec!["intent", "edit", ITT, "--min-price", "x"],
            "--min-price",
        ),
        (
            vec!["intent", "edit", ITT, "--allow-resale", "--forbid-resale"],
            "--forbid-resale",
        ),
    ];
    for (line, flag) in cases {
        let text = usage_error(&line).to_string();
        assert!(text.contains(flag), "{line:?}: {text}");
    }
}

#[test]
fn edit_clears_with_an_empty_value() {
    let cli = parse(&[
        "intent",
        "edit",
        ITT,
        "--min-price",
        "",
        "--condition",
        "",
        "--withhold",
        "",
        "--max-offers",
        "",
        "--quantity",
        "3",
    ])
    .unwrap();
    let Command::Intent(IntentCmd::Edit(e)) = cli.command else {
        panic!("wrong command")
    };
    assert_eq!(e.min_price, Some(OrClear::Clear));
    assert_eq!(e.condition, Some(OrClear::Clear));
    assert_eq!(e.withhold, Some(vec![OrClear::Clear]));
    assert_eq!(e.max_offers, Some(OrClear::Clear));
    assert_eq!(e.quantity, Some(OrClear::Set(3)));
    assert!(e.max_price.is_none() && e.currency.is_none());
}

#[test]
fn list_state_and_accept_flags() {
    for s in ["draft", "active", "fulfilled", "withdrawn", "expired"] {
        let Command::Intent(IntentCmd::List { state }) =
            parse(&["intent", "list", "--state", s]).unwrap().command
        else {
            panic!("wrong command")
        };
        assert_eq!(state.map(IntentState::as_str), Some(s));
    }
    let Command::Offer(OfferCmd::Accept { keep_open, .. }) =
        parse(&["offer", "accept", OFR]).unwrap().command
    else {
        panic!("wrong command")
    };
    assert!(!keep_open);
}

#[test]
fn typed_names_are_the_wire_names() {
    for (name, field) in WITHHOLDABLE {
        assert_eq!(serde_json::to_value(field).unwrap(), name);
    }
    for (name, condition) in CONDITIONS {
        assert_eq!(serde_json::to_value(condition).unwrap(), name);
        assert_eq!(name.parse::<ItemCondition>().unwrap(), condition);
    }
}
