//! A webhook receiver for the tests: an HTTP server on a loopback port that records every
//! POST it gets (headers and body) and answers as the test says — accept, fail, redirect,
//! hold the request open, or not listen at all. Waiting on it is waiting on a condition: the
//! calls block until enough deliveries arrived, with a generous deadline.

use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use data_encoding::BASE64;
use ring::hmac;
use serde_json::Value;

use crate::served::Served;

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Mode {
    /// 204 to everything.
    Accept,
    /// This status to everything.
    Fail(u16),
    /// 503 to the first `n` attempts of each `webhook-id`, then 204.
    FailFirst(usize),
    /// 302 to this location.
    Redirect(String),
    /// Keeps each request open until `release` (then 204).
    Hold,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub body: String,
    /// What the receiver answered (0 while a held request is still open).
    pub status: u16,
    pub received: Instant,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhook body is JSON")
    }

    /// The envelope's `type`.
    pub fn event(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }

    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Checks `webhook-signature` as the Standard Webhooks specification says, written here
    /// independently of the server: `v1,` and base64 of HMAC-SHA256 keyed with the decoded
    /// `whsec_` secret over `{id}.{timestamp}.{body}`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let Some(key) = secret
            .strip_prefix("whsec_")
            .and_then(|k| BASE64.decode(k.as_bytes()).ok())
        else {
            return false;
        };
        let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
        let signed = format!("{}.{}.{}", self.id, self.timestamp, self.body);
        self.signature.split(' ').any(|s| {
            s.strip_prefix("v1,")
                .and_then(|b| BASE64.decode(b.as_bytes()).ok())
                .is_some_and(|tag| hmac::verify(&key, signed.as_bytes(), &tag).is_ok())
        })
    }
}

#[derive(Default)]
struct Log {
    deliveries: Vec<Delivery>,
    released: bool,
}

struct Shared {
    mode: Mutex<Mode>,
    log: Mutex<Log>,
    changed: Condvar,
    release: tokio::sync::Notify,
}

/// A receiver on `127.0.0.1`; `url` stays the same when it goes down and comes back.
pub struct Receiver {
    pub url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    running: Mutex<Option<Served>>,
}

/// How long a wait may take before the test fails (retries back off to a few seconds).
const DEADLINE: Duration = Duration::from_secs(60);

impl Receiver {
    /// A receiver listening on a new port, answering 204.
    pub fn start() -> Receiver {
        Self::with_mode(Mode::Accept)
    }

    pub fn with_mode(mode: Mode) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let r = Receiver {
            url: format!("http://{addr}/hook"),
            addr,
            shared: Arc::new(Shared {
                mode: Mutex::new(mode),
                log: Mutex::default(),
                changed: Condvar::new(),
                release: tokio::sync::Notify::new(),
            }),
            running: Mutex::new(None),
        };
        r.serve(listener);
        r
    }

    fn serve(&self, listener: std::net::TcpListener) {
        let app = axum::Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(self.shared.clone());
        *self.running.lock().expect("lock") = Some(Served::axum(listener, app));
    }

    /// Stops listening: connections are refused until `up`.
    pub fn down(&self) {
        if let Some(mut served) = self.running.lock().expect("lock").take() {
            served.stop();
        }
    }

    /// Listens again on the same port.
    pub fn up(&self) {
        let listener = std::net::TcpListener::bind(self.addr).expect("bind the same port again");
        self.serve(listener);
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().expect("lock") = mode;
    }

    /// Lets held requests (and later ones) finish.
    pub fn release(&self) {
        self.shared.log.lock().expect("lock").released = true;
        self.shared.release.notify_waiters();
    }

    /// Every request so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.log.lock().expect("lock").deliveries.clone()
    }

    /// The requests answered with a 2xx.
    pub fn accepted(&self) -> Vec<Delivery> {
        self.deliveries()
            .into_iter()
            .filter(Delivery::accepted)
            .collect()
    }

    /// Blocks until `done` holds for the requests received, and returns them; fails the test
    /// after a minute.
    #[track_caller]
    pub fn wait_until(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let deadline = Instant::now() + DEADLINE;
        let mut log = self.shared.log.lock().expect("lock");
        while !done(&log.deliveries) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited a minute for {what}; received: {:#?}",
                log.deliveries
            );
            log = self.shared.changed.wait_timeout(log, left).expect("lock").0;
        }
        log.deliveries.clone()
    }

    /// Blocks until `n` requests were accepted; returns the accepted ones.
    #[track_caller]
    pub fn wait_accepted(&self, n: usize) -> Vec<Delivery> {
        self.wait_until(&format!("{n} accepted deliveries"), |d| {
            d.iter().filter(|d| d.accepted()).count() >= n
        })
        .into_iter()
        .filter(Delivery::accepted)
        .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.release();
        self.down();
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = text("webhook-id");
    let mode = shared.mode.lock().expect("lock").clone();
    let earlier = {
        let log = shared.log.lock().expect("lock");
        log.deliveries.iter().filter(|d| d.id == id).count()
    };
    let status = match &mode {
        Mode::Accept | Mode::Hold => 204,
        Mode::Fail(s) => *s,
        Mode::FailFirst(n) if earlier < *n => 503,
        Mode::FailFirst(_) => 204,
        Mode::Redirect(_) => 302,
    };
    let delivery = Delivery {
        id,
        timestamp: text("webhook-timestamp").parse().unwrap_or(-1),
        signature: text("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        status: if matches!(mode, Mode::Hold) {
            0
        } else {
            status
        },
        received: Instant::now(),
    };
    let index = {
        let mut log = shared.log.lock().expect("lock");
        log.deliveries.push(delivery);
        shared.changed.notify_all();
        log.deliveries.len() - 1
    };
    if matches!(mode, Mode::Hold) {
        loop {
            let released = shared.release.notified();
            if shared.log.lock().expect("lock").released {
                break;
            }
            released.await;
        }
        let mut log = shared.log.lock().expect("lock");
        log.deliveries[index].status = status;
        shared.changed.notify_all();
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match mode {
        Mode::Redirect(to) => (status, [(header::LOCATION, to)]).into_response(),
        _ => status.into_response(),
    }
}
