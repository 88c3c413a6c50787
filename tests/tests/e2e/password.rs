//! The web password as an attacker meets it: an archive carrying a hash that asks for hours
//! of work is refused with nothing changed; an old PBKDF2 hash signs in once and is stored as
//! Argon2id from then on; and a crowd of sign-ins from many addresses gets 429 beyond one
//! hashing and four waiting, while the owner's own `PUT /v1/password` still completes.

use std::num::NonZeroU32;

use carnet_core::access::password::{Lane, MAX_WAITING};
use carnet_tests::browser::{Browser, Pkce, input_value, query_param};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use data_encoding::BASE64URL_NOPAD;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";
const REDIRECT: &str = "https://vendor.example/cb";

fn authorize_url(base: &str, v: &VendorApp, pkce: &Pkce) -> String {
    let mut u = url::Url::parse(&format!("{base}/oauth/authorize")).unwrap();
    u.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", v.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "relationship:read"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]);
    u.to_string()
}

/// A consent page opened in a browser: what its form posts back.
struct Page {
    browser: Browser,
    request: String,
    csrf: String,
}

fn open_page(base: &str, v: &VendorApp, seed: u8) -> Page {
    let mut browser = Browser::default();
    let page = browser.get(&authorize_url(base, v, &Pkce::new(seed)));
    assert_eq!(page.status, 200, "{}", page.text);
    Page {
        request: input_value(&page.text, "request").unwrap(),
        csrf: input_value(&page.text, "csrf").unwrap(),
        browser,
    }
}

/// Posts the page's form with `password`, as a browser behind the trusted proxy at `from`.
fn sign_in(base: &str, p: &Page, password: &str, from: Option<&str>) -> Resp {
    let mut req = http().post(format!("{base}/oauth/authorize")).form(&[
        ("request", p.request.as_str()),
        ("csrf", p.csrf.as_str()),
        ("all_categories", "yes"),
        ("password", password),
        ("decision", "approve"),
    ]);
    if let Some(c) = &p.browser.cookie {
        req = req.header("cookie", c);
    }
    if let Some(ip) = from {
        req = req.header("x-forwarded-for", ip);
    }
    Resp::from(req.send().expect("POST"))
}

/// The plaintext export of `s` (what the CLI encrypts).
fn export(s: &TestServer) -> String {
    let r = s.get("/v1/export");
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
}

/// `archive` with its `web_password` member replaced by `hash`.
fn with_web_password(archive: &str, hash: &str) -> String {
    let lines: Vec<String> = archive
        .lines()
        .map(|l| match l.strip_prefix("\"web_password\":") {
            Some(rest) => {
                let comma = if rest.ends_with(',') { "," } else { "" };
                format!("\"web_password\":{}{comma}", json!(hash))
            }
            None => l.to_owned(),
        })
        .collect();
    assert_ne!(lines.join("\n"), archive.trim_end(), "no web_password line");
    lines.join("\n") + "\n"
}

fn import(s: &TestServer, archive: &str) -> Resp {
    Resp::from(
        http()
            .post(s.url("/v1/import"))
            .bearer_auth(s.token())
            .header("content-type", "application/json")
            .body(archive.to_owned())
            .send()
            .expect("import"),
    )
}

/// The stored web password hash, as an export shows it.
fn stored_hash(s: &TestServer) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(&export(s)).unwrap();
    doc["web_password"].as_str().map(str::to_owned)
}

/// A PBKDF2 hash as carnetd wrote them before Argon2id.
fn pbkdf2_hash(password: &str, iterations: u32) -> String {
    let salt = [3u8; 16];
    let mut out = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).unwrap(),
        &salt,
        password.as_bytes(),
        &mut out,
    );
    format!(
        "pbkdf2-sha256${iterations}${}${}",
        BASE64URL_NOPAD.encode(&salt),
        BASE64URL_NOPAD.encode(&out)
    )
}

