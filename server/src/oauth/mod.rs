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

use crate::api_routes::{ApiRouter, api_routes};

pub fn router<R: ApiRouter>() -> R {
    R::empty()
        .routes(api_routes!(authorize::start, authorize::answer))
        .routes(api_routes!(authorize::resume))
        .routes(api_routes!(token::token))
        .routes(api_routes!(register::register))
        .routes(api_routes!(revoke::revoke))
        .routes(api_routes!(introspect::introspect))
        .routes(api_routes!(metadata::metadata))
        .routes(api_routes!(metadata::receipt_keys))
        .routes(api_routes!(page::stylesheet))
}
