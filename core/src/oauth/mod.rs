//! The OAuth 2.0 authorization server's rules, apart from HTTP: client authentication,
//! authorization codes and PKCE, issuing tokens (`client_credentials`, `authorization_code`,
//! `refresh_token`), revocation, introspection and dynamic registration. Each service returns
//! its own error; the adapter words it as an RFC 6749 answer. Never parses a request nor
//! knows a status code.

pub mod clients;
pub mod codes;
pub mod exchange;
pub mod introspection;
pub mod registration;
pub mod revocation;
pub mod tokens;
