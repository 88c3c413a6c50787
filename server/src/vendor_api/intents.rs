//! Intents over HTTP, as a granted vendor pulls them, and the offers it answers with (the
//! rules, and what a vendor may see, are `carnet_core::intents::vendor`). Here: the scope each
//! endpoint needs, cursors, and the access log entry of each request.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::intents::OfferError;
use carnet_core::intents::vendor::{self, Pull};
use carnet_schemas::{
    IntentId, OfferFields, OfferId, Page, Scope, VendorIntent, VendorListQuery, VendorOffer,
};

use super::Vendor;
use crate::error::ApiResult;
use crate::extract::{Json, Path, Query};
use crate::paging::{CursorSigner, paginate_signed};
use crate::state::AppState;

/// Active intents this vendor may see, oldest change first.
#[utoipa::path(get, path = "/v1/vendor/intents", tag = "vendor", params(VendorListQuery),
    security(("vendor" = ["intents:read"])),
    responses((status = 200, description = "One page of intents", body = Page<VendorIntent>)))]
pub async fn list(
    v: Vendor,
    State(s): State<AppState>,
    Query(q): Query<VendorListQuery>,
) -> ApiResult<Response> {
    const ENDPOINT: &str = "GET /v1/vendor/intents";
    v.require(&s, ENDPOINT, Scope::IntentsRead)?;
    let pull = Pull {
        since: q.updated_since.map(|t| t.to_utc()),
        limit: q.limit,
        continued: q.cursor.is_some(),
    };
    let pulled = vendor::pull(&s, &v.0, pull, |items| {
        let signer = CursorSigner::new(&s.keys, v.0.vendor_id.as_str(), "intents");
        paginate_signed(items, q.limit, q.cursor.as_deref(), &signer)
    })?;
    v.log_intents(
        &s,
        ENDPOINT,
        Some(Scope::IntentsRead),
        pulled.ids,
        pulled.withheld,
        200,
    );
    Ok(json_response(pulled.body))
}

fn json_response(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// One intent; 404 for anything outside this vendor's view.
#[utoipa::path(get, path = "/v1/vendor/intents/{id}", tag = "vendor",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("vendor" = ["intents:read"])),
    responses((status = 200, description = "The intent", body = VendorIntent)))]
pub async fn show(
    v: Vendor,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<VendorIntent>> {
    const ENDPOINT: &str = "GET /v1/vendor/intents/{id}";
    v.require(&s, ENDPOINT, Scope::IntentsRead)?;
    let scope = Some(Scope::IntentsRead);
    match vendor::show(&s, &v.0, &id) {
        Ok(shown) => {
            v.log_intents(
                &s,
                ENDPOINT,
                scope,
                vec![id.to_string()],
                shown.withheld,
                200,
            );
            Ok(Json(shown.intent))
        }
        Err(e) => {
            v.log(&s, ENDPOINT, scope, vec![id.to_string()], 404);
            Err(e.into())
        }
    }
}

/// Answer an intent with an offer (rate-limited per vendor; at most the intent's
/// `max_offers` in all).
#[utoipa::path(post, path = "/v1/vendor/intents/{id}/offers", tag = "vendor", request_body = OfferFields,
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("vendor" = ["offers:write"])),
    responses(
        (status = 201, description = "Offer made", body = VendorOffer),
        (status = 409, description = "The intent has all the offers it takes", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many offers from this vendor; see Retry-After", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn offer(
    v: Vendor,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
    Json(fields): Json<OfferFields>,
) -> ApiResult<(StatusCode, Json<VendorOffer>)> {
    const ENDPOINT: &str = "POST /v1/vendor/intents/{id}/offers";
    v.require(&s, ENDPOINT, Scope::OffersWrite)?;
    let offer_id: OfferId = s.new_id();
    let made = vendor::make_offer(&s, &v.0, &id, offer_id.clone(), fields).await;
    if let Some((status, names_offer)) = logged(&made) {
        let mut ids = vec![id.to_string()];
        if names_offer {
            ids.push(offer_id.to_string());
        }
        v.log(&s, ENDPOINT, Some(Scope::OffersWrite), ids, status);
    }
    Ok((StatusCode::CREATED, Json(made?)))
}

/// How an offer request goes in the access log: the status, and whether the entry names the
/// offer (it does once the offer got as far as its write). A refused body is not logged.
fn logged(made: &Result<VendorOffer, OfferError>) -> Option<(u16, bool)> {
    match made {
        Ok(_) => Some((201, true)),
        Err(OfferError::Invalid { .. }) => None,
        Err(OfferError::IntentNotFound(_)) => Some((404, false)),
        Err(OfferError::TooMany { .. }) => Some((429, false)),
        Err(OfferError::IntentEnded(_)) => Some((404, true)),
        Err(
            OfferError::Full { .. }
            | OfferError::NotFound(_)
            | OfferError::NotPending { .. }
            | OfferError::Unreadable(_)
            | OfferError::Store(_),
        ) => Some((409, true)),
    }
}
