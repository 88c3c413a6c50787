//! The owner's profile: what vendors may later be shown (`profile:read`).

use axum::extract::State;
use carnet_schemas::{Profile, ProfileFields};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner};
use crate::state::AppState;
use carnet_core::store::records::{self, Row};

pub(crate) use carnet_core::ledger::PROFILE_ID;

/// The profile (empty until set).
#[utoipa::path(get, path = "/v1/profile", tag = "profile",
    security(("owner" = [])),
    responses((status = 200, description = "The profile", body = Profile)))]
pub async fn show(_: Owner, State(s): State<AppState>) -> ApiResult<Json<Profile>> {
    let row = s
        .store
        .read(|c| records::get::<ProfileFields>(c, PROFILE_ID))?;
    let profile = match row {
        None => Profile {
            updated_at: None,
            fields: ProfileFields::default(),
        },
        Some(row) => Profile {
            updated_at: Some(row.updated_at),
            fields: s.keys.seal().open(&row.id, &row.sealed)?,
        },
    };
    Ok(Json(profile))
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
    let now = s.now();
    let sealed = s.keys.seal().seal(PROFILE_ID, &fields);
    s.store
        .write(move |c| {
            records::upsert(
                c,
                &Row {
                    id: PROFILE_ID.into(),
                    vendor_id: None,
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )
        })
        .await
        .map_err(ApiError::from)?;
    Ok(Json(Profile {
        updated_at: Some(now),
        fields,
    }))
}
