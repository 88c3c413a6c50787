//! The ledger index: what the owner's listings, follow-ups and search need to know of every
//! record — kind, id, vendor, sort keys, channel, due dates, words — held in memory only,
//! never written anywhere. Built after unlock on a thread of its own (`/healthz` and the rest
//! answer meanwhile; a listing that needs it waits for the build), then kept up to date by
//! every write: a service hands its changes (`Op`s) to `LedgerIndex::write`, which applies
//! them inside the write's transaction, so in the order the database commits them. Changes
//! made while the index builds are queued and replayed over what the build read (replaying a
//! change already read is harmless: each says what a record now is). A write whose batch
//! then fails to commit makes the index build again.

mod data;
mod documents;
pub mod item;
mod moment;
mod rank;
#[cfg(test)]
mod tests;
pub mod text;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;

pub use data::{Data, Filter, Hit, Tally};
pub use item::{DocumentFacts, Item, Key, Op, RecordKind, Rid, id_of, instant, rid};
pub use moment::Moment;

use super::LedgerError;
use crate::crypto::{Keys, Unreadable};
use crate::store::{Store, StoreError};

/// Reads every record of the ledger and hands each to `sink` as an `Op::Put`, vendors first;
/// stops early when `sink` says `false` (the index was dropped).
pub type Loader = Arc<
    dyn Fn(&Connection, &Keys, &mut dyn FnMut(Op) -> bool) -> Result<(), LedgerError> + Send + Sync,
>;

/// Why the build could not read the ledger (kept to answer every read with it).
#[derive(Debug, Clone)]
enum Failure {
    /// A row that does not open: reads answer it as it is, naming the row.
    Unreadable(Unreadable),
    Other(String),
}

enum State {
    /// Building; the changes committed meanwhile, in order.
    Building(Vec<Op>),
    Ready(Box<Data>),
    /// The build could not read the ledger (why).
    Failed(Failure),
}

/// What `/metrics` shows of the index.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexStats {
    pub records: usize,
    pub bytes: usize,
    /// The last build's duration (0 before the first ends).
    pub build_seconds: f64,
}

/// How long a read waits for the build after unlock before it gives up with `Warming`.
pub const WAIT_FOR_BUILD: Duration = Duration::from_secs(10);

pub struct LedgerIndex {
    state: RwLock<State>,
    /// Counts builds ended; waiters sleep on it.
    ended: Mutex<u64>,
    changed: Condvar,
    store: Arc<Store>,
    keys: Arc<Keys>,
    load: Loader,
    /// The build whose result counts (a rebuild outdates the one running).
    generation: AtomicU64,
    build_nanos: AtomicU64,
}

impl LedgerIndex {
    /// An index of the ledger in `store`, building from now on.
    pub fn start(store: Arc<Store>, keys: Arc<Keys>, load: Loader) -> Arc<LedgerIndex> {
        let index = Arc::new(LedgerIndex {
            state: RwLock::new(State::Building(Vec::new())),
            ended: Mutex::new(0),
            changed: Condvar::new(),
            store,
            keys,
            load,
            generation: AtomicU64::new(0),
            build_nanos: AtomicU64::new(0),
        });
        index.spawn_build();
        index
    }

