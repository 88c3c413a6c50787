//! Intents, as a granted vendor pulls them, and the offers it answers with. A vendor sees
//! exactly the intents that are active now, inside their window, in a category its token
//! covers — read from the opened active set in memory, never from the database — and only
//! the fields the intent's terms allow.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_schemas::{
    IntentFields, IntentId, OfferFields, OfferId, OfferState, Page, Scope, VendorIntent,
    VendorListQuery, VendorOffer,
};

use super::Vendor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::page::{CursorSigner, paginate_signed};
use crate::state::AppState;
use carnet_core::access::pseudonym::customer_ref;
use carnet_core::active::ActiveIntent;
use carnet_core::intents::{OfferRecord, Withheld, effective_state};
use carnet_core::store::intents::{self as rows, OfferRow, StoredOfferState};

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
    let now = s.now();
    // The usual poll (first page, no `updated_since`) is answered from the page computed for
    // the same view, until an intent changes or a window opens or closes.
    let first_page = q.cursor.is_none() && q.updated_since.is_none();
    if first_page && let Some(hit) = s.intents.cached_page(&v.0, q.limit, now) {
        v.log_intents(
            &s,
            ENDPOINT,
            Some(Scope::IntentsRead),
            hit.ids.clone(),
            hit.withheld.clone(),
            200,
        );
        return Ok(json_response(hit.body));
    }
    let reference = customer_ref(&s.keys, &v.0.vendor_id);
    let since = q.updated_since.map(|t| t.to_utc());
    let seen = s.intents.visible(&v.0, now, &reference);
    let items = seen
        .items
        .iter()
        .filter(|(_, i)| since.is_none_or(|t| i.updated_at >= t))
        .map(|(id, i)| ((i.updated_at.timestamp_millis(), id.to_string()), i.clone()))
        .collect();
    let signer = CursorSigner::new(&s.keys, v.0.vendor_id.as_str(), "intents");
    let page = paginate_signed(items, q.limit, q.cursor.as_deref(), &signer)?;
    let ids: Arc<Vec<String>> = Arc::new(page.items.iter().map(|i| i.id.to_string()).collect());
    let withheld: Withheld = ids
        .iter()
        .filter_map(|id| seen.withheld.get_key_value(id))
        .map(|(id, fields)| (id.clone(), fields.clone()))
        .collect();
    let withheld = (!withheld.is_empty()).then(|| Arc::new(withheld));
    let body =
        Bytes::from(serde_json::to_vec(&page).map_err(|e| ApiError::Internal(e.to_string()))?);
    if first_page {
        s.intents.keep_page(
            &v.0,
            q.limit,
            &seen,
            body.clone(),
            ids.clone(),
            withheld.clone(),
        );
    }
    v.log_intents(&s, ENDPOINT, Some(Scope::IntentsRead), ids, withheld, 200);
    Ok(json_response(body))
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

/// The intent `id` if this vendor may see it now, else a logged 404.
fn visible(
    v: &Vendor,
    s: &AppState,
    endpoint: &'static str,
    scope: Scope,
    id: &IntentId,
) -> ApiResult<ActiveIntent> {
    match s.intents.visible_one(id, &v.0, s.now()) {
        Some(i) => Ok(i),
        None => {
            v.log(s, endpoint, Some(scope), vec![id.to_string()], 404);
            Err(ApiError::not_found("intent", id.as_str()))
        }
    }
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
    let intent = visible(&v, &s, ENDPOINT, Scope::IntentsRead, &id)?;
    let withhold = &intent.fields.terms.withhold;
    let withheld = (!withhold.is_empty())
        .then(|| Arc::new(Withheld::from([(id.to_string(), withhold.clone())])));
    v.log_intents(
        &s,
        ENDPOINT,
        Some(Scope::IntentsRead),
        vec![id.to_string()],
        withheld,
        200,
    );
    Ok(Json(
        intent.for_vendor(&id, customer_ref(&s.keys, &v.0.vendor_id)),
    ))
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
    let intent = visible(&v, &s, ENDPOINT, Scope::OffersWrite, &id)?;
    let now = s.now();
    if let Some(t) = fields.valid_through {
        if t <= now {
            return Err(ApiError::invalid(
                "valid_through",
                "the offer would already be over",
            ));
        }
        if t > intent.valid_through {
            return Err(ApiError::invalid(
                "valid_through",
                format!(
                    "an offer cannot outlast the intent, which ends {}",
                    intent.valid_through
                ),
            ));
        }
    }
    if let Err(wait) = s.offer_limits.take(&v.0.vendor_id, now) {
        v.log(
            &s,
            ENDPOINT,
            Some(Scope::OffersWrite),
            vec![id.to_string()],
            429,
        );
        return Err(ApiError::TooMany {
            what: "offers",
            retry_after: wait,
        });
    }
    let offer_id: OfferId = s.new_id();
    let record = OfferRecord {
        fields: fields.clone(),
        decline_reason: None,
        purchase_id: None,
    };
    let row = OfferRow {
        id: offer_id.to_string(),
        intent_id: id.to_string(),
        vendor_id: v.0.vendor_id.to_string(),
        state: StoredOfferState::Pending,
        created_at: now,
        updated_at: now,
        sealed: s.keys.seal().seal(offer_id.as_str(), &record),
    };
    let state = s.clone();
    let iid = id.clone();
    let max = intent
        .fields
        .max_offers
        .unwrap_or(carnet_schemas::DEFAULT_MAX_OFFERS);
    let made = s
        .store
        .write(move |c| {
            // The intent may have changed since the pull: check again inside the transaction.
            let stored = rows::intent::<IntentFields>(c, iid.as_str())?
                .map(|r| {
                    let f: IntentFields = state.keys.seal().open(&r.id, &r.sealed)?;
                    Ok::<_, ApiError>(effective_state(r.state, &f, now))
                })
                .transpose()?;
            if stored != Some(carnet_schemas::IntentState::Active) {
                return Err(ApiError::not_found("intent", iid.as_str()));
            }
            if rows::offer_count(c, iid.as_str())? >= max {
                return Err(ApiError::conflict(
                    format!("intent {iid} has received the {max} offers it takes"),
                    "no more offers can be made on it",
                ));
            }
            rows::insert_offer(c, &row)?;
            Ok(())
        })
        .await;
    let status = match &made {
        Ok(()) => 201,
        Err(ApiError::NotFound { .. }) => 404,
        Err(_) => 409,
    };
    v.log(
        &s,
        ENDPOINT,
        Some(Scope::OffersWrite),
        vec![id.to_string(), offer_id.to_string()],
        status,
    );
    made?;
    Ok((
        StatusCode::CREATED,
        Json(VendorOffer {
            id: offer_id,
            intent_id: id,
            state: OfferState::Pending,
            created_at: now,
            fields,
        }),
    ))
}
