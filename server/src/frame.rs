//! The frame every request goes through, sealed or not, as one layer because every request
//! pays for each layer (this was four: `from_fn` twice and `tower_http`'s trace, each cloning
//! the service under it and boxing a future):
//! - the request id: the client's `x-request-id` is kept, or one is made, and the answer
//!   carries it back;
//! - a `request` span with the method, the route template and the request id (never the raw
//!   path or query: those can hold user text), entered while the request is served;
//! - the deadline: 408 after [`REQUEST_TIMEOUT`], except for uploads (see [`is_upload`]);
//! - the headers every answer has (`no-store` unless a handler said otherwise, `nosniff`);
//! - the request's metrics.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ring::rand::{SecureRandom, SystemRandom};
use tracing::Instrument;

use crate::metrics::Metrics;

/// How long a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// Request ids: a random prefix per process and a counter (`1a2b3c4d-5f`), unique without a
/// system call per request, written without a format string or a second copy.
#[derive(Clone)]
struct RequestIds {
    prefix: [u8; 8],
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let mut bytes = [0u8; 4];
        let _ = SystemRandom::new().fill(&mut bytes);
        let mut prefix = [0u8; 8];
        hex_into(&mut prefix, u64::from(u32::from_be_bytes(bytes)));
        RequestIds {
            prefix,
            next: Arc::default(),
        }
    }

    fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut id = [0u8; 8 + 1 + 16];
        id[..8].copy_from_slice(&self.prefix);
        id[8] = b'-';
        let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
        hex_into(&mut id[9..9 + digits], n);
        // Hex digits and a dash: always a valid header value.
        HeaderValue::from_bytes(&id[..9 + digits]).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

/// `n`'s last `out.len()` hex digits into `out`, most significant first.
fn hex_into(out: &mut [u8], mut n: u64) {
    for b in out.iter_mut().rev() {
        *b = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
    }
}

/// The frame as a layer (`Router::layer` puts it around each route, where the matched route
/// template is known).
#[derive(Clone)]
pub struct FrameLayer {
    ids: RequestIds,
    metrics: Arc<Metrics>,
}

impl FrameLayer {
    pub fn new(metrics: Arc<Metrics>) -> FrameLayer {
        FrameLayer {
            ids: RequestIds::new(),
            metrics,
        }
    }
}

impl<S> tower::Layer<S> for FrameLayer {
    type Service = Frame<S>;

    fn layer(&self, inner: S) -> Frame<S> {
        Frame {
            inner,
            layer: self.clone(),
        }
    }
}

/// A route's service inside the frame.
#[derive(Clone)]
pub struct Frame<S> {
    inner: S,
    layer: FrameLayer,
}

impl<S> tower::Service<Request> for Frame<S>
where
    S: tower::Service<Request, Error = Infallible> + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let start = Instant::now();
        let id = match req.headers().get(&X_REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = self.layer.ids.next();
                req.headers_mut().insert(X_REQUEST_ID, id.clone());
                id
            }
        };
        let method = req.method().clone();
        let route = req.extensions().get::<MatchedPath>().cloned();
        let route_name = route
            .as_ref()
            .map_or(crate::metrics::UNMATCHED, MatchedPath::as_str);
        let span = tracing::info_span!(
            "request",
            method = %method,
            route = route_name,
            request_id = id.to_str().unwrap_or("")
        );
        let timed = !is_upload(&method, req.uri().path(), route.as_ref());
        let served = self.inner.call(req);
        let metrics = self.layer.metrics.clone();
        Box::pin(
            async move {
                let mut res = if timed {
                    match tokio::time::timeout(REQUEST_TIMEOUT, served).await {
                        Ok(answered) => into_response(answered),
                        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
                    }
                } else {
                    into_response(served.await)
                };
                let headers = res.headers_mut();
                headers.entry(X_REQUEST_ID).or_insert(id);
                headers
                    .entry(header::CACHE_CONTROL)
                    .or_insert(HeaderValue::from_static("no-store"));
                headers
                    .entry(header::X_CONTENT_TYPE_OPTIONS)
                    .or_insert(HeaderValue::from_static("nosniff"));
                let elapsed = start.elapsed();
                tracing::debug!(
                    status = res.status().as_u16(),
                    latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                    "answered"
                );
                metrics.observe(
                    route
                        .as_ref()
                        .map_or(crate::metrics::UNMATCHED, MatchedPath::as_str),
                    &method,
                    res.status().as_u16(),
                    elapsed,
                );
                Ok(res)
            }
            .instrument(span),
        )
    }
}

fn into_response<R: IntoResponse>(answered: Result<R, Infallible>) -> Response {
    match answered {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    }
}

/// An import or a document's upload (the owner API's or the web app's form) lasts as long as
/// its upload: no [`REQUEST_TIMEOUT`] (each gives up on an upload that stalls, see
/// `owner_api`).
fn is_upload(method: &Method, path: &str, route: Option<&MatchedPath>) -> bool {
    method == Method::POST
        && (matches!(path, "/v1/import" | "/v1/documents")
            || route.map(MatchedPath::as_str) == Some("/app/vendors/{id}/documents"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_the_prefix_a_dash_and_the_count_in_hex() {
        let ids = RequestIds {
            prefix: *b"0a1b2c3d",
            next: Arc::default(),
        };
        let made: Vec<HeaderValue> = (0..17).map(|_| ids.next()).collect();
        assert_eq!(made[0], "0a1b2c3d-0");
        assert_eq!(made[15], "0a1b2c3d-f");
        assert_eq!(made[16], "0a1b2c3d-10");
        ids.next
            .store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(ids.next(), "0a1b2c3d-ffffffffffffffff");
        let random = RequestIds::new();
        assert!(random.prefix.iter().all(u8::is_ascii_hexdigit));
    }
}
