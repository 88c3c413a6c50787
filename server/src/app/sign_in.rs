//! Signing in to the web app with the web password (the consent page's: the same Argon2id
//! check, the same per-address limiter and queue), signing out, and signing out everywhere.
//! The web app is off until a web password is set.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use carnet_core::access::password::{self, SignIn};
use carnet_core::sessions;
use maud::html;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::shell;
use super::signed::{
    Posted, SESSION_COOKIE, SIGN_IN_COOKIE, cookie, cross_site, refused_form, see_other, set_cookie,
};
use crate::client_ip::ClientIp;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    ended: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// Where to land after signing in: a page of the app, else Today.
fn landing(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/app/") && !n.contains("//") && !n.contains('\\') => n,
        _ => "/app/",
    }
}

/// The page when no web password is set yet.
fn off() -> Response {
    shell::plain(
        StatusCode::FORBIDDEN,
        "The web app is off",
        html! {
            div.card {
                p { "Carnet's web app opens once you set a web password, from your terminal:" }
                p { code { "carnet password set" } }
                p { "It is the same password the consent page asks for." }
            }
        },
    )
}

fn store_failed(e: &carnet_core::store::StoreError) -> Response {
    tracing::error!(error = %e, "web app: the web password could not be read");
    shell::problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Carnet could not read its settings. Try again; carnetd's log says why.",
    )
}

/// The sign-in form, with a fresh pre-session cookie and the token bound to it.
fn form(
    s: &AppState,
    status: StatusCode,
    message: Option<&str>,
    notice: Option<&str>,
    next: Option<&str>,
) -> Response {
    let (nonce, token) = s.sessions.sign_in_form();
    let mut res = shell::plain(
        status,
        "Sign in",
        html! {
            p.brand-line { "Carnet — your vault of vendor relationships" }
            @if let Some(n) = notice { div.card.warn role="status" { p { (n) } } }
            @if let Some(m) = message { div.card.err role="alert" { p { (m) } } }
            form.card method="post" action="/app/sign-in" {
                input type="hidden" name="csrf" value=(token);
                @if let Some(n) = next { input type="hidden" name="next" value=(landing(Some(n))); }
                div.field {
                    label for="f-password" { "Password" }
                    input id="f-password" type="password" name="password"
                        autocomplete="current-password" required autofocus;
                }
                button type="submit" { "Sign in" }
            }
            p.hint { "Your web password, set with " code { "carnet password set" } "." }
        },
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(s, SIGN_IN_COOKIE, &nonce, Some(900)),
    );
    res
}

/// `GET /app/sign-in`.
pub async fn show(State(s): State<AppState>, Query(q): Query<Shown>) -> Response {
    match password::is_set(&s.store) {
        Ok(true) => {}
        Ok(false) => return off(),
        Err(e) => return store_failed(&e),
    }
    let notice = match q.ended.as_deref() {
        Some("idle") => Some("Your session ended after a while unused. Sign in again."),
        Some("changed") => {
            Some("Your session ended: the web password or the owner token changed. Sign in again.")
        }
        Some("out") => Some("You are signed out. Sign in again."),
        _ => None,
    };
    form(&s, StatusCode::OK, None, notice, q.next.as_deref())
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /app/sign-in`: the password checked as on the consent page; a session on success.
pub async fn submit(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let password = Zeroizing::new(f.password);
    let nonce = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if cross_site(&headers) || !s.sessions.sign_in_form_matches(nonce, &f.csrf) {
        return refused_form();
    }
    match password::is_set(&s.store) {
        Ok(true) => {}
        Ok(false) => return off(),
        Err(e) => return store_failed(&e),
    }
    let next = f.next.as_deref();
    let again = |status, m: &str| form(&s, status, Some(m), None, next);
    let signed_in = password::sign_in(
        &s.store,
        &s.sign_in_attempts,
        &s.slow_hashes,
        client,
        s.now(),
        password,
    );
    match signed_in.await {
        SignIn::Yes => {}
        SignIn::No => {
            return again(
                StatusCode::UNAUTHORIZED,
                "Sign-in failed. Check your web password (set it with `carnet password set`).",
            );
        }
        SignIn::MustBeSetAgain => {
            return again(
                StatusCode::UNAUTHORIZED,
                "Your web password must be set again (`carnet password set`): its stored hash is not one Carnet accepts.",
            );
        }
        SignIn::TooManyAttempts(wait) | SignIn::Busy(wait) => {
            let mut res = again(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many sign-in attempts. Wait {wait} seconds and try again."),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return res;
        }
    }
    let stamp = match sessions::stamp(&s.store) {
        Ok(stamp) => stamp,
        Err(e) => return store_failed(&e),
    };
    let device = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(device_name)
        .unwrap_or_else(|| "a browser".into());
    let token = s.sessions.start(stamp, &device, s.now());
    let mut res = see_other(landing(next));
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&s, SESSION_COOKIE, token.expose(), None),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&s, SIGN_IN_COOKIE, "", Some(0)),
    );
    res
}

/// A browser's name as a person knows it, from its `User-Agent`.
fn device_name(ua: &str) -> String {
    let browser = ["Firefox", "Edg", "Chrome", "Safari"]
        .into_iter()
        .find(|b| ua.contains(b))
        .map(|b| if b == "Edg" { "Edge" } else { b });
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| v);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => ua.chars().take(40).collect(),
    }
}

/// Ends the cookie in the browser and sends it to sign in.
fn signed_out(s: &AppState) -> Response {
    let mut res = see_other("/app/sign-in?ended=out");
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(s, SESSION_COOKIE, "", Some(0)),
    );
    res
}

/// `POST /app/sign-out`.
pub async fn sign_out(State(s): State<AppState>, p: Posted) -> Response {
    s.sessions.end(&p.signed.0);
    signed_out(&s)
}

/// `POST /app/sign-out-everywhere`: every session ends, this one too.
pub async fn everywhere(State(s): State<AppState>, _: Posted) -> Response {
    s.sessions.end_all();
    signed_out(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_the_app_are_landings() {
        assert_eq!(landing(Some("/app/vendors?q=a")), "/app/vendors?q=a");
        for away in [
            "https://evil.example/",
            "//evil.example/app/",
            "/app//evil.example",
            "/app/\\evil",
            "/v1/vendors",
            "",
        ] {
            assert_eq!(landing(Some(away)), "/app/", "{away}");
        }
        assert_eq!(landing(None), "/app/");
    }

    #[test]
    fn devices_are_named_as_people_know_them() {
        assert_eq!(
            device_name("Mozilla/5.0 (Linux; Android 14) AppleWebKit Chrome/131 Mobile Safari"),
            "Chrome on Android"
        );
        assert_eq!(
            device_name("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Version/17 Mobile Safari/604"),
            "Safari on iPhone"
        );
        assert_eq!(device_name("curl/8"), "curl/8");
    }
}
