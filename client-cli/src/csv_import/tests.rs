use super::detect::{self, Numbers, Order};
use super::*;

fn opts() -> Options {
    Options {
        currency: Some("EUR".parse().unwrap()),
        ..Options::default()
    }
}

#[test]
fn delimiters_are_detected_outside_quotes() {
    assert_eq!(detect::delimiter("Date;Libellé;Débit;Crédit\n"), b';');
    assert_eq!(detect::delimiter("Date\tPayee\tAmount\n"), b'\t');
    assert_eq!(
        detect::delimiter("\"Date\",\"Payee; Inc\",\"Amount\"\n"),
        b','
    );
    assert_eq!(detect::delimiter("Amount\n"), b',');
}

#[test]
fn decimal_comma_is_detected_by_the_amounts() {
    assert!(detect::decimal_comma(["-12,50", "3,00"].into_iter()));
    assert!(!detect::decimal_comma(["-12.50", "1,234.56"].into_iter()));
    assert!(detect::decimal_comma(["1.234,56"].into_iter()));
    // "1,234" alone could be thousands: it does not vote.
    assert!(!detect::decimal_comma(["1,234", "5.10"].into_iter()));
}

#[test]
fn amounts_keep_their_sign_and_lose_their_decorations() {
    let a = |s, c| detect::amount(s, c).unwrap().unwrap();
    assert_eq!(a("-1 234,56 €", true), (true, "1234.56".into()));
    assert_eq!(a("1,234.56", false), (false, "1234.56".into()));
    assert_eq!(a("(12.50)", false), (true, "12.50".into()));
    assert_eq!(a("12.50-", false), (true, "12.50".into()));
    assert_eq!(a("+0.5", false), (false, "0.5".into()));
    assert_eq!(detect::amount("  ", false), Ok(None));
    assert!(detect::amount("12,5O", true).is_err());
    assert!(detect::amount("1.2.3", false).is_err());
}

#[test]
fn french_and_english_headers_are_recognised() {
    let h = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let fr = h(&[
        "Date de valeur",
        "Date opération",
        "Libellé",
        "Débit euros",
        "Crédit euros",
    ]);
    assert_eq!(detect::find(&fr, Role::Date), Some(1));
    assert_eq!(detect::find(&fr, Role::Description), Some(2));
    assert_eq!(detect::find(&fr, Role::Debit), Some(3));
    assert_eq!(detect::find(&fr, Role::Credit), Some(4));
    let en = h(&["Transaction Date", "Payee", "Amount (USD)"]);
    assert_eq!(detect::find(&en, Role::Date), Some(0));
    assert_eq!(detect::find(&en, Role::Amount), Some(2));
    assert_eq!(detect::find(&en, Role::Description), Some(1));
    assert_eq!(detect::named(&en, "payee"), Some(1));
    assert_eq!(detect::named(&en, "3"), Some(2));
    assert_eq!(detect::named(&en, "4"), None);
}

#[test]
fn the_date_order_comes_from_the_file() {
    let n = |s| detect::numbers(s).unwrap();
    assert!(matches!(n("2026-04-03"), Numbers::Ymd(_)));
    assert_eq!(detect::order(&[n("03/04/2026")], true), Order::DayFirst);
    assert_eq!(
        detect::order(&[n("03/04/2026"), n("13/04/2026")], false),
        Order::DayFirst
    );
    assert_eq!(
        detect::order(&[n("03/04/2026"), n("03/14/2026")], false),
        Order::MonthFirst
    );
    assert_eq!(detect::order(&[n("03/04/2026")], false), Order::Unknown);
    assert_eq!(detect::numbers("yesterday"), None);
}

#[test]
fn a_french_export_reads_day_first_with_debits_and_credits() {
    let text = "Date;Libellé;Débit;Crédit\r\n\
                03/04/2026;CB BOULANGERIE MARTIN;-4,20;\r\n\
                04/04/2026;VIR SALAIRE;;2 100,00\r\n\
                05/04/2026;CB BOULANGERIE MARTIN;4,20;\r\n";
    let p = parse(text, &opts()).unwrap();
    assert_eq!(p.delimiter, ';');
    assert!(p.decimal_comma);
    assert_eq!(p.credits, vec![3]);
    assert!(p.refused.is_empty(), "{:?}", p.refused);
    assert_eq!(p.rows.len(), 2);
    let r = &p.rows[0];
    assert_eq!(r.date, NaiveDate::from_ymd_opt(2026, 4, 3).unwrap());
    assert_eq!((r.amount.as_str(), r.currency.as_str()), ("4.20", "EUR"));
    assert_eq!((r.vendor.as_str(), r.line), ("CB BOULANGERIE MARTIN", 2));
}

