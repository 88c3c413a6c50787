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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let spec = Arc::new(spec);
        let start = Instant::now() + warmup;
        let end = start + duration;
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let spec = spec.clone();
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
                    loop {
                        let t = Instant::now();
                        if t >= end {
                            break;
                        }
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
        all.sort();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        LoadResult {
            requests: all.len() as u64,
            non_2xx,
            elapsed: duration,
            p50: pct(0.50),
            p99: pct(0.99),
        }
    })
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
