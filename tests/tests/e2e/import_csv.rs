//! `carnet import-csv purchases` against a real server, on real-world export shapes kept in
//! tests/fixtures/csv/: each imported twice (the second import adds nothing), and the rows it
//! refuses named by their line.

use carnet_tests::{Api, TestServer};
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/csv")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn purchases(s: &TestServer) -> Vec<Value> {
    let list = s.carnet(&["--json", "purchase", "list"]);
    list.ok().json().as_array().cloned().unwrap_or_default()
}

fn count(v: &Value, key: &str) -> usize {
    v[key].as_array().map_or(0, Vec::len)
}

#[test]
fn a_french_bank_export_imports_debits_once_with_the_map() {
    let s = TestServer::spawn();
    s.carnet(&["vendor", "add", "Free"]).ok();
    let file = fixture("fr-banque.csv");
    let map = fixture("vendors.map");
    let args = [
        "import-csv",
        "purchases",
        &file,
        "--currency",
        "EUR",
        "--map",
        &map,
    ];
    // Dry run first: the report, nothing written.
    let dry = s.carnet(&[&args[..], &["--dry-run"]].concat());
    dry.ok();
    assert!(
        dry.stdout.contains("dry run: nothing was written"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("delimiter ; and decimal comma"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("would add 4 purchases"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("  line 6: 2026-04-12 \"CB FNAC LYON\" 1249.00 EUR\n"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains(
            "  line 2: 2026-04-03 \"Boulangerie Martin\" \"CB BOULANGERIE MARTIN 02/04\" 4.20 EUR"
        ),
        "{}",
        dry.stdout
    );
    assert!(purchases(&s).is_empty());
    // Without a terminal and without --yes, new vendors are not created.
    let refused = s.carnet(&args);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("\"Boulangerie Martin\""),
        "{}",
        refused.stderr
    );
    assert!(purchases(&s).is_empty());

    let first = s.carnet(&[&["--json"][..], &args, &["--yes"]].concat());
    let report = first.ok().json();
    assert_eq!(
        report["vendors_created"],
        serde_json::json!(["Boulangerie Martin", "CB FNAC LYON"])
    );
    assert_eq!(count(&report, "purchases_added"), 4);
    assert_eq!(report["credits_skipped"], serde_json::json!([4]));
    assert_eq!(count(&report, "duplicates_skipped"), 0);
    let list = purchases(&s);
    assert_eq!(list.len(), 4);
    let fnac = list.iter().find(|p| p["item"] == "CB FNAC LYON").unwrap();
    assert_eq!(fnac["amount"], "1249.00");
    assert_eq!(fnac["currency"], "EUR");
    assert_eq!(fnac["date"], "2026-04-12");
    // Two identical bakery rows are two purchases, day first (3 April).
    let bakery: Vec<_> = list.iter().filter(|p| p["amount"] == "4.20").collect();
    assert_eq!(bakery.len(), 2);
    assert!(bakery.iter().all(|p| p["date"] == "2026-04-03"));
    assert_ne!(bakery[0]["import_key"], bakery[1]["import_key"]);
    // The key does not carry the row.
    assert!(
        !bakery[0]["import_key"]
            .as_str()
            .unwrap()
            .contains("BOULANGERIE")
    );

    let again = s.carnet(&[&["--json"][..], &args].concat());
    let report = again.ok().json();
    assert_eq!(count(&report, "purchases_added"), 0);
    assert_eq!(count(&report, "vendors_created"), 0);
    assert_eq!(
        report["duplicates_skipped"],
        serde_json::json!([2, 3, 5, 6])
    );
    assert_eq!(purchases(&s).len(), 4);
}

#[test]
fn a_quoted_english_export_with_thousands_separators() {
    let s = TestServer::spawn();
    let file = fixture("en-quoted.csv");
    let args = ["import-csv", "purchases", &file, "--yes"];
    let first = s.carnet(&args);
    first.ok();
    assert!(first.stdout.contains("add 3 purchases"), "{}", first.stdout);
    assert!(
        first.stdout.contains("skipped 1 credits (lines 3)"),
        "{}",
        first.stdout
    );
    let list = purchases(&s);
    let amzn = list.iter().find(|p| p["amount"] == "1234.56").unwrap();
    assert_eq!(amzn["currency"], "USD");
    // 04/13/2026 settles the file: month first.
    assert_eq!(amzn["date"], "2026-04-13");
    assert!(
        list.iter()
            .any(|p| p["item"] == "Corner Coffee, \"the\" best")
    );
    let again = s.carnet(&args);
    again.ok();
    assert!(again.stdout.contains("add 0 purchases"), "{}", again.stdout);
    assert!(
        again.stdout.contains("skipped 3 already imported"),
        "{}",
        again.stdout
    );
    assert_eq!(purchases(&s).len(), 3);
}

#[test]
fn a_german_export_is_read_with_column_flags() {
    let s = TestServer::spawn();
    let file = fixture("de-umsatz.csv");
    let unflagged = s.carnet(&["import-csv", "purchases", &file, "--currency", "EUR"]);
    assert_eq!(unflagged.code, 1);
    assert!(
        unflagged
            .stderr
            .contains("line 1: no date column recognised"),
        "{}",
        unflagged.stderr
    );
    assert!(
        unflagged.stderr.contains("--date-column"),
        "{}",
        unflagged.stderr
    );
    let unknown = s.carnet(&[
        "import-csv",
        "purchases",
        &file,
        "--currency",
        "EUR",
        "--date-column",
        "Datum",
    ]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("line 1: no column \"Datum\""),
        "{}",
        unknown.stderr
    );
    let args = [
        "--json",
        "import-csv",
        "purchases",
        &file,
        "--currency",
        "EUR",
        "--date-column",
        "Buchungstag",
        "--vendor-column",
        "Verwendungszweck",
        "--amount-column",
        "Betrag",
        "--date-format",
        "%d.%m.%Y",
        "--yes",
    ];
    let report = s.carnet(&args).ok().json();
    assert_eq!(count(&report, "purchases_added"), 2);
    assert_eq!(report["credits_skipped"], serde_json::json!([3]));
    let rewe = purchases(&s)
        .into_iter()
        .find(|p| p["item"] == "REWE Markt Berlin")
        .unwrap();
    assert_eq!(
        (rewe["amount"].as_str(), rewe["date"].as_str()),
        (Some("23.45"), Some("2026-04-02"))
    );
    let again = s.carnet(&args).ok().json();
    assert_eq!(count(&again, "purchases_added"), 0);
    assert_eq!(count(&again, "duplicates_skipped"), 2);
    assert_eq!(purchases(&s).len(), 2);
}

#[test]
fn bad_rows_are_refused_with_their_line_and_the_rest_imported() {
    let s = TestServer::spawn();
    let file = fixture("refusals.csv");
    let out = s.carnet(&[
        "import-csv",
        "purchases",
        &file,
        "--currency",
        "EUR",
        "--yes",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("refused 2 rows"), "{}", out.stdout);
    assert!(
        out.stdout.contains("line 2: ambiguous date \"03/04/2026\""),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("--date-format"), "{}", out.stdout);
    assert!(
        out.stdout.contains("line 3: \"-12.5O\" is not an amount"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("2 rows refused"), "{}", out.stderr);
    assert_eq!(purchases(&s).len(), 1);
    // Told the format, the date is read; the row already imported is skipped.
    let fixed = s.carnet(&[
        "--json",
        "import-csv",
        "purchases",
        &file,
        "--currency",
        "EUR",
        "--yes",
        "--date-format",
        "%m/%d/%Y",
    ]);
    assert_eq!(fixed.code, 1);
    let report = fixed.json();
    assert_eq!(count(&report, "purchases_added"), 1);
    assert_eq!(report["purchases_added"][0]["date"], "2026-03-04");
    assert_eq!(report["duplicates_skipped"], serde_json::json!([4]));
    // A missing file is a usage error, not a crash.
    let missing = s.carnet(&[
        "import-csv",
        "purchases",
        "/nonexistent.csv",
        "--currency",
        "EUR",
    ]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}

#[test]
fn listings_print_csv_that_spreadsheets_do_not_run() {
    let s = TestServer::spawn();
    let file = fixture("en-quoted.csv");
    s.carnet(&["import-csv", "purchases", &file, "--yes"]).ok();
    let out = s.carnet(&["--csv", "purchase", "list"]);
    let text = &out.ok().stdout;
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "id,date,vendor,item,amount,warranty", "{text}");
    assert_eq!(
        lines.len(),
        5,
        "3 rows, a header and the final CRLF: {text}"
    );
    // The vendor and item named =HYPERLINK(…) start with ' and are quoted as CSV wants.
    assert!(
        text.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\")\",\"'=HYPERLINK("),
        "{text}"
    );
    assert!(
        text.contains("\"Corner Coffee, \"\"the\"\" best\""),
        "{text}"
    );
    assert!(text.contains(",1234.56 USD,"), "{text}");
    let vendors = s.carnet(&["--csv", "vendor", "list"]);
    let vendors = &vendors.ok().stdout;
    assert!(vendors.starts_with("id,name,"), "{vendors}");
    assert!(vendors.contains("'=HYPERLINK"), "{vendors}");
    // A listing followed by totals prints only its rows as CSV.
    s.carnet(&[
        "subscription",
        "add",
        "Corner Coffee, \"the\" best",
        "--item",
        "Beans",
        "--amount",
        "9.90",
        "--currency",
        "USD",
        "--every",
        "month",
        "--next",
        "2026-12-01",
    ])
    .ok();
    for verb in ["list", "payments"] {
        let subs = s.carnet(&["--csv", "subscription", verb]);
        let subs = &subs.ok().stdout;
        assert!(
            subs.starts_with("id,") || subs.contains(",vendor,"),
            "{subs}"
        );
        assert!(!subs.contains("\n\n") && !subs.contains("TOTAL"), "{subs}");
        assert!(
            subs.lines()
                .skip(1)
                .all(|l| l.contains("Beans") || l.contains("9.90")),
            "{subs}"
        );
    }
    // --csv and --json together is a usage error.
    let both = s.carnet(&["--csv", "--json", "vendor", "list"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

#[test]
fn editing_an_imported_purchase_keeps_its_import_key_so_the_next_import_still_skips_it() {
    let s = TestServer::spawn();
    let acme = crate::vendor(&s, "Acme");
    let id = s.create(
        "/v1/purchases",
        &serde_json::json!({"vendor_id": acme, "item": "Fibre", "amount": "29.99",
            "currency": "EUR", "import_key": "csv1-0123456789abcdef"}),
    );
    let edited = s.put(
        &format!("/v1/purchases/{id}"),
        &serde_json::json!({"vendor_id": acme, "item": "Fibre 1 Gb/s", "amount": "29.99",
            "currency": "EUR"}),
    );
    assert_eq!(edited.status, 200, "{}", edited.text);
    let shown = edited.json();
    assert_eq!(shown["item"], "Fibre 1 Gb/s");
    assert_eq!(shown["import_key"], "csv1-0123456789abcdef", "{shown}");
}
