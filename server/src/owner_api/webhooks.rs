//! The webhook deliveries, as the owner checks them: what went to whom, what failed, what is
//! next.

use axum::extract::State;
use carnet_schemas::{DeliveryState, MAX_PAGE, WebhookDelivery, WebhookQuery};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Query};
use crate::state::AppState;
use carnet_core::store::outbox::{self as rows, OutboxState};
use carnet_core::webhooks::Event;

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
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            format!("limit {limit} is out of range"),
            format!("use a limit from 1 to {MAX_PAGE}"),
        ));
    }
    let list = s
        .blocking(move |s| {
            let rows = s
                .store
                .read(|c| rows::recent::<Event>(c, q.vendor.as_ref().map(|v| v.as_str()), limit))?;
            rows.into_iter()
                .map(|row| {
                    let event: Event = s.keys.seal().open(&row.id, &row.sealed)?;
                    let state = match row.state {
                        OutboxState::Pending => DeliveryState::Pending,
                        OutboxState::Delivered => DeliveryState::Delivered,
                        OutboxState::Dropped => DeliveryState::Dropped,
                        OutboxState::Failed => DeliveryState::Failed,
                    };
                    Ok(WebhookDelivery {
                        vendor_id: row
                            .vendor_id
                            .parse()
                            .map_err(|_| ApiError::Internal("bad vendor id".into()))?,
                        event: event.kind,
                        next_attempt_at: (state == DeliveryState::Pending)
                            .then_some(row.next_attempt_at),
                        state,
                        attempts: row.attempts,
                        created_at: row.created_at,
                        delivered_at: row.delivered_at,
                        last_status: row.last_status,
                        last_error: row.last_error,
                        id: row.id,
                    })
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(list))
}
