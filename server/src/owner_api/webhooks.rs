//! The webhook deliveries over HTTP, as the owner checks them (the listing is
//! `carnet_core::webhooks::deliveries`).

use axum::extract::State;
use carnet_schemas::{WebhookDelivery, WebhookQuery};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Query};
use crate::state::AppState;

/// Webhook deliveries, newest first.
#[utoipa::path(get, path = "/v1/webhooks", tag = "clients", params(WebhookQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Deliveries", body = Vec<WebhookDelivery>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<WebhookQuery>,
) -> ApiResult<Json<Vec<WebhookDelivery>>> {
    let limit = q.limit.unwrap_or(200);
    Ok(Json(
        carnet_core::webhooks::deliveries(&s, q.vendor, limit).await?,
    ))
}
