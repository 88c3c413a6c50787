//! The market relay over HTTP, for the owner: offers that came through the relay
//! (`/v1/market/offers`, the rules are `carnet_core::intents::market`) and adding a directory
//! vendor to the vault (`/v1/market/vendors`, from the directory carnetd holds). Without a relay
//! the offers list is empty and adding a directory vendor is refused.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::intents::market;
use carnet_core::ledger::vendors::{self, DirectoryListing};
use carnet_schemas::{
    AcceptOffer, DeclineOffer, MarketOffer, MarketOfferId, MarketOfferQuery, NewMarketVendor,
    Problem, Vendor,
};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Offers that came through the market relay, newest first, all or one intent's.
#[utoipa::path(get, path = "/v1/market/offers", tag = "intents", params(MarketOfferQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Market offers", body = Vec<MarketOffer>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<MarketOfferQuery>,
) -> ApiResult<Json<Vec<MarketOffer>>> {
    let offers = s
        .blocking(move |s| Ok(market::list(s, q.intent.as_ref())?))
        .await?;
    Ok(Json(offers))
}

/// One market offer.
#[utoipa::path(get, path = "/v1/market/offers/{id}", tag = "intents",
    params(("id" = MarketOfferId, Path, description = "Market offer id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "The offer", body = MarketOffer),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<MarketOfferId>,
) -> ApiResult<Json<MarketOffer>> {
    Ok(Json(market::show(&s, &id)?))
}

/// Accept a market offer: records the purchase with the vault's vendor for the directory
/// vendor (added when there is none), fulfils the intent (unless `keep_open`) and answers the
/// vendor through the relay (`vendor_told`: not for an offer made before a move to this vault).
#[utoipa::path(post, path = "/v1/market/offers/{id}/accept", tag = "intents",
    request_body = AcceptOffer,
    params(("id" = MarketOfferId, Path, description = "Market offer id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Accepted; `purchase_id` is the purchase recorded, `vendor_id` its vendor", body = MarketOffer),
        (status = 409, description = "Not pending (accepted, declined or expired)", body = Problem, content_type = "application/problem+json")))]
pub async fn accept(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<MarketOfferId>,
    Json(how): Json<AcceptOffer>,
) -> ApiResult<Json<MarketOffer>> {
    Ok(Json(market::accept(&s, &id, how).await?))
}

/// Decline a market offer, optionally saying why (the reason stays in the vault: the vendor
/// is told the decision alone, through the relay; `vendor_told` as for accept).
#[utoipa::path(post, path = "/v1/market/offers/{id}/decline", tag = "intents",
    request_body = DeclineOffer,
    params(("id" = MarketOfferId, Path, description = "Market offer id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Declined", body = MarketOffer),
        (status = 409, description = "Not pending (accepted, declined or expired)", body = Problem, content_type = "application/problem+json")))]
pub async fn decline(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<MarketOfferId>,
    Json(why): Json<DeclineOffer>,
) -> ApiResult<Json<MarketOffer>> {
    Ok(Json(market::decline(&s, &id, why).await?))
}

/// Add a vendor of the market directory to the vault (`carnet vendor add --from-directory`);
/// a directory vendor already added is answered as it is (200), not added twice.
#[utoipa::path(post, path = "/v1/market/vendors", tag = "vendors", request_body = NewMarketVendor,
    security(("owner" = [])),
    responses(
        (status = 201, description = "Added", body = Vendor),
        (status = 200, description = "Already in the vault", body = Vendor),
        (status = 404, description = "The directory has no such vendor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This server has no market relay", body = Problem, content_type = "application/problem+json")))]
pub async fn add_vendor(
    _: Owner,
    State(s): State<AppState>,
    Json(new): Json<NewMarketVendor>,
) -> ApiResult<impl IntoResponse> {
    let Some(directory) = &s.market else {
        return Err(ApiError::conflict(
            "this server has no market relay",
            "set relay_url (and relay_directory, relay_directory_key, relay_region) in carnetd's configuration",
        ));
    };
    let wanted = new.directory_id.as_str();
    let listing = {
        let d = directory.read().unwrap_or_else(|p| p.into_inner());
        d.vendors
            .iter()
            .find(|v| v.id.as_str() == wanted)
            .map(|v| DirectoryListing {
                directory_id: v.id.to_string(),
                name: v.name.clone(),
                website: v.website.clone(),
            })
    };
    let Some(listing) = listing else {
        return Err(ApiError::NotFound {
            noun: "directory vendor",
            id: wanted.to_string(),
            hint: Some(
                "the market directory this server holds has no vendor with that id: check its spelling with the vendor or the market's operator"
                    .into(),
            ),
        });
    };
    let (vendor, added) =
        vendors::add_from_directory(&s.store, &s.keys, &s.index, listing, s.now()).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/vendors/{}", vendor.id);
    Ok((status, [(header::LOCATION, location)], Json(vendor)))
}
