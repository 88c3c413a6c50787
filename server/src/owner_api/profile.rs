//! The owner's profile over HTTP: `/v1/profile` (kept by `carnet_core::ledger::profile`).

use axum::extract::State;
use carnet_core::ledger::profile;
use carnet_schemas::{Profile, ProfileFields};

use crate::error::ApiResult;
use crate::extract::{Json, Owner};
use crate::state::AppState;

/// The profile (empty until set).
#[utoipa::path(get, path = "/v1/profile", tag = "profile",
    security(("owner" = [])),
    responses((status = 200, description = "The profile", body = Profile)))]
pub async fn show(_: Owner, State(s): State<AppState>) -> ApiResult<Json<Profile>> {
    Ok(Json(profile::show(&s.store, &s.keys)?))
}

/// Replace the profile.
#[utoipa::path(put, path = "/v1/profile", tag = "profile", request_body = ProfileFields,
    security(("owner" = [])),
    responses((status = 200, description = "The profile as stored", body = Profile)))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Json(fields): Json<ProfileFields>,
) -> ApiResult<Json<Profile>> {
    Ok(Json(
        profile::replace(&s.store, &s.keys, fields, s.now()).await?,
    ))
}
