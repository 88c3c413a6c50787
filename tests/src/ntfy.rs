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
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ntfy {
    pub fn start() -> Ntfy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind ntfy");
        let addr = listener.local_addr().expect("address");
        listener.set_nonblocking(true).expect("nonblocking");
        let shared = Arc::new(Shared {
            status: Mutex::new(200),
            log: Mutex::default(),
            changed: Condvar::new(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new().fallback(receive).with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Ntfy {
            base: format!("http://{addr}"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
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

impl Drop for Ntfy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
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
