//! The one gate of the vendor API, a layer on every vendor route: it authenticates the bearer
//! token, checks the scope the endpoint needs, runs the handler, and writes one access-log
//! entry with the status actually answered — the handler's, or an extractor's refusal (a bad
//! cursor or query, a bad body, a bad id), or its own (403, a token in the query). Handlers
//! say what they returned (ids, withheld fields) in a response extension, `Returned`; an
//! answer without one is logged with the id its path names. Logging only pushes the entry
//! into the access log's buffer (`carnet_core::access::log`).
//!
//! A request without a valid token (none, or one unknown, expired or revoked) names no
//! client, so it has no place in the access log, which is filed by vendor and client: anyone
//! can send one. It is answered 401, counted in `/metrics` and traced like every request. So
//! is a request for a route or method the vendor API does not serve (404, 405): it reaches
//! no vendor endpoint, and the router answers it before any gate.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use carnet_core::access::Access;
use carnet_core::access::log::{AccessEvent, Withheld};
use carnet_core::credential;
use carnet_schemas::Scope;

use super::Vendor;
use crate::error::ApiError;
use crate::extract::bearer_token;
use crate::state::AppState;

/// A vendor endpoint: `METHOD /route` as the access log names it, and the scope it needs
/// (`None`: any valid token). A test keeps this table and the `security` of each endpoint's
/// OpenAPI annotation the same.
pub(super) struct Endpoint {
    pub name: &'static str,
    pub scope: Option<Scope>,
}

pub(super) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        name: "GET /v1/vendor/intents",
        scope: Some(Scope::IntentsRead),
    },
    Endpoint {
        name: "GET /v1/vendor/intents/{id}",
        scope: Some(Scope::IntentsRead),
    },
    Endpoint {
        name: "POST /v1/vendor/intents/{id}/offers",
        scope: Some(Scope::OffersWrite),
    },
    Endpoint {
        name: "GET /v1/vendor/offers",
        scope: Some(Scope::OffersWrite),
    },
    Endpoint {
        name: "GET /v1/vendor/relationship",
        scope: Some(Scope::RelationshipRead),
    },
    Endpoint {
        name: "GET /v1/vendor/promises",
        scope: Some(Scope::PromisesRead),
    },
    Endpoint {
        name: "GET /v1/vendor/interactions",
        scope: Some(Scope::InteractionsRead),
    },
    Endpoint {
        name: "GET /v1/vendor/interactions/{id}",
        scope: Some(Scope::InteractionsRead),
    },
    Endpoint {
        name: "GET /v1/vendor/documents/{id}",
        scope: Some(Scope::InteractionsRead),
    },
    Endpoint {
        name: "GET /v1/vendor/profile",
        scope: Some(Scope::ProfileRead),
    },
    Endpoint {
        name: "GET /v1/vendor/receipts",
        scope: None,
    },
];

/// The endpoint `method` reaches on `route`; HEAD runs the GET handler, so it is GET's.
fn endpoint(method: &Method, route: &str) -> Option<&'static Endpoint> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ENDPOINTS
        .iter()
        .find(|e| e.name.split_once(' ') == Some((method, route)))
}

/// What a handler's answer returned, for its access-log entry: the ids of the records sent
/// and, for intents, the fields their terms withheld.
#[derive(Clone, Default)]
pub struct Returned {
    ids: Arc<Vec<String>>,
    withheld: Option<Arc<Withheld>>,
}

impl Returned {
    pub fn ids(ids: impl Into<Arc<Vec<String>>>) -> Self {
        Returned {
            ids: ids.into(),
            withheld: None,
        }
    }

    pub fn intents(ids: impl Into<Arc<Vec<String>>>, withheld: Option<Arc<Withheld>>) -> Self {
        Returned {
            ids: ids.into(),
            withheld,
        }
    }
}

impl IntoResponseParts for Returned {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Infallible> {
        res.extensions_mut().insert(self);
        Ok(res)
    }
}

/// The token of the request, if it is a live vendor access token (no database read).
fn authenticate(s: &AppState, headers: &HeaderMap) -> Result<Arc<Access>, ApiError> {
    let token = bearer_token(headers)
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::BearerUnauthorized {
            invalid_token: false,
            detail: "this endpoint needs a vendor access token and none was sent".into(),
        })?;
    s.access
        .check(&credential::hash(token), s.now())
        .ok_or_else(|| ApiError::BearerUnauthorized {
            invalid_token: true,
            detail: "the access token is unknown, expired or revoked".into(),
        })
}

/// Whether a query string carries `access_token` (RFC 6750 §2.3, refused here).
fn token_in_query(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
    })
}

/// The ids a request's path names, as sent, for the entry of an answer that did not say
/// what it returned (a refusal, a 404). Only what has the shape of an id is kept: the log
/// is the owner's, not a place for a caller's arbitrary text.
fn named_ids(params: &RawPathParams) -> Vec<String> {
    params
        .iter()
        .map(|(_, v)| v)
        .filter(|v| looks_like_an_id(v))
        .map(str::to_owned)
        .collect()
}

