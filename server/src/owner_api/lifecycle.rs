//! Sealing and unlocking, as the API documents them. While sealed, `POST /v1/unlock` is
//! answered by `sealed.rs` (there is no key, hence no API state); here, the vault is open.

use axum::extract::State;
use axum::response::Response;
use carnet_schemas::{Health, UnlockRequest};

use crate::extract::{Json, Owner};
use crate::sealed::unlock_error;
use crate::state::AppState;
use crate::state::UnlockError;

/// Unlock a sealed vault with its passphrase (or recovery key). An identity vault that was
/// locked takes `{}` and the owner token as `Authorization: Bearer` (its identity file is on
/// the server, so it proves nothing about the caller). Failed attempts slow the client
/// address down (1, 2, 4 … 60 s), never lock it out.
#[utoipa::path(post, path = "/v1/unlock", tag = "server", request_body = UnlockRequest,
    security((), ("owner" = [])),
    responses(
        (status = 200, description = "Unlocked", body = Health),
        (status = 401, description = "Wrong passphrase or recovery key; for an identity vault, a missing or wrong owner token", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 400, description = "The wrong kind of secret for this vault (not counted as a guess)", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already unlocked; or carnet.db is behind vault.generation (rolled back) and the vault stays sealed: the detail names both generations", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too soon after a failed attempt; see Retry-After", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn unlock(Json(_): Json<UnlockRequest>) -> Response {
    unlock_error(UnlockError::AlreadyUnlocked)
}

/// Seal the vault: its key leaves memory; until `carnet unlock`, every other call is 503.
#[utoipa::path(post, path = "/v1/lock", tag = "server",
    security(("owner" = [])),
    responses((status = 200, description = "Sealed", body = Health)))]
pub async fn lock(_: Owner, State(s): State<AppState>) -> Response {
    crate::sealed::lock(&*s.lifecycle).await
}
