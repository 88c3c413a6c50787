//! Market offers in the archive (version 5), end to end with a real carnetd on a real market:
//! a vault holding a pending and a declined market offer moves to a fresh vault (no relay
//! there) and `carnet offers` lists them the same; the pending one can be declined there, and
//! the answer stays in the vault (the intent's relay keys never travel, so nothing could sign
//! it). The archive carries no relay key, bucket or outbox; a row that failed its MAC is not
//! carried; an offer naming an intent the archive lacks, or showing terms other than its
//! signed ones, is refused; a version 4 archive still imports.

use std::path::Path;

use carnet_tests::market::Market;
use carnet_tests::{Carnetd, TestServer};
use serde_json::Value;

use crate::export::{Key, decrypt_with, encrypt_to, refused, the_schema};
use crate::relay_offers::{Announced, announce, market_offers, offer, wait_until};

/// A vault on a market with two announced intents: a pending offer on the washer, a declined
/// one (with its reason) on the dryer.
struct Moving {
    market: Market,
    data: tempfile::TempDir,
    carnetd: Carnetd,
    washer: Announced,
    dryer: Announced,
}

fn with_offers() -> Moving {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    let washer = announce(&market, &carnetd, "Washing machine", &[]);
    let dryer = announce(&market, &carnetd, "Dryer", &[]);
    offer(&market, &washer, "649.00", "EUR");
    offer(&market, &dryer, "420.50", "EUR");
    for i in [&washer, &dryer] {
        wait_until("the offer in `carnet offers`", || {
            (market_offers(&carnetd, &i.id).len() == 1).then_some(())
        });
    }
    let declined = market_offers(&carnetd, &dryer.id).remove(0);
    carnetd
        .carnet(&[
            "offer",
            "decline",
            declined["id"].as_str().unwrap(),
            "--reason",
            "Too far",
        ])
        .ok();
    Moving {
        market,
        data,
        carnetd,
        washer,
        dryer,
    }
}

/// `carnet export` of `d` for `key` into `dir`; the plaintext.
fn export_of(d: &Carnetd, dir: &Path, key: &Key) -> String {
    let out = dir.join("vault.age");
    d.carnet(&[
        "export",
        "--out",
        out.to_str().unwrap(),
        "--recipient",
        &key.public(),
    ])
    .ok();
    String::from_utf8(decrypt_with(&std::fs::read(out).unwrap(), &key.identity)).unwrap()
}

/// `plain` encrypted to `key` in `dir`, imported into a fresh vault with `carnet import`.
fn import_into(b: &TestServer, dir: &Path, key: &Key, plain: &str) -> carnet_tests::CliOutput {
    let file = dir.join("edited.age");
    std::fs::write(
        &file,
        encrypt_to(plain.as_bytes(), &key.identity.to_public()),
    )
    .unwrap();
    b.carnet(&["import", file.to_str().unwrap(), "--identity", key.path()])
}

/// The archive's `market_offers` records.
fn archived(plain: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(plain).unwrap();
    v["market_offers"].as_array().unwrap().clone()
}

/// Every market offer of the vault, by intent.
fn listed(s: &TestServer, m: &Moving) -> Vec<Value> {
    [&m.washer, &m.dryer]
        .iter()
        .flat_map(|i| {
            let out = s.carnet(&["--json", "offers", "--intent", &i.id]);
            out.ok();
            out.json().as_array().unwrap().clone()
        })
        .collect()
}

