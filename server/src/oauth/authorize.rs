//! `GET|POST /oauth/authorize`: the authorization-code flow with PKCE (S256 only). Until the
//! client and its redirect URI check out, problems are shown on an error page and never
//! redirected; after that, they go back to the registered redirect URI with `state` and `iss`
//! (RFC 9207). The owner answers on the consent page (signed in with the web password) or from
//! the terminal; approving creates a grant (with its receipt) and a single-use code.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use carnet_core::consent::ConsentError;
use carnet_core::grants::GrantError;
use carnet_schemas::{Category, ClientId, ScopeSet, VendorFields};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa::IntoParams;

use super::decision;
use super::lookalike;
use super::page::{self, Choices};
use super::redirect;
use crate::client_ip::ClientIp;
use crate::state::AppState;
use carnet_core::access::ClientRecord;
use carnet_core::access::password::{self, SignIn};
use carnet_core::consent::{
    Decision, MAX_PARAM_BYTES, MAX_STATE_BYTES, NewPending, Pending, random_token,
};
use carnet_core::credential;
use carnet_core::oauth::codes;
use carnet_core::store::access as rows;
use carnet_core::store::records;

const SESSION_COOKIE: &str = "carnet_consent";

/// Authorization request parameters (RFC 6749 §4.1.1, RFC 7636).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// `code`.
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    /// Exactly as registered (a loopback URI may differ in port only).
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    pub state: Option<String>,
    /// base64url(SHA-256(code_verifier)).
    pub code_challenge: Option<String>,
    /// `S256` (required).
    pub code_challenge_method: Option<String>,
    /// Space-separated categories the vendor asks for; the owner chooses.
    pub categories: Option<String>,
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

fn origin_of(uri: &str) -> String {
    url::Url::parse(uri).map_or_else(|_| "'none'".into(), |u| u.origin().ascii_serialization())
}

/// Sends the browser back to the vendor with `params`, `state` and `iss`.
fn back_to_vendor(
    s: &AppState,
    redirect_uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> Response {
    redirect::see_other(&redirect::to_vendor(
        &s.settings.public_url,
        redirect_uri,
        state,
        params,
    ))
}

fn oauth_error(
    s: &AppState,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    back_to_vendor(
        s,
        redirect_uri,
        state,
        &[("error", error), ("error_description", description)],
    )
}

/// Start of the flow: checks the request and shows the consent page.
#[utoipa::path(get, path = "/oauth/authorize", tag = "oauth", params(AuthorizeQuery),
    responses(
        (status = 200, description = "The consent page", content_type = "text/html"),
        (status = 303, description = "Back to the redirect URI with an error (after the client and redirect URI check out)"),
        (status = 400, description = "Error page: unknown client or redirect URI (no redirect)", content_type = "text/html")))]
