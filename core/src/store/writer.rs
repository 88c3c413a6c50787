//! The single writer. Writes queue on a channel; the writer thread takes everything queued,
//! runs each job inside its own savepoint of one transaction, commits once (one fsync for the
//! whole batch under `synchronous=FULL`), and only then answers each caller. A caller's
//! success therefore always means "committed".

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{Result, StoreError};

/// Upper bound on jobs in one transaction, so one batch cannot grow without limit.
const MAX_BATCH: usize = 512;

trait Job: Send {
    /// Runs the job's statements; `false` if it failed (its savepoint is rolled back).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the batch's fate is known.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct Pending<T, E, F> {
    f: Option<F>,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Job for Pending<T, E, F>
where
    T: Send,
    E: From<StoreError> + Send,
    F: FnOnce(&Connection) -> Result<T, E> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else { return false };
        let result = catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(StoreError::Commit("a write panicked".into()).into()));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let answer = match (commit, self.result) {
            (_, Some(Err(e))) => Err(e),
            (Ok(()), Some(Ok(v))) => Ok(v),
            (Err(e), _) => Err(StoreError::Commit(e).into()),
            (Ok(()), None) => Err(StoreError::Commit("write was not run".into()).into()),
        };
        // The caller may have gone away (client disconnected); the write stands regardless.
        let _ = self.reply.send(answer);
    }
}

pub struct Writer {
    queue: Mutex<Option<Sender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Jobs queued or running, not yet answered.
    backlog: Arc<AtomicUsize>,
}

impl Writer {
    pub fn start(conn: Connection) -> Writer {
        let (tx, rx) = channel();
        let backlog = Arc::new(AtomicUsize::new(0));
        let counted = backlog.clone();
        let thread = std::thread::Builder::new()
            .name("carnet-writer".into())
            .spawn(move || run(conn, rx, &counted))
            .ok();
        Writer {
            queue: Mutex::new(Some(tx)),
            thread: Mutex::new(thread),
            backlog,
        }
    }

    /// How many writes are queued or running.
    pub fn backlog(&self) -> usize {
        self.backlog.load(Ordering::Relaxed)
    }

    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let answer = self.submit(f)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Queues a write now (so it is ordered before anything queued later) and returns the
    /// receiver of its result.
    pub fn submit<T, E, F>(&self, f: F) -> Result<oneshot::Receiver<Result<T, E>>, StoreError>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            f: Some(f),
            result: None,
            reply,
        });
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let sender = queue.as_ref().ok_or(StoreError::WriterGone)?;
        // Counted before it can be taken, so the writer never counts down past zero.
        self.backlog.fetch_add(1, Ordering::Relaxed);
        if sender.send(job).is_err() {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::WriterGone);
        }
        Ok(answer)
    }

    /// Closes the queue and waits until everything already queued is committed.
    pub fn stop(&self) {
        drop(self.queue.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(conn: Connection, rx: Receiver<Box<dyn Job>>, backlog: &AtomicUsize) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let commit = run_batch(&conn, &mut batch);
        if let Err(e) = &commit {
            tracing::error!(error = %e, jobs = batch.len(), "write batch failed to commit");
        }
        // Counted out before the answers, so a caller who has its answer never sees its own
        // write still counted.
        backlog.fetch_sub(batch.len(), Ordering::Relaxed);
        for job in batch {
            job.finish(commit.clone());
        }
    }
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(error = %e, "final WAL checkpoint failed");
    }
}

fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), String> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string())?;
    for job in batch.iter_mut() {
        let step = conn.execute_batch("SAVEPOINT job").and_then(|()| {
            if job.run(conn) {
                conn.execute_batch("RELEASE job")
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")
            }
        });
        if let Err(e) = step {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.to_string());
        }
    }
    conn.execute_batch("COMMIT").map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        e.to_string()
    })
}
