//! The `carnet` CLI keeps what its help says, tried as an owner would: listings fit the
//! terminal, long text comes from files or stdin and is never echoed back, a vendor named like
//! an id can be reached, amounts have their currency's decimals, deleting asks first, and the
//! ledger's records can all be edited and removed.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, CliOutput, TestServer, run_carnet_env};
use chrono::{Duration, Utc};
use serde_json::json;

/// `carnet` against `s` with `COLUMNS` set, as a terminal of that width would have it.
fn carnet_at(s: &TestServer, columns: usize, args: &[&str]) -> CliOutput {
    let token = s.token();
    let columns = columns.to_string();
    run_carnet_env(
        s.path(),
        &[
            ("CARNET_SERVER", &s.base),
            ("CARNET_TOKEN", &token),
            ("COLUMNS", &columns),
        ],
        args,
        None,
    )
}

const SCOPES: [&str; 5] = [
    "intents:read",
    "offers:write",
    "relationship:read",
    "interactions:read",
    "profile:read",
];

/// A word of a listing cut short (`…`) that is the start of an id or of a scope name.
fn cut_name(text: &str) -> Option<String> {
    text.split([' ', ',']).find_map(|word| {
        let (before, _) = word.split_once('…')?;
        let id = before.len() >= 4
            && before.as_bytes()[3] == b'_'
            && before[..3].bytes().all(|b| b.is_ascii_lowercase());
        let scope =
            !before.is_empty() && SCOPES.iter().any(|s| s.starts_with(before) && *s != before);
        (id || scope).then(|| word.to_owned())
    })
}

#[test]
fn every_listing_fits_the_terminal_and_never_cuts_an_id_or_scope_from_80_columns() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Boulangerie Martin du Vieux Lyon");
    let grant = v.grant(
        &s,
        &["relationship:read", "intents:read", "offers:write"],
        Some(&["home.appliances.washing-machines", "food.bakery"]),
    );
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    let interaction = s.create(
        "/v1/interactions",
        &json!({"vendor_id": v.vendor_id, "channel": "store",
                "summary": "Asked whether the sourdough could be sliced thinner for sandwiches"}),
    );
    let purchase = s.create(
        "/v1/purchases",
        &json!({"vendor_id": v.vendor_id, "item": "Sourdough loaf, sliced, two kilos",
                "amount": "12.40", "currency": "EUR"}),
    );
    let listings: [(&[&str], &[&str]); 6] = [
        (&["grant", "list"], &[&grant]),
        (&["receipts"], &[]),
        (&["audit"], &[]),
        (&["vendor", "list"], &[&v.vendor_id]),
        (&["interaction", "list"], &[&interaction]),
        (&["purchase", "list"], &[&purchase]),
    ];
    for width in [60, 80, 120] {
        for (args, ids) in listings {
            let out = carnet_at(&s, width, args);
            out.ok();
            let text = &out.stdout;
            for line in text.lines() {
                assert!(
                    line.chars().count() <= width,
                    "carnet {args:?} at {width} columns: a line is {} wide:\n{text}",
                    line.chars().count()
                );
            }
            if width >= 80 {
                assert_eq!(cut_name(text), None, "carnet {args:?} at {width}:\n{text}");
                for id in ids {
                    assert!(
                        text.contains(id),
                        "carnet {args:?} at {width}: {id} missing:\n{text}"
                    );
                }
            }
        }
    }
    // The scopes at 80: whole names, and how many more there are.
    let grants = carnet_at(&s, 80, &["grant", "list"]).stdout;
    assert!(grants.contains("intents:read +2"), "{grants}");
}

