//! Owner listings on vaults of 10k, 100k and 1M interactions: each vault imported into a fresh
//! data directory, then served by a release carnetd started on it (the index, once there, is
//! built after unlock), loaded with 4 keep-alive connections like `wrk -c4`. The baseline is
//! opening the same 50 records one by one: the 50 ids of the vendor's first page, as 50
//! `GET /v1/interactions/{id}` over one keep-alive connection (over HTTP, so it pays the same
//! owner-token check and JSON as a listing). The search part runs on the same vaults.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use carnet_tests::load::{self, LoadResult, RequestSpec, Requests, Span};
use carnet_tests::{Api, Carnetd};
use serde_json::Value;

use crate::{app, archive, gauge, growth, ms, p50_p99, rss_mib, search, size_name, table};

/// Connections of a listing's load (and of a web-app page's) (the figures are `wrk -c4`).
pub const CONNECTIONS: usize = 4;
/// How long each listing is loaded, and the fewest requests that make a p99 mean something.
const DURATION: Duration = Duration::from_secs(2);
const WARMUP: Duration = Duration::from_millis(300);
pub const MIN_REQUESTS: u64 = 8;
/// The unfiltered first page, one connection: at 1M it opens everything, in 1+ GiB.
const UNFILTERED_MIN: u64 = 3;
/// A 31-day window in the middle of the vaults' ten years.
const SINCE: &str = "2021-10-01T00:00:00Z";
const UNTIL: &str = "2021-11-01T00:00:00Z";

/// What one vault measured.
pub struct Measured {
    n: usize,
    imported: archive::Imported,
    start_ms: f64,
    ready_ms: f64,
    index: [Option<f64>; 3],
    rows: Vec<(String, LoadResult)>,
    baseline: LoadResult,
    rss: (f64, f64),
}

pub fn run(sizes: &[usize], listings: bool, searches: bool, pages: bool) {
    let root = tempfile::tempdir().expect("tempdir");
    let mut all = Vec::new();
    let mut found = Vec::new();
    let mut shown = Vec::new();
    for &n in sizes {
        eprintln!("vault of {} interactions", size_name(n));
        let (dir, imported) = archive::vault(n, root.path());
        let (server, start_ms, ready_ms) = start(&dir);
        let index = [
            gauge(&server, "carnet_ledger_index_records"),
            gauge(&server, "carnet_ledger_index_bytes"),
            gauge(&server, "carnet_ledger_index_build_seconds"),
        ];
        let (rows, baseline) = if listings {
            measure(&server)
        } else {
            (Vec::new(), LoadResult::default())
        };
        if searches {
            found.push((n, search::measure(&server)));
        }
        if pages {
            shown.push((n, app::measure(&server)));
        }
        let rss = rss_mib(server.child.id());
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        all.push(Measured {
            n,
            imported,
            start_ms,
            ready_ms,
            index,
            rows,
            baseline,
            rss,
        });
    }
    if listings {
        print(&all);
    }
    if searches {
        search::print(&found);
    }
    if pages {
        app::print(&shown);
    }
}

/// Starts carnetd on an imported vault; how long until `/healthz` answered 200, and until a
/// listing did (the ledger index is built after unlock; until then listings answer 503), both
/// from spawn.
fn start(dir: &Path) -> (Carnetd, f64, f64) {
    let t = Instant::now();
    let server = Carnetd::start(dir, &[]).expect("carnetd");
    let client = carnet_tests::http();
    let healthz = loop {
        if client
            .get(server.url("/healthz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            break ms(t.elapsed());
        }
        assert!(t.elapsed() < Duration::from_secs(120), "no /healthz");
    };
    loop {
        let r = server.get("/v1/vendors?limit=1");
        if r.status == 200 {
            return (server, healthz, ms(t.elapsed()));
        }
        assert_eq!(r.status, 503, "/v1/vendors?limit=1: {}", r.text);
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "the index never got built"
        );
    }
}

