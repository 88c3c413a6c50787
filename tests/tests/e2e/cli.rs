//! The `carnet` CLI against a real server: the tour from the README, JSON output for scripts,
//! and how it fails (one line, a hint, a meaningful exit code).

use carnet_tests::{Api, TestServer, run_carnet_env};

#[test]
fn the_readme_tour_records_a_relationship_and_shows_its_loyalty() {
    let s = TestServer::spawn();
    s.carnet(&[
        "vendor",
        "add",
        "Acme Appliances",
        "--website",
        "https://acme.example",
        "--category",
        "home.appliances",
        "--account",
        "customer 4711",
        "--channel",
        "email",
        "--contact-policy",
        "email only, at most monthly",
    ])
    .ok();
    let added = s
        .carnet(&[
            "interaction",
            "add",
            "Acme Appliances",
            "--channel",
            "phone",
            "--with",
            "Claire, after-sales",
            "--summary",
            "Drum makes a grinding noise",
            "--expected",
            "a technician this week",
            "--i-said",
            "second time this year",
            "--they-said",
            "technician comes Tuesday",
            "--outcome",
            "visit booked",
            "--sentiment",
            "-1",
            "--next",
            "check the visit happened",
            "--due",
            "2026-11-26",
        ])
        .ok()
        .stdout
        .clone();
    assert!(added.contains("int_"), "{added}");
    let list = s.carnet(&[
        "interaction",
        "list",
        "--vendor",
        "Acme Appliances",
        "--grep",
        "TECHNICIAN",
    ]);
    assert!(list.ok().stdout.contains("Drum makes"), "{}", list.stdout);
    s.carnet(&[
        "purchase",
        "add",
        "Acme Appliances",
        "--item",
        "Washing machine WM-7",
        "--amount",
        "699.90",
        "--currency",
        "EUR",
        "--at",
        "2025-03-01",
        "--warranty-until",
        "2027-03-01",
    ])
    .ok();
    let incident = s
        .carnet(&[
            "--json",
            "incident",
            "open",
            "Acme Appliances",
            "--description",
            "Drum noise",
        ])
        .ok()
        .json();
    let inc = incident["id"].as_str().unwrap();
    s.carnet(&[
        "incident",
        "resolve",
        inc,
        "--resolution",
        "Drum replaced",
        "--satisfaction",
        "8",
    ])
    .ok();
    let followups = s.carnet(&["followups", "--all"]).ok().stdout.clone();
    assert!(
        followups.contains("check the visit happened"),
        "{followups}"
    );

    let shown = s
        .carnet(&["--json", "vendor", "show", "Acme Appliances"])
        .ok()
        .json();
    let l = &shown["loyalty"];
    assert_eq!(l["customer_since"], "2025-03-01");
    assert_eq!(l["total_spent"]["EUR"], "699.90");
    assert_eq!(l["interactions"], 1);
    assert_eq!(l["average_sentiment"], -1.0);
    assert_eq!(l["incidents_resolved"], 1);
    let human = s
        .carnet(&["vendor", "show", "Acme Appliances"])
        .ok()
        .stdout
        .clone();
    assert!(human.contains("699.90 EUR"), "{human}");
    assert!(human.contains("customer since"), "{human}");
}

#[test]
fn json_output_is_the_full_created_object_and_listings_are_arrays() {
    let s = TestServer::spawn();
    let v = s.carnet(&["--json", "vendor", "add", "Acme"]).ok().json();
    let id = v["id"].as_str().unwrap();
    assert!(id.starts_with("ven_"));
    assert_eq!(v["name"], "Acme");
    assert!(v["created_at"].is_string());
    let by_id = s.carnet(&["--json", "vendor", "show", id]).ok().json();
    assert_eq!(by_id["name"], "Acme");
    for i in 0..3 {
        s.carnet(&[
            "interaction",
            "add",
            id,
            "--channel",
            "web",
            "--summary",
            &format!("n{i}"),
        ])
        .ok();
    }
    let list = s.carnet(&["--json", "interaction", "list"]).ok().json();
    let items = list.as_array().expect("a JSON array");
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|i| i["vendor_id"] == id && i["id"].is_string())
    );
    let stored = s.list_all("/v1/interactions");
    assert_eq!(stored.len(), 3);
}