fn looks_like_an_id(v: &str) -> bool {
    (1..=40).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// One vendor request's entry, once its status is known.
struct Entry<'a> {
    s: &'a AppState,
    access: &'a Access,
    endpoint: Cow<'static, str>,
    scope: Option<Scope>,
}

impl Entry<'_> {
    fn log(self, status: u16, returned: Returned) {
        self.s.log_access(AccessEvent {
            vendor_id: self.access.vendor_id.clone(),
            client_id: self.access.client_id.clone(),
            grant_id: Some(self.access.grant_id.clone()),
            endpoint: self.endpoint,
            scopes: self.scope.into_iter().collect(),
            ids: returned.ids,
            status,
            withheld: returned.withheld,
        });
    }

    /// Answers `e`, and logs it.
    fn refuse(self, e: ApiError) -> Response {
        let res = e.into_response();
        self.log(res.status().as_u16(), Returned::default());
        res
    }
}

/// The layer itself (`axum::middleware::from_fn_with_state`).
pub(super) async fn gate(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let in_query = token_in_query(req.uri().query());
    let access = match authenticate(&s, req.headers()) {
        Ok(access) => access,
        Err(_) if in_query => return ApiError::TokenInQuery.into_response(),
        Err(unknown) => return unknown.into_response(),
    };
    let (mut parts, body) = req.into_parts();
    let route = parts.extensions.get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("", MatchedPath::as_str);
    let found = endpoint(&parts.method, route);
    let entry = Entry {
        s: &s,
        access: &access,
        endpoint: match found {
            Some(e) if e.name.split_once(' ').map(|(m, _)| m) == Some(parts.method.as_str()) => {
                Cow::Borrowed(e.name)
            }
            _ => Cow::Owned(format!("{} {route}", parts.method)),
        },
        scope: found.and_then(|e| e.scope),
    };
    if in_query {
        return entry.refuse(ApiError::TokenInQuery);
    }
    if let Some(scope) = entry.scope
        && !access.scopes.contains(scope)
    {
        return entry.refuse(ApiError::InsufficientScope { scope });
    }
    let named = if route.contains('{') {
        RawPathParams::from_request_parts(&mut parts, &s)
            .await
            .map(|p| named_ids(&p))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    parts.extensions.insert(Vendor(access.clone()));
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let returned = res
        .extensions_mut()
        .remove::<Returned>()
        .unwrap_or_else(|| Returned::ids(named));
    entry.log(res.status().as_u16(), returned);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vendor endpoint the router serves is in the table, with the scope its OpenAPI
    /// annotation declares: the gate checks the table's, the documentation says the other.
    #[test]
    fn the_table_matches_the_openapi_document() {
        let (_, api) = super::super::router::<utoipa_axum::router::OpenApiRouter<AppState>>()
            .split_for_parts();
        let doc = serde_json::to_value(&api).unwrap();
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let scopes: Vec<&str> = op["security"][0]["vendor"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path} has no vendor security"))
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                documented.push((format!("{} {path}", method.to_uppercase()), scopes));
            }
        }
        documented.sort();
        let mut table: Vec<(String, Vec<&str>)> = ENDPOINTS
            .iter()
            .map(|e| {
                (
                    e.name.to_owned(),
                    e.scope.iter().map(|s| s.as_str()).collect(),
                )
            })
            .collect();
        table.sort();
        assert_eq!(documented, table);
    }

    #[test]
    fn every_endpoint_has_a_compact_access_log_code() {
        // Its entries are then written as a one-byte code (a name missing would be written
        // out in full: larger, still correct).
        for e in ENDPOINTS {
            assert!(
                carnet_core::access::record::ENDPOINTS.contains(&e.name),
                "{} has no code in carnet_core::access::record::ENDPOINTS",
                e.name
            );
        }
    }

    #[test]
    fn head_needs_what_get_needs_and_unknown_methods_need_nothing_listed() {
        let get = endpoint(&Method::GET, "/v1/vendor/profile").unwrap();
        let head = endpoint(&Method::HEAD, "/v1/vendor/profile").unwrap();
        assert_eq!(get.name, head.name);
        assert_eq!(head.scope, Some(Scope::ProfileRead));
        assert!(endpoint(&Method::DELETE, "/v1/vendor/profile").is_none());
        assert!(endpoint(&Method::GET, "/v1/vendor/intents/{id}/offers").is_none());
    }

    #[test]
    fn only_what_looks_like_an_id_is_logged_from_a_path() {
        assert!(looks_like_an_id("itt_0123456789abcdef"));
        assert!(
            looks_like_an_id("itt_nope"),
            "a wrong id is still worth logging"
        );
        assert!(!looks_like_an_id("../../etc/passwd"));
        assert!(!looks_like_an_id("<script>"));
        assert!(!looks_like_an_id(&"a".repeat(41)));
        assert!(!looks_like_an_id(""));
    }
}
