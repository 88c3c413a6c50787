//! The owner's answer to a consent request, however it comes (the page's Allow or Deny, or
//! `carnet consent approve|deny`), and sending the browser back to the vendor. Both happen
//! under the request's answering lock, so they are idempotent: one approval creates one grant
//! (and one receipt) however many arrive at once, and the browser is sent back with one code
//! however often it asks.

use axum::response::Response;
use carnet_schemas::{Category, Grant, NewGrant};

use super::codes;
use super::consent::{Decision, Pending};
use super::page;
use super::redirect;
use crate::error::{ApiError, ApiResult};
use crate::owner_api::grants;
use crate::state::AppState;

/// Grants what the owner approved; the code is issued when the browser continues. A request
/// approved already (a concurrent approval) answers with the grant that approval created.
pub(crate) async fn approve(
    s: &AppState,
    p: &Pending,
    categories: Vec<Category>,
    all: bool,
    days: Option<u32>,
    how: &str,
) -> ApiResult<Grant> {
    let _answering = s.consents.answering().await;
    let now = s.now();
    let current = s.consents.get(&p.id, now);
    match current.as_ref().map(|c| (&c.decision, &c.granted)) {
        Some((Decision::Waiting, _)) => {}
        Some((_, Some(grant))) => return Ok((**grant).clone()),
        Some((Decision::Denied, _)) => {
            return Err(ApiError::conflict(
                "this consent request was denied",
                "the vendor has to start again from its site",
            ));
        }
        _ => {
            return Err(ApiError::NotFound {
                noun: "consent request",
                id: p.short_code.clone(),
                hint: Some("it may have expired (10 minutes) or been answered".into()),
            });
        }
    }
    let grant = grants::give(
        s,
        NewGrant {
            vendor_id: p.asked.vendor_id.clone(),
            scopes: p.asked.scopes.iter().collect(),
            categories: if all { vec![] } else { categories },
            all_categories: all,
            days,
            purpose: None,
        },
        how,
    )
    .await?;
    let categories = (!grant.fields.all_categories).then(|| grant.fields.categories.clone());
    s.consents.approved(
        &p.id,
        &grant,
        Decision::Approved {
            grant_id: grant.id.clone(),
            categories,
        },
    );
    Ok(grant)
}

/// Denies a request still waiting; `false` if it was answered already.
pub(crate) async fn deny(s: &AppState, id: &str) -> bool {
    let _answering = s.consents.answering().await;
    s.consents.decide(id, Decision::Denied)
}

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
