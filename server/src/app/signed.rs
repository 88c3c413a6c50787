//! Who may see a web-app page: `Signed` (a live session, from its cookie) for every page, and
//! `Posted` (a live session, and the session's form token in the form) for every change. A
//! request without either is sent to sign in; a form without its token, or sent from another
//! site, changes nothing.

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use carnet_core::sessions::{self, Ended, Live};

pub(crate) use crate::extract::cookie;
use crate::state::AppState;

/// The session cookie's name; its path is `/app`.
pub const SESSION_COOKIE: &str = "carnet_session";
/// The sign-in form's pre-session cookie.
pub const SIGN_IN_COOKIE: &str = "carnet_sign_in";

/// A `Set-Cookie` value for the web app: `HttpOnly`, `SameSite=Strict`, path `/app`, and
/// `Secure` when carnetd is reached over https. `max_age` 0 removes the cookie.
pub fn set_cookie(s: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    cookie_for(&s.settings.public_url, name, value, max_age)
}

fn cookie_for(public_url: &str, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if public_url.starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let age = max_age.map_or(String::new(), |a| format!("; Max-Age={a}"));
    // Base64url values and fixed attributes: always a valid header value.
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/app; HttpOnly; SameSite=Strict{age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("carnet_session=; Path=/app; Max-Age=0"))
}

/// A 303 to `to` (after a form, the browser fetches the page with GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A page only the signed-in owner sees. Its rejection sends the browser to sign in (and
/// back here after), saying why when a session ended.
pub struct Signed(pub Live);

impl Signed {
    pub fn csrf(&self) -> &str {
        &self.0.csrf
    }
}

/// Where to come back to after signing in: this page, if it is a page of the app.
fn back_to(parts: &Parts) -> Option<String> {
    let path = parts.uri.path_and_query()?.as_str();
    (parts.method == axum::http::Method::GET
        && path.starts_with("/app/")
        && path != "/app/"
        && !path.contains("//"))
    .then(|| path.to_owned())
}

fn to_sign_in(parts: &Parts, ended: Option<Ended>) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    match ended {
        Some(Ended::Idle) => {
            query.append_pair("ended", "idle");
        }
        Some(Ended::CredentialsChanged) => {
            query.append_pair("ended", "changed");
        }
        Some(Ended::Unknown) => {
            query.append_pair("ended", "out");
        }
        None => {}
    }
    if let Some(back) = back_to(parts) {
        query.append_pair("next", &back);
    }
    let query = query.finish();
    if query.is_empty() {
        see_other("/app/sign-in")
    } else {
        see_other(&format!("/app/sign-in?{query}"))
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in(parts, None));
        };
        let stamp = match sessions::stamp(&s.store) {
            Ok(stamp) => stamp,
            Err(e) => {
                tracing::error!(error = %e, "web session: the credentials could not be read");
                return Err(super::shell::problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Carnet could not check your session. Try again; carnetd's log says why.",
                ));
            }
        };
        match s.sessions.touch(token, stamp, s.now()) {
            Ok(live) => Ok(Signed(live)),
            Err(ended) => Err(to_sign_in(parts, Some(ended))),
        }
    }
}

/// A form sent by the signed-in owner from a page of this app: the session's form token must
/// be in it, and a browser that says the form came from another site is refused.
pub struct Posted {
    pub signed: Signed,
    pub fields: Vec<(String, String)>,
}

impl Posted {
    /// The first value of field `name` (empty when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of field `name` (a repeated checkbox).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether the browser says this request came from another site (`Sec-Fetch-Site`, sent by
/// every current browser; absent from older ones and from non-browsers, which the form token
/// stops anyway).
pub fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site")
}

/// The answer to a form that may not change anything.
pub fn refused_form() -> Response {
    super::shell::problem(
        StatusCode::FORBIDDEN,
        "This form cannot be sent",
        "It did not come from a page of your Carnet, or that page is too old. Nothing was changed: go back, reload the page and send it again.",
    )
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let signed = Signed::from_request_parts(&mut parts, s).await?;
        if cross_site(&parts.headers) {
            return Err(refused_form());
        }
        let req = Request::from_parts(parts, body);
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, s)
            .await
            .map_err(|_| {
                super::shell::problem(
                    StatusCode::BAD_REQUEST,
                    "This form could not be read",
                    "Nothing was changed. Go back, reload the page and send it again.",
                )
            })?;
        let posted = Posted { signed, fields };
        if !posted.signed.0.csrf_matches(posted.get("csrf")) {
            return Err(refused_form());
        }
        Ok(posted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_for_the_app_only_never_for_scripts_or_other_sites_and_secure_over_https() {
        let plain = cookie_for("http://127.0.0.1:8787", SESSION_COOKIE, "abc", None);
        assert_eq!(
            plain,
            "carnet_session=abc; Path=/app; HttpOnly; SameSite=Strict"
        );
        let https = cookie_for("https://carnet.example.net", SESSION_COOKIE, "abc", Some(0));
        assert_eq!(
            https,
            "carnet_session=abc; Path=/app; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        );
    }
}
