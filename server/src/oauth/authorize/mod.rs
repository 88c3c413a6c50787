//! `GET|POST /oauth/authorize`: the authorization-code flow with PKCE (S256 only). Until the
//! client and its redirect URI check out, problems are shown on an error page and never
//! redirected; after that, they go back to the registered redirect URI with `state` and `iss`
//! (RFC 9207). The owner answers on the consent page (signed in with the web password) or from
//! the terminal; approving creates a grant (with its receipt) and a single-use code. The
//! request is read and checked in `request`, the consent form in `answer`.

mod answer;
mod request;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use carnet_core::consent::{Decision, MAX_STATE_BYTES, NewPending, random_token};
use carnet_core::credential;
use carnet_schemas::VendorFields;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa::IntoParams;

use self::request::{Asked, AuthorizeQuery, Client};
use super::decision;
use super::lookalike;
use super::page::{self, Choices};
use super::redirect;
use crate::client_ip::ClientIp;
use crate::state::AppState;

const SESSION_COOKIE: &str = "carnet_consent";

fn session_of(headers: &HeaderMap) -> Option<String> {
    crate::extract::cookie(headers, SESSION_COOKIE).map(str::to_owned)
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
    // 1. The client and its redirect URI: until both check out, nothing is redirected.
    let (client, redirect_uri) = match request::client_and_redirect(&s, &q) {
        Ok(found) => found,
        Err(unanswerable) => return unanswerable.page(),
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
    // 2. The rest of the request: errors go back to the vendor.
    let fail = |error: &str, description: &str| {
        oauth_error(&s, &redirect_uri, q.state.as_deref(), error, description)
    };
    let asked = match request::read_request(&q) {
        Ok(asked) => asked,
        Err((error, description)) => return fail(error, &description),
    };
    let Some(vendor) = request::vendor_of(&s, &client.vendor_id) else {
        return fail("server_error", "the vendor's record cannot be read");
    };
    // 3. The consent page.
    show_consent(&s, &headers, client, vendor, redirect_uri, asked)
}

/// The vendor's live grant, which approving replaces (shown on the page); a grant that cannot
/// be read is logged and left out rather than failing the page.
fn live_grant(s: &AppState, vendor: &carnet_schemas::VendorId) -> Option<carnet_schemas::Grant> {
    carnet_core::grants::live(s, vendor).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the vendor's live grant cannot be read");
        None
    })
}

/// Opens the consent request and shows its page, in a consent session of this browser.
fn show_consent(
    s: &AppState,
    headers: &HeaderMap,
    client: Client,
    vendor: VendorFields,
    redirect_uri: String,
    asked: Asked,
) -> Response {
    let now = s.now();
    // Only a session this server issued (one a live request was opened with) is kept: a
    // cookie the browser was handed by someone else is replaced, never adopted.
    let session = session_of(headers)
        .filter(|c| s.consents.knows_session(&credential::hash(c), now))
        .unwrap_or_else(|| random_token(32));
    let looks_like = (!client.verified)
        .then(|| lookalike::existing_like(s, &client.vendor_id, vendor.name.as_str()))
        .flatten();
    let origin = origin_of(&redirect_uri);
    let pending = s.consents.open(
        NewPending {
            session: credential::hash(&session),
            client_id: client.id,
            vendor_id: client.vendor_id,
            looks_like,
            vendor_name: vendor.name.to_string(),
            vendor_website: vendor.website.map(|w| w.to_string()),
            verified: client.verified,
            redirect_uri,
            state: asked.state,
            code_challenge: asked.code_challenge,
            scopes: asked.scopes,
            requested_categories: asked.requested_categories,
        },
        now,
    );
    let live = live_grant(s, &pending.asked.vendor_id);
    let cx = page::Context {
        known_categories: &vendor.categories,
        live: live.as_ref(),
        now,
    };
    let mut res = page::consent(&pending, &cx, &Choices::default(), None, &origin);
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

/// The owner's answer on the consent page.
#[utoipa::path(post, path = "/oauth/authorize", tag = "oauth",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "request, csrf, decision (approve|deny), password, category (repeated), other_categories, all_categories, days"),
    responses(
        (status = 303, description = "Back to the redirect URI with a code, or with error=access_denied"),
        (status = 400, description = "Error page: a malformed form, or a consent request that expired or was never opened", content_type = "text/html"),
        (status = 401, description = "Sign-in failed, or the choices were refused: the page again, saying why", content_type = "text/html"),
        (status = 403, description = "The form did not come from this session's page", content_type = "text/html"),
        (status = 429, description = "Too many sign-in attempts from this address, or too many sign-ins waiting for the password check (Retry-After)", content_type = "text/html"),
        (status = 500, description = "Error page: the consent could not be recorded (nothing was shared)", content_type = "text/html")))]
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
    let f = answer::read_form(pairs);
    let now = s.now();
    let Some(p) = s.consents.get(&f.request, now) else {
        return page::expired();
    };
    if !answer::csrf_ok(&p, &headers, &f.csrf) {
        return page::error(
            StatusCode::FORBIDDEN,
            "This form could not be verified",
            "It was not sent from the page Carnet showed in this browser. Start again from the vendor's site.",
        );
    }
    if p.decision != Decision::Waiting {
        return decision::continue_after_decision(&s, &p.id).await;
    }
    if !f.approve {
        carnet_core::consent::deny(&s.consents, &p.id).await;
        return decision::continue_after_decision(&s, &p.id).await;
    }
    let origin = origin_of(&p.asked.redirect_uri);
    // Shown again (a failed sign-in, a category that does not parse) as the owner left it.
    let known = request::vendor_of(&s, &p.asked.vendor_id).map_or_else(Vec::new, |v| v.categories);
    let live = live_grant(&s, &p.asked.vendor_id);
    let cx = page::Context {
        known_categories: &known,
        live: live.as_ref(),
        now,
    };
    let again = |message: &str| page::consent(&p, &cx, &f.choices, Some(message), &origin);
    let categories = match answer::chosen_categories(&f.choices) {
        Ok(categories) => categories,
        Err(message) => return again(&message),
    };
    if let Some(refused) = answer::sign_in(&s, client, now, &f.password, &again).await {
        return refused;
    }
    answer::approve(&s, &p, categories, &f.choices, &again).await
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
        (status = 200, description = "Still waiting: a page that reloads itself", content_type = "text/html"),
        (status = 400, description = "Error page: the request expired or was never opened", content_type = "text/html"),
        (status = 403, description = "Error page: not the browser the consent page was opened in", content_type = "text/html")))]
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
