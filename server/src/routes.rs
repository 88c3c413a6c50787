//! Assembles the HTTP surface: every module's router, the shared layers (request ids, tracing
//! without query strings or bodies, body limit, timeout, no caching), and problem+json for
//! unknown routes and methods.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use carnet_schemas::{Health, HealthStatus};
use ring::rand::{SecureRandom, SystemRandom};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::extract::{BODY_LIMIT, Json};
use crate::server::Lifecycle;
use crate::state::AppState;
use crate::{oauth, openapi, owner_api, vendor_api};

/// Server health.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "Serving", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
        version: env!("CARGO_PKG_VERSION").into(),
    })
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
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = api_router().split_for_parts();
    openapi::finish(api)
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(healthz))
        .merge(owner_api::router())
        .merge(oauth::router())
        .merge(vendor_api::router())
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
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let api: Router<AppState> = api_router().into();
    let docs = Router::new().route("/openapi.json", axum::routing::get(openapi_json));
    let app = api
        .with_state(state)
        .merge(docs)
        .merge(crate::metrics::router(metrics.clone()))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method);
    with_layers(app, metrics)
}

/// What answers while the vault is sealed: health (`sealed`), metrics, the API description,
/// discovery, and `POST /v1/unlock`. Everything else is 503 before any authentication.
pub fn sealed_router(l: &Arc<Lifecycle>) -> Router {
    let settings = l.settings.clone();
    let store = l.store.clone();
    let app = Router::new()
        .route(
            "/healthz",
            axum::routing::get(|| async {
                Json(Health {
                    status: HealthStatus::Sealed,
                    version: env!("CARGO_PKG_VERSION").into(),
                })
            }),
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
                async move { crate::oauth::published_keys(&store).map(Json) }
            }),
        )
        .route("/openapi.json", axum::routing::get(openapi_json))
        .merge(
            Router::new()
                .route(
                    "/v1/unlock",
                    axum::routing::post(crate::server::unlock_handler),
                )
                .with_state(l.clone()),
        )
        .merge(crate::metrics::router(l.metrics.clone()))
        .fallback(crate::server::sealed);
    with_layers(app, l.metrics.clone())
}

/// How long a request may take before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers 408 to a request still running after `REQUEST_TIMEOUT`, except an import, which
/// lasts as long as its upload (it gives up on an upload that stalls, see `owner_api`).
async fn deadline(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    if req.method() == axum::http::Method::POST && req.uri().path() == "/v1/import" {
        return next.run(req).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
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
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(trace)
        .layer(SetRequestIdLayer::x_request_id(RequestIds::new()))
}
