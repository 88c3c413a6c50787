//! The vendor API under `/v1/vendor/…`, for bearer tokens from `/oauth/token`. A vendor only
//! ever sees its own relationship and what the owner explicitly shared with it, under the
//! consumer's pairwise pseudonym. Every route is behind `gate`, which authenticates, checks
//! the endpoint's scope and writes each request, with the status it got, to the access log.

mod documents;
mod gate;
mod intents;
mod profile;
mod promises;
mod receipts;
mod relationship;
mod shared;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;
use carnet_core::access::Access;

pub use gate::Returned;

/// The vendor whose live access token `gate` checked (no database read), with that token's
/// scopes and categories.
#[derive(Clone)]
pub struct Vendor(pub Arc<Access>);

impl<S: Send + Sync> FromRequestParts<S> for Vendor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Vendor>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("a vendor route is served without its gate".into()))
    }
}

/// The vendor routes, as documented (`gated` is what serves them).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(relationship::relationship))
        .routes(routes!(promises::promises))
        .routes(routes!(shared::interactions))
        .routes(routes!(shared::interaction))
        .routes(routes!(documents::document))
        .routes(routes!(profile::profile))
        .routes(routes!(receipts::receipts))
        .routes(routes!(intents::list))
        .routes(routes!(intents::show))
        .routes(routes!(intents::offer))
        .routes(routes!(intents::offers))
}

/// The vendor routes behind their gate.
pub fn gated(state: AppState) -> OpenApiRouter<AppState> {
    router().route_layer(axum::middleware::from_fn_with_state(state, gate::gate))
}
