//! The owner's answer on the consent page, read and acted on: the form (checked against the
//! session that was shown the page), the categories picked, the sign-in with the web
//! password, and the grant (`carnet_core::consent::approve`).

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carnet_core::access::password::{self, SignIn};
use carnet_core::consent::{ConsentError, Pending};
use carnet_core::credential;
use carnet_core::grants::GrantError;
use carnet_schemas::Category;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::session_of;
use crate::oauth::decision;
use crate::oauth::page::{self, Choices};
use crate::state::AppState;

/// The consent form's fields (categories repeat, so they are read as pairs).
pub(super) struct ConsentForm {
    pub(super) request: String,
    pub(super) csrf: String,
    pub(super) approve: bool,
    pub(super) password: Zeroizing<String>,
    pub(super) choices: Choices,
}

pub(super) fn read_form(pairs: Vec<(String, String)>) -> ConsentForm {
    let mut f = ConsentForm {
        request: String::new(),
        csrf: String::new(),
        approve: false,
        password: Zeroizing::new(String::new()),
        choices: Choices {
            submitted: true,
            ..Choices::default()
        },
    };
    for (k, v) in pairs {
        match k.as_str() {
            "request" => f.request = v,
            "csrf" => f.csrf = v,
            "decision" => f.approve = v == "approve",
            "password" => f.password = Zeroizing::new(v),
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
pub(super) fn csrf_ok(p: &Pending, headers: &HeaderMap, csrf: &str) -> bool {
    let Some(session) = session_of(headers) else {
        return false;
    };
    let same_session: bool = credential::hash(&session).ct_eq(&p.asked.session).into();
    let same_token: bool = p.csrf.as_bytes().ct_eq(csrf.as_bytes()).into();
    same_session && same_token
}

/// The categories the owner picked: at least one, or all.
pub(super) fn chosen_categories(choices: &Choices) -> Result<Vec<Category>, String> {
    let categories = choices
        .categories
        .iter()
        .map(String::as_str)
        .chain(choices.other.split(' '))
        .filter(|c| !c.is_empty())
        .map(str::parse::<Category>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.0)?;
    if categories.is_empty() && !choices.all {
        return Err("Pick at least one category, or All categories.".into());
    }
    Ok(categories)
}

/// Signs the owner in with the web password: limited per client address (the real one behind
/// trusted proxies) and queued with every other password hash; one answer for every failure.
/// `None` once signed in, else the page to show: this one again (`again`) or a wait.
pub(super) async fn sign_in(
    s: &AppState,
    client: IpAddr,
    now: DateTime<Utc>,
    password: &Zeroizing<String>,
    again: &impl Fn(&str) -> Response,
) -> Option<Response> {
    let signed_in = password::sign_in(
        &s.store,
        &s.sign_in_attempts,
        &s.slow_hashes,
        client,
        now,
        password.clone(),
    );
    match signed_in.await {
        SignIn::Yes => None,
        SignIn::No => Some(again(
            "Sign-in failed. Check your Carnet password (set it with `carnet password set`).",
        )),
        SignIn::MustBeSetAgain => Some(again(
            "Your Carnet password must be set again (`carnet password set`): its stored hash is not one Carnet accepts. Meanwhile, answer from your terminal.",
        )),
        SignIn::TooManyAttempts(wait) => Some(page::too_many(
            "Too many attempts",
            &format!(
                "Too many sign-in attempts from your address. Wait {wait} seconds and try again."
            ),
            wait,
        )),
        SignIn::Busy(wait) => Some(page::too_many(
            "Carnet is busy",
            &format!(
                "Too many sign-ins are being checked right now. Wait {wait} seconds and try again, or answer from your terminal."
            ),
            wait,
        )),
    }
}

/// Grants what the signed-in owner approved and sends the browser on; a grant the core
/// refuses shows the page again (`again`).
pub(super) async fn approve(
    s: &AppState,
    p: &Pending,
    categories: Vec<Category>,
    choices: &Choices,
    again: &impl Fn(&str) -> Response,
) -> Response {
    let days = (choices.days != 0).then_some(choices.days);
    let approved = carnet_core::consent::approve(
        s,
        &s.consents,
        p,
        categories,
        choices.all,
        days,
        "consent-page",
    );
    match approved.await {
        // Answered meanwhile (denied from the terminal) or gone: the page says which.
        Ok(_) | Err(ConsentError::Denied | ConsentError::Gone(_)) => {
            decision::continue_after_decision(s, &p.id).await
        }
        Err(ConsentError::Grant(GrantError::Invalid { message, .. })) => again(&message),
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
