//! Assembles the HTTP surface: every module's router, the shared layers (request ids, tracing
//! without query strings or bodies, body limit, timeout, no caching), and problem+json for
//! unknown routes and methods.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use carnet_schemas::{Health, HealthStatus};
use ring::rand::{SecureRandom, SystemRandom};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::extract::{BODY_LIMIT, Json};
use crate::state::AppState;
use crate::state::SealedState;
use crate::{oauth, openapi, owner_api, vendor_api};

/// Server health.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "Serving", body = Health)))]
async fn healthz() -> Json<Health> {
    crate::sealed::health(HealthStatus::Ok)
}

/// `GET /openapi.json`, sealed or not. The document is built on the first request and kept:
/// building it costs a few MiB of memory and milliseconds that a start should not pay.
async fn openapi_json() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    let doc = DOC
        .get_or_init(|| Bytes::from(serde_json::to_string_pretty(&openapi()).unwrap_or_default()));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        doc.clone(),
    )
}

async fn no_route(req: Request) -> ApiError {
    ApiError::NoRoute {
        path: req.uri().path().to_owned(),
    }
}

async fn no_method() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The OpenAPI document of everything `router` serves.
pub fn openapi() -> serde_json::Value {
    let (_, api) = api_router(vendor_api::router()).split_for_parts();
    openapi::finish(api)
}

/// Every API route; `vendor` is the vendor API's, served behind its gate (`vendor_api::gated`).
fn api_router(vendor: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(healthz))
        .merge(owner_api::router())
        .merge(oauth::router())
        .merge(vendor)
}

/// Request ids: a random prefix per process and a counter, unique without a system call per
/// request.
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let mut bytes = [0u8; 4];
        let _ = SystemRandom::new().fill(&mut bytes);
        RequestIds {
            prefix: bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into(),
            next: Arc::default(),
        }
    }

    fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Hex digits and a dash: always a valid header value.
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix))
            .unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

/// What `frame` needs: the request-id source and the metrics.
#[derive(Clone)]
struct Frame {
    ids: RequestIds,
    metrics: Arc<crate::metrics::Metrics>,
}

const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// The outermost layer, done in one place because every request pays for each layer: the
/// request id (the client's `x-request-id` is kept, or one is made, and the answer carries
/// it back), the headers every answer has (`no-store` unless a handler said otherwise,
/// `nosniff`), and the request's metrics.
async fn frame(
    State(f): State<Frame>,
    mut req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let start = std::time::Instant::now();
    let id = match req.headers().get(&X_REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = f.ids.next();
            req.headers_mut().insert(X_REQUEST_ID, id.clone());
            id
        }
    };
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.entry(X_REQUEST_ID).or_insert(id);
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    f.metrics.observe(
        route
            .as_ref()
            .map_or(crate::metrics::UNMATCHED, MatchedPath::as_str),
        &method,
        res.status().as_u16(),
        start.elapsed(),
    );
    res
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let api: Router<AppState> = api_router(vendor_api::gated(state.clone())).into();
    let docs = Router::new().route("/openapi.json", axum::routing::get(openapi_json));
    let app = api
        .merge(crate::app::router())
        .with_state(state)
        .merge(docs)
        .merge(crate::metrics::router(metrics.clone()))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method);
    with_layers(app, metrics)
}

/// What answers while the vault is sealed: health (`sealed`), metrics, the API description,
/// discovery, and `POST /v1/unlock`. Everything else is 503 before any authentication (the
/// web app's pages as a page that says so).
pub fn sealed_router(
    sealed: SealedState,
    store: Arc<carnet_core::store::Store>,
    metrics: Arc<crate::metrics::Metrics>,
) -> Router {
    let settings = sealed.settings.clone();
    let app = Router::new()
        .route(
            "/healthz",
            axum::routing::get(|| async { crate::sealed::health(HealthStatus::Sealed) }),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            axum::routing::get(move || {
                let settings = settings.clone();
                async move { Json(crate::oauth::metadata_of(&settings)) }
            }),
        )
        .route(
            "/.well-known/carnet-receipt-keys",
            axum::routing::get(move || {
                let store = store.clone();
                async move {
                    crate::oauth::published_keys(&store, false)
                        .map(Json)
                        .map_err(crate::error::ApiError::from)
                }
            }),
        )
        .route("/openapi.json", axum::routing::get(openapi_json))
        .merge(
            Router::new()
                .route(
                    "/v1/unlock",
                    axum::routing::post(crate::sealed::unlock_handler),
                )
                .with_state(sealed),
        )
        .merge(crate::metrics::router(metrics.clone()))
        .fallback(sealed_fallback);
    with_layers(app, metrics)
}

