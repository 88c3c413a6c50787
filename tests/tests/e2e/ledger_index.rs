//! Owner listings through the in-memory ledger index: the same pages, order, cursors and
//! filters as opening every record gave; changes between pages; an import and a restart
//! rebuild it; `/metrics` shows its size.

use carnet_tests::{Api, TestServer, http};
use serde_json::{Value, json};

use crate::{interaction, vendor};

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Walks a listing `limit` at a time, checking each page's size.
fn pages(s: &TestServer, path: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = s.get(&url);
        assert_eq!(page.status, 200, "{url}: {}", page.text);
        let page = page.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        out.extend(ids(items));
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), limit, "a page before the last is full");
                cursor = Some(c.to_owned());
            }
            None => return out,
        }
    }
}

/// Interactions as (minus their time in ms, id): the listing's order.
fn order_of(s: &TestServer, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut all: Vec<(i64, String)> = s
        .list_all("/v1/interactions")
        .into_iter()
        .filter(|i| keep(i))
        .map(|i| {
            let at = chrono::DateTime::parse_from_rfc3339(i["at"].as_str().unwrap()).unwrap();
            (-at.timestamp_millis(), i["id"].as_str().unwrap().to_owned())
        })
        .collect();
    all.sort();
    all.into_iter().map(|(_, id)| id).collect()
}

fn filled() -> (TestServer, Vec<String>) {
    let s = TestServer::spawn();
    let vendors: Vec<String> = ["Zed", "acme", "Boulangerie"]
        .iter()
        .map(|n| vendor(&s, n))
        .collect();
    let channels = ["phone", "email", "store"];
    for n in 0..30 {
        // Times repeat (ties broken by id), in two time zones.
        let at = if n % 2 == 0 {
            format!("2026-03-{:02}T10:00:00+01:00", 1 + n % 7)
        } else {
            format!("2026-03-{:02}T09:00:00Z", 1 + n % 7)
        };
        let summary = if n % 5 == 0 {
            "Visite du technicien"
        } else {
            "Facture envoyée"
        };
        interaction(
            &s,
            &vendors[n % 3],
            json!({"at": at, "channel": channels[(n / 3) % 3], "summary": summary}),
        );
    }
    (s, vendors)
}

#[test]
fn pages_through_the_index_give_every_record_once_in_the_listings_order() {
    let (s, vendors) = filled();
    let all = order_of(&s, |_| true);
    assert_eq!(all.len(), 30);
    for limit in [1, 4, 7, 30, 200] {
        assert_eq!(pages(&s, "/v1/interactions", limit), all, "limit {limit}");
    }
    // Filters combined: vendor, channel, time window (since included, until excluded).
    let v = &vendors[1];
    let since = "2026-03-02T09:00:00Z";
    let until = "2026-03-06T09:00:00Z";
    let (since_t, until_t) = (
        chrono::DateTime::parse_from_rfc3339(since).unwrap(),
        chrono::DateTime::parse_from_rfc3339(until).unwrap(),
    );
    let want = order_of(&s, |i| {
        let at = chrono::DateTime::parse_from_rfc3339(i["at"].as_str().unwrap()).unwrap();
        i["vendor_id"] == v.as_str() && i["channel"] == "email" && at >= since_t && at < until_t
    });
    assert!(!want.is_empty());
    let path = format!(
        "/v1/interactions?vendor={v}&channel=email&since={}&until={}",
        since.replace('+', "%2B"),
        until.replace('+', "%2B")
    );
    assert_eq!(pages(&s, &path, 2), want);
    // An unknown channel is the client's mistake.
    s.get("/v1/interactions?channel=call").problem(400);
    // Vendors by name (case aside), purchases by date, incidents newest first.
    let names: Vec<String> = s
        .list_all("/v1/vendors")
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["acme", "Boulangerie", "Zed"]);
    assert_eq!(pages(&s, "/v1/vendors", 1).len(), 3);
    for (date, item) in [
        ("2026-01-02", "b"),
        ("2026-05-01", "a"),
        ("2026-01-02", "c"),
    ] {
        s.create(
            "/v1/purchases",
            &json!({"vendor_id": v, "item": item, "amount": "1", "currency": "EUR", "date": date}),
        );
    }
    let items: Vec<String> = s
        .list_all("/v1/purchases")
        .iter()
        .map(|p| p["item"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        items,
        ["a", "c", "b"],
        "by date, then the later recorded first"
    );
    assert_eq!(pages(&s, "/v1/purchases", 2).len(), 3);
    let old = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "old", "opened_at": "2025-01-01T00:00:00Z"}),
    );
    let new = s.create("/v1/incidents", &json!({"vendor_id": vendors[0], "description": "new", "opened_at": "2026-01-01T00:00:00Z"}));
    assert_eq!(pages(&s, "/v1/incidents", 1), [new.clone(), old.clone()]);
    assert_eq!(pages(&s, &format!("/v1/incidents?vendor={v}"), 1), [old]);
    // A cursor that is not one of this listing's is refused, as before.
    s.get("/v1/interactions?cursor=WyJ4Il0").problem(400);
    s.get("/v1/interactions?limit=0").problem(400);
}

