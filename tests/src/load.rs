//! A small HTTP load generator for the benchmarks: N keep-alive HTTP/1.1 connections, each
//! sending one request after another for a fixed time, recording every latency. The same
//! generator loads the baseline route and Carnet's endpoints, so their ratio is meaningful.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

/// What one run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub requests: u64,
    pub non_2xx: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// One report line, with the ratio to `baseline` when given.
    pub fn line(&self, name: &str, baseline: Option<&LoadResult>) -> String {
        let ratio = baseline.map_or(String::new(), |b| {
            format!("  = {:.2}x baseline", self.per_second() / b.per_second())
        });
        format!(
            "  {name:<46} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  non-2xx {}{ratio}",
            self.per_second(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.non_2xx
        )
    }
}

/// A request to send (cloned for every send).
#[derive(Clone)]
pub struct RequestSpec {
    pub method: http::Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RequestSpec {
    pub fn get(path: &str) -> Self {
        RequestSpec {
            method: http::Method::GET,
            path: path.into(),
            headers: vec![],
            body: Bytes::new(),
        }
    }

    pub fn post_form(path: &str, form: &str) -> Self {
        RequestSpec {
            method: http::Method::POST,
            path: path.into(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: Bytes::from(form.to_owned()),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn build(&self, addr: SocketAddr) -> http::Request<Full<Bytes>> {
        let mut b = http::Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header("host", addr.to_string());
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        b.body(Full::new(self.body.clone())).expect("request")
    }
}

/// Loads `addr` with `connections` connections for `duration` (after `warmup`).
pub fn run(
    addr: SocketAddr,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    spec: RequestSpec,
) -> LoadResult {
    let (latencies, non_2xx) = measure(addr, connections, warmup, duration, &[spec]);
    summarize(latencies, non_2xx, duration)
}

/// A target measured against the baseline in alternating rounds (see `compare`).
#[derive(Debug, Clone)]
pub struct Compared {
    /// Every round of the target, pooled.
    pub target: LoadResult,
    /// Every round of the baseline, pooled.
    pub baseline: LoadResult,
    /// The median of the rounds' ratios (target req/s over baseline req/s).
    pub ratio: f64,
    /// Each round's ratio, in order.
    pub rounds: Vec<f64>,
}

impl Compared {
    /// One report line: the target's pooled figures and the median ratio.
    pub fn line(&self, name: &str) -> String {
        format!(
            "{}  = {:.2}x baseline (median of rounds {}; baseline {:.0} req/s)",
            self.target.line(name, None),
            self.ratio,
            self.rounds
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join("/"),
            self.baseline.per_second()
        )
    }
}

/// Loads the baseline and the target in turn, `rounds` times each (`duration` per round after
/// `warmup`), so that whatever else the machine does meanwhile falls on both alike; a single
/// long run of each drifts by more than the effect being measured on a shared 2-core machine.
pub fn compare(
    baseline: (SocketAddr, &RequestSpec),
    target: (SocketAddr, &RequestSpec),
    rounds: usize,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Compared {
    compare_rotating(
        baseline,
        (target.0, std::slice::from_ref(target.1)),
        rounds,
        connections,
        warmup,
        duration,
    )
}

/// `compare` with a target that rotates over several requests (one client per vendor, say):
/// each connection sends them in turn, starting at its own place in the list.
pub fn compare_rotating(
    baseline: (SocketAddr, &RequestSpec),
    target: (SocketAddr, &[RequestSpec]),
    rounds: usize,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Compared {
    let (mut base_all, mut base_bad) = (Vec::new(), 0);
    let (mut target_all, mut target_bad) = (Vec::new(), 0);
    let mut ratios = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (b, b_bad) = measure(
            baseline.0,
            connections,
            warmup,
            duration,
            std::slice::from_ref(baseline.1),
        );
        let (t, t_bad) = measure(target.0, connections, warmup, duration, target.1);
        ratios.push(t.len() as f64 / b.len().max(1) as f64);
        base_all.extend(b);
        base_bad += b_bad;
        target_all.extend(t);
        target_bad += t_bad;
    }
    let in_order = ratios.clone();
    ratios.sort_by(f64::total_cmp);
    let total = duration * u32::try_from(rounds).expect("rounds");
    Compared {
        target: summarize(target_all, target_bad, total),
        baseline: summarize(base_all, base_bad, total),
        ratio: ratios.get(rounds / 2).copied().unwrap_or(0.0),
        rounds: in_order,
    }
}

/// Every latency measured after the warm-up, and how many answers were not 2xx.
fn measure(
    addr: SocketAddr,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    specs: &[RequestSpec],
) -> (Vec<Duration>, u64) {
    assert!(!specs.is_empty(), "no request to send");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let specs = Arc::new(specs.to_vec());
        let start = Instant::now() + warmup;
        let end = start + duration;
        let tasks: Vec<_> = (0..connections)
            .map(|n| {
                let specs = specs.clone();
                tokio::spawn(async move {
                    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
                    stream.set_nodelay(true).ok();
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let (mut send, conn) = hyper::client::conn::http1::handshake(io)
                        .await
                        .expect("handshake");
                    tokio::spawn(conn);
                    let mut latencies = Vec::with_capacity(100_000);
                    let mut non_2xx = 0u64;
                    let mut next = n % specs.len();
                    loop {
                        let t = Instant::now();
                        if t >= end {
                            break;
                        }
                        let spec = &specs[next];
                        next = (next + 1) % specs.len();
                        let res = send.send_request(spec.build(addr)).await.expect("send");
                        let ok = res.status().is_success();
                        let _ = res.into_body().collect().await;
                        if t >= start {
                            latencies.push(t.elapsed());
                            if !ok {
                                non_2xx += 1;
                            }
                        }
                    }
                    (latencies, non_2xx)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut non_2xx = 0;
        for t in tasks {
            let (l, n) = t.await.expect("load task");
            all.extend(l);
            non_2xx += n;
        }
        (all, non_2xx)
    })
}

fn summarize(mut all: Vec<Duration>, non_2xx: u64, elapsed: Duration) -> LoadResult {
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    LoadResult {
        requests: all.len() as u64,
        non_2xx,
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

/// Serves a bare axum JSON route at `/` on its own 2-thread runtime: the baseline.
pub fn bare_axum() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/",
                axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    rx.recv().expect("bare axum address")
}
