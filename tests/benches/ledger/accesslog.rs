//! The access log at 200k and 2M entries, on a release carnetd process. The entries are real
//! vendor requests: `GET /v1/vendor/interactions/{id}` by one connected vendor over 64
//! keep-alive connections, every request naming a different (absent) interaction, so each is
//! logged with its own id and status and no two are the same read (compaction, which merges
//! identical repeated reads, has nothing to merge). Measured at each size, against an empty
//! vault measured the same way in the same run:
//! - bytes per entry: growth of the data directory's files (carnetd stopped cleanly) over the
//!   entries added;
//! - time from spawn to the first 200 on `/healthz`;
//! - RSS 5 s after start (VmRSS, and VmHWM: the peak until then);
//! - verification: `GET /v1/access-log/verify` 5 s after start; when it answers from a
//!   background check (`in_progress`, `duration_ms`), it is polled until done and its
//!   `duration_ms` reported, else the GET's own time.

use std::path::Path;
use std::time::{Duration, Instant};

use carnet_tests::load::{self, RequestSpec, Requests, Span};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Carnetd};
use serde_json::Value;

use crate::{ms, rss_mib, size_name, table};

const CONNECTIONS: usize = 64;
/// How long after start memory is read.
const SETTLE: Duration = Duration::from_secs(5);

/// The data directory's size: every file in it.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// What a start measured.
struct Started {
    server: Carnetd,
    healthz_ms: f64,
    rss: (f64, f64),
}