/// How long a request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers 408 to a request still running after `REQUEST_TIMEOUT`, except an import or a
/// document's upload (the owner API's or the web app's form), which lasts as long as its
/// upload (each gives up on an upload that stalls, see `owner_api`).
async fn deadline(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    if req.method() == axum::http::Method::POST
        && (matches!(req.uri().path(), "/v1/import" | "/v1/documents")
            || route == Some("/app/vendors/{id}/documents"))
    {
        return next.run(req).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Everything else while sealed: 503, before any authentication; in HTML under `/app/`.
/// (Here rather than in `sealed`, so that `sealed`, which the owner API uses, never imports
/// the web app, which uses the owner API's document transfers.)
async fn sealed_fallback(uri: axum::http::Uri) -> axum::response::Response {
    if crate::app::is_app_path(uri.path()) {
        return crate::app::sealed();
    }
    crate::sealed::sealed()
}

/// The layers every response goes through, sealed or not.
fn with_layers(app: Router, metrics: Arc<crate::metrics::Metrics>) -> Router {
    // Spans carry the route template, never the raw path or query: those can hold user text.
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("(unmatched)", MatchedPath::as_str);
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), route, request_id = id)
        })
        // 5xx are logged once, with their cause, where they are made (`error.rs`); a sealed
        // vault's 503s are expected and not errors at all.
        .on_failure(());
    app.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(deadline))
        .layer(trace)
        .layer(axum::middleware::from_fn_with_state(
            Frame {
                ids: RequestIds::new(),
                metrics,
            },
            frame,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::Response;
    use tower::ServiceExt;

    async fn answer(app: &Router, req: axum::http::Request<axum::body::Body>) -> Response {
        app.clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| match e {})
    }

    fn app(metrics: Arc<crate::metrics::Metrics>) -> Router {
        let app = Router::new()
            .route("/plain", axum::routing::get(|| async { "plain" }))
            .route(
                "/cached",
                axum::routing::get(|| async {
                    ([(header::CACHE_CONTROL, "public, max-age=60")], "cached")
                }),
            );
        with_layers(app, metrics)
    }

    fn get(path: &str) -> axum::http::request::Builder {
        axum::http::Request::builder().uri(path)
    }

    #[tokio::test]
    async fn every_answer_has_a_request_id_and_the_safe_headers() {
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let app = app(metrics.clone());

        let made = answer(&app, get("/plain").body(Default::default()).unwrap()).await;
        let other = answer(&app, get("/plain").body(Default::default()).unwrap()).await;
        let id = |r: &Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id(&made), id(&other), "each request gets its own id");
        assert_eq!(made.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(made.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

        // A client's own id is kept and sent back; a handler's caching choice stands.
        let kept = answer(
            &app,
            get("/cached")
                .header("x-request-id", "from-the-client")
                .body(Default::default())
                .unwrap(),
        )
        .await;
        assert_eq!(kept.headers()["x-request-id"], "from-the-client");
        assert_eq!(kept.headers()[header::CACHE_CONTROL], "public, max-age=60");

        // Counted under their route templates.
        let text = metrics.render();
        assert!(
            text.contains(
                "carnet_http_requests_total{method=\"GET\",route=\"/plain\",status=\"2xx\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("route=\"/cached\",status=\"2xx\"} 1\n"),
            "{text}"
        );
    }
}
