//! Sending the browser back to the vendor once the owner has answered a consent request
//! (the answer itself is `carnet_core::consent::{approve, deny}`). It happens under the
//! request's answering lock, so the browser is sent back with one code however often it asks.

use axum::response::Response;

use super::page;
use super::redirect;
use crate::state::AppState;
use carnet_core::consent::Decision;
use carnet_core::oauth::codes;

/// Sends the browser on once the owner has answered: with a fresh code, or `access_denied`;
/// once sent, the same place again.
pub(crate) async fn continue_after_decision(s: &AppState, id: &str) -> Response {
    let _answering = s.consents.answering().await;
    let Some(p) = s.consents.get(id, s.now()) else {
        return page::expired();
    };
    let back = |params: &[(&str, &str)]| {
        redirect::to_vendor(
            &s.settings.public_url,
            &p.asked.redirect_uri,
            p.asked.state.as_deref(),
            params,
        )
    };
    let location = match p.decision.clone() {
        Decision::Done { location } => return redirect::see_other(&location),
        Decision::Waiting => return page::waiting(&p),
        Decision::Approved {
            grant_id,
            categories,
        } => match codes::issue(s, &p, &grant_id, categories).await {
            Ok(code) => back(&[("code", &code)]),
            Err(e) => {
                tracing::error!(error = %e, "could not issue an authorization code");
                back(&[
                    ("error", "server_error"),
                    ("error_description", "the code could not be issued"),
                ])
            }
        },
        Decision::Denied => back(&[
            ("error", "access_denied"),
            ("error_description", "the owner said no"),
        ]),
    };
    s.consents.done(id, location.clone());
    redirect::see_other(&location)
}
