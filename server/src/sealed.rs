//! The HTTP surface of the vault's life: `POST /v1/unlock` while sealed, the 503 every other
//! route answers then, and what unlocking and locking answer. The lifecycle itself is
//! `server.rs`, reached through `state::VaultControl`.

use crate::extract::Json;
use age::secrecy::SecretString;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use carnet_core::vault::{Secret, VaultError};
use carnet_schemas::{Health, HealthStatus};

use crate::state::{SealedState, UnlockError, VaultControl};

/// `POST /v1/unlock` while sealed.
pub(crate) async fn unlock_handler(
    State(l): State<SealedState>,
    crate::client_ip::ClientIp(client): crate::client_ip::ClientIp,
    headers: axum::http::HeaderMap,
    req: axum::extract::Request,
) -> Response {
    let body = crate::extract::object_body::<carnet_schemas::UnlockRequest, _>(req, &()).await;
    let secret = match body {
        Err(crate::extract::BodyRejection::NotAnObject(found)) => {
            return crate::extract::not_an_object_error(found).into_response();
        }
        Err(crate::extract::BodyRejection::Json(_)) => return crate::error::ApiError::bad_request(
            "the body must be JSON: {\"passphrase\": …} or {\"recovery_key\": …}, or {} for an identity vault",
            "`carnet unlock` sends it for you",
        )
        .into_response(),
        Ok(r) => match (r.passphrase, r.recovery_key) {
            (Some(p), None) => Secret::Passphrase(SecretString::from(p)),
            (None, Some(k)) => Secret::RecoveryKey(SecretString::from(k)),
            (None, None) => Secret::IdentityFile,
            (Some(_), Some(_)) => {
                return crate::error::ApiError::bad_request(
                    "give the passphrase or the recovery key, not both",
                    "`carnet unlock` asks for the passphrase; `--recovery-key-file` uses the recovery key",
                )
                .into_response();
            }
        },
    };
    let owner_token = crate::extract::bearer(&headers).ok();
    match l.control.unlock(secret, owner_token, client).await {
        Ok(()) => health(HealthStatus::Ok).into_response(),
        Err(e) => unlock_error(e),
    }
}

/// The health body: whether the vault is open, and this carnetd's version.
pub(crate) fn health(status: HealthStatus) -> Json<Health> {
    Json(Health {
        status,
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

pub(crate) fn unlock_error(e: UnlockError) -> Response {
    use crate::error::ApiError;
    let err = match e {
        UnlockError::AlreadyUnlocked => {
            ApiError::conflict("the vault is already unlocked", "nothing to do")
        }
        UnlockError::Wrong => ApiError::Unauthorized {
            detail: "wrong passphrase or recovery key".into(),
        },
        UnlockError::OwnerToken => ApiError::Unauthorized {
            detail: "an identity vault unlocks only with its owner token: send it as `Authorization: Bearer <token>` (`carnet unlock --identity` does)".into(),
        },
        UnlockError::TooSoon(wait) => ApiError::TooMany {
            what: "failed unlock attempts",
            retry_after: wait,
        },
        UnlockError::WrongKind(why) => {
            ApiError::bad_request(why, "`carnet unlock --help` shows the ways in")
        }
        UnlockError::Vault(VaultError::Generation(g)) => {
            tracing::error!(error = %g, "unlock refused: the vault stays sealed");
            ApiError::conflict(
                g.to_string(),
                "the vault stays sealed; carnetd's log says the same",
            )
        }
        // A passphrase that opens vault.key.age, over a carnet.db sealed under another key: a
        // restore with another vault's key files. The owner can act on it; a 500 hides why.
        UnlockError::Vault(e @ VaultError::KeyMismatch { .. }) => {
            tracing::error!(error = %e, "unlock refused: the key does not open carnet.db; the vault stays sealed");
            ApiError::conflict(
                format!("the vault stays sealed: {e}"),
                format!(
                    "the key files in the data directory are another vault's: put back the {} (and {}) kept with this carnet.db, or restore the backup these key files belong to (`carnetd restore --from FILE --force`)",
                    carnet_core::vault::KEY_FILE,
                    carnet_core::vault::RECOVERY_FILE
                ),
            )
        }
        UnlockError::Vault(v) => ApiError::Internal(v.to_string()),
    };
    err.into_response()
}

/// Everything else of the API while sealed: 503, before any authentication (the router
/// answers `/app/` in HTML instead, `routes::sealed_fallback`).
pub(crate) fn sealed() -> Response {
    let mut res = crate::error::ApiError::Sealed.into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    res
}

/// Seals from inside the API (`POST /v1/lock`).
pub(crate) async fn lock(control: &dyn VaultControl) -> Response {
    control.seal().await;
    health(HealthStatus::Sealed).into_response()
}
