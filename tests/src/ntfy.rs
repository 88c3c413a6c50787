//! An ntfy-compatible receiver for the tests: an HTTP server on a loopback port that records
//! every request it gets (method, path, headers, body) and answers 200 like ntfy's publish
//! API, or the status the test sets. Waiting on it is waiting on a condition, with a deadline.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::served::Served;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Published {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

struct Shared {
    status: Mutex<u16>,
    log: Mutex<Vec<Published>>,
    changed: Condvar,
}

/// An ntfy server on `127.0.0.1`; `base` is `http://127.0.0.1:PORT`.
pub struct Ntfy {
    pub base: String,
    shared: Arc<Shared>,
    _served: Served,
}

impl Ntfy {
    pub fn start() -> Ntfy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind ntfy");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared {
            status: Mutex::new(200),
            log: Mutex::default(),
            changed: Condvar::new(),
        });
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        Ntfy {
            base: format!("http://{addr}"),
            shared,
            _served: Served::axum(listener, app),
        }
    }

    /// Answers this status from now on.
    pub fn answer(&self, status: u16) {
        *self.shared.status.lock().expect("lock") = status;
    }

    pub fn published(&self) -> Vec<Published> {
        self.shared.log.lock().expect("lock").clone()
    }

    /// Blocks until `n` requests arrived; fails the test after a minute.
    #[track_caller]
    pub fn wait_for(&self, n: usize) -> Vec<Published> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut log = self.shared.log.lock().expect("lock");
        while log.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited a minute for {n} ntfy messages: {log:#?}"
            );
            log = self.shared.changed.wait_timeout(log, left).expect("lock").0;
        }
        log.clone()
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let published = Published {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let status = *shared.status.lock().expect("lock");
    shared.log.lock().expect("lock").push(published);
    shared.changed.notify_all();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, r#"{"id":"x","event":"message"}"#).into_response()
}
