//! The vendor API under `/v1/vendor/…`, for bearer tokens from `/oauth/token`. A vendor only
//! ever sees its own relationship and what the owner explicitly shared with it, under the
//! consumer's pairwise pseudonym; every request is written to the access log.

mod intents;
mod profile;
mod receipts;
mod relationship;
mod shared;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use carnet_schemas::Scope;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::extract::bearer_token;
use crate::state::AppState;
use carnet_core::access::Access;
use carnet_core::access::log::AccessEvent;
use carnet_core::credential;

/// An active vendor access token, checked against the in-memory view (no database read).
pub struct Vendor(pub Arc<Access>);

impl FromRequestParts<AppState> for Vendor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let in_query = parts.uri.query().is_some_and(|q| {
            url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
        });
        if in_query {
            return Err(ApiError::TokenInQuery);
        }
        let missing = || ApiError::BearerUnauthorized {
            invalid_token: false,
            detail: "this endpoint needs a vendor access token and none was sent".into(),
        };
        let token = bearer_token(&parts.headers)
            .ok()
            .filter(|t| !t.is_empty())
            .ok_or_else(missing)?;
        s.access
            .check(&credential::hash(token), s.now())
            .map(Vendor)
            .ok_or_else(|| ApiError::BearerUnauthorized {
                invalid_token: true,
                detail: "the access token is unknown, expired or revoked".into(),
            })
    }
}

impl Vendor {
    /// 403 `insufficient_scope` unless the token has `scope`; a refusal is logged too.
    pub fn require(
        &self,
        s: &AppState,
        endpoint: &'static str,
        scope: Scope,
    ) -> Result<(), ApiError> {
        if self.0.scopes.contains(scope) {
            Ok(())
        } else {
            self.log(s, endpoint, Some(scope), Vec::new(), 403);
            Err(ApiError::InsufficientScope { scope })
        }
    }

    /// Writes this request, and the status it got, to the access log.
    pub fn log(
        &self,
        s: &AppState,
        endpoint: &'static str,
        scope: Option<Scope>,
        ids: impl Into<Arc<Vec<String>>>,
        status: u16,
    ) {
        self.log_intents(s, endpoint, scope, ids, None, status);
    }

    /// Logs a read of intents, with the fields they withheld.
    pub fn log_intents(
        &self,
        s: &AppState,
        endpoint: &'static str,
        scope: Option<Scope>,
        ids: impl Into<Arc<Vec<String>>>,
        withheld: Option<Arc<carnet_core::intents::Withheld>>,
        status: u16,
    ) {
        s.log_access(AccessEvent {
            vendor_id: self.0.vendor_id.clone(),
            client_id: self.0.client_id.clone(),
            grant_id: Some(self.0.grant_id.clone()),
            endpoint,
            scopes: scope.into_iter().collect(),
            ids: ids.into(),
            status,
            withheld,
        });
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(relationship::relationship))
        .routes(routes!(shared::interactions))
        .routes(routes!(shared::interaction))
        .routes(routes!(profile::profile))
        .routes(routes!(receipts::receipts))
        .routes(routes!(intents::list))
        .routes(routes!(intents::show))
        .routes(routes!(intents::offer))
}
