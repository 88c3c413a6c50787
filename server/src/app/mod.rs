//! The owner's web app under `/app/`: server-rendered pages and plain forms over the same core
//! services as the owner API, for a person who never opens a terminal. Off until a web
//! password is set; every page but sign-in needs a live session (`signed`), every change the
//! session's form token. Keys, export and import, backup, configuration and client secrets
//! stay in the CLI and `carnetd`: no page here reaches them.

mod access;
mod assets;
mod capture;
mod charts;
mod documents;
mod intent_form;
mod intents;
mod market_offers;
mod offers;
mod promise_list;
mod promises;
mod records;
mod scorecard;
mod search;
mod settings;
mod shell;
mod sign_in;
mod signed;
mod subscription_list;
mod subscriptions;
mod today;
mod vendor_page;
mod vendors;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use maud::html;

use crate::state::AppState;

/// Every route of the web app (none is in the OpenAPI document: they answer HTML to a
/// browser, not the API's JSON).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(today::show))
        .route("/app/sign-in", get(sign_in::show).post(sign_in::submit))
        .route("/app/sign-out", post(sign_in::sign_out))
        .route("/app/sign-out-everywhere", post(sign_in::everywhere))
        .route(
            "/app/interactions/new",
            get(capture::show).post(capture::submit),
        )
        .route("/app/followups/{id}/done", post(today::followup_done))
        .route("/app/consents/{id}/approve", post(today::approve))
        .route("/app/consents/{id}/deny", post(today::deny))
        .route("/app/search", get(search::show))
        .route("/app/settings", get(settings::show))
        .route("/app/settings/profile", post(settings::profile))
        .route("/app/settings/password", post(settings::password))
        .route("/app/settings/lock", post(settings::lock))
        .route("/app/sessions/{handle}/end", post(settings::end_session))
        .route("/app/vendors", get(vendors::list))
        .route(
            "/app/vendors/new",
            get(vendors::new_form).post(vendors::create),
        )
        .route("/app/vendors/{id}", get(vendor_page::show))
        .route(
            "/app/vendors/{id}/documents",
            // The file streams into the vault; the core's limits bound it, not the form's.
            post(documents::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/app/documents/{id}/content", get(documents::download))
        .route("/app/documents/{id}/share", post(documents::share))
        .route("/app/documents/{id}/unshare", post(documents::unshare))
        .route("/app/documents/{id}/delete", post(documents::delete))
        .route(
            "/app/vendors/{id}/purchases/new",
            get(records::new_purchase).post(records::create_purchase),
        )
        .route(
            "/app/vendors/{id}/incidents/new",
            get(records::new_incident).post(records::create_incident),
        )
        .route(
            "/app/vendors/{id}/promises/new",
            get(promises::new_form).post(promises::create),
        )
        .route("/app/promises/{id}/kept", post(promises::kept))
        .route("/app/promises/{id}/broken", post(promises::broken))
        .route(
            "/app/vendors/{id}/subscriptions/new",
            get(subscriptions::new_form).post(subscriptions::create),
        )
        .route("/app/subscriptions", get(subscriptions::list))
        .route(
            "/app/subscriptions/{id}/cancel",
            post(subscriptions::cancel),
        )
        .route("/app/subscriptions/{id}/shop", post(subscriptions::shop))
        .route("/app/interactions/{id}/share", post(records::share))
        .route("/app/interactions/{id}/unshare", post(records::unshare))
        .route("/app/intents", get(intents::list))
        .route("/app/intents/new", get(intents::new_form))
        .route("/app/intents/new", post(intents::create))
        .route("/app/intents/{id}", get(intents::show))
        .route("/app/intents/{id}/edit", get(intents::edit_form))
        .route("/app/intents/{id}/edit", post(intents::edit))
        .route("/app/intents/{id}/activate", post(intents::activate))
        .route("/app/intents/{id}/withdraw", post(intents::withdraw))
        .route("/app/intents/{id}/fulfil", post(intents::fulfil))
        .route("/app/offers/{id}/accept", post(offers::accept))
        .route("/app/offers/{id}/decline", post(offers::decline))
        .route(
            "/app/market-offers/{id}/accept",
            post(market_offers::accept),
        )
        .route(
            "/app/market-offers/{id}/decline",
            post(market_offers::decline),
        )
        .route("/app/access", get(access::show))
        .route("/app/access/verify", post(access::verify))
        .route("/app/grants/{id}/revoke", post(access::revoke))
        .merge(assets::router())
        // The API's fallback answers problem+json; under /app/ a person gets a page.
        .route("/app/{*rest}", axum::routing::any(not_found))
        .method_not_allowed_fallback(no_method)
}

/// A page of the app asked with a method it does not answer (a form sent to a page).
async fn no_method() -> Response {
    shell::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "This cannot be sent here",
        "This page is only to be opened, not sent a form. Nothing was changed.",
    )
}

/// An unknown page under `/app/`: said in HTML, with the way back.
pub async fn not_found() -> Response {
    shell::problem(
        StatusCode::NOT_FOUND,
        "No such page",
        "This page does not exist in your Carnet (a link may be out of date).",
    )
}

/// What `/app/…` answers while the vault is sealed: a page that says so, 503.
pub fn sealed() -> Response {
    let mut res = shell::plain(
        StatusCode::SERVICE_UNAVAILABLE,
        "Carnet is locked",
        html! {
            div.card.warn role="status" {
                p { "Your vault is sealed: nothing in it can be read until it is unlocked." }
                p { "Unlock it from your terminal, then reload this page and sign in again:" }
                p { code { "carnet unlock" } " (with the passphrase), or " code { "carnet unlock --identity" } " for a vault without one." }
            }
        },
    );
    res.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("30"),
    );
    res
}

/// Whether a request's path is the web app's (the sealed router answers those in HTML).
pub fn is_app_path(path: &str) -> bool {
    path == "/app" || path.starts_with("/app/")
}

/// A core error shown as a page: a client mistake says what to do, anything else is logged
/// and hidden.
pub(crate) fn failed(e: impl Into<crate::error::ApiError>) -> Response {
    let e: crate::error::ApiError = e.into();
    e.log();
    let (status, problem) = e.for_people();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return shell::problem(
            status,
            "Carnet is getting ready",
            "Your vault was unlocked moments ago and is still being prepared. Reload this page in a few seconds.",
        );
    }
    if status.is_server_error() {
        return shell::problem(
            status,
            "Something went wrong",
            "Carnet could not do this. Nothing was lost; try again, and carnetd's log says why.",
        );
    }
    let detail = match problem.hint {
        Some(hint) => format!("{} ({hint})", problem.detail),
        None => problem.detail,
    };
    shell::problem(status, "This cannot be done", &detail)
}
