//! `GET /v1/search` and `carnet search`: every record by the words of its text fields, word
//! prefixes, case and accents aside, ranked; never written to disk.

use carnet_tests::{Api, TestServer};
use serde_json::{Value, json};

use crate::{interaction, vendor};

fn search(s: &TestServer, query: &str) -> Vec<Value> {
    let r = s.get(&format!("/v1/search?{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.json()["items"].as_array().unwrap().clone()
}

fn ids_of(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

fn found(s: &TestServer, query: &str) -> Vec<String> {
    search(s, query)
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

struct Ledger {
    s: TestServer,
    acme: String,
    other: String,
    visit: String,
    note: String,
    purchase: String,
    incident: String,
}

fn ledger() -> Ledger {
    let s = TestServer::spawn();
    let acme = s.create(
        "/v1/vendors",
        &json!({"name": "Électricité Générale", "note": "Le technicien vient le mardi", "categories": ["home.energy"]}),
    );
    let other = vendor(&s, "Boulangerie Martin");
    let visit = interaction(
        &s,
        &acme,
        json!({"summary": "Visite du TECHNICIEN", "they_said": "Pièce commandée", "at": "2026-01-01T10:00:00Z"}),
    );
    let note = interaction(
        &s,
        &other,
        json!({"summary": "Pain", "outcome": "technicien du four absent", "at": "2026-02-01T10:00:00Z"}),
    );
    let purchase = s.create(
        "/v1/purchases",
        &json!({"vendor_id": acme, "item": "Disjoncteur différentiel", "amount": "49.90", "currency": "EUR", "receipt": "facture F-2291"}),
    );
    let incident = s.create(
        "/v1/incidents",
        &json!({"vendor_id": acme, "description": "Coupure après l'intervention du technicien"}),
    );
    Ledger {
        s,
        acme,
        other,
        visit,
        note,
        purchase,
        incident,
    }
}

#[test]
fn search_is_case_and_accent_insensitive_and_matches_word_prefixes_not_substrings() {
    let l = ledger();
    let s = &l.s;
    let mut all = found(s, "q=techn");
    all.sort();
    let mut want = vec![
        l.acme.clone(),
        l.visit.clone(),
        l.note.clone(),
        l.incident.clone(),
    ];
    want.sort();
    assert_eq!(all, want);
    assert_eq!(found(s, "q=TÉCHNÎCIEN&kind=interaction").len(), 2);
    assert_eq!(found(s, "q=electricite"), vec![l.acme.clone()]);
    assert_eq!(found(s, "q=piece%20COMMAND"), vec![l.visit.clone()]);
    assert_eq!(found(s, "q=differ"), vec![l.purchase.clone()]);
    assert_eq!(
        found(s, "q=f-2291"),
        vec![l.purchase.clone()],
        "receipt words"
    );
    assert_eq!(found(s, "q=energy"), vec![l.acme.clone()], "categories");
    assert_eq!(
        found(s, "q=intervention"),
        vec![l.incident.clone()],
        "after an apostrophe"
    );
    // Inside a word is not a match; every query word must match.
    assert!(found(s, "q=chnic").is_empty());
    assert!(found(s, "q=lectricit").is_empty());
    assert!(found(s, "q=technicien%20boulangerie").is_empty());
    // The old grep of the interaction listing is the same word-prefix matching.
    let grep = |q: &str| s.list_all(&format!("/v1/interactions?grep={q}")).len();
    assert_eq!(grep("techn"), 2);
    assert_eq!(grep("chnic"), 0);
    assert_eq!(grep("FOUR%20abs"), 1);
}

#[test]
fn search_ranks_and_filters_by_kind_and_vendor() {
    let l = ledger();
    let s = &l.s;
    // Title words weigh more than body words; between equal scores the newest comes first
    // (the incident was opened now, the visit in January).
    let hits = search(s, "q=technicien");
    assert_eq!(
        ids_of(&hits[..2]),
        [l.incident.clone(), l.visit.clone()],
        "{hits:?}"
    );
    assert_eq!(hits[0]["score"], hits[1]["score"]);
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(scores[1] > scores[2], "{scores:?}");
    assert_eq!(hits[1]["kind"], "interaction");
    assert_eq!(hits[1]["vendor_id"], l.acme.as_str());
    assert_eq!(hits[1]["title"], "Visite du TECHNICIEN");
    let vendor_hit = hits.iter().find(|h| h["kind"] == "vendor").unwrap();
    assert_eq!(vendor_hit["vendor_id"], Value::Null);
    assert_eq!(vendor_hit["title"], "Électricité Générale");
    // A kind asked is the only kind answered.
    for kind in ["vendor", "interaction", "purchase", "incident"] {
        let hits = search(s, &format!("q=t&kind={kind}&limit=200"));
        assert!(hits.iter().all(|h| h["kind"] == kind), "{kind}: {hits:?}");
    }
    assert_eq!(found(s, "q=techn&kind=incident"), vec![l.incident.clone()]);
    // A vendor's search holds it and its records, nobody else's.
    let mut of_acme = found(s, &format!("q=techn&vendor={}", l.acme));
    of_acme.sort();
    let mut want = vec![l.acme.clone(), l.visit.clone(), l.incident.clone()];
    want.sort();
    assert_eq!(of_acme, want);
    assert_eq!(
        found(s, &format!("q=techn&vendor={}", l.other)),
        vec![l.note.clone()]
    );
    assert_eq!(found(s, "q=techn&limit=1").len(), 1);
    // A rarer word outranks a common one in the same place.
    let v = vendor(s, "Rang");
    let rare = interaction(s, &v, json!({"summary": "zeppelin"}));
    for _ in 0..5 {
        interaction(s, &v, json!({"summary": "zebre"}));
    }
    assert_eq!(search(s, "q=ze")[0]["id"], rare.as_str());
}

#[test]
fn bad_searches_are_the_clients_mistake() {
    let l = ledger();
    let s = &l.s;
    for q in ["", "q=", "q=%20%2C%3B", "kind=vendor"] {
        let p = s.get(&format!("/v1/search?{q}")).problem(400);
        assert!(p["hint"].as_str().unwrap().contains("q="), "{p}");
    }
    s.get("/v1/search?q=a&limit=0").problem(400);
    s.get("/v1/search?q=a&limit=201").problem(400);
    s.get("/v1/search?q=a&kind=receipt").problem(400);
    s.get("/v1/search?q=a&unknown=1").problem(400);
    let many = (0..17)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join("%20");
    s.get(&format!("/v1/search?q={many}")).problem(400);
    assert!(found(s, "q=a&limit=200").len() <= 200);
    // Owner only.
    let anonymous = carnet_tests::http()
        .get(s.url("/v1/search?q=techn"))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[test]
fn the_database_holds_no_index_term_in_clear() {
    let l = ledger();
    let s = &l.s;
    let word = "quetzalcoatlrarissime";
    interaction(
        s,
        &l.acme,
        json!({"summary": format!("Le {word} est passé")}),
    );
    assert_eq!(found(s, &format!("q={}", &word[..9])).len(), 1);
    let dir = s.path().to_owned();
    // While it runs (database and WAL as they are), and once stopped (WAL checkpointed).
    let mut checked = no_term_in(&dir, word);
    let l_dir = l.s.stop();
    checked += no_term_in(&dir, word);
    assert!(checked > 10_000, "the database and its WAL were read");
    drop(l_dir);
}

/// Asserts no file under `dir` holds a searched word in clear; returns the bytes read.
fn no_term_in(dir: &std::path::Path, word: &str) -> usize {
    let mut checked = 0;
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        checked += bytes.len();
        for needle in [word, "quetzal", "technicien", "electricite"] {
            assert!(
                !bytes
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle.as_bytes())),
                "{needle} in clear in {}",
                entry.display()
            );
        }
    }
    checked
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn carnet_search_prints_a_table_or_the_items_and_interaction_list_filters_by_channel() {
    let l = ledger();
    let s = &l.s;
    let o = s.carnet(&["search", "techn", "--kind", "interaction"]);
    o.ok();
    assert!(o.stdout.contains("Visite du"), "{}", o.stdout);
    assert!(
        o.stdout.contains(&l.visit) && o.stdout.contains(&l.note),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains(&l.incident));
    let o = s.carnet(&[
        "--json",
        "search",
        "techn",
        "--vendor",
        "Boulangerie Martin",
    ]);
    o.ok();
    let items = o.json();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["id"], l.note.as_str());
    assert_eq!(items[0]["kind"], "interaction");
    let o = s.carnet(&["search", "zzzz"]);
    o.ok();
    assert!(o.stderr.contains("nothing matches"), "{}", o.stderr);
    let o = s.carnet(&["search", "x", "--kind", "receipt"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("receipt"), "{}", o.stderr);
    interaction(s, &l.other, json!({"channel": "phone", "summary": "Appel"}));
    let o = s.carnet(&["--json", "interaction", "list", "--channel", "phone"]);
    o.ok();
    let items = o.json();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["channel"], "phone");
}