/// A vault with a vendor, its client and a password, exported.
fn an_archive() -> (String, VendorApp) {
    let a = TestServer::spawn();
    assert_eq!(
        a.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let v = VendorApp::connect(&a, "Acme");
    (export(&a), v)
}

#[test]
fn an_archive_with_a_hostile_password_hash_is_refused_and_changes_nothing() {
    let (archive, _) = an_archive();
    let b = TestServer::spawn();
    let salt_and_hash = "c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";
    for (hostile, limit) in [
        (
            format!("pbkdf2-sha256${}$AAAAAAAAAAAAAAAAAAAAAA$AAAA", u32::MAX),
            "1000000",
        ),
        (
            format!("pbkdf2-sha256${}$AAAAAAAAAAAAAAAAAAAAAA$AAAA", 1u32 << 24),
            "1000000",
        ),
        (
            format!("$argon2id$v=19$m=4194304,t=2,p=1${salt_and_hash}"),
            "65536",
        ),
        (
            format!("$argon2id$v=19$m=19456,t=4000,p=1${salt_and_hash}"),
            "10",
        ),
        (
            format!("$argon2id$v=19$m=19456,t=2,p=64${salt_and_hash}"),
            "4",
        ),
        (
            format!("$argon2d$v=19$m=19456,t=2,p=1${salt_and_hash}"),
            "argon2id",
        ),
    ] {
        let started = std::time::Instant::now();
        let p = import(&b, &with_web_password(&archive, &hostile)).problem(422);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "refused without running it"
        );
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("web_password"), "{detail}");
        assert!(detail.contains(limit), "names the limit {limit}: {detail}");
        assert!(
            p["hint"].as_str().unwrap().contains("nothing was imported"),
            "{p}"
        );
        assert_eq!(
            b.get("/v1/vendors").json()["items"],
            json!([]),
            "vault unchanged"
        );
        assert_eq!(stored_hash(&b), None, "no password was taken");
    }
    // The archive as exported still imports.
    assert_eq!(import(&b, &archive).status, 200);
    assert!(
        stored_hash(&b)
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
}

#[test]
fn an_old_pbkdf2_password_signs_in_once_and_is_then_stored_as_argon2id() {
    let (archive, v) = an_archive();
    let legacy = pbkdf2_hash(PASSWORD, 300_000);
    let b = TestServer::spawn();
    let r = import(&b, &with_web_password(&archive, &legacy));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(stored_hash(&b).as_deref(), Some(legacy.as_str()));
    let v = VendorApp {
        base: b.base.clone(),
        ..v
    };

    let wrong = sign_in(
        &b.base,
        &open_page(&b.base, &v, 1),
        "not the password",
        None,
    );
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert_eq!(
        stored_hash(&b).as_deref(),
        Some(legacy.as_str()),
        "a wrong one rehashes nothing"
    );

    let right = sign_in(&b.base, &open_page(&b.base, &v, 2), PASSWORD, None);
    assert_eq!(right.status, 303, "{}", right.text);
    assert!(query_param(right.header("location").unwrap(), "code").is_some());
    let upgraded = stored_hash(&b).unwrap();
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "rehashed on the successful sign-in: {upgraded}"
    );

    // The new hash signs in, and only with the same password.
    let again = sign_in(&b.base, &open_page(&b.base, &v, 3), PASSWORD, None);
    assert_eq!(again.status, 303, "{}", again.text);
    let wrong = sign_in(
        &b.base,
        &open_page(&b.base, &v, 4),
        "not the password",
        None,
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(stored_hash(&b).unwrap(), upgraded);
}