#[test]
fn long_text_comes_from_a_file_or_stdin_and_is_never_echoed() {
    let s = TestServer::spawn();
    s.carnet(&["vendor", "add", "Acme"]).ok();
    let pasted = "x".repeat(70_000);
    let refused = s.carnet(&[
        "interaction",
        "add",
        "Acme",
        "--channel",
        "web",
        "--summary",
        &pasted,
    ]);
    assert_eq!(refused.code, 2, "{}", &refused.stderr[..200]);
    assert!(
        refused.stderr.len() < 600,
        "the text is not echoed: {} bytes of error",
        refused.stderr.len()
    );
    assert!(refused.stderr.contains("--summary"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("the limit is 10000"),
        "{}",
        refused.stderr
    );
    let help = s
        .carnet(&["interaction", "add", "--help"])
        .ok()
        .stdout
        .clone();
    assert!(help.contains("10,000 characters"), "{help}");
    assert!(help.contains("@FILE"), "{help}");

    let reply = s.path().join("reply.txt");
    std::fs::write(&reply, "Dear customer,\nthe technician comes Tuesday.\n").unwrap();
    let created = s
        .carnet_stdin(
            &[
                "--json",
                "interaction",
                "add",
                "Acme",
                "--channel",
                "email",
                "--summary",
                "-",
                "--they-said",
                &format!("@{}", reply.display()),
                "--outcome",
                "@@lea will call",
            ],
            "Asked for a repair\nby email\n",
        )
        .ok()
        .json();
    assert_eq!(created["summary"], "Asked for a repair\nby email");
    assert_eq!(
        created["they_said"],
        "Dear customer,\nthe technician comes Tuesday."
    );
    assert_eq!(created["outcome"], "@lea will call");

    let missing = s.carnet(&[
        "vendor",
        "edit",
        "Acme",
        "--note",
        &format!("@{}", s.path().join("nowhere.txt").display()),
    ]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("nowhere.txt"), "{}", missing.stderr);
    let twice = s.carnet_stdin(
        &[
            "interaction",
            "add",
            "Acme",
            "--channel",
            "web",
            "--summary",
            "-",
            "--outcome",
            "-",
        ],
        "one\n",
    );
    assert_eq!(twice.code, 2, "stdin is read once: {}", twice.stderr);
}

#[test]
fn a_vendor_named_like_an_id_can_be_reached() {
    let s = TestServer::spawn();
    let real = s.create("/v1/vendors", &json!({"name": "Acme"}));
    let odd = s.create("/v1/vendors", &json!({"name": "ven_0123456789abcdef"}));
    // A vendor named like another's id: the id wins, name: reaches the name.
    let shadow = s.create("/v1/vendors", &json!({"name": real}));

    let shown = s
        .carnet(&["--json", "vendor", "show", "ven_0123456789abcdef"])
        .ok()
        .json();
    assert_eq!(shown["id"], odd.as_str());
    let shown = s.carnet(&["--json", "vendor", "show", &real]).ok().json();
    assert_eq!(shown["id"], real.as_str(), "an exact id comes first");
    let shown = s
        .carnet(&["--json", "vendor", "show", &format!("name:{real}")])
        .ok()
        .json();
    assert_eq!(shown["id"], shadow.as_str());
    s.carnet(&[
        "interaction",
        "add",
        "ven_0123456789abcdef",
        "--channel",
        "web",
        "--summary",
        "reached",
    ])
    .ok();
    let listed = s.list_all(&format!("/v1/interactions?vendor={odd}"));
    assert_eq!(listed.len(), 1);
    let help = s.carnet(&["--help"]).ok().stdout.clone();
    assert!(help.contains("name:NAME"), "{help}");
}

#[test]
fn amounts_have_their_currency_decimals_in_the_cli_and_the_api() {
    let s = TestServer::spawn();
    s.carnet(&["vendor", "add", "Acme"]).ok();
    let add = |amount: &str, currency: &str| {
        s.carnet(&[
            "purchase",
            "add",
            "Acme",
            "--item",
            "Kettle",
            "--amount",
            amount,
            "--currency",
            currency,
        ])
    };
    let out = add("10.123", "EUR");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("EUR has 2 decimals"), "{}", out.stderr);
    let out = add("100.5", "JPY");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("JPY has no decimals"), "{}", out.stderr);
    let out = add("-10", "EUR");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--amount") && out.stderr.contains("negative"),
        "--amount -10 reads as a value: {}",
        out.stderr
    );
    add("100", "JPY").ok();
    add("1.234", "KWD").ok();
    assert_eq!(s.list_all("/v1/purchases").len(), 2);

    // The server refuses them too: the owner API, intents, vendors' offers.
    let vendor = s.list_all("/v1/vendors")[0]["id"].clone();
    let p = s
        .post(
            "/v1/purchases",
            &json!({"vendor_id": vendor, "item": "Kettle", "amount": "10.123", "currency": "EUR"}),
        )
        .problem(422);
    assert!(p.to_string().contains("EUR has 2 decimals"), "{p}");
    s.post(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Kettle",
                "price_specification": {"max_price": "100.5", "price_currency": "JPY"}}),
    )
    .problem(422);
    let until = Utc::now() + Duration::days(5);
    let intent = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Kettle",
                "price_specification": {"max_price": "40", "price_currency": "EUR"},
                "valid_through": until.to_rfc3339()}),
    );
    assert_eq!(
        s.post(&format!("/v1/intents/{intent}/activate"), &json!({}))
            .status,
        200
    );
    let v = VendorApp::connect(&s, "Kettles Inc");
    v.grant(&s, &["intents:read", "offers:write"], None);
    let token = v.token();
    let offer = |price: &str| {
        carnet_tests::Resp::from(
            carnet_tests::http()
                .post(format!("{}/v1/vendor/intents/{intent}/offers", s.base))
                .bearer_auth(&token)
                .json(&json!({"price": price, "price_currency": "EUR",
                              "description": "Steel kettle"}))
                .send()
                .unwrap(),
        )
    };
    offer("39.999").problem(422);
    assert_eq!(offer("39.99").status, 201);
}

