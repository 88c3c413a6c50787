//! carnetd's floor under `wrk`, beside a bare axum route measured in the same run: the release
//! `carnetd` binary (a process of its own, as people run it) against a bare axum JSON route that
//! this bench serves itself (built with the same release profile, on a 2-worker runtime).
//! `wrk -t2 -c64 --latency`, 5 alternating 4-second rounds of the bare route and the request;
//! the ratio is the median of the 5 rounds' ratios, the latencies the median of theirs.
//!
//! | request | goal |
//! |---|---|
//! | `GET /healthz` (every layer the other routes have) | >= 0.85x |
//! | `GET /v1/vendor/intents`, 10 active ~1 KiB intents | >= 0.6x |
//! | `POST /oauth/introspect`, a valid token | >= 0.65x |
//! | `POST /oauth/token`, `client_credentials`, sustained | >= 0.3x, p99 <= 10 ms |
//!
//! Then the footprint: idle RSS after one sign-in, and the binaries' sizes.
//!
//! Needs `wrk` (Debian's package of that name). Run:
//! `cargo build --release --bins && cargo bench -p carnet-tests --bench floor`.
//! `CARNET_BENCH_ROUNDS` and `CARNET_BENCH_SECONDS` change the 5 rounds of 4 s;
//! `CARNET_BENCH_CARNETD=PATH` measures another build of carnetd (a before, say).
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::process::Command;

use carnet_tests::vendor::VendorApp;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Carnetd, intents, load, memory};
use data_encoding::BASE64;

/// One wrk run's figures.
#[derive(Clone, Copy)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// A request as wrk sends it: a path, and for a POST a form body, with its headers.
struct Request {
    path: &'static str,
    method: &'static str,
    body: String,
    headers: Vec<(&'static str, String)>,
}

impl Request {
    fn get(path: &'static str) -> Request {
        Request {
            path,
            method: "GET",
            body: String::new(),
            headers: Vec::new(),
        }
    }
    fn post_form(path: &'static str, body: &str) -> Request {
        Request {
            path,
            method: "POST",
            body: body.to_owned(),
            headers: vec![(
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            )],
        }
    }
    fn header(mut self, name: &'static str, value: &str) -> Request {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// The wrk script that sends this request.
    fn script(&self) -> String {
        let mut s = format!(
            "wrk.method = {:?}\nwrk.body = {:?}\n",
            self.method, self.body
        );
        for (k, v) in &self.headers {
            s.push_str(&format!("wrk.headers[{k:?}] = {v:?}\n"));
        }
        s
    }
}

fn main() {
    let rounds: usize = env_or("CARNET_BENCH_ROUNDS", 5);
    let seconds: u64 = env_or("CARNET_BENCH_SECONDS", 4);
    if Command::new("wrk").arg("--version").output().is_err() {
        panic!("this bench runs `wrk`: install Debian's package `wrk`");
    }
    let bare = load::bare_axum();
    let dir = tempfile::tempdir().unwrap();
    // Issuance is measured as a sustained rate, well past the default cap on live tokens.
    let env = [("CARNET_MAX_LIVE_TOKENS", "10000000")];
    let server = Carnetd::start_program(&binary("carnetd"), &[], dir.path(), &env).unwrap();
    for i in 0..10 {
        intents::add_active(&server, i);
    }
    let v = VendorApp::connect(&server, "Bench vendor");
    v.grant(
        &server,
        &["intents:read", "relationship:read", "profile:read"],
        Some(&["home.appliances"]),
    );
    let token = v.token();
    let pulled = v.get(&token, "/v1/vendor/intents");
    assert_eq!(pulled.status, 200, "{}", pulled.text);
    let basic = format!(
        "Basic {}",
        BASE64.encode(format!("{}:{}", v.client_id, v.secret).as_bytes())
    );
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let scratch = tempfile::tempdir().unwrap();

    println!(
        "carnetd (release, a process of its own) under `wrk -t2 -c64 --latency`, {rounds} rounds \
         of {seconds} s alternating with a bare axum JSON route; ratio = median of the rounds'"
    );
    println!(
        "| request | req/s | bare req/s | ratio (rounds) | p50 / p99 | bare p50 / p99 | errors |"
    );
    println!("|---|---|---|---|---|---|---|");
    let requests = [
        ("`GET /healthz`", Request::get("/healthz")),
        (
            "`GET /v1/vendor/intents`, 10 intents",
            Request::get("/v1/vendor/intents").header("Authorization", &format!("Bearer {token}")),
        ),
        (
            "`POST /oauth/introspect`",
            Request::post_form("/oauth/introspect", &format!("token={token}"))
                .header("Authorization", &basic),
        ),
        (
            "`POST /oauth/token`, `client_credentials`",
            Request::post_form("/oauth/token", "grant_type=client_credentials")
                .header("Authorization", &basic),
        ),
    ];
    let baseline = Request::get("/");
    for (name, request) in &requests {
        let mut ratios = Vec::new();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let b = wrk(bare, &baseline, seconds, scratch.path());
            let r = wrk(addr, request, seconds, scratch.path());
            ratios.push(r.rps / b.rps);
            ours.push(r);
            theirs.push(b);
        }
        let o = median_run(&ours);
        let t = median_run(&theirs);
        let rounds_text: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "| {name} | {:.0} | {:.0} | {:.2}x ({}) | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {} |",
            o.rps,
            t.rps,
            median(&mut ratios),
            rounds_text.join("/"),
            o.p50_ms,
            o.p99_ms,
            t.p50_ms,
            t.p99_ms,
            ours.iter().map(|r| r.errors).sum::<u64>(),
        );
    }
    drop(server);
    footprint();
}

