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

use crate::api_routes::{ApiRouter, api_routes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

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
pub fn router<R: ApiRouter>() -> R {
    R::empty()
        .routes(api_routes!(relationship::relationship))
        .routes(api_routes!(promises::promises))
        .routes(api_routes!(shared::interactions))
        .routes(api_routes!(shared::interaction))
        .routes(api_routes!(documents::document))
        .routes(api_routes!(profile::profile))
        .routes(api_routes!(receipts::receipts))
        .routes(api_routes!(intents::list))
        .routes(api_routes!(intents::show))
        .routes(api_routes!(intents::offer))
        .routes(api_routes!(intents::offers))
}

/// The vendor routes behind their gate, as served.
pub fn gated(state: AppState) -> axum::Router<AppState> {
    router::<axum::Router<AppState>>()
        .route_layer(axum::middleware::from_fn_with_state(state, gate::gate))
}
