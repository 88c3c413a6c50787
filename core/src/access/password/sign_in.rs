//! Signing the owner in with the web password: the per-address limiter first, then the stored
//! hash's limits (computing nothing for one that asks too much), then the hash, through the
//! one queue. A right password under an old hash (PBKDF2, or other Argon2 costs) is rehashed
//! to what carnetd writes now, in the same turn of the queue.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::{Lane, Refused, SignInAttempts, SlowHashes, Verdict, WEB_PASSWORD};
use crate::store::{Store, StoreError, records};

/// The outcome of a sign-in, for the page to say.
#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    Yes,
    /// A wrong password, or none set (one answer for both).
    No,
    /// This address has tried too often: wait this many seconds.
    TooManyAttempts(u64),
    /// Too many sign-ins are waiting for the hash: try again after this many seconds.
    Busy(u64),
    /// The stored hash is refused (see the log): the owner must set the password again.
    MustBeSetAgain,
}

/// What the hashing thread found; `Right` carries the new hash when the old one is rehashed.
enum Checked {
    Wrong,
    Right(Option<String>),
    Unusable,
}

/// Signs in from `client` with `password`.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    store: &Store,
    attempts: &SignInAttempts,
    queue: &SlowHashes,
    client: IpAddr,
    now: DateTime<Utc>,
    password: Zeroizing<String>,
) -> SignIn {
    if let Err(wait) = attempts.take(client, now) {
        return SignIn::TooManyAttempts(wait);
    }
    let stored = match store.read(|c| records::meta_get(c, WEB_PASSWORD)) {
        Ok(Some(bytes)) => String::from_utf8(bytes).unwrap_or_default(),
        Ok(None) => return SignIn::No,
        Err(e) => {
            tracing::error!(error = %e, "the web password's hash could not be read");
            return SignIn::No;
        }
    };
    if let Err(e) = super::check(&stored) {
        tracing::warn!(
            reason = %e,
            "the stored web password hash is refused and never computed: set the password again with `carnet password set`"
        );
        return SignIn::MustBeSetAgain;
    }
    let checked = {
        let stored = stored.clone();
        queue
            .run(Lane::SignIn, move || {
                match super::verify(&stored, &password) {
                    Ok(Verdict::Right { rehash }) => {
                        Checked::Right(rehash.then(|| super::hash(&password)))
                    }
                    Ok(Verdict::Wrong) => Checked::Wrong,
                    // Checked above; only a row changed in between lands here.
                    Err(_) => Checked::Unusable,
                }
            })
            .await
    };
    let rehashed = match checked {
        Ok(Checked::Right(rehashed)) => rehashed,
        Ok(Checked::Wrong) => return SignIn::No,
        Ok(Checked::Unusable) => return SignIn::MustBeSetAgain,
        Err(Refused::Busy { retry_after }) => return SignIn::Busy(retry_after),
        Err(Refused::Failed(e)) => {
            tracing::error!(error = %e, "the web password check failed");
            return SignIn::No;
        }
    };
    if let Some(new) = rehashed {
        let replaced = store
            .write(move |c| -> Result<bool, StoreError> {
                // Only the hash just verified is replaced: a password set meanwhile stays.
                let now = records::meta_get(c, WEB_PASSWORD)?;
                if now.as_deref() != Some(stored.as_bytes()) {
                    return Ok(false);
                }
                records::meta_put(c, WEB_PASSWORD, new.as_bytes())?;
                Ok(true)
            })
            .await;
        match replaced {
            Ok(true) => tracing::info!("the web password's hash was upgraded to Argon2id"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "the web password's hash could not be upgraded"),
        }
    }
    SignIn::Yes
}