pub fn addr(server: &impl Api) -> SocketAddr {
    server
        .base()
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

pub fn owner_get(server: &impl Api, path: &str) -> RequestSpec {
    RequestSpec::get(path).header("authorization", &format!("Bearer {}", server.token()))
}

/// Loads `path` with `connections` connections for `DURATION` and at least `min` requests,
/// after `WARMUP` unmeasured (the first requests after a vault is built find its pages cold).
pub fn load_owner(server: &impl Api, path: &str, connections: usize, min: u64) -> LoadResult {
    load_spec(server, owner_get(server, path), connections, min)
}

/// `load_owner` for any request (the web app's pages send a session cookie instead).
pub fn load_spec(server: &impl Api, spec: RequestSpec, connections: usize, min: u64) -> LoadResult {
    let (lat, bad, took) = load::drive(
        addr(server),
        connections,
        Span {
            warmup: WARMUP,
            ..Span::at_least(DURATION, min)
        },
        Requests::One(spec),
    );
    load::summary(lat, bad, took)
}

fn page(server: &impl Api, path: &str) -> Value {
    let r = server.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.json()
}

/// The cursor after about 90% of `vendor`'s interactions (walking pages of up to 1,000).
fn deep_cursor(server: &impl Api, vendor: &str) -> (String, usize) {
    let walk = |stop: usize| {
        let (mut got, mut cursor) = (0usize, None::<String>);
        loop {
            let limit = (stop - got).min(1000);
            let mut path = format!("/v1/interactions?vendor={vendor}&limit={limit}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let p = page(server, &path);
            got += p["items"].as_array().map_or(0, Vec::len);
            match p["next_cursor"].as_str() {
                Some(c) if got < stop => cursor = Some(c.to_owned()),
                Some(c) => return (got, Some(c.to_owned())),
                None => return (got, None),
            }
        }
    };
    let (total, _) = walk(usize::MAX);
    let (at, cursor) = walk(total * 9 / 10);
    (cursor.expect("a cursor before the end"), at)
}

fn measure(server: &Carnetd) -> (Vec<(String, LoadResult)>, LoadResult) {
    let vendors = page(server, "/v1/vendors?limit=1");
    let vendor = vendors["items"][0]["id"]
        .as_str()
        .expect("a vendor")
        .to_owned();
    let (cursor, at) = deep_cursor(server, &vendor);
    eprintln!("  the deep page's cursor is after {at} of the vendor's interactions");
    let first = format!("/v1/interactions?vendor={vendor}&limit=50");
    let ids: Vec<String> = page(server, &first)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect();
    let routes = [
        ("vendor, first page: `?vendor=V&limit=50`".to_owned(), first),
        (
            "vendor, deep page: cursor after ~90% of its records".to_owned(),
            format!("/v1/interactions?vendor={vendor}&limit=50&cursor={cursor}"),
        ),
        (
            "channel: `?channel=chat&limit=50`".to_owned(),
            "/v1/interactions?channel=chat&limit=50".to_owned(),
        ),
        (
            "time: `?since=…&until=…&limit=50` (31 days)".to_owned(),
            format!("/v1/interactions?since={SINCE}&until={UNTIL}&limit=50"),
        ),
    ];
    let mut rows: Vec<(String, LoadResult)> = routes
        .into_iter()
        .map(|(name, path)| {
            let r = load_owner(server, &path, CONNECTIONS, MIN_REQUESTS);
            (name, r)
        })
        .collect();
    rows.push((
        "unfiltered first page: `?limit=50` (1 connection)".to_owned(),
        load_owner(server, "/v1/interactions?limit=50", 1, UNFILTERED_MIN),
    ));
    // The baseline: the first page's 50 records, opened one by one.
    let specs: Vec<RequestSpec> = ids
        .iter()
        .map(|id| owner_get(server, &format!("/v1/interactions/{id}")))
        .collect();
    let (rounds, bad) = load::sequence(addr(server), &specs, 40);
    let total = rounds.iter().sum();
    (rows, load::summary(rounds, bad, total))
}

fn print(all: &[Measured]) {
    let mut head = vec!["owner listing, p50 / p99 ms".to_owned()];
    head.extend(
        all.iter()
            .map(|m| format!("{} interactions", size_name(m.n))),
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Some(first) = all.first() {
        for (i, (name, _)) in first.rows.iter().enumerate() {
            let mut row = vec![name.clone()];
            row.extend(all.iter().map(|m| p50_p99(&m.rows[i].1)));
            rows.push(row);
        }
    }
    let mut row = vec!["**baseline**: the first page's 50 records, 50 × `GET /v1/interactions/{id}` on one connection (per 50)".to_owned()];
    row.extend(all.iter().map(|m| p50_p99(&m.baseline)));
    rows.push(row);
    let mut line = |name: &str, f: &dyn Fn(&Measured) -> String| {
        let mut row = vec![name.to_owned()];
        row.extend(all.iter().map(f));
        rows.push(row);
    };
    line(
        "import through `POST /v1/import` (records/s; archive MiB)",
        &|m| {
            let s = m.imported.took.as_secs_f64();
            format!(
                "{s:.1} s ({:.0}/s; {:.0} MiB)",
                m.imported.records as f64 / s,
                m.imported.bytes as f64 / (1 << 20) as f64
            )
        },
    );
    line("carnetd start on the vault to first `/healthz` 200", &|m| {
        format!("{:.0} ms", m.start_ms)
    });
    line(
        "carnetd start to the first listing 200 (index built)",
        &|m| format!("{:.1} s", m.ready_ms / 1000.0),
    );
    line(
        "index: records / MiB / build s (`/metrics` gauges)",
        &|m| match m.index {
            [Some(r), Some(b), Some(s)] => {
                format!("{r:.0} / {:.1} / {s:.2}", b / (1 << 20) as f64)
            }
            _ => "n/a".to_owned(),
        },
    );
    line("carnetd RSS after the run: VmRSS / VmHWM MiB", &|m| {
        format!("{:.0} / {:.0}", m.rss.0, m.rss.1)
    });
    table(&head, &rows);
    if let (Some(a), Some(b)) = (all.first(), all.last())
        && all.len() > 1
    {
        let mut parts: Vec<String> = a
            .rows
            .iter()
            .zip(&b.rows)
            .map(|((name, x), (_, y))| {
                let short = name.split(':').next().unwrap_or(name);
                format!("{short} {}", growth(x, y, (a.n, b.n)))
            })
            .collect();
        parts.push(format!(
            "baseline {}",
            growth(&a.baseline, &b.baseline, (a.n, b.n))
        ));
        println!(
            "How p50 grows from {} to {}: {}.\n",
            size_name(a.n),
            size_name(b.n),
            parts.join("; ")
        );
    }
}
