//! The one state every handler gets: store, keys, clock and settings, all behind `Arc`s.

use std::sync::Arc;

use carnet_schemas::{Id, IdKind, ids::ID_RANDOM_BYTES};
use chrono::{DateTime, SubsecRound, Utc};
use ring::rand::{SecureRandom, SystemRandom};

use crate::clock::Clock;
use crate::store::Store;
use crate::vault::{Keys, VaultPaths};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
    pub paths: Arc<VaultPaths>,
    rng: SystemRandom,
}

impl AppState {
    pub fn new(
        store: Arc<Store>,
        keys: Arc<Keys>,
        clock: Arc<dyn Clock>,
        paths: VaultPaths,
    ) -> Self {
        AppState {
            store,
            keys,
            clock,
            paths: Arc::new(paths),
            rng: SystemRandom::new(),
        }
    }

    /// The current time, to the millisecond (what the database keeps), so a response shows
    /// the same timestamps a later read will.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(3)
    }

    /// A fresh random id of kind `K`.
    pub fn new_id<K: IdKind>(&self) -> Id<K> {
        let mut bytes = [0u8; ID_RANDOM_BYTES];
        // The OS RNG does not fail on supported platforms.
        self.rng.fill(&mut bytes).expect("operating system RNG");
        Id::from_random(&bytes)
    }
}

impl AppState {
    /// Runs a longer read (one that opens many records) off the async workers.
    pub async fn blocking<T, F>(&self, f: F) -> crate::error::ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&AppState) -> crate::error::ApiResult<T> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|e| crate::error::ApiError::Internal(format!("read task failed: {e}")))?
    }
}
