//! One error type for the owner and vendor APIs, mapped once to RFC 9457 problem+json, with
//! one `From` per core service error (each maps its cases to a status, a detail and a hint
//! here, and nowhere else). Client mistakes get a 4xx that says what to fix; 5xx bodies say
//! nothing internal (the log keeps the detail). The OAuth endpoints answer RFC 6749 bodies
//! instead (`oauth/error.rs`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_schemas::{FieldError, PROBLEM_JSON, Problem};

use carnet_core::store::StoreError;
use carnet_core::vault::Unreadable;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be understood (syntax, path or query values, bad JSON).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        hint: Option<String>,
    },
    /// The body was understood but some fields are not acceptable.
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("missing or invalid owner token")]
    Unauthorized { detail: String },
    /// Vendor API: no bearer token, or one that is not active (RFC 6750 `invalid_token`).
    #[error("{detail}")]
    BearerUnauthorized { invalid_token: bool, detail: String },
    /// Vendor API: a valid token without the scope this endpoint needs.
    #[error("insufficient scope")]
    InsufficientScope { scope: carnet_schemas::Scope },
    /// Vendor API: a token sent in the query string, where it would be logged and cached.
    #[error("token in the query string")]
    TokenInQuery,
    #[error("no {noun} {id}")]
    NotFound {
        noun: &'static str,
        id: String,
        hint: Option<String>,
    },
    #[error("no route {path}")]
    NoRoute { path: String },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{detail}")]
    Conflict { detail: String, hint: String },
    #[error("body too large")]
    TooLarge { limit: usize },
    /// A streamed body over its own limit (an import archive), said in that body's terms.
    #[error("{detail}")]
    StreamTooLarge { detail: String, hint: String },
    /// The body was understood but its content cannot be used (an import archive that is
    /// valid JSON but not a valid archive).
    #[error("{detail}")]
    Unprocessable { detail: String, hint: String },
    /// The vault is sealed: only unlocking and public descriptions answer.
    #[error("vault sealed")]
    Sealed,
    /// The ledger index is still being built after unlock: try again shortly.
    #[error("ledger index building")]
    Warming,
    /// A rate limit: try again after this many seconds.
    #[error("too many requests")]
    TooMany {
        what: &'static str,
        retry_after: u64,
    },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A sealed record failed to open: tampering, a moved blob, or the wrong key.
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<carnet_core::grants::GrantError> for ApiError {
    fn from(e: carnet_core::grants::GrantError) -> Self {
        use carnet_core::grants::GrantError;
        match e {
            GrantError::Invalid { field, message } => ApiError::invalid(field, message),
            GrantError::NotFound(id) => ApiError::not_found("grant", id.as_str()),
            e @ GrantError::NotLive { .. } => ApiError::conflict(
                e.to_string(),
                "give the vendor a new grant instead (`carnet grant create`)",
            ),
            GrantError::Unreadable(u) => ApiError::Unreadable(u),
            GrantError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<carnet_core::ledger::LedgerError> for ApiError {
    fn from(e: carnet_core::ledger::LedgerError) -> Self {
        use carnet_core::ledger::LedgerError;
        match e {
            LedgerError::NotFound { noun, id } => ApiError::not_found(noun, id),
            LedgerError::Invalid { field, message } => ApiError::invalid(field, message),
            LedgerError::Conflict { detail, hint } => ApiError::conflict(detail, hint),
            LedgerError::Total(detail) => ApiError::Internal(detail),
            LedgerError::Warming => ApiError::Warming,
            LedgerError::Unreadable(u) => ApiError::Unreadable(u),
            LedgerError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<carnet_core::documents::DocumentError> for ApiError {
    fn from(e: carnet_core::documents::DocumentError) -> Self {
        use carnet_core::documents::DocumentError;
        let nothing = "nothing of this upload was kept";
        match e {
            DocumentError::NotFound { id } => ApiError::not_found("document", id),
            DocumentError::NoRecord { noun, id } => ApiError::not_found(noun, id),
            DocumentError::Attachment(detail) => ApiError::Unprocessable {
                detail,
                hint:
                    "pass exactly one of ?vendor=ID, ?purchase=ID, ?incident=ID or ?interaction=ID"
                        .into(),
            },
            e @ DocumentError::TooLarge { .. } => ApiError::StreamTooLarge {
                detail: e.to_string(),
                hint: format!(
                    "{nothing}; the owner of this server sets the limit (`document_max_mib`)"
                ),
            },
            e @ DocumentError::OverQuota { .. } => ApiError::StreamTooLarge {
                detail: e.to_string(),
                hint: format!(
                    "{nothing}; delete documents you no longer need (`carnet doc rm ID`), or raise `document_quota_mib`"
                ),
            },
            DocumentError::Cut(why) => ApiError::bad_request(
                format!("the upload stopped before its end: {why}"),
                format!("{nothing}; send the whole file again"),
            ),
            DocumentError::BadChunk(b) => ApiError::Internal(b.to_string()),
            DocumentError::Unreadable(u) => ApiError::Unreadable(u),
            DocumentError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<carnet_core::ledger::listing::SearchError> for ApiError {
    fn from(e: carnet_core::ledger::listing::SearchError) -> Self {
        use carnet_core::ledger::listing::SearchError;
        match e {
            SearchError::NoWords => ApiError::bad_request(
                "the search has no words (`q` is missing, empty or only punctuation)",
                "pass the words to find in `q`, e.g. `/v1/search?q=technicien`",
            ),
            SearchError::TooManyWords => ApiError::bad_request(
                e.to_string(),
                "search with fewer words: every word must match, so a few rare ones find best",
            ),
            SearchError::Ledger(l) => l.into(),
        }
    }
}

impl From<carnet_core::consent::ConsentError> for ApiError {
    fn from(e: carnet_core::consent::ConsentError) -> Self {
        use carnet_core::consent::ConsentError;
        match e {
            ConsentError::Denied => ApiError::conflict(
                "this consent request was denied",
                "the vendor has to start again from its site",
            ),
            ConsentError::Gone(short_code) => ApiError::NotFound {
                noun: "consent request",
                id: short_code,
                hint: Some("it may have expired (10 minutes) or been answered".into()),
            },
            ConsentError::Grant(g) => g.into(),
        }
    }
}

impl From<carnet_core::clients::ClientError> for ApiError {
    fn from(e: carnet_core::clients::ClientError) -> Self {
        use carnet_core::clients::ClientError;
        match e {
            ClientError::Invalid { field, message } => ApiError::invalid(field, message),
            ClientError::NoVendor(v) => ApiError::not_found("vendor", v.as_str()),
            ClientError::NotConnected(vendor) => ApiError::NotFound {
                noun: "client",
                id: format!("for vendor {vendor}"),
                hint: Some(
                    "the vendor is not connected: connect it first (`carnet vendor connect`)"
                        .into(),
                ),
            },
            ClientError::AlreadyConnected { vendor, client } => ApiError::conflict(
                format!("vendor {vendor} is already connected as client {client}"),
                "rotate its secret with `carnet vendor rotate-secret`, or disconnect it first",
            ),
            ClientError::NoWebhookUrl(v) => ApiError::conflict(
                format!("vendor {v} has no webhook URL, so no webhook secret"),
                "give the vendor a webhook URL first (`carnet vendor edit-client VENDOR --webhook-url URL`)",
            ),
            ClientError::Unreadable(u) => ApiError::Unreadable(u),
            ClientError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<carnet_core::audit::AuditError> for ApiError {
    fn from(e: carnet_core::audit::AuditError) -> Self {
        use carnet_core::audit::AuditError;
        match e {
            AuditError::Limit(limit) => ApiError::limit_out_of_range(limit),
            AuditError::Cursor => ApiError::bad_request(
                "the cursor is not one this server issued for this listing",
                "pass `next_cursor` from the previous page unchanged",
            ),
            AuditError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<carnet_core::intents::IntentError> for ApiError {
    fn from(e: carnet_core::intents::IntentError) -> Self {
        use carnet_core::intents::IntentError;
        use carnet_schemas::IntentState;
        const NEW_INTENT: &str =
            "write a new intent (`carnet intent new`) for a new buying situation";
        match e {
            IntentError::Invalid { field, message } => ApiError::invalid(field, message),
            IntentError::NotFound(id) => ApiError::not_found("intent", id.as_str()),
            IntentError::Final { id, state } => ApiError::conflict(
                format!("intent {id} is {state}, which is final"),
                NEW_INTENT,
            ),
            IntentError::CannotBecome { id, from, to } => ApiError::conflict(
                format!("intent {id} is {from} and cannot become {to}"),
                match from {
                    IntentState::Draft => "activate it first (`carnet intent activate`)",
                    IntentState::Active => "it can be withdrawn or fulfilled",
                    IntentState::Fulfilled | IntentState::Withdrawn | IntentState::Expired => {
                        NEW_INTENT
                    }
                },
            ),
            IntentError::WindowOver => ApiError::conflict(
                "its buying window is already over",
                "edit it with a later end (`carnet intent edit ID --until DATE`), then activate it",
            ),
            IntentError::Encode(e) => ApiError::Internal(e.to_string()),
            IntentError::Unreadable(u) => ApiError::Unreadable(u),
            IntentError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<carnet_core::intents::OfferError> for ApiError {
    fn from(e: carnet_core::intents::OfferError) -> Self {
        use carnet_core::intents::OfferError;
        match e {
            OfferError::NotFound(id) => ApiError::not_found("offer", id.as_str()),
            OfferError::IntentNotFound(id) | OfferError::IntentEnded(id) => {
                ApiError::not_found("intent", id.as_str())
            }
            OfferError::NotPending { id, state } => ApiError::conflict(
                format!("offer {id} is {state}, not pending"),
                "only pending offers on an active intent can be accepted or declined",
            ),
            OfferError::MarketNotFound(id) => ApiError::not_found("market offer", id.as_str()),
            OfferError::MarketNotPending { id, state } => ApiError::conflict(
                format!("market offer {id} is {state}, not pending"),
                "only pending offers on an active intent can be accepted or declined",
            ),
            OfferError::Ledger(e) => e.into(),
            OfferError::Invalid { field, message } => ApiError::invalid(field, message),
            OfferError::TooMany { retry_after } => ApiError::TooMany {
                what: "offers",
                retry_after,
            },
            OfferError::Full { intent, max } => ApiError::conflict(
                format!("intent {intent} has received the {max} offers it takes"),
                "no more offers can be made on it",
            ),
            OfferError::Unreadable(u) => ApiError::Unreadable(u),
            OfferError::Store(s) => ApiError::Store(s),
        }
    }
}

impl From<carnet_core::webhooks::ListError> for ApiError {
    fn from(e: carnet_core::webhooks::ListError) -> Self {
        use carnet_core::webhooks::ListError;
        match e {
            ListError::Limit(limit) => ApiError::limit_out_of_range(limit),
            ListError::Unreadable(u) => ApiError::Unreadable(u),
            ListError::Store(s) => ApiError::Store(s),
        }
    }
}

impl ApiError {
    /// A page size outside 1..=`MAX_PAGE`.
    pub fn limit_out_of_range(limit: u32) -> Self {
        ApiError::bad_request(
            format!("limit {limit} is out of range"),
            format!("use a limit from 1 to {}", carnet_schemas::MAX_PAGE),
        )
    }

    pub fn bad_request(detail: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError::BadRequest {
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn conflict(detail: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError::Conflict {
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    pub fn not_found(noun: &'static str, id: impl Into<String>) -> Self {
        ApiError::NotFound {
            noun,
            id: id.into(),
            hint: None,
        }
    }

    /// Logs a server error's cause (once, where the answer is made); client errors, a sealed
    /// vault and an index being built are not errors of the server.
    pub(crate) fn log(&self) {
        if self.status().is_server_error() && !matches!(self, ApiError::Sealed | ApiError::Warming)
        {
            match self {
                ApiError::Unreadable(u) => {
                    tracing::error!(table = u.table, id = %u.id, "sealed record failed to open: carnet.db altered or damaged")
                }
                other => tracing::error!(error = %other, "request failed"),
            }
        }
    }

    /// The status and the problem as a person should read them (the web app's pages say the
    /// same as the API's problem+json).
    pub(crate) fn for_people(&self) -> (StatusCode, Problem) {
        (self.status(), self.problem())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } | ApiError::BearerUnauthorized { .. } => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            ApiError::TokenInQuery => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } | ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } | ApiError::StreamTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Sealed | ApiError::Warming => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unreadable(_) | ApiError::Store(_) | ApiError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let (title, detail, hint, errors): (&str, String, Option<String>, Vec<FieldError>) =
            match self {
                ApiError::BadRequest { detail, hint } => {
                    ("bad request", detail.clone(), hint.clone(), vec![])
                }
                ApiError::Invalid(errors) => (
                    "invalid request",
                    match errors.as_slice() {
                        [one] => format!("{}: {}", one.field, one.message),
                        many => format!("{} fields are invalid", many.len()),
                    },
                    Some("correct the fields listed in `errors` and send it again".into()),
                    errors.clone(),
                ),
                ApiError::Unauthorized { detail } => (
                    "unauthorized",
                    detail.clone(),
                    Some("send the owner token as `Authorization: Bearer <token>`; the CLI reads it from owner.token in the data dir, CARNET_TOKEN, or `carnet login`".into()),
                    vec![],
                ),
                ApiError::BearerUnauthorized { detail, .. } => (
                    "unauthorized",
                    detail.clone(),
                    Some("get an access token from /oauth/token and send it as `Authorization: Bearer <token>`".into()),
                    vec![],
                ),
                ApiError::InsufficientScope { scope } => (
                    "insufficient scope",
                    format!("this endpoint needs the scope {scope}, which this token does not have"),
                    Some(format!("ask the owner for a grant with {scope}, then get a new token with that scope")),
                    vec![],
                ),
                ApiError::TokenInQuery => (
                    "bad request",
                    "access tokens are not accepted in the query string".into(),
                    Some("send the token as `Authorization: Bearer <token>`".into()),
                    vec![],
                ),
                ApiError::NotFound { noun, id, hint } => (
                    "not found",
                    format!("there is no {noun} {id}"),
                    Some(hint.clone().unwrap_or_else(|| {
                        format!("check the {noun} id; listing them shows the ids there are")
                    })),
                    vec![],
                ),
                ApiError::NoRoute { path } => (
                    "not found",
                    format!("no endpoint at {path}"),
                    Some("see /openapi.json for the endpoints this server has".into()),
                    vec![],
                ),
                ApiError::MethodNotAllowed => (
                    "method not allowed",
                    "this endpoint does not accept that method".into(),
                    Some("see /openapi.json for the methods each endpoint accepts".into()),
                    vec![],
                ),
                ApiError::Conflict { detail, hint } => {
                    ("conflict", detail.clone(), Some(hint.clone()), vec![])
                }
                ApiError::TooLarge { limit } => (
                    "request body too large",
                    format!("the body is larger than the {limit} bytes this endpoint accepts"),
                    Some("split the data or shorten the text fields".into()),
                    vec![],
                ),
                ApiError::StreamTooLarge { detail, hint } => (
                    "request body too large",
                    detail.clone(),
                    Some(hint.clone()),
                    vec![],
                ),
                ApiError::Unprocessable { detail, hint } => (
                    "unprocessable content",
                    detail.clone(),
                    Some(hint.clone()),
                    vec![],
                ),
                ApiError::Sealed => (
                    "vault sealed",
                    "the vault is sealed: its key is not in memory, so nothing in it can be read or written".into(),
                    Some("unlock it with `carnet unlock` (the passphrase; --recovery-key-file for the recovery key; --identity for a vault without a passphrase)".into()),
                    vec![],
                ),
                ApiError::Warming => (
                    "ledger index building",
                    "the vault was unlocked moments ago and its ledger index (listings, follow-ups, search) is still being built in memory".into(),
                    Some(format!("try again in {WARMING_RETRY_AFTER} s (see Retry-After); carnetd's log says when the index is built")),
                    vec![],
                ),
                ApiError::TooMany { what, retry_after } => (
                    "too many requests",
                    format!("too many {what} in a short time"),
                    Some(format!("wait {retry_after} s before the next one (see Retry-After)")),
                    vec![],
                ),
                ApiError::UnsupportedMediaType => (
                    "unsupported media type",
                    "the body must be JSON".into(),
                    Some("send it with `Content-Type: application/json`".into()),
                    vec![],
                ),
                ApiError::Unreadable(u) => (
                    "vault record unreadable",
                    format!("record {} (table {}) does not open with this vault's key: the database was altered or damaged outside carnetd", u.id, u.table),
                    Some("restore carnet.db from a backup, or remove the record; the server log names the file".into()),
                    vec![],
                ),
                ApiError::Store(_) | ApiError::Internal(_) => (
                    "internal error",
                    "the server could not complete the request".into(),
                    Some("try again; if it persists, the server log says why".into()),
                    vec![],
                ),
            };
        Problem {
            kind: "about:blank".into(),
            title: title.into(),
            status: status.as_u16(),
            detail,
            hint,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        self.log();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (status, body).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        let challenge = match &self {
            ApiError::Unauthorized { .. }
            | ApiError::BearerUnauthorized {
                invalid_token: false,
                ..
            } => Some(r#"Bearer realm="carnet""#.to_owned()),
            ApiError::BearerUnauthorized {
                invalid_token: true,
                ..
            } => Some(r#"Bearer realm="carnet", error="invalid_token", error_description="the access token is unknown, expired or revoked""#.to_owned()),
            ApiError::InsufficientScope { scope } => Some(format!(
                r#"Bearer realm="carnet", error="insufficient_scope", scope="{scope}""#
            )),
            ApiError::TokenInQuery => Some(
                r#"Bearer realm="carnet", error="invalid_request", error_description="send the token in the Authorization header""#.to_owned(),
            ),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let ApiError::TooMany { retry_after, .. } = &self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if let ApiError::Warming = &self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(WARMING_RETRY_AFTER));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Seconds a listing asked during the index's build is told to wait (`Retry-After`).
const WARMING_RETRY_AFTER: u64 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing or a search asked while the ledger index is still being built after unlock
    /// is told to come back (503, `Retry-After`), as problem+json, not a 500.
    #[test]
    fn a_read_during_the_index_build_is_a_503_with_retry_after() {
        let res = ApiError::from(carnet_core::ledger::LedgerError::Warming).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let h = res.headers();
        assert_eq!(h[header::RETRY_AFTER], WARMING_RETRY_AFTER.to_string());
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    }
}
