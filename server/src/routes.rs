//! Assembles the HTTP surface: every module's router, the shared layers (request ids, tracing
//! without query strings or bodies, body limit, timeout, no caching), and problem+json for
//! unknown routes and methods.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use carnet_schemas::{Health, HealthStatus};
use utoipa_axum::router::OpenApiRouter;

use crate::api_routes::{ApiRouter, api_routes};
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

/// `schemas/openapi.json`: the document `openapi()` builds from the handlers' annotations,
/// checked in (a test fails when the two differ). carnetd serves the file rather than build the
/// document: building it took 15 MiB of memory that stayed with the process, and utoipa's
/// document code is then not in the binary at all.
const OPENAPI_JSON: &[u8] = include_bytes!("../../schemas/openapi.json");

/// `GET /openapi.json`, sealed or not.
async fn openapi_json() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from_static(OPENAPI_JSON),
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

/// The OpenAPI document of everything `router` serves, built from the handlers' annotations
/// (what `schemas/openapi.json` must be: tests compare them).
pub fn openapi() -> serde_json::Value {
    let documented: OpenApiRouter<AppState> = api_router(vendor_api::router());
    let (_, api) = OpenApiRouter::with_openapi(openapi::base())
        .merge(documented)
        .split_for_parts();
    openapi::finish(api)
}

/// Every API route, as served (`Router`) or documented (`OpenApiRouter`); `vendor` is the
/// vendor API's, served behind its gate (`vendor_api::gated`).
fn api_router<R: ApiRouter>(vendor: R) -> R {
    R::empty()
        .routes(api_routes!(healthz))
        .and(owner_api::router())
        .and(oauth::router())
        .and(vendor)
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let api: Router<AppState> = api_router(vendor_api::gated(state.clone()));
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

/// Everything else while sealed: 503, before any authentication; in HTML under `/app/`.
/// (Here rather than in `sealed`, so that `sealed`, which the owner API uses, never imports
/// the web app, which uses the owner API's document transfers.)
async fn sealed_fallback(uri: axum::http::Uri) -> axum::response::Response {
    if crate::app::is_app_path(uri.path()) {
        return crate::app::sealed();
    }
    crate::sealed::sealed()
}

/// The layers every response goes through, sealed or not: the body limit, inside the frame
/// (request id, span, deadline, safe headers, metrics: `frame`).
fn with_layers(app: Router, metrics: Arc<crate::metrics::Metrics>) -> Router {
    app.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(crate::frame::FrameLayer::new(metrics))
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
