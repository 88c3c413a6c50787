//! The one home of slow hashing: one hash at a time, off the async workers, with at most
//! `MAX_WAITING` callers waiting in each lane. A caller beyond that is refused at once
//! (429 with Retry-After) rather than queued, so a burst of sign-ins from many addresses
//! cannot grow the wait without end, and the owner's own lane (`PUT /v1/password`, with the
//! owner token) never waits behind more than the sign-ins' `MAX_WAITING` and the one hashing.

use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many may wait for the slot in each lane.
pub const MAX_WAITING: usize = 4;

/// What Retry-After says when a lane is full: a few hashes' time.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Who is waiting: anybody signing in, or the owner (authenticated by the owner token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    SignIn,
    Owner,
}

impl Lane {
    fn index(self) -> usize {
        match self {
            Lane::SignIn => 0,
            Lane::Owner => 1,
        }
    }
}

/// Why a hash was not run.
#[derive(Debug)]
pub enum Refused {
    /// The lane is full: try again after this many seconds.
    Busy { retry_after: u64 },
    /// The hashing task failed (it panicked).
    Failed(String),
}

pub struct SlowHashes {
    slot: Arc<Semaphore>,
    waiting: Mutex<[usize; 2]>,
    changed: Condvar,
}

impl Default for SlowHashes {
    fn default() -> Self {
        SlowHashes {
            slot: Arc::new(Semaphore::new(1)),
            waiting: Mutex::new([0; 2]),
            changed: Condvar::new(),
        }
    }
}

/// The slot, taken by a test or tool until dropped (see `SlowHashes::hold`).
pub struct Held {
    _slot: OwnedSemaphorePermit,
}

/// A place in a lane, given back when dropped (the slot was taken, or the caller went away).
struct Place<'a> {
    queue: &'a SlowHashes,
    lane: Lane,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.queue.update(|w| w[self.lane.index()] -= 1);
    }
}

impl SlowHashes {
    /// Runs `f` (a slow hash) on a blocking thread once the slot is free, or refuses at once
    /// when `lane` already has `MAX_WAITING` waiting. The slot stays taken until `f` returns,
    /// even if the caller goes away meanwhile.
    pub async fn run<T, F>(&self, lane: Lane, f: F) -> Result<T, Refused>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let place = self.enter(lane)?;
        let slot = self
            .slot
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Refused::Failed(e.to_string()))?;
        drop(place);
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            f()
        })
        .await
        .map_err(|e| Refused::Failed(e.to_string()))
    }

    fn enter(&self, lane: Lane) -> Result<Place<'_>, Refused> {
        let mut admitted = false;
        self.update(|w| {
            let n = &mut w[lane.index()];
            if *n < MAX_WAITING {
                *n += 1;
                admitted = true;
            }
        });
        if admitted {
            Ok(Place { queue: self, lane })
        } else {
            Err(Refused::Busy {
                retry_after: RETRY_AFTER_SECONDS,
            })
        }
    }

    fn update(&self, f: impl FnOnce(&mut [usize; 2])) {
        let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut w);
        self.changed.notify_all();
    }

    /// How many wait in `lane` now.
    pub fn waiting(&self, lane: Lane) -> usize {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())[lane.index()]
    }

    /// Blocks this (non-async) thread until `lane` has `n` waiting: tests use it to know a
    /// request has reached the queue without sleeping.
    pub fn block_until_waiting(&self, lane: Lane, n: usize) {
        let w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let _w = self
            .changed
            .wait_while(w, |w| w[lane.index()] != n)
            .unwrap_or_else(|p| p.into_inner());
    }

    /// Takes the slot if it is free, until the returned `Held` is dropped: a test holds it to
    /// fill the queue deterministically.
    pub fn hold(&self) -> Option<Held> {
        self.slot
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|p| Held { _slot: p })
    }
}