#[test]
fn deleting_an_interaction_a_purchase_or_an_incident_asks_first() {
    let s = TestServer::spawn();
    let vendor = s.create("/v1/vendors", &json!({"name": "Acme"}));
    let records = [
        (
            "interaction",
            "/v1/interactions",
            s.create(
                "/v1/interactions",
                &json!({"vendor_id": vendor, "channel": "web", "summary": "x"}),
            ),
        ),
        (
            "purchase",
            "/v1/purchases",
            s.create(
                "/v1/purchases",
                &json!({"vendor_id": vendor, "item": "x", "amount": "1", "currency": "EUR"}),
            ),
        ),
        (
            "incident",
            "/v1/incidents",
            s.create(
                "/v1/incidents",
                &json!({"vendor_id": vendor, "description": "x"}),
            ),
        ),
    ];
    for (noun, path, id) in &records {
        let refused = s.carnet(&[noun, "rm", id]);
        assert_eq!(refused.code, 1, "{noun}: {}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains(&format!("carnet {noun} rm {id} --yes")),
            "{noun}: {}",
            refused.stderr
        );
        assert_eq!(s.get(&format!("{path}/{id}")).status, 200, "{noun} kept");
        s.carnet(&[noun, "rm", id, "--yes"]).ok();
        assert_eq!(s.get(&format!("{path}/{id}")).status, 404, "{noun} deleted");
    }
}

#[test]
fn purchases_and_incidents_can_be_edited() {
    let s = TestServer::spawn();
    let vendor = s.create("/v1/vendors", &json!({"name": "Acme"}));
    let purchase = s.create(
        "/v1/purchases",
        &json!({"vendor_id": vendor, "item": "Washer", "amount": "699.90", "currency": "EUR",
                "receipt": "R-1", "date": "2026-11-12"}),
    );
    s.carnet(&[
        "purchase",
        "edit",
        &purchase,
        "--amount",
        "649.90",
        "--receipt",
        "",
        "--warranty-until",
        "2028-11-12",
    ])
    .ok();
    let p = s.get(&format!("/v1/purchases/{purchase}")).json();
    assert_eq!(p["amount"], "649.90");
    assert_eq!(p["receipt"], serde_json::Value::Null);
    assert_eq!(p["warranty_until"], "2028-11-12");
    assert_eq!(p["item"], "Washer", "what was not given is kept");
    let bad = s.carnet(&["purchase", "edit", &purchase, "--currency", "JPY"]);
    assert_eq!(bad.code, 2, "649.90 JPY: {}", bad.stderr);

    let incident = s.create(
        "/v1/incidents",
        &json!({"vendor_id": vendor, "description": "Drum broken"}),
    );
    s.carnet(&[
        "incident",
        "edit",
        &incident,
        "--description",
        "Drum broken after 3 weeks",
        "--at",
        "2026-11-20T09:00:00+01:00",
    ])
    .ok();
    let i = s.get(&format!("/v1/incidents/{incident}")).json();
    assert_eq!(i["description"], "Drum broken after 3 weeks");
    assert_eq!(i["opened_at"], "2026-11-20T09:00:00+01:00");
    assert_eq!(i["status"], "open");
    let open = s.carnet(&["incident", "edit", &incident, "--satisfaction", "8"]);
    assert_eq!(
        open.code, 2,
        "an open incident has no satisfaction: {}",
        open.stderr
    );
    s.carnet(&[
        "incident",
        "edit",
        &incident,
        "--resolution",
        "Drum replaced",
        "--satisfaction",
        "8",
    ])
    .ok();
    let i = s.get(&format!("/v1/incidents/{incident}")).json();
    assert_eq!(i["status"], "resolved");
    assert_eq!(i["satisfaction"], 8);
    assert!(i["resolved_at"].is_string());
    s.carnet(&["incident", "edit", &incident, "--reopen"]).ok();
    let i = s.get(&format!("/v1/incidents/{incident}")).json();
    assert_eq!(i["status"], "open");
    assert_eq!(i["resolution"], serde_json::Value::Null);
    assert_eq!(i["resolved_at"], serde_json::Value::Null);

    // The API keeps the incident with its vendor and an open one without a resolution.
    let mut moved = i.clone();
    moved["vendor_id"] = json!(s.create("/v1/vendors", &json!({"name": "Other"})));
    s.put(&format!("/v1/incidents/{incident}"), &moved)
        .problem(422);
    let mut half = i.clone();
    half["satisfaction"] = json!(3);
    s.put(&format!("/v1/incidents/{incident}"), &half)
        .problem(422);
}

#[test]
fn an_error_says_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("carnetd.toml");
    let out = carnet_tests::run_carnetd(
        dir.path(),
        &["--config", missing.to_str().unwrap(), "print-config"],
        None,
    );
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("cannot read config file"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        out.stderr
    );
    let out = carnet_tests::run_carnet_env(
        dir.path(),
        &[
            ("CARNET_SERVER", "http://127.0.0.1:9"),
            ("CARNET_TOKEN", "t"),
        ],
        &["import", missing.to_str().unwrap()],
        None,
    );
    assert_ne!(out.code, 0);
    assert_eq!(
        out.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        out.stderr
    );
}
