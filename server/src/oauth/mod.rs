//! The OAuth 2.0 authorization server over HTTP: authorization with the consent pages
//! (`authorize`, `decision`, `page`), the token, revocation and introspection endpoints for
//! authenticated clients (`client_auth`), dynamic registration, and discovery (`metadata`).
//! The rules are `carnet_core::oauth`; here requests are read and answers written, errors as
//! RFC 6749 bodies (`error.rs`). The vendor API it protects is `vendor_api/`.

mod authorize;
mod client_auth;
mod decision;
mod error;
mod introspect;
mod lookalike;
mod metadata;
mod page;
mod redirect;
mod register;
mod revoke;
mod token;

pub(crate) use carnet_core::access::receipts::published_keys;
pub(crate) use metadata::metadata_of;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(authorize::start, authorize::answer))
        .routes(routes!(authorize::resume))
        .routes(routes!(token::token))
        .routes(routes!(register::register))
        .routes(routes!(revoke::revoke))
        .routes(routes!(introspect::introspect))
        .routes(routes!(metadata::metadata))
        .routes(routes!(metadata::receipt_keys))
        .routes(routes!(page::stylesheet))
}
