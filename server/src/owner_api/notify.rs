//! The owner's reminder channels over HTTP: `/v1/notify/channels` (the rules are
//! `carnet_core::notify`). A webhook channel's secret is in the creation answer only.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::notify::{self, NotifyError};
use carnet_schemas::{
    NewNotifyChannel, NotifyChannel, NotifyChannelCreated, NotifyChannelId, NotifyChannelPatch,
    NotifyTest,
};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path};
use crate::state::AppState;

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> Self {
        match e {
            NotifyError::Invalid { field, message } => ApiError::invalid(field, message),
            NotifyError::NotFound(id) => ApiError::NotFound {
                noun: "reminder channel",
                id,
                hint: Some("`carnet notify list` shows the channels".into()),
            },
            NotifyError::Unreadable(u) => ApiError::Unreadable(u),
            NotifyError::Store(s) => ApiError::Store(s),
        }
    }
}

/// The reminder channels, oldest first, each with its last delivery (never a secret).
#[utoipa::path(get, path = "/v1/notify/channels", tag = "notify",
    security(("owner" = [])),
    responses((status = 200, description = "The channels", body = Vec<NotifyChannel>)))]
pub async fn list(_: Owner, State(s): State<AppState>) -> ApiResult<Json<Vec<NotifyChannel>>> {
    Ok(Json(notify::list(&s)?))
}

/// Add a reminder channel: a webhook (its `whsec_` secret is in this answer only), an ntfy
/// topic or an email address.
#[utoipa::path(post, path = "/v1/notify/channels", tag = "notify", request_body = NewNotifyChannel,
    security(("owner" = [])),
    responses((status = 201, description = "Created; a webhook's secret is shown this once", body = NotifyChannelCreated)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(new): Json<NewNotifyChannel>,
) -> ApiResult<impl IntoResponse> {
    let created = notify::create(&s, new).await?;
    let location = format!("/v1/notify/channels/{}", created.channel.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    ))
}

/// One reminder channel (no secret).
#[utoipa::path(get, path = "/v1/notify/channels/{id}", tag = "notify",
    params(("id" = NotifyChannelId, Path, description = "Channel id")),
    security(("owner" = [])),
    responses((status = 200, description = "The channel", body = NotifyChannel)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<NotifyChannelId>,
) -> ApiResult<Json<NotifyChannel>> {
    Ok(Json(notify::show(&s, &id)?))
}

/// Remove a reminder channel and what waits for it.
#[utoipa::path(delete, path = "/v1/notify/channels/{id}", tag = "notify",
    params(("id" = NotifyChannelId, Path, description = "Channel id")),
    security(("owner" = [])),
    responses((status = 204, description = "Removed")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<NotifyChannelId>,
) -> ApiResult<StatusCode> {
    notify::delete(&s, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a test message to the channel now and answer what happened (it is not retried).
#[utoipa::path(post, path = "/v1/notify/channels/{id}/test", tag = "notify",
    params(("id" = NotifyChannelId, Path, description = "Channel id")),
    security(("owner" = [])),
    responses((status = 200, description = "What the test delivery did", body = NotifyTest)))]
pub async fn test(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<NotifyChannelId>,
) -> ApiResult<Json<NotifyTest>> {
    Ok(Json(notify::test(&s, &id).await?))
}

/// Change which events a channel takes, when (at once, or a digest at an hour), and whether
/// with details; its address and secret stay.
#[utoipa::path(patch, path = "/v1/notify/channels/{id}", tag = "notify", request_body = NotifyChannelPatch,
    params(("id" = NotifyChannelId, Path, description = "Channel id")),
    security(("owner" = [])),
    responses((status = 200, description = "The channel as changed", body = NotifyChannel)))]
pub async fn update(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<NotifyChannelId>,
    Json(patch): Json<NotifyChannelPatch>,
) -> ApiResult<Json<NotifyChannel>> {
    Ok(Json(notify::update(&s, &id, patch).await?))
}