#[test]
fn sign_ins_beyond_one_hashing_and_four_waiting_get_429_while_the_owner_sets_the_password() {
    let s = TestServer::spawn_with_settings(carnet_server::Settings {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..carnet_server::Settings::default()
    });
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let v = VendorApp::connect(&s, "Acme");
    let page = open_page(&s.base, &v, 9);
    let queue = s.state().slow_hashes.clone();
    // The hash slot is busy (as with a slow hash running): what comes next has to wait.
    let held = queue.hold().expect("the slot is free");

    std::thread::scope(|scope| {
        // Four guesses from four addresses wait for the slot...
        let waiting: Vec<_> = (0..MAX_WAITING)
            .map(|i| {
                let (base, page) = (&s.base, &page);
                scope
                    .spawn(move || sign_in(base, page, "a guess", Some(&format!("198.51.100.{i}"))))
            })
            .collect();
        queue.block_until_waiting(Lane::SignIn, MAX_WAITING);
        // ...and every one beyond them, from yet other addresses, is turned away at once.
        for i in 0..3 {
            let r = sign_in(&s.base, &page, "a guess", Some(&format!("203.0.113.{i}")));
            assert_eq!(r.status, 429, "{}", r.text);
            assert_eq!(r.header("retry-after"), Some("1"));
            assert!(r.header("content-type").unwrap().starts_with("text/html"));
            assert!(r.text.contains("Carnet is busy"), "{}", r.text);
        }
        // The owner is not turned away: the password change waits its turn and completes.
        let owner =
            scope.spawn(|| s.put("/v1/password", &json!({"password": "a new long password"})));
        queue.block_until_waiting(Lane::Owner, 1);
        drop(held);
        for w in waiting {
            let r = w.join().unwrap();
            assert_eq!(r.status, 401, "a wrong guess, checked: {}", r.text);
        }
        assert_eq!(owner.join().unwrap().status, 204);
    });
    assert_eq!(queue.waiting(Lane::SignIn), 0);
    // The owner's own lane is bounded too, with the same problem+json as any rate limit.
    let held = queue.hold().expect("the slot is free");
    std::thread::scope(|scope| {
        let owners: Vec<_> = (0..MAX_WAITING)
            .map(|_| {
                scope.spawn(|| s.put("/v1/password", &json!({"password": "a new long password"})))
            })
            .collect();
        queue.block_until_waiting(Lane::Owner, MAX_WAITING);
        let r = s.put("/v1/password", &json!({"password": "a new long password"}));
        r.problem(429);
        assert_eq!(r.header("retry-after"), Some("1"));
        drop(held);
        for o in owners {
            assert_eq!(o.join().unwrap().status, 204);
        }
    });
    // And the password the owner set is the one that signs in.
    let r = sign_in(
        &s.base,
        &open_page(&s.base, &v, 10),
        "a new long password",
        Some("192.0.2.7"),
    );
    assert_eq!(r.status, 303, "{}", r.text);
}

#[test]
fn a_stored_hash_above_the_limits_never_runs_and_the_page_asks_to_set_the_password_again() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    // What an older carnetd's import could leave: 2^32-1 PBKDF2 iterations (hours of work per
    // sign-in), in a row carnetd itself wrote (so its row MAC holds: see `tampering.rs` for
    // rows written without the key).
    let hostile = format!("pbkdf2-sha256${}$AAAAAAAAAAAAAAAAAAAAAA$AAAA", u32::MAX);
    let mac = carnet_core::vault::RowMac::new(&s.state().keys).sign(
        "meta",
        [
            rusqlite::types::ValueRef::Text(b"web_password"),
            rusqlite::types::ValueRef::Blob(hostile.as_bytes()),
        ],
    );
    let dir = s.stop();
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    db.execute(
        "INSERT INTO meta (key, value, mac) VALUES ('web_password', ?1, ?2)",
        rusqlite::params![hostile.as_bytes(), mac],
    )
    .unwrap();
    drop(db);
    let s = TestServer::restart_in(dir);
    let v = VendorApp {
        base: s.base.clone(),
        ..v
    };
    let started = std::time::Instant::now();
    let r = sign_in(&s.base, &open_page(&s.base, &v, 20), PASSWORD, None);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "never computed"
    );
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.text.contains("must be set again"), "{}", r.text);
    assert!(r.text.contains("carnet password set"), "{}", r.text);
    // Setting it again is the way back in.
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let r = sign_in(&s.base, &open_page(&s.base, &v, 21), PASSWORD, None);
    assert_eq!(r.status, 303, "{}", r.text);
}