/// Starts carnetd on `dir`: time from spawn to the first 200 on `/healthz`, and RSS `SETTLE`
/// after spawn.
fn start(dir: &Path) -> Started {
    let t = Instant::now();
    let server = Carnetd::start(dir, &[]).expect("carnetd");
    let client = carnet_tests::http();
    let healthz_ms = loop {
        if client
            .get(server.url("/healthz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            break ms(t.elapsed());
        }
        assert!(t.elapsed() < Duration::from_secs(300), "no /healthz");
    };
    // A measurement window, not a wait for readiness.
    std::thread::sleep(SETTLE.saturating_sub(t.elapsed()));
    let rss = rss_mib(server.child.id());
    Started {
        server,
        healthz_ms,
        rss,
    }
}

/// Verification as the owner reads it: (time in ms, how it was timed, entries checked, ok).
fn verify(server: &Carnetd) -> (f64, &'static str, Option<u64>, bool) {
    let t = Instant::now();
    loop {
        let r = server.get("/v1/access-log/verify");
        assert_eq!(r.status, 200, "verify: {}", r.text);
        let v: Value = r.json();
        let entries = v["entries"].as_u64();
        let ok = v["ok"].as_bool().unwrap_or(false);
        match (v["in_progress"].as_bool(), v["duration_ms"].as_f64()) {
            (Some(true), _) => {
                assert!(t.elapsed() < Duration::from_secs(900), "verify never ended");
                std::thread::sleep(Duration::from_millis(100));
            }
            (_, Some(d)) => return (d, "duration_ms", entries, ok),
            _ => return (ms(t.elapsed()), "the GET", entries, ok),
        }
    }
}

/// Logs `count` vendor reads, ids `from..from + count`; the rate.
fn generate(server: &Carnetd, v: &VendorApp, from: u64, count: u64) -> f64 {
    let bearer = format!("Bearer {}", v.token());
    let (lat, _, took) = load::drive(
        crate::listings::addr(server),
        CONNECTIONS,
        Span::count(count),
        Requests::Each(std::sync::Arc::new(move |n| {
            let id = crate::archive::id("int", 9, from + n);
            RequestSpec::get(&format!("/v1/vendor/interactions/{id}"))
                .header("authorization", &bearer)
        })),
    );
    assert_eq!(lat.len() as u64, count, "every request answered");
    count as f64 / took.as_secs_f64()
}

struct AtSize {
    entries: u64,
    rate: f64,
    bytes_per_entry: f64,
    started: (f64, (f64, f64)),
    verify: (f64, &'static str, Option<u64>, bool),
}

pub fn run(sizes: &[usize]) {
    let root = tempfile::tempdir().expect("tempdir");
    // The empty vault is measured on its second start, like the others (the first creates it).
    let empty_dir = root.path().join("empty");
    let (status, log) = Carnetd::start(&empty_dir, &[])
        .expect("carnetd")
        .terminate();
    assert!(status.success(), "{log}");
    let empty = start(&empty_dir);
    let empty_figures = (empty.healthz_ms, empty.rss);
    drop(empty.server);

    let dir = root.path().join("log");
    let mut server = Carnetd::start(&dir, &[]).expect("carnetd");
    let mut v = VendorApp::connect(&server, "Fournisseur bavard");
    v.grant(&server, &["interactions:read"], None);
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    let base_bytes = dir_bytes(&dir);
    server = Carnetd::start(&dir, &[]).expect("carnetd");
    v.base = server.base.clone();
    let mut done = 0u64;
    let mut measured = Vec::new();
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable();
    for size in sorted {
        eprintln!("access log of {} entries", size_name(size));
        let add = (size as u64).saturating_sub(done);
        let rate = generate(&server, &v, done, add);
        done += add;
        let (status, log) = server.terminate();
        assert!(status.success(), "{log}");
        let bytes = dir_bytes(&dir) - base_bytes;
        let s = start(&dir);
        server = s.server;
        v.base = server.base.clone();
        measured.push(AtSize {
            entries: done,
            rate,
            bytes_per_entry: bytes as f64 / done as f64,
            started: (s.healthz_ms, s.rss),
            verify: verify(&server),
        });
    }
    drop(server);
    print(empty_figures, &measured);
}

fn print(empty: (f64, (f64, f64)), measured: &[AtSize]) {
    let mut head = vec!["access log".to_owned(), "empty vault (baseline)".to_owned()];
    head.extend(
        measured
            .iter()
            .map(|m| format!("{} entries", size_name(m.entries as usize))),
    );
    let mut rows = Vec::new();
    let mut line = |name: &str, base: String, f: &dyn Fn(&AtSize) -> String| {
        let mut row = vec![name.to_owned(), base];
        row.extend(measured.iter().map(f));
        rows.push(row);
    };
    line(
        "bytes per entry on disk (data directory growth / entries)",
        "—".into(),
        &|m| format!("{:.0} B", m.bytes_per_entry),
    );
    line(
        "spawn to first `/healthz` 200",
        format!("{:.0} ms", empty.0),
        &|m| format!("{:.0} ms", m.started.0),
    );
    line(
        "RSS 5 s after start: VmRSS / VmHWM MiB",
        format!("{:.1} / {:.1}", empty.1.0, empty.1.1),
        &|m| {
            format!(
                "{:.1} / {:.1} (+{:.1})",
                m.started.1.0,
                m.started.1.1,
                m.started.1.0 - empty.1.0
            )
        },
    );
    line("verification (how it was timed)", "—".into(), &|m| {
        format!(
            "{:.0} ms ({}; {} entries, ok {})",
            m.verify.0,
            m.verify.1,
            m.verify.2.map_or("?".into(), |e| e.to_string()),
            m.verify.3
        )
    });
    line(
        "generating: logged vendor reads per second",
        "—".into(),
        &|m| format!("{:.0}/s", m.rate),
    );
    table(&head, &rows);
    if let (Some(a), Some(b)) = (measured.first(), measured.last())
        && measured.len() > 1
    {
        println!(
            "From {} to {} entries: verification ×{:.1}, RSS after start {:+.1} MiB, spawn to /healthz ×{:.1}.\n",
            size_name(a.entries as usize),
            size_name(b.entries as usize),
            b.verify.0 / a.verify.0.max(1e-9),
            b.started.1.0 - a.started.1.0,
            b.started.0 / a.started.0.max(1e-9)
        );
    }
}
