//! Benchmarks of the vault foundation, each printed against a baseline measured in the same
//! run (see README "Performance"):
//! - `seal`: sealing + opening a 1 KiB record vs raw ring ChaCha20-Poly1305 on the same data;
//! - `writes`: 16 concurrent owner writers over HTTP, `synchronous=FULL` vs `NORMAL`;
//! - `startup`: release `carnetd` start to first 200 on `/healthz`, and idle RSS.
//!
//! Run all: `cargo bench -p carnet-tests --bench vault`; one: `… -- seal`.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use carnet_core::store::Synchronous;
use carnet_core::vault::{SealKey, Table, VaultKey};
use carnet_tests::{Api, TestServer, binary, http, memory};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use serde_json::json;

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if wanted("seal") {
        seal();
    }
    if wanted("writes") {
        writes();
    }
    if wanted("startup") {
        startup();
    }
}

/// Best of `rounds` timings of `iters` calls, in nanoseconds per call.
fn best_ns(rounds: usize, iters: u32, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .fold(f64::INFINITY, f64::min)
}

fn seal() {
    let plaintext = vec![0x5au8; 1024];
    let vault_key = VaultKey::generate().expect("key");
    let sealer = SealKey::new(&vault_key);
    let raw = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &[7u8; 32]).expect("key"));
    let mut counter = 0u64;
    let aad = b"carnet/v1/interactions/int_0123456789abcdef";

    let baseline = || {
        // What any use of ring needs: a buffer, a fresh nonce, seal, then open.
        counter += 1;
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&counter.to_le_bytes());
        let mut buf = plaintext.clone();
        let tag = raw
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .expect("seal");
        buf.extend_from_slice(tag.as_ref());
        let opened = raw
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .expect("open");
        black_box(opened.len());
    };
    let carnet = || {
        let blob = sealer.seal_bytes(Table::Interactions, "int_0123456789abcdef", &plaintext);
        let opened = sealer
            .open_bytes(Table::Interactions, "int_0123456789abcdef", &blob)
            .expect("open");
        black_box(opened.len());
    };
    let mut baseline = baseline;
    let mut carnet = carnet;
    // Interleave rounds so both see the same machine state.
    let mut best_raw = f64::INFINITY;
    let mut best_carnet = f64::INFINITY;
    for _ in 0..5 {
        best_raw = best_raw.min(best_ns(1, 100_000, &mut baseline));
        best_carnet = best_carnet.min(best_ns(1, 100_000, &mut carnet));
    }
    println!("seal+open 1 KiB record");
    println!("  raw ring ChaCha20-Poly1305 (baseline): {best_raw:>8.0} ns");
    println!(
        "  carnet SealKey (random nonce, bound AAD, zeroized plaintext): {best_carnet:>8.0} ns"
    );
    println!(
        "  ratio carnet / ring: {:.2}x  (target <= 1.5x)",
        best_carnet / best_raw
    );
}

/// The filesystem type holding `path`, from /proc/self/mounts (longest matching mount point).
fn filesystem_of(path: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && path.starts_with(f[1]))
                .then(|| (f[1].len(), format!("{} on {} ({})", f[2], f[1], f[0])))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "unknown".into(), |(_, d)| d)
}

const WRITERS: usize = 16;
const WRITES_PER_WRITER: usize = 400;

/// Acknowledged interaction writes per second with 16 concurrent HTTP writers.
fn writes_per_second(sync: Synchronous) -> (f64, String) {
    let server = TestServer::spawn_with_synchronous(sync);
    let vendor = server.create("/v1/vendors", &json!({"name": "Acme"}));
    let fs = filesystem_of(server.path());
    let (base, token) = (server.base.clone(), server.token());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _ = http(); // installs the TLS provider reqwest wants before any client is built
    let elapsed = rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(WRITERS)
            .build()
            .expect("client");
        let body = json!({"vendor_id": vendor, "channel": "email",
            "summary": "x".repeat(700), "they_said": "y".repeat(300)});
        let start = Instant::now();
        let tasks: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (client, base, token, body) =
                    (client.clone(), base.clone(), token.clone(), body.clone());
                tokio::spawn(async move {
                    for _ in 0..WRITES_PER_WRITER {
                        let r = client
                            .post(format!("{base}/v1/interactions"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await
                            .expect("request");
                        assert_eq!(r.status(), 201);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("writer");
        }
        start.elapsed()
    });
    let total = (WRITERS * WRITES_PER_WRITER) as f64;
    (total / elapsed.as_secs_f64(), fs)
}

fn writes() {
    // Warm up the machine (page cache, CPU frequency) once, then measure both modes.
    let _ = writes_per_second(Synchronous::Normal);
    let (full, fs) = writes_per_second(Synchronous::Full);
    let (normal, _) = writes_per_second(Synchronous::Normal);
    println!(
        "{WRITERS} concurrent owner writers, {} interaction writes of ~1 KiB each over HTTP",
        WRITERS * WRITES_PER_WRITER
    );
    println!("  filesystem: {fs}");
    println!(
        "  synchronous=FULL (carnetd's setting): {full:>8.0} acknowledged writes/s  (target >= 2000)"
    );
    println!("  synchronous=NORMAL (baseline):        {normal:>8.0} writes/s");
    println!("  ratio FULL / NORMAL: {:.2}", full / normal);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts carnetd on `dir` and returns (process, time to first 200 on /healthz); the caller
/// kills and waits for the process.
#[allow(clippy::zombie_processes)]
fn start_and_time(dir: &Path) -> (std::process::Child, Duration) {
    let port = free_port();
    let client = http();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let start = Instant::now();
    let child = Command::new(binary("carnetd"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("CARNET_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn carnetd");
    // Measurement, not readiness for a test: poll as fast as the connection is refused.
    loop {
        if let Ok(r) = client.get(&url).send()
            && r.status() == 200
        {
            return (child, start.elapsed());
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "carnetd did not come up"
        );
    }
}

fn startup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut first, first_time) = start_and_time(dir.path());
    first.kill().ok();
    first.wait().ok();
    let mut times = Vec::new();
    let mut last: Option<std::process::Child> = None;
    for _ in 0..5 {
        if let Some(mut c) = last.take() {
            c.kill().ok();
            c.wait().ok();
        }
        let (child, t) = start_and_time(dir.path());
        times.push(t);
        last = Some(child);
    }
    let mut child = last.expect("a running carnetd");
    std::thread::sleep(Duration::from_secs(2)); // idle, as a measurement window
    let (rss, hwm) = (
        memory::rss_mib(child.id()).unwrap_or(0.0),
        memory::peak_rss_mib(child.id()).unwrap_or(0.0),
    );
    child.kill().ok();
    child.wait().ok();
    times.sort();
    println!("release carnetd, identity mode");
    println!(
        "  first start (creates the vault) to first 200 on /healthz: {:>6.1} ms",
        first_time.as_secs_f64() * 1e3
    );
    println!(
        "  later starts to first 200 on /healthz: median {:.1} ms, worst {:.1} ms of {}  (target <= 100 ms)",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        times.len()
    );
    println!(
        "  idle RSS: {:.1} MiB (peak {:.1} MiB)  (target <= 20 MiB)",
        rss, hwm
    );
}