/// The footprint: carnetd's idle RSS on an empty vault after one sign-in to the web app
/// (setting the password and signing in each run Argon2id at 19 MiB), and the size of the
/// binaries this bench runs, as built (the release profile strips symbols) and after `strip`.
fn footprint() {
    let dir = tempfile::tempdir().unwrap();
    let server = Carnetd::start_program(&binary("carnetd"), &[], dir.path(), &[]).unwrap();
    let pid = server.child.id();
    let started = memory::rss_mib(pid).unwrap_or(f64::NAN);
    let _app = WebApp::signed_in(&server);
    // Idle, as a measurement window: whatever the sign-in left behind is still held or given
    // back by now.
    std::thread::sleep(std::time::Duration::from_secs(3));
    println!(
        "\nidle carnetd, empty vault: RSS {started:.1} MiB after start, {:.1} MiB after one \
         sign-in (peak {:.1} MiB) (goal <= 14 MiB)",
        memory::rss_mib(pid).unwrap_or(f64::NAN),
        memory::peak_rss_mib(pid).unwrap_or(f64::NAN),
    );
    let mib = |path: &std::path::Path| {
        std::fs::metadata(path).map_or(f64::NAN, |m| m.len() as f64 / 1_048_576.0)
    };
    for (name, goal) in [("carnetd", 14), ("carnet", 7)] {
        let path = binary(name);
        // The release profile strips symbols; binutils' `strip` removes what the linker kept
        // (local symbols such as `GCC_except_table…`, in carnet's case).
        let stripped = dir.path().join(name);
        let strip = Command::new("strip")
            .arg("-o")
            .arg(&stripped)
            .arg(&path)
            .status();
        let after = match strip {
            Ok(s) if s.success() => format!("{:.2} MiB", mib(&stripped)),
            _ => "not measured (no `strip`)".into(),
        };
        println!(
            "{name}: {:.2} MiB as built, {after} after `strip` ({}) (goal <= {goal} MiB stripped)",
            mib(&path),
            path.display()
        );
    }
}

/// One `wrk -t2 -c64 -d{seconds}s --latency` run of `request` against `addr`.
fn wrk(addr: SocketAddr, request: &Request, seconds: u64, scratch: &std::path::Path) -> Run {
    let script = scratch.join("request.lua");
    std::fs::write(&script, request.script()).unwrap();
    let out = Command::new("wrk")
        .args(["-t2", "-c64", "--latency", &format!("-d{seconds}s"), "-s"])
        .arg(&script)
        .arg(format!("http://{addr}{}", request.path))
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    parse_wrk(&text).unwrap_or_else(|| panic!("cannot read wrk's output:\n{text}"))
}

/// Requests/sec, the 50% and 99% latencies, and non-2xx/3xx answers plus socket errors.
fn parse_wrk(text: &str) -> Option<Run> {
    let mut run = Run {
        rps: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rps] => run.rps = rps.parse().ok()?,
            ["50%", t] => run.p50_ms = millis(t)?,
            ["99%", t] => run.p99_ms = millis(t)?,
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                run.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    (run.rps > 0.0).then_some(run)
}

/// wrk's durations: `812.00us`, `1.20ms`, `1.02s`.
fn millis(t: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = t.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The median of each figure over the runs.
fn median_run(runs: &[Run]) -> Run {
    let pick = |f: fn(&Run) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
    Run {
        rps: pick(|r| r.rps),
        p50_ms: pick(|r| r.p50_ms),
        p99_ms: pick(|r| r.p99_ms),
        errors: runs.iter().map(|r| r.errors).sum(),
    }
}

/// The binary this bench measures: `CARNET_BENCH_CARNETD` for carnetd when set, else the
/// workspace's own.
fn binary(name: &str) -> std::path::PathBuf {
    match std::env::var_os("CARNET_BENCH_CARNETD") {
        Some(other) if name == "carnetd" => other.into(),
        _ => carnet_tests::binary(name),
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
