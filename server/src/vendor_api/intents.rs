//! Intents over HTTP, as a granted vendor pulls them, the offers it answers with, and its own
//! offers (the rules, and what a vendor may see, are `carnet_core::intents::vendor`). Here:
//! cursors, and what each answer returned for the access log (`gate` writes the entry).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::intents::vendor::{self, Pull};
use carnet_schemas::{
    IntentId, OfferFields, OfferId, Page, VendorIntent, VendorListQuery, VendorOffer,
};

use super::{Returned, Vendor};
use crate::error::ApiResult;
use crate::extract::{Json, Path, Query};
use crate::paging::{CursorSigner, page_size, paginate_signed};
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
    let signer = CursorSigner::new(&s.keys, v.0.vendor_id.as_str(), "intents");
    let pull = Pull {
        since: q.updated_since.map(|t| t.to_utc()),
        limit: q.limit,
        size: page_size(q.limit)?,
        after: signer.after(q.cursor.as_deref())?,
    };
    let pulled = vendor::pull(&s, &v.0, pull, |k| signer.sign(k))?;
    let returned = Returned::intents(pulled.ids, pulled.withheld);
    Ok((returned, json_response(pulled.body)).into_response())
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
) -> ApiResult<(Returned, Json<VendorIntent>)> {
    let shown = vendor::show(&s, &v.0, &id)?;
    let returned = Returned::intents(vec![id.to_string()], shown.withheld);
    Ok((returned, Json(shown.intent)))
}

/// Answer an intent with an offer, in the intent's currency (rate-limited per vendor; at most
/// the intent's `max_offers` in all: `accepts_offers` says whether it takes another). A price
/// above the intent's `max_price` is allowed; the owner sees it marked over budget.
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
) -> ApiResult<(StatusCode, Returned, Json<VendorOffer>)> {
    let offer_id: OfferId = s.new_id();
    let made = vendor::make_offer(&s, &v.0, &id, offer_id, fields).await?;
    let returned = Returned::ids(vec![id.to_string(), made.id.to_string()]);
    Ok((StatusCode::CREATED, returned, Json(made)))
}

/// This vendor's own offers, in every state (`pending`, `accepted`, `declined`, `expired`),
/// oldest change first; `updated_since` for incremental pulls.
#[utoipa::path(get, path = "/v1/vendor/offers", tag = "vendor", params(VendorListQuery),
    security(("vendor" = ["offers:write"])),
    responses((status = 200, description = "One page of this vendor's offers, by last change", body = Page<VendorOffer>)))]
pub async fn offers(
    v: Vendor,
    State(s): State<AppState>,
    Query(q): Query<VendorListQuery>,
) -> ApiResult<(Returned, Json<Page<VendorOffer>>)> {
    let page = s
        .blocking(move |s| {
            let since = q.updated_since.map(|t| t.to_utc());
            let items = vendor::offers(s, &v.0, since)?;
            let signer = CursorSigner::new(&s.keys, v.0.vendor_id.as_str(), "offers");
            paginate_signed(items, q.limit, q.cursor.as_deref(), &signer)
        })
        .await?;
    let ids: Vec<String> = page.items.iter().map(|o| o.id.to_string()).collect();
    Ok((Returned::ids(ids), Json(page)))
}