#[test]
fn identical_rows_get_different_keys_and_the_same_file_the_same_keys() {
    let text = "Date,Payee,Amount\n2026-04-03,Cafe,-3.00\n2026-04-03,Cafe,-3.00\n";
    let a = parse(text, &opts()).unwrap();
    let b = parse(text, &opts()).unwrap();
    assert_eq!(a.rows.len(), 2);
    assert_ne!(a.rows[0].key, a.rows[1].key);
    assert_eq!(a.rows[0].key, b.rows[0].key);
    assert!(!a.rows[0].key.contains("Cafe"));
    assert!(a.rows[0].key.starts_with("csv1-"));
}

#[test]
fn refusals_name_their_line() {
    let text = "Date,Payee,Amount\n03/04/2026,Cafe,-3.00\n2026-04-05,Shop,-abc\n2026-04-06,Shop,-0.00\n2026-04-07,Shop,0\n";
    let p = parse(text, &opts()).unwrap();
    assert!(p.rows.is_empty());
    assert_eq!(p.refused.len(), 4);
    assert_eq!(p.refused[0].line, 2);
    assert!(
        p.refused[0].reason.contains("--date-format"),
        "{}",
        p.refused[0].reason
    );
    assert_eq!(p.refused[1].line, 3);
    assert!(p.refused[1].reason.contains("not an amount"));
    assert!(p.refused[2].reason.contains("zero"));
    assert_eq!(
        (p.refused[3].line, p.refused[3].reason.as_str()),
        (5, "the amount is zero")
    );
    assert!(p.credits.is_empty());
    // With the format, the date is read.
    let with = Options {
        date_format: Some("%m/%d/%Y".into()),
        ..opts()
    };
    let p = parse(text, &with).unwrap();
    assert_eq!(p.rows[0].date, NaiveDate::from_ymd_opt(2026, 3, 4).unwrap());
}

#[test]
fn unknown_columns_and_missing_currency_are_refused() {
    let text = "Buchungstag;Verwendungszweck;Betrag\n03.04.2026;REWE;-12,50\n";
    let e = parse(text, &opts()).unwrap_err();
    assert!(e.message.contains("no date column"), "{}", e.message);
    let flagged = Options {
        date_column: Some("Buchungstag".into()),
        vendor_column: Some("Verwendungszweck".into()),
        amount_column: Some("Betrag".into()),
        ..opts()
    };
    let p = parse(text, &flagged).unwrap();
    assert_eq!(p.rows[0].vendor, "REWE");
    let wrong = Options {
        amount_column: Some("Umsatz".into()),
        ..flagged.clone()
    };
    let e = parse(text, &wrong).unwrap_err();
    assert!(
        e.message.starts_with("line 1: no column \"Umsatz\""),
        "{}",
        e.message
    );
    let no_currency = Options {
        currency: None,
        ..flagged
    };
    let p = parse(text, &no_currency).unwrap();
    assert!(p.refused[0].reason.contains("--currency"));
}

#[test]
fn the_map_names_vendors() {
    let map =
        parse_map("# bank labels\nBOULANGERIE = Boulangerie Martin\n\namzn = Amazon\n").unwrap();
    assert_eq!(
        vendor_of("CB BOULANGERIE MARTIN 03/04", &map),
        "Boulangerie Martin"
    );
    assert_eq!(vendor_of("AMZN Mktp", &map), "Amazon");
    assert_eq!(vendor_of("Other", &map), "Other");
    assert_eq!(
        parse_map("no equals sign").unwrap_err(),
        "line 1: expected `pattern = Vendor`"
    );
}

#[test]
fn latin1_files_are_read() {
    assert_eq!(decode(b"Libell\xe9"), "Libellé");
    assert_eq!(decode("Libellé".as_bytes()), "Libellé");
}