    /// Drops what the index holds and builds it again (after a write it was told of failed
    /// to commit).
    pub fn rebuild(self: &Arc<Self>) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = State::Building(Vec::new());
        self.spawn_build();
    }

    fn spawn_build(self: &Arc<Self>) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("carnet-index".into())
            .spawn(move || build(&weak, generation));
        if let Err(e) = spawned {
            self.end_build(
                generation,
                Err(LedgerError::Store(StoreError::Task(format!(
                    "cannot start the index build: {e}"
                )))),
            );
        }
    }

    fn end_build(&self, generation: u64, result: Result<Data, LedgerError>) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        *state = match result {
            Ok(mut data) => {
                if let State::Building(pending) =
                    std::mem::replace(&mut *state, State::Failed(Failure::Other(String::new())))
                {
                    for op in pending {
                        data.apply(op);
                    }
                }
                State::Ready(Box::new(data))
            }
            Err(e) => {
                tracing::error!(error = %e, "the ledger index could not be built: listings and search fail until the vault is unlocked again");
                State::Failed(match e {
                    LedgerError::Unreadable(u) => Failure::Unreadable(u),
                    other => Failure::Other(other.to_string()),
                })
            }
        };
        drop(state);
        *self.ended.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.changed.notify_all();
    }

    /// Applies changes the database is committing (in commit order).
    pub fn apply(&self, ops: Vec<Op>) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        match &mut *state {
            State::Building(pending) => pending.extend(ops),
            State::Ready(data) => {
                for op in ops {
                    data.apply(op);
                }
            }
            State::Failed(_) => {}
        }
    }

    /// `f` as a job for the writer that hands its changes to the index inside the
    /// transaction, and the flag that says it did.
    fn applying<T, E, F>(
        self: &Arc<Self>,
        f: F,
    ) -> (
        impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        Arc<AtomicBool>,
    )
    where
        F: FnOnce(&Connection) -> Result<(T, Vec<Op>), E> + Send + 'static,
    {
        let (index, applied) = (self.clone(), Arc::new(AtomicBool::new(false)));
        let flag = applied.clone();
        let job = move |c: &Connection| {
            let (answer, ops) = f(c)?;
            index.apply(ops);
            flag.store(true, Ordering::SeqCst);
            Ok(answer)
        };
        (job, applied)
    }

    /// After a write: told of a change that did not commit, start again from the database.
    fn settle<T, E>(self: &Arc<Self>, result: &Result<T, E>, applied: &AtomicBool) {
        if result.is_err() && applied.load(Ordering::SeqCst) {
            self.rebuild();
        }
    }

    /// Runs a write whose closure returns its answer and the changes it made to the ledger;
    /// the changes reach the index in the transaction, in commit order.
    pub async fn write<T, E, F>(self: &Arc<Self>, store: &Store, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<Op>), E> + Send + 'static,
    {
        let (job, applied) = self.applying(f);
        let result = store.write(job).await;
        self.settle(&result, &applied);
        result
    }

    /// `write`, from a blocking thread (a document's upload runs on one): waits for the commit.
    pub fn write_blocking<T, F>(self: &Arc<Self>, store: &Store, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<Op>), StoreError> + Send + 'static,
    {
        let (job, applied) = self.applying(f);
        let result = store
            .submit(job)
            .and_then(|reply| reply.blocking_recv().map_err(|_| StoreError::WriterGone)?);
        self.settle(&result, &applied);
        result
    }

    /// Reads the index, waiting for its build to end if it is building, but no longer than
    /// `WAIT_FOR_BUILD` (then `Warming`: the caller answers "try again shortly" instead of
    /// holding a request until its timeout). Blocks: call it off the async workers.
    pub fn read<T>(&self, f: impl FnOnce(&Data) -> T) -> Result<T, LedgerError> {
        self.read_within(WAIT_FOR_BUILD, f)
    }

    /// `read`, waiting at most `wait` for the build.
    pub fn read_within<T>(
        &self,
        wait: Duration,
        f: impl FnOnce(&Data) -> T,
    ) -> Result<T, LedgerError> {
        let deadline = Instant::now() + wait;
        loop {
            {
                let state = self.state.read().unwrap_or_else(|p| p.into_inner());
                match &*state {
                    State::Ready(data) => return Ok(f(data)),
                    State::Failed(Failure::Unreadable(u)) => {
                        return Err(LedgerError::Unreadable(u.clone()));
                    }
                    State::Failed(Failure::Other(e)) => {
                        return Err(LedgerError::Store(StoreError::Task(e.clone())));
                    }
                    State::Building(_) => {}
                }
            }
            let ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
            if self.is_building() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(LedgerError::Warming);
                }
                drop(
                    self.changed
                        .wait_timeout(ended, left)
                        .unwrap_or_else(|p| p.into_inner()),
                );
            }
        }
    }

    fn is_building(&self) -> bool {
        matches!(
            *self.state.read().unwrap_or_else(|p| p.into_inner()),
            State::Building(_)
        )
    }

    /// Its size and last build time, without waiting (zeros while it builds).
    pub fn stats(&self) -> IndexStats {
        let build_seconds = self.build_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        match self.state.try_read().as_deref() {
            Ok(State::Ready(data)) => IndexStats {
                records: data.records(),
                bytes: data.heap_bytes(),
                build_seconds,
            },
            _ => IndexStats {
                build_seconds,
                ..IndexStats::default()
            },
        }
    }
}

fn build(weak: &Weak<LedgerIndex>, generation: u64) {
    let Some(index) = weak.upgrade() else { return };
    let (store, keys, load) = (index.store.clone(), index.keys.clone(), index.load.clone());
    drop(index);
    let started = Instant::now();
    let mut data = Data::default();
    let mut n = 0u64;
    let result = store
        .read(|c| {
            load(c, &keys, &mut |op| {
                data.apply(op);
                n += 1;
                // Stop early once nobody holds the index any more (the vault was sealed).
                !n.is_multiple_of(4096) || weak.strong_count() > 0
            })
        })
        .map(|()| data);
    let Some(index) = weak.upgrade() else { return };
    let took = started.elapsed();
    index.build_nanos.store(
        u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    tracing::info!(
        records = n,
        seconds = took.as_secs_f64(),
        "ledger index built"
    );
    index.end_build(generation, result);
}