#[test]
fn errors_are_one_line_with_a_hint_and_an_exit_code() {
    let s = TestServer::spawn();
    let out = s.carnet(&[
        "interaction",
        "add",
        "Nobody",
        "--channel",
        "web",
        "--summary",
        "x",
    ]);
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(lines[0].starts_with("carnet: error: "), "{}", out.stderr);
    assert!(
        lines[1].trim_start().starts_with("hint: "),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    let bad_token = run_carnet_env(
        s.path(),
        &[
            ("CARNET_SERVER", &s.base),
            ("CARNET_TOKEN", "not-the-token"),
        ],
        &["vendor", "list"],
        None,
    );
    assert_eq!(bad_token.code, 4, "{}", bad_token.stderr);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = run_carnet_env(
        s.path(),
        &[("CARNET_SERVER", &url), ("CARNET_TOKEN", "x")],
        &["vendor", "list"],
        None,
    );
    assert_eq!(unreachable.code, 3, "{}", unreachable.stderr);
    assert!(unreachable.stderr.contains("cannot reach carnetd"));

    let refused = s.carnet(&[
        "purchase",
        "add",
        "x",
        "--item",
        "y",
        "--amount",
        "-3",
        "--currency",
        "EUR",
    ]);
    assert_eq!(
        refused.code, 2,
        "a bad flag value is a usage error: {}",
        refused.stderr
    );
}

#[test]
fn removing_a_vendor_asks_first_and_yes_removes_it() {
    let s = TestServer::spawn();
    s.carnet(&["vendor", "add", "Acme"]).ok();
    s.carnet(&[
        "interaction",
        "add",
        "Acme",
        "--channel",
        "web",
        "--summary",
        "x",
    ])
    .ok();
    let refused = s.carnet(&["vendor", "rm", "Acme"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(
        s.list_all("/v1/vendors").len(),
        1,
        "nothing removed without confirmation"
    );
    s.carnet(&["vendor", "rm", "Acme", "--yes"]).ok();
    assert!(s.list_all("/v1/vendors").is_empty());
    assert!(s.list_all("/v1/interactions").is_empty());
}

#[test]
fn login_saves_a_private_config_that_later_commands_use() {
    let s = TestServer::spawn();
    let token = s.token();
    let out = run_carnet_env(
        s.path(),
        &[],
        &["login", "--server", &s.base, "--token-file", "-"],
        Some(&format!("{token}\n")),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let config = s.path().join("cli-home/config/carnet/config.toml");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let listed = run_carnet_env(s.path(), &[], &["vendor", "add", "FromConfig"], None);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(s.list_all("/v1/vendors")[0]["name"], "FromConfig");

    let wrong = run_carnet_env(
        s.path(),
        &[],
        &["login", "--server", &s.base, "--token-file", "-"],
        Some("wrong-token\n"),
    );
    assert_ne!(wrong.code, 0, "a token the server refuses is not saved");
}

#[test]
fn the_local_owner_token_is_found_without_configuration() {
    let s = TestServer::spawn();
    let out = run_carnet_env(
        s.path(),
        &[
            ("CARNET_SERVER", &s.base),
            ("CARNET_DATA_DIR", s.path().to_str().unwrap()),
        ],
        &["vendor", "add", "Local"],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn edits_change_only_the_flags_given_and_empty_values_clear() {
    let s = TestServer::spawn();
    s.carnet(&[
        "vendor",
        "add",
        "Acme",
        "--website",
        "https://acme.example",
        "--note",
        "slow deliveries",
        "--category",
        "home.appliances",
    ])
    .ok();
    s.carnet(&[
        "vendor",
        "edit",
        "Acme",
        "--name",
        "Acme SA",
        "--website",
        "",
    ])
    .ok();
    let v = s
        .carnet(&["--json", "vendor", "show", "Acme SA"])
        .ok()
        .json();
    assert_eq!(v["note"], "slow deliveries");
    assert_eq!(v["categories"][0], "home.appliances");
    assert!(v["website"].is_null());

    s.carnet(&["profile", "set", "--city", "Lyon", "--locale", "fr-FR"])
        .ok();
    s.carnet(&["profile", "set", "--display-name", "Camille"])
        .ok();
    let p = s.carnet(&["--json", "profile", "show"]).ok().json();
    assert_eq!(p["city"], "Lyon");
    assert_eq!(p["display_name"], "Camille");

    let i = s
        .carnet(&[
            "--json",
            "interaction",
            "add",
            "Acme SA",
            "--channel",
            "mail",
            "--summary",
            "Letter",
            "--next",
            "Reply",
        ])
        .ok()
        .json();
    let id = i["id"].as_str().unwrap();
    s.carnet(&["followups", "done", id]).ok();
    let shown = s.carnet(&["--json", "interaction", "show", id]).ok().json();
    assert_eq!(shown["next_done"], true);
    assert_eq!(shown["summary"], "Letter");
}

#[test]
fn the_owner_connects_a_vendor_grants_access_and_sees_receipts_and_the_audit_trail() {
    let s = TestServer::spawn();
    s.carnet(&["vendor", "add", "Acme"]).ok();
    let creds = s
        .carnet(&[
            "--json",
            "vendor",
            "connect",
            "Acme",
            "--redirect-uri",
            "https://acme.example/cb",
            "--webhook-url",
            "http://192.168.1.20/hook",
        ])
        .ok()
        .json();
    let client_id = creds["client_id"].as_str().unwrap();
    let secret = creds["client_secret"].as_str().unwrap();
    assert!(
        creds["webhook_secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    let human = s.carnet(&[
        "vendor",
        "connect",
        "Acme",
        "--redirect-uri",
        "https://acme.example/cb",
    ]);
    assert_eq!(
        human.code, 1,
        "connecting twice is refused: {}",
        human.stderr
    );

    let grant = s
        .carnet(&[
            "--json",
            "grant",
            "create",
            "Acme",
            "--scope",
            "relationship:read",
            "--category",
            "home.appliances",
            "--days",
            "10",
        ])
        .ok()
        .json();
    assert_eq!(grant["state"], "live");
    assert_eq!(grant["categories"], serde_json::json!(["home.appliances"]));
    let usage = s.carnet(&["grant", "create", "Acme", "--scope", "relationship:read"]);
    assert_eq!(
        usage.code, 2,
        "a grant names its categories or --all-categories"
    );

    // The vendor side, with plain HTTP.
    let r = carnet_tests::http()
        .post(s.url("/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    let grants = s.carnet(&["--json", "grant", "list"]).ok().json();
    assert_eq!(grants.as_array().unwrap().len(), 1);
    let receipts = s
        .carnet(&["--json", "receipts", "--vendor", "Acme"])
        .ok()
        .json();
    assert_eq!(receipts[0]["grant_id"], grant["id"]);
    assert!(receipts[0]["jws"].as_str().unwrap().split('.').count() == 3);
    let audit = s
        .carnet(&["--json", "audit", "--vendor", "Acme"])
        .ok()
        .json();
    assert_eq!(audit[0]["endpoint"], "POST /oauth/token");
    let table = s.carnet(&["audit"]).ok().stdout.clone();
    assert!(table.contains("POST /oauth/token"), "{table}");

    let gid = grant["id"].as_str().unwrap();
    s.carnet(&["grant", "revoke", gid]).ok();
    assert_eq!(
        s.get(&format!("/v1/grants/{gid}")).json()["state"],
        "revoked"
    );
    let rotated = s
        .carnet(&["--json", "vendor", "rotate-secret", "Acme"])
        .ok()
        .json();
    assert_ne!(rotated["client_secret"].as_str().unwrap(), secret);
}

#[test]
fn a_consumer_and_two_vendors_intentcast_end_to_end() {
    use oauth2::basic::BasicClient;
    use oauth2::{ClientId, ClientSecret, TokenResponse, TokenUrl};

    let s = TestServer::spawn();
    let mut vendors = Vec::new();
    for (name, category) in [("Acme", "home.appliances"), ("Bolt", "home.garden")] {
        s.carnet(&["vendor", "add", name]).ok();
        let creds = s
            .carnet(&[
                "--json",
                "vendor",
                "connect",
                name,
                "--redirect-uri",
                "https://vendor.example/cb",
            ])
            .ok()
            .json();
        s.carnet(&[
            "grant",
            "create",
            name,
            "--scope",
            "intents:read",
            "--scope",
            "offers:write",
            "--category",
            category,
        ])
        .ok();
        // Each vendor is an ordinary OAuth client written with the oauth2 crate.
        let client = BasicClient::new(ClientId::new(creds["client_id"].as_str().unwrap().into()))
            .set_client_secret(ClientSecret::new(
                creds["client_secret"].as_str().unwrap().into(),
            ))
            .set_token_uri(TokenUrl::new(s.url("/oauth/token")).unwrap());
        let token = client
            .exchange_client_credentials()
            .request(&carnet_tests::oauth2_http::client())
            .expect("token")
            .access_token()
            .secret()
            .clone();
        vendors.push((name, token));
    }
    let until = (chrono::Utc::now() + chrono::Duration::days(20))
        .date_naive()
        .to_string();
    let intent = s
        .carnet(&[
            "--json",
            "intent",
            "new",
            "--category",
            "home.appliances.washing-machine",
            "--title",
            "Washing machine",
            "--max-price",
            "700",
            "--currency",
            "EUR",
            "--area",
            "Lyon",
            "--until",
            &until,
            "--activate",
        ])
        .ok()
        .json();
    assert_eq!(intent["state"], "active");
    let id = intent["id"].as_str().unwrap().to_owned();

    let pull = |token: &str| -> serde_json::Value {
        carnet_tests::http()
            .get(s.url("/v1/vendor/intents"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let (acme, bolt) = (&vendors[0].1, &vendors[1].1);
    assert_eq!(pull(acme)["items"][0]["id"], id.as_str());
    assert_eq!(
        pull(acme)["items"][0]["price_specification"]["max_price"],
        "700"
    );
    assert!(
        pull(bolt)["items"].as_array().unwrap().is_empty(),
        "Bolt sells garden things"
    );
    let offer = carnet_tests::http()
        .post(s.url(&format!("/v1/vendor/intents/{id}/offers")))
        .bearer_auth(acme)
        .json(&serde_json::json!({"price": "649.00", "price_currency": "EUR", "description": "WM-9, delivered Friday"}))
        .send()
        .unwrap();
    assert_eq!(offer.status(), 201);

    let offers = s.carnet(&["--json", "offers", "--intent", &id]).ok().json();
    let ofr = offers[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(offers[0]["state"], "pending");
    let table = s.carnet(&["offers"]).ok().stdout.clone();
    assert!(table.contains("649.00"), "{table}");
    s.carnet(&["offer", "accept", &ofr]).ok();
    let acme_detail = s.carnet(&["--json", "vendor", "show", "Acme"]).ok().json();
    assert_eq!(acme_detail["loyalty"]["purchases"], 1);
    assert_eq!(acme_detail["loyalty"]["total_spent"]["EUR"], "649.00");
    assert_eq!(
        s.carnet(&["--json", "intent", "show", &id]).ok().json()["state"],
        "fulfilled"
    );
    assert!(pull(acme)["items"].as_array().unwrap().is_empty());
}
