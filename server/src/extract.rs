//! Extractors that turn every malformed request into the same problem+json shape: wrapped
//! `Json`, `Path` and `Query`, plus the owner-token check and the one reading of a bearer
//! token (`bearer_token`), which the vendor API and registration use too.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;
use carnet_core::credential;
use carnet_core::store::records;

/// JSON body in, JSON body out; a rejected body becomes a problem saying which field is wrong.
/// Every body the API takes is a JSON object: anything else (an array, which serde would
/// otherwise read into a struct field by field, a string, a number, `null`) is refused with
/// 422 before it reaches a handler.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match object_body(req, state).await {
            Ok(v) => Ok(Json(v)),
            Err(BodyRejection::Json(r)) => Err(json_rejection(r)),
            Err(BodyRejection::NotAnObject(found)) => Err(not_an_object_error(found)),
        }
    }
}

/// 422 for a JSON body that is not an object.
pub(crate) fn not_an_object_error(found: &str) -> ApiError {
    ApiError::Invalid(vec![carnet_schemas::FieldError {
        field: "body".into(),
        message: format!("the body must be a JSON object ({{\"field\": …}}), not {found}"),
    }])
}

/// Why a JSON body was refused.
pub(crate) enum BodyRejection {
    /// What axum's `Json` refuses: the content type, the size, the syntax, the fields.
    Json(JsonRejection),
    /// Valid JSON, but not an object: what it is instead ("an array").
    NotAnObject(&'static str),
}

/// Reads a JSON object body into `T`, as axum's `Json` would, but refusing valid JSON that is
/// not an object: serde reads a struct from an array too (`[null, null]` fills its fields in
/// order), and every body the API documents is an object.
pub(crate) async fn object_body<T, S>(req: Request, state: &S) -> Result<T, BodyRejection>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    if !json_content_type(req.headers()) {
        return Err(BodyRejection::Json(
            axum::extract::rejection::MissingJsonContentType::default().into(),
        ));
    }
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|e| BodyRejection::Json(e.into()))?;
    let parsed = axum::Json::<T>::from_bytes(&bytes);
    // Not JSON at all is a syntax error (where it breaks), whatever it was meant to be.
    let is_json = !matches!(parsed, Err(JsonRejection::JsonSyntaxError(_)));
    if is_json && let Some(found) = not_an_object(&bytes) {
        return Err(BodyRejection::NotAnObject(found));
    }
    parsed.map(|axum::Json(v)| v).map_err(BodyRejection::Json)
}

/// What a JSON text is, if it is not an object (by its first character).
fn not_an_object(json: &[u8]) -> Option<&'static str> {
    match json.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => None,
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b'n') => Some("null"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(_) => Some("a number"),
        None => Some("nothing"),
    }
}

/// `application/json`, or any `application/…+json`, with or without parameters: what axum's
/// `Json` accepts.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(essence) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The largest JSON body the owner API takes.
pub const BODY_LIMIT: usize = 64 * 1024;

fn json_rejection(r: JsonRejection) -> ApiError {
    const PREFIX: &str = "Failed to deserialize the JSON body into the target type: ";
    match r {
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let text = text.strip_prefix(PREFIX).unwrap_or(&text);
            let text = strip_position(text);
            let (field, message) = match text.split_once(": ") {
                Some((f, m)) if !f.contains(' ') && f != "." => (f.to_owned(), explain_time(m)),
                _ => ("body".to_owned(), explain_time(text)),
            };
            ApiError::Invalid(vec![carnet_schemas::FieldError { field, message }])
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            format!(
                "the body is not valid JSON: {}",
                syntax_detail(&e.body_text())
            ),
            "check the JSON for a missing quote, comma or brace",
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::BytesRejection(e) => {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge { limit: BODY_LIMIT }
            } else {
                ApiError::bad_request(e.body_text(), "send the whole body again")
            }
        }
        other => ApiError::bad_request(other.body_text(), "see /openapi.json for the body format"),
    }
}

/// Drops serde_json's " at line 1 column 42": the field name says where.
fn strip_position(text: &str) -> &str {
    match text.rsplit_once(" at line ") {
        Some((head, tail)) if tail.split(" column ").all(|n| n.parse::<u64>().is_ok()) => head,
        _ => text,
    }
}

/// chrono's parse errors do not say what was expected; add it.
fn explain_time(message: &str) -> String {
    const CHRONO: [&str; 5] = [
        "input is out of range",
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is not enough for unique date and time",
    ];
    if CHRONO.contains(&message) {
        format!("{message}: dates are YYYY-MM-DD, times RFC 3339 (e.g. 2026-12-15T14:30:00+01:00)")
    } else {
        message.to_owned()
    }
}

fn syntax_detail(text: &str) -> &str {
    text.rsplit_once(": ").map_or(text, |(_, d)| d)
}

/// A path parameter, parsed (ids are checked for shape).
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::bad_request(
                e.body_text()
                    .rsplit_once(": ")
                    .map_or_else(|| e.body_text(), |(_, d)| d.to_owned()),
                "check the id in the URL; list the records to find it",
            )),
            Err(other) => Err(ApiError::bad_request(
                other.body_text(),
                "check the URL against /openapi.json",
            )),
        }
    }
}

/// Query parameters, parsed strictly (unknown parameters are refused, not ignored).
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::bad_request(
                e.body_text()
                    .strip_prefix("Failed to deserialize query string: ")
                    .map_or_else(|| e.body_text(), str::to_owned),
                "check the query parameters against /openapi.json",
            )),
            Err(other) => Err(ApiError::bad_request(
                other.body_text(),
                "check the query parameters against /openapi.json",
            )),
        }
    }
}

/// The value of cookie `name` in a request (the consent page's session, the web app's).
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Proof that the request carries the owner token.
#[derive(Debug, Clone, Copy)]
pub struct Owner;

/// Why a request has no bearer token.
pub(crate) enum NoBearer {
    /// No Authorization header.
    Absent,
    /// An Authorization header of another scheme, or not text.
    NotBearer,
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1): the scheme in any case, the
/// token trimmed. It may be empty: each caller says what that means.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, NoBearer> {
    let value = headers.get(header::AUTHORIZATION).ok_or(NoBearer::Absent)?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(NoBearer::NotBearer)
}

/// The bearer token of a request (the owner token, for the owner API and identity unlock).
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    match bearer_token(headers) {
        Ok(token) if !token.is_empty() => Ok(token),
        Err(NoBearer::Absent) => Err(ApiError::Unauthorized {
            detail: "this endpoint needs the owner token and none was sent".into(),
        }),
        Ok(_) | Err(NoBearer::NotBearer) => Err(ApiError::Unauthorized {
            detail: "the Authorization header is not `Bearer <token>`".into(),
        }),
    }
}

impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?;
        let stored = state.store.read(records::owner_token_hashes)?;
        if credential::matches_any(token, &stored) {
            Ok(Owner)
        } else {
            Err(ApiError::Unauthorized {
                detail: "the owner token is not this vault's".into(),
            })
        }
    }
}