pub async fn start(
    State(s): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AuthorizeQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "This request is malformed",
            "The link that brought you here has parameters Carnet cannot read.",
        );
    };
    let now = s.now();
    if [&q.client_id, &q.redirect_uri]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| v.len() > MAX_PARAM_BYTES))
    {
        return page::error(
            StatusCode::BAD_REQUEST,
            "This request is too long",
            "The link that brought you here names its application or return address with more characters than Carnet accepts.",
        );
    }
    // 1. The client and its redirect URI: until both check out, nothing is redirected.
    let Some((client_id, record, verified, vendor_id)) = client(&s, q.client_id.as_deref()) else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "This application is not connected to your Carnet, so it cannot ask for access.",
        );
    };
    let redirect_uri = match q.redirect_uri.as_deref() {
        Some(given)
            if record
                .redirect_uris
                .iter()
                .any(|r| redirect::matches(r, given)) =>
        {
            given.to_owned()
        }
        None if record.redirect_uris.len() == 1 => record.redirect_uris[0].to_string(),
        _ => {
            return page::error(
                StatusCode::BAD_REQUEST,
                "Wrong return address",
                "The application asked to send you back to an address it did not register. Carnet will not send you there.",
            );
        }
    };
    // Too long to echo: refused, and not echoed.
    if q.state
        .as_ref()
        .is_some_and(|st| st.len() > MAX_STATE_BYTES)
    {
        return oauth_error(
            &s,
            &redirect_uri,
            None,
            "invalid_request",
            &format!("state is longer than {MAX_STATE_BYTES} bytes"),
        );
    }
    let state = q.state.as_deref();
    let fail =
        |error: &str, description: &str| oauth_error(&s, &redirect_uri, state, error, description);
    // 2. The rest of the request: errors go back to the vendor.
    for (name, value) in [
        ("scope", &q.scope),
        ("categories", &q.categories),
        ("code_challenge", &q.code_challenge),
        ("response_type", &q.response_type),
        ("code_challenge_method", &q.code_challenge_method),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_PARAM_BYTES) {
            return fail(
                "invalid_request",
                &format!("{name} is longer than {MAX_PARAM_BYTES} bytes"),
            );
        }
    }
    if q.response_type.as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let Some(challenge) = q
        .code_challenge
        .clone()
        .filter(|c| codes::valid_challenge(c))
    else {
        return fail(
            "invalid_request",
            "PKCE is required: send code_challenge (43 base64url characters) with code_challenge_method=S256",
        );
    };
    if q.code_challenge_method.as_deref() != Some("S256") {
        return fail(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted)",
        );
    }
    let scopes = match q.scope.as_deref().map(ScopeSet::parse_oauth) {
        Some(Ok(s)) if !s.is_empty() => s,
        Some(Err(e)) => return fail("invalid_scope", &e.0),
        _ => return fail("invalid_scope", "ask for at least one scope"),
    };
    let requested = match q
        .categories
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|c| !c.is_empty())
        .map(str::parse::<Category>)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(c) => c,
        Err(e) => return fail("invalid_request", &e.0),
    };
    let vendor = s
        .store
        .read(|c| records::get::<VendorFields>(c, vendor_id.as_str()))
        .ok()
        .flatten()
        .and_then(|row| {
            s.keys
                .seal()
                .open::<VendorFields>(&row.id, &row.sealed)
                .ok()
        });
    let Some(vendor) = vendor else {
        return fail("server_error", "the vendor's record cannot be read");
    };
    // Only a session this server issued (one a live request was opened with) is kept: a
    // cookie the browser was handed by someone else is replaced, never adopted.
    let session = session_of(&headers)
        .filter(|c| s.consents.knows_session(&credential::hash(c), now))
        .unwrap_or_else(|| random_token(32));
    let looks_like = (!verified)
        .then(|| lookalike::existing_like(&s, &vendor_id, vendor.name.as_str()))
        .flatten();
    let pending = s.consents.open(
        NewPending {
            session: credential::hash(&session),
            client_id,
            vendor_id,
            looks_like,
            vendor_name: vendor.name.to_string(),
            vendor_website: vendor.website.map(|w| w.to_string()),
            verified,
            redirect_uri: redirect_uri.clone(),
            state: q.state,
            code_challenge: challenge,
            scopes,
            requested_categories: requested,
        },
        now,
    );
    let mut res = page::consent(
        &pending,
        &vendor.categories,
        &Choices::default(),
        None,
        &origin_of(&redirect_uri),
    );
    let secure = if s.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; Path=/oauth; HttpOnly; SameSite=Strict; Max-Age=900{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// The client asking, if it exists: its record, whether the owner connected it, its vendor.
fn client(
    s: &AppState,
    id: Option<&str>,
) -> Option<(ClientId, ClientRecord, bool, carnet_schemas::VendorId)> {
    let id: ClientId = id?.parse().ok()?;
    let row = s
        .store
        .read(|c| rows::client::<ClientRecord>(c, id.as_str()))
        .ok()??;
    let record = s.keys.seal().open(&row.id, &row.sealed).ok()?;
    Some((id, record, row.verified, row.vendor_id.parse().ok()?))
}

/// The consent form's fields (categories repeat, so they are read as pairs).
struct ConsentForm {
    request: String,
    csrf: String,
    approve: bool,
    password: zeroize::Zeroizing<String>,
    choices: Choices,
}

fn read_form(pairs: Vec<(String, String)>) -> ConsentForm {
    let mut f = ConsentForm {
        request: String::new(),
        csrf: String::new(),
        approve: false,
        password: zeroize::Zeroizing::new(String::new()),
        choices: Choices::default(),
    };
    for (k, v) in pairs {
        match k.as_str() {
            "request" => f.request = v,
            "csrf" => f.csrf = v,
            "decision" => f.approve = v == "approve",
            "password" => f.password = zeroize::Zeroizing::new(v),
            "category" => f.choices.categories.push(v),
            "other_categories" => f.choices.other = v,
            "all_categories" => f.choices.all = !v.is_empty(),
            "days" => f.choices.days = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    f
}

/// Checks that the form comes from the page this browser session was shown.
fn csrf_ok(p: &Pending, headers: &HeaderMap, csrf: &str) -> bool {
    let Some(session) = session_of(headers) else {
        return false;
    };
    let same_session: bool = credential::hash(&session).ct_eq(&p.asked.session).into();
    let same_token: bool = p.csrf.as_bytes().ct_eq(csrf.as_bytes()).into();
    same_session && same_token
}

/// The owner's answer on the consent page.
#[utoipa::path(post, path = "/oauth/authorize", tag = "oauth",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "request, csrf, decision (approve|deny), password, category (repeated), other_categories, all_categories, days"),
    responses(
        (status = 303, description = "Back to the redirect URI with a code, or with error=access_denied"),
        (status = 401, description = "Sign-in failed: the page again", content_type = "text/html"),
        (status = 403, description = "The form did not come from this session's page", content_type = "text/html"),
        (status = 429, description = "Too many sign-in attempts from this address, or too many sign-ins waiting for the password check (Retry-After)", content_type = "text/html")))]
pub async fn answer(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(pairs)) = form else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "This form is malformed",
            "Carnet could not read what was sent.",
        );
    };
    let f = read_form(pairs);
    let now = s.now();
    let Some(p) = s.consents.get(&f.request, now) else {
        return page::expired();
    };
    if !csrf_ok(&p, &headers, &f.csrf) {
        return page::error(
            StatusCode::FORBIDDEN,
            "This form could not be verified",
            "It was not sent from the page Carnet showed in this browser. Start again from the vendor's site.",
        );
    }
    if p.decision != Decision::Waiting {
        return decision::continue_after_decision(&s, &p.id).await;
    }
    let origin = origin_of(&p.asked.redirect_uri);
    if !f.approve {
        carnet_core::consent::deny(&s.consents, &p.id).await;
        return decision::continue_after_decision(&s, &p.id).await;
    }
    // What the owner picked.
    let mut categories: Vec<Category> = Vec::new();
    for c in f
        .choices
        .categories
        .iter()
        .map(String::as_str)
        .chain(f.choices.other.split(' '))
        .filter(|c| !c.is_empty())
    {
        match c.parse::<Category>() {
            Ok(c) => categories.push(c),
            Err(e) => return page::consent(&p, &[], &f.choices, Some(&e.0), &origin),
        }
    }
    if categories.is_empty() && !f.choices.all {
        return page::consent(
            &p,
            &[],
            &f.choices,
            Some("Pick at least one category, or All categories."),
            &origin,
        );
    }
    // Sign-in: limited per client address (the real one behind trusted proxies) and queued
    // with every other password hash; one answer for every failure.
    let signed_in = password::sign_in(
        &s.store,
        &s.sign_in_attempts,
        &s.slow_hashes,
        client,
        now,
        f.password.clone(),
    );
    let failed = match signed_in.await {
        SignIn::Yes => None,
        SignIn::No => {
            Some("Sign-in failed. Check your Carnet password (set it with `carnet password set`).")
        }
        SignIn::MustBeSetAgain => Some(
            "Your Carnet password must be set again (`carnet password set`): its stored hash is not one Carnet accepts. Meanwhile, answer from your terminal.",
        ),
        SignIn::TooManyAttempts(wait) => {
            return page::too_many(
                "Too many attempts",
                &format!(
                    "Too many sign-in attempts from your address. Wait {wait} seconds and try again."
                ),
                wait,
            );
        }
        SignIn::Busy(wait) => {
            return page::too_many(
                "Carnet is busy",
                &format!(
                    "Too many sign-ins are being checked right now. Wait {wait} seconds and try again, or answer from your terminal."
                ),
                wait,
            );
        }
    };
    if let Some(message) = failed {
        return page::consent(&p, &[], &f.choices, Some(message), &origin);
    }
    let days = if f.choices.days == 0 {
        None
    } else {
        Some(f.choices.days)
    };
    match carnet_core::consent::approve(
        &s,
        &s.consents,
        &p,
        categories,
        f.choices.all,
        days,
        "consent-page",
    )
    .await
    {
        // Answered meanwhile (denied from the terminal) or gone: the page says which.
        Ok(_) | Err(ConsentError::Denied | ConsentError::Gone(_)) => {
            decision::continue_after_decision(&s, &p.id).await
        }
        Err(ConsentError::Grant(GrantError::Invalid { message, .. })) => {
            page::consent(&p, &[], &f.choices, Some(&message), &origin)
        }
        Err(e) => {
            tracing::error!(error = %e, "could not grant from the consent page");
            page::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Carnet could not record your consent; nothing was shared. Try again.",
            )
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContinueQuery {
    pub request: String,
}

/// After answering from the terminal: continues to the vendor once the owner has answered,
/// else shows a page that reloads itself.
#[utoipa::path(get, path = "/oauth/authorize/continue", tag = "oauth", params(ContinueQuery),
    responses(
        (status = 303, description = "Back to the redirect URI with a code or an error"),
        (status = 200, description = "Still waiting: a page that reloads itself", content_type = "text/html")))]
pub async fn resume(
    State(s): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ContinueQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return page::expired();
    };
    let Some(p) = s.consents.get(&q.request, s.now()) else {
        return page::expired();
    };
    let same_session = session_of(&headers)
        .is_some_and(|c| bool::from(credential::hash(&c).ct_eq(&p.asked.session)));
    if !same_session {
        return page::error(
            StatusCode::FORBIDDEN,
            "Wrong browser",
            "Continue in the browser where the consent page was opened.",
        );
    }
    match p.decision {
        Decision::Waiting => page::waiting(&p),
        _ => decision::continue_after_decision(&s, &p.id).await,
    }
}
