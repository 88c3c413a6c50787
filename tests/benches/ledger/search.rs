//! Search on the listings part's vaults: `GET /v1/search?q=…&limit=20` (4 connections) for a
//! common word, a rare word, a prefix and an accented word, beside two linear scans in the
//! same run: today's `GET /v1/interactions?grep=…&limit=20` (it opens every interaction; once
//! `grep` is the indexed search it is no longer a scan), and a client-side scan of every
//! opened record, which stays linear whatever the server does: `GET /v1/export` streamed
//! (every vendor, incident, purchase and interaction opened and written as JSON) and each
//! record's text matched word-prefix, case- and accent-insensitively, for all four queries
//! in one pass.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use carnet_tests::Carnetd;
use carnet_tests::load::{self, LoadResult};

use crate::listings::load_owner;
use crate::{archive, growth, ms, p50_p99, size_name, table};

const QUERIES: [(&str, &str); 4] = [
    ("common word", "livraison"),
    ("rare word", archive::RARE),
    ("prefix", "techn"),
    ("accented", "électroménager"),
];
/// Scans of the export per vault.
const SCANS: usize = 3;

pub struct Found {
    /// Per query: the index's p50/p99, its hit count (first page), grep's p50/p99.
    rows: Vec<(LoadResult, Option<usize>, LoadResult)>,
    /// Records matching each query in the linear scan.
    linear_hits: Vec<usize>,
    scan: LoadResult,
}

fn encode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// Lower case without accents: what the matching compares.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' => out.push('i'),
            'ô' | 'ö' | 'ó' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ç' => out.push('c'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            c => out.push(c),
        }
    }
    out
}

/// One linear scan: every record of the export, matched against every query.
fn scan(server: &Carnetd, queries: &[String]) -> (Duration, Vec<usize>) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()
        .expect("client");
    let t = Instant::now();
    let r = client
        .get(carnet_tests::Api::url(server, "/v1/export"))
        .bearer_auth(carnet_tests::Api::token(server))
        .send()
        .expect("export");
    assert_eq!(r.status(), 200);
    let mut hits = vec![0usize; queries.len()];
    for line in BufReader::with_capacity(1 << 16, r).lines() {
        let line = line.expect("export line");
        if !line.starts_with("{\"id\":\"") {
            continue;
        }
        let text = fold(&line);
        for (q, h) in queries.iter().zip(hits.iter_mut()) {
            if text
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(q.as_str()))
            {
                *h += 1;
            }
        }
    }
    (t.elapsed(), hits)
}

pub fn measure(server: &Carnetd) -> Found {
    let rows = QUERIES
        .iter()
        .map(|(_, q)| {
            let path = format!("/v1/search?q={}&limit=20", encode(q));
            let r = carnet_tests::Api::get(server, &path);
            let hits = (r.status == 200)
                .then(|| r.json()["items"].as_array().map(Vec::len))
                .flatten();
            let index = load_owner(server, &path, 4, 8);
            let grep = load_owner(
                server,
                &format!("/v1/interactions?grep={}&limit=20", encode(q)),
                1,
                3,
            );
            (index, hits, grep)
        })
        .collect();
    let folded: Vec<String> = QUERIES.iter().map(|(_, q)| fold(q)).collect();
    let mut times = Vec::with_capacity(SCANS);
    let mut linear_hits = Vec::new();
    for _ in 0..SCANS {
        let (took, hits) = scan(server, &folded);
        times.push(took);
        linear_hits = hits;
    }
    let total = times.iter().sum();
    Found {
        rows,
        linear_hits,
        scan: load::summary(times, 0, total),
    }
}

pub fn print(found: &[(usize, Found)]) {
    let mut head = vec!["search, p50 / p99 ms".to_owned()];
    head.extend(
        found
            .iter()
            .map(|(n, _)| format!("{} interactions", size_name(*n))),
    );
    let mut rows = Vec::new();
    for (i, (what, q)) in QUERIES.iter().enumerate() {
        let mut row = vec![format!("`GET /v1/search?q={q}&limit=20` ({what})")];
        row.extend(found.iter().map(|(_, f)| {
            let (index, hits, _) = &f.rows[i];
            match hits {
                Some(h) => format!("{} ({h} items)", p50_p99(index)),
                None => p50_p99(index),
            }
        }));
        rows.push(row);
        let mut row = vec![format!(
            "… linear: `GET /v1/interactions?grep={q}&limit=20`"
        )];
        row.extend(found.iter().map(|(_, f)| p50_p99(&f.rows[i].2)));
        rows.push(row);
    }
    let mut row = vec![format!(
        "**linear scan of every opened record**: `GET /v1/export` streamed and matched, all 4 queries in one pass (p50 / max of {SCANS})"
    )];
    row.extend(
        found
            .iter()
            .map(|(_, f)| format!("{:.0} / {:.0} ms", ms(f.scan.p50), ms(f.scan.p99),)),
    );
    rows.push(row);
    let mut row = vec!["records the linear scan matched, per query".to_owned()];
    row.extend(found.iter().map(|(_, f)| {
        f.linear_hits
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" / ")
    }));
    rows.push(row);
    table(&head, &rows);
    if let (Some((a, fa)), Some((b, fb))) = (found.first(), found.last())
        && found.len() > 1
    {
        let parts: Vec<String> = QUERIES
            .iter()
            .enumerate()
            .map(|(i, (what, _))| {
                format!(
                    "{what}: search {}, grep {}",
                    growth(&fa.rows[i].0, &fb.rows[i].0, (*a, *b)),
                    growth(&fa.rows[i].2, &fb.rows[i].2, (*a, *b))
                )
            })
            .collect();
        println!(
            "How p50 grows from {} to {}: {}; linear scan {}.\n",
            size_name(*a),
            size_name(*b),
            parts.join("; "),
            growth(&fa.scan, &fb.scan, (*a, *b))
        );
    }
}
