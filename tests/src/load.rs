//! A small HTTP load generator for the benchmarks: N keep-alive HTTP/1.1 connections, each
//! sending one request after another for a fixed time, recording every latency. The same
//! generator loads the baseline route and Carnet's endpoints, so their ratio is meaningful.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

/// What one run measured.
#[derive(Debug, Clone, Default)]
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
    let (latencies, non_2xx) = measure(addr, connections, warmup, duration, spec);
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
    compare_requests(
        baseline,
        (target.0, Requests::One(target.1.clone())),
        rounds,
        connections,
        warmup,
        duration,
    )
}

/// `compare` with a target that rotates over several requests (one client per vendor, say).
pub fn compare_rotating(
    baseline: (SocketAddr, &RequestSpec),
    target: (SocketAddr, &[RequestSpec]),
    rounds: usize,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Compared {
    assert!(!target.1.is_empty(), "no request to send");
    let specs = Arc::new(target.1.to_vec());
    let each = move |n: u64| specs[(n % specs.len() as u64) as usize].clone();
    compare_requests(
        baseline,
        (target.0, Requests::Each(Arc::new(each))),
        rounds,
        connections,
        warmup,
        duration,
    )
}

/// `compare` for a target whose requests may differ one from the next (`Requests::Each`).
pub fn compare_requests(
    baseline: (SocketAddr, &RequestSpec),
    target: (SocketAddr, Requests),
    rounds: usize,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Compared {
    let span = Span {
        warmup,
        duration,
        min_requests: 0,
        max_requests: u64::MAX,
    };
    let (mut base_all, mut base_bad) = (Vec::new(), 0);
    let (mut target_all, mut target_bad) = (Vec::new(), 0);
    let mut ratios = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (b, b_bad) = measure(
            baseline.0,
            connections,
            warmup,
            duration,
            baseline.1.clone(),
        );
        let (t, t_bad, _) = drive(target.0, connections, span, target.1.clone());
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
    spec: RequestSpec,
) -> (Vec<Duration>, u64) {
    let span = Span {
        warmup,
        duration,
        min_requests: 0,
        max_requests: u64::MAX,
    };
    let (latencies, non_2xx, _) = drive(addr, connections, span, Requests::One(spec));
    (latencies, non_2xx)
}

/// How long a run of `drive` lasts: requests go on until `duration` has passed after `warmup`
/// and at least `min_requests` were sent, and stop at `max_requests` whatever the time.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub warmup: Duration,
    pub duration: Duration,
    pub min_requests: u64,
    pub max_requests: u64,
}

impl Span {
    /// Exactly `n` requests, all measured.
    pub fn count(n: u64) -> Span {
        Span {
            warmup: Duration::ZERO,
            duration: Duration::ZERO,
            min_requests: n,
            max_requests: n,
        }
    }

    /// `duration` and at least `min` requests, all measured (for slow routes).
    pub fn at_least(duration: Duration, min: u64) -> Span {
        Span {
            warmup: Duration::ZERO,
            duration,
            min_requests: min,
            max_requests: u64::MAX,
        }
    }
}

/// What `drive` sends: the same request every time, or the `n`th request made by a function
/// (a rotating client, a distinct id per request).
#[derive(Clone)]
pub enum Requests {
    One(RequestSpec),
    Each(Arc<dyn Fn(u64) -> RequestSpec + Send + Sync>),
}

/// Loads `addr` with `connections` keep-alive connections for `span`: every latency measured
/// after the warm-up, how many answers were not 2xx, and the time from the first request
/// measured to the last answer.
pub fn drive(
    addr: SocketAddr,
    connections: usize,
    span: Span,
    requests: Requests,
) -> (Vec<Duration>, u64, Duration) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let requests = Arc::new(requests);
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let start = Instant::now() + span.warmup;
        let end = start + span.duration;
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let (requests, sent) = (requests.clone(), sent.clone());
                tokio::spawn(async move {
                    let mut send = connect(addr).await;
                    let mut latencies = Vec::with_capacity(100_000);
                    let mut non_2xx = 0u64;
                    loop {
                        let t = Instant::now();
                        let measured = t >= start;
                        let n = if measured {
                            sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        } else {
                            0
                        };
                        if n >= span.max_requests || (t >= end && n >= span.min_requests) {
                            break;
                        }
                        let req = match &*requests {
                            Requests::One(spec) => spec.build(addr),
                            Requests::Each(make) => make(n).build(addr),
                        };
                        // A connection the server closed (a timeout under load) fails this
                        // request, counted with the non-2xx, and is opened again.
                        let ok = match send.send_request(req).await {
                            Ok(res) => {
                                let ok = res.status().is_success();
                                res.into_body().collect().await.is_ok() && ok
                            }
                            Err(_) => {
                                send = connect(addr).await;
                                false
                            }
                        };
                        if measured {
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
        (all, non_2xx, start.elapsed())
    })
}

/// One keep-alive HTTP/1.1 connection to `addr`, its driver spawned on the current runtime.
async fn connect(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (send, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("handshake");
    tokio::spawn(conn);
    send
}

/// Sends `specs` one after another over one keep-alive connection, `rounds` times; how long
/// each round took and how many answers were not 2xx.
pub fn sequence(addr: SocketAddr, specs: &[RequestSpec], rounds: usize) -> (Vec<Duration>, u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let mut send = connect(addr).await;
        let mut took = Vec::with_capacity(rounds);
        let mut non_2xx = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            for spec in specs {
                let res = send.send_request(spec.build(addr)).await.expect("send");
                if !res.status().is_success() {
                    non_2xx += 1;
                }
                let _ = res.into_body().collect().await;
            }
            took.push(t.elapsed());
        }
        (took, non_2xx)
    })
}

/// The latencies' summary, `elapsed` being the time they were measured over.
pub fn summary(latencies: Vec<Duration>, non_2xx: u64, elapsed: Duration) -> LoadResult {
    summarize(latencies, non_2xx, elapsed)
}

/// The `p` quantile (0.5, 0.99) of `sorted` durations; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn summarize(mut all: Vec<Duration>, non_2xx: u64, elapsed: Duration) -> LoadResult {
    all.sort();
    let pct = |p: f64| percentile(&all, p);
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
    bare_axum_on(0)
}

/// [`bare_axum`] on `127.0.0.1:port`.
pub fn bare_axum_on(port: u16) -> SocketAddr {
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
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    rx.recv().expect("bare axum address")
}
