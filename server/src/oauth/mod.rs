//! The OAuth 2.0 authorization server: token, revocation, introspection and discovery. Its
//! errors are RFC 6749 bodies (`error.rs`); the vendor API it protects is `vendor_api/`.

mod client_auth;
mod error;
mod introspect;
mod metadata;
mod revoke;
pub mod token;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token::token))
        .routes(routes!(revoke::revoke))
        .routes(routes!(introspect::introspect))
        .routes(routes!(metadata::metadata))
        .routes(routes!(metadata::receipt_keys))
}