/// Rows of the relay's own tables in vault `dir` (clear columns, no key needed).
fn relay_rows(dir: &Path, table: &str) -> i64 {
    rusqlite::Connection::open(dir.join("carnet.db"))
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn market_offers_move_to_a_fresh_vault_and_the_pending_one_is_declined_there() {
    let m = with_offers();
    let before: Vec<Value> = [&m.washer, &m.dryer]
        .iter()
        .flat_map(|i| market_offers(&m.carnetd, &i.id))
        .collect();
    assert_eq!(
        before
            .iter()
            .map(|o| (
                o["state"].as_str().unwrap(),
                o["vendor_name"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [("pending", "acme shop"), ("declined", "acme shop")]
    );
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let plain = export_of(&m.carnetd, dir.path(), &key);
    let doc: Value = serde_json::from_str(&plain).unwrap();
    assert!(
        the_schema().is_valid(&doc),
        "the archive matches its schema"
    );
    assert_eq!(doc["version"], 5);
    assert_eq!(doc["counts"]["market_offers"], 2);
    let records = archived(&plain);
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["vendor"]["name"], "acme shop");
        assert!(r["vendor"]["x25519"].as_str().unwrap().starts_with("age1"));
        assert!(!r["signed_terms"]["signature"].as_str().unwrap().is_empty());
    }
    // The relay's secrets stay behind: no intent key, no bucket, no outbox message.
    assert!(!plain.contains("AGE-SECRET-KEY"), "an X25519 secret key");
    for i in [&m.washer, &m.dryer] {
        assert!(!plain.contains(&i.bucket), "the bucket of {}", i.id);
    }
    assert!(!plain.contains("relay_intents") && !plain.contains("relay_outbox"));

    // A fresh vault, without a relay, takes them.
    let b = TestServer::spawn();
    import_into(&b, dir.path(), &key, &plain).ok();
    let after = listed(&b, &m);
    assert_eq!(after, before, "`carnet offers` lists them the same");
    assert_eq!(after[1]["decline_reason"], "Too far");
    assert_eq!(after[0]["price"], "649.00");

    // The pending one can be declined there; a second answer is still a conflict.
    let id = after[0]["id"].as_str().unwrap();
    let declined = b.carnet(&["--json", "offer", "decline", id, "--reason", "Bought one"]);
    declined.ok();
    assert_eq!(declined.json()["state"], "declined");
    assert_eq!(declined.json()["decline_reason"], "Bought one");
    // Said, not hidden: the vendor cannot be told from here.
    assert_eq!(declined.json()["vendor_told"], false);
    assert!(
        declined.stderr.contains("the vendor cannot be told"),
        "{}",
        declined.stderr
    );
    let again = b.carnet(&["offer", "decline", id]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("not pending"), "{}", again.stderr);
    // The intent's keys stayed in the old vault: no answer is queued for the relay.
    assert_eq!(relay_rows(b.path(), "relay_outbox"), 0);
    assert_eq!(relay_rows(b.path(), "relay_intents"), 0);
    // A replay of the same vendor's offer id is still recognised (kept in clear columns).
    assert_eq!(relay_rows(b.path(), "relay_offers"), 2);
}

#[test]
fn an_export_never_carries_a_market_offer_that_failed_its_row_mac() {
    let m = with_offers();
    let declined = market_offers(&m.carnetd, &m.dryer.id).remove(0);
    let id = declined["id"].as_str().unwrap().to_owned();
    let (status, log) = m.carnetd.terminate();
    assert!(status.success(), "{log}");
    // The attacker sets the declined offer back to pending, to answer it again.
    let changed = rusqlite::Connection::open(m.data.path().join("carnet.db"))
        .unwrap()
        .execute(
            "UPDATE relay_offers SET state = 'pending' WHERE id = ?1",
            [&id],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let carnetd = m.market.carnetd(m.data.path());
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let plain = export_of(&carnetd, dir.path(), &key);
    let records = archived(&plain);
    assert_eq!(records.len(), 1, "only the untouched offer");
    assert_ne!(records[0]["id"], id.as_str());
    assert!(!plain.contains(&id), "the tampered row is not carried");
    let doc: Value = serde_json::from_str(&plain).unwrap();
    assert_eq!(doc["counts"]["market_offers"], 1);
}

#[test]
fn hostile_market_offers_are_refused_and_a_version_4_archive_still_imports() {
    let m = with_offers();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let plain = export_of(&m.carnetd, dir.path(), &key);
    let b = TestServer::spawn();

    // A dangling intent (the archive's only `intent_id` of the washer is its market offer's).
    let named = format!("\"intent_id\":\"{}\"", m.washer.id);
    assert_eq!(plain.matches(&named).count(), 1);
    let nowhere = format!("itt_{}", "0".repeat(m.washer.id.len() - 4));
    let edited = plain.replace(&named, &format!("\"intent_id\":\"{nowhere}\""));
    refused(
        &import_into(&b, dir.path(), &key, &edited),
        "which the archive does not hold",
    );

    // A cheaper price than the vendor signed.
    assert_eq!(plain.matches("\"price\":\"649.00\"").count(), 1);
    let edited = plain.replace("\"price\":\"649.00\"", "\"price\":\"1.00\"");
    refused(
        &import_into(&b, dir.path(), &key, &edited),
        "differ from the signed_terms",
    );
    assert_eq!(
        relay_rows(b.path(), "relay_offers"),
        0,
        "nothing was written"
    );

    // Version 4: no `market_offers` member and no count of them.
    let start = plain.find(",\n\"market_offers\":[").unwrap();
    let end = start + plain[start..].find("\n]").unwrap() + 2;
    let v4 = format!("{}{}", &plain[..start], &plain[end..])
        .replace("\n\"version\":5,\n", "\n\"version\":4,\n")
        .replace(",\"market_offers\":2", "");
    assert!(!v4.contains("market_offers") && v4.contains("\"version\":4,"));
    import_into(&b, dir.path(), &key, &v4).ok();
    assert!(listed(&b, &m).is_empty());
    let intents = b.carnet(&["--json", "intent", "list"]);
    intents.ok();
    assert_eq!(intents.json().as_array().unwrap().len(), 2);
}