#[test]
fn a_record_created_edited_moved_or_deleted_between_two_pages_is_seen_correctly() {
    let (s, vendors) = filled();
    let first = s.get("/v1/interactions?limit=10").json();
    let seen = ids(first["items"].as_array().unwrap());
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest_before = order_of(&s, |_| true)[10..].to_vec();
    // Deleted before it is reached: not listed.
    let gone = rest_before[0].clone();
    assert_eq!(s.delete(&format!("/v1/interactions/{gone}")).status, 204);
    // Moved to the front (already passed): not listed again.
    let moved = rest_before[1].clone();
    let mut body = s.get(&format!("/v1/interactions/{moved}")).json();
    for k in ["id", "created_at", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["at"] = json!("2027-01-01T00:00:00Z");
    assert_eq!(
        s.put(&format!("/v1/interactions/{moved}"), &body).status,
        200
    );
    // Edited in place (its text): listed once, as it is now.
    let edited = rest_before[2].clone();
    let mut body = s.get(&format!("/v1/interactions/{edited}")).json();
    for k in ["id", "created_at", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["summary"] = json!("Changed between pages");
    assert_eq!(
        s.put(&format!("/v1/interactions/{edited}"), &body).status,
        200
    );
    // Created further back: listed when reached.
    let older = interaction(&s, &vendors[2], json!({"at": "2020-01-01T00:00:00Z"}));
    let mut rest = Vec::new();
    let mut cursor = Some(cursor);
    while let Some(c) = cursor {
        let page = s
            .get(&format!("/v1/interactions?limit=10&cursor={c}"))
            .json();
        rest.extend(page["items"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    let rest_ids = ids(&rest);
    let mut want: Vec<String> = rest_before
        .iter()
        .filter(|i| **i != gone && **i != moved)
        .cloned()
        .collect();
    want.push(older);
    assert_eq!(rest_ids, want);
    assert!(!seen.contains(&moved));
    let e = rest.iter().find(|i| i["id"] == edited.as_str()).unwrap();
    assert_eq!(e["summary"], "Changed between pages");
    // And a fresh walk sees the moved one first.
    assert_eq!(pages(&s, "/v1/interactions", 10)[0], moved);
}

#[test]
fn deleting_a_vendor_takes_its_records_out_of_every_listing() {
    let (s, vendors) = filled();
    let v = &vendors[0];
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": v, "item": "x", "amount": "1", "currency": "EUR"}),
    );
    s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "x"}),
    );
    assert_eq!(s.delete(&format!("/v1/vendors/{v}")).status, 204);
    assert!(
        s.list_all("/v1/interactions")
            .iter()
            .all(|i| i["vendor_id"] != v.as_str())
    );
    assert_eq!(s.list_all("/v1/interactions").len(), 20);
    assert!(s.list_all("/v1/purchases").is_empty());
    assert!(s.list_all("/v1/incidents").is_empty());
    assert!(
        s.list_all(&format!("/v1/interactions?vendor={v}"))
            .is_empty()
    );
    assert_eq!(s.list_all("/v1/vendors").len(), 2);
}

#[test]
fn after_a_restart_the_index_is_rebuilt_and_metrics_show_it() {
    let (s, vendors) = filled();
    let before = pages(&s, "/v1/interactions", 7);
    let dir = s.stop();
    let s = TestServer::restart_in(dir);
    assert_eq!(pages(&s, "/v1/interactions", 7), before);
    let hits = s
        .get("/v1/search?q=technicien&kind=interaction&limit=200")
        .json();
    assert_eq!(hits["items"].as_array().unwrap().len(), 6);
    // The gauges, once built (the listings above waited for the build).
    let metrics = s.get("/metrics").text;
    let gauge = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(gauge("carnet_ledger_index_records"), 33.0);
    assert!(gauge("carnet_ledger_index_bytes") > 33.0 * 50.0);
    assert!(gauge("carnet_ledger_index_build_seconds") > 0.0);
    drop(vendors);
}

#[test]
fn an_import_replaces_the_index() {
    let (a, _) = filled();
    let archive = a.get("/v1/export");
    assert_eq!(archive.status, 200);
    let b = TestServer::spawn();
    assert!(
        b.get("/v1/search?q=technicien").json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = http()
        .post(b.url("/v1/import"))
        .bearer_auth(b.token())
        .header("content-type", "application/json")
        .body(archive.text.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        pages(&b, "/v1/interactions", 9),
        pages(&a, "/v1/interactions", 9)
    );
    assert_eq!(pages(&b, "/v1/vendors", 2), pages(&a, "/v1/vendors", 2));
    let q = "/v1/search?q=techn&limit=200";
    assert_eq!(
        ids(b.get(q).json()["items"].as_array().unwrap()),
        ids(a.get(q).json()["items"].as_array().unwrap())
    );
    assert_eq!(b.get(q).json()["items"].as_array().unwrap().len(), 6);
}
