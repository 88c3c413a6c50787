//! The simulated vendors: each one the SDK's `Listener`, on its own connection, opening sealed
//! and notify announcements with its directory key, and a log of everything it was handed —
//! what it heard (ref, revision, event, whether it opened a box) and what the SDK dropped (with
//! the subject and `Nats-Msg-Id`), in arrival order, with the instant of receipt.
//!
//! It records and never judges: the oracle reads the logs once the run is over.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use carnet_market::keys::Identity;
use carnet_market::sdk::{Heard, ListenOptions, Listener, State};
use carnet_market::wire::announcement::msg_id;
use carnet_market::wire::{Event, IntentRef, announce_subject};
use tokio::sync::Notify;

/// What a vendor heard of one announcement the SDK accepted.
#[derive(Debug, Clone)]
pub struct HeardFacts {
    pub intent_ref: IntentRef,
    pub revision: u64,
    pub event: Event,
    /// It carried a box and this vendor's key opened it.
    pub opened: bool,
}

/// One message the vendor's listener handled.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub subject: String,
    pub msg_id: Option<String>,
    /// `Some` when the SDK accepted it; `None` when it dropped it (`reason` says why).
    pub heard: Option<HeardFacts>,
    pub reason: String,
    pub at: Instant,
}

/// One vendor's log.
#[derive(Debug, Default)]
pub struct Ear {
    pub receipts: Vec<Receipt>,
    /// Distinct `Nats-Msg-Id`s received.
    pub ids: HashSet<String>,
    /// Why its listener stopped before the run's end, if it did.
    pub stopped: Option<String>,
}

/// Every vendor's log, and a count of distinct receipts to wait on.
#[derive(Debug)]
pub struct Ears {
    pub logs: Vec<Mutex<Ear>>,
    pub distinct: AtomicUsize,
    pub notify: Notify,
}

impl Ears {
    pub fn new(vendors: usize) -> Ears {
        Ears {
            logs: (0..vendors).map(|_| Mutex::new(Ear::default())).collect(),
            distinct: AtomicUsize::new(0),
            notify: Notify::new(),
        }
    }

    fn record(&self, vendor: usize, receipt: Receipt) {
        let mut ear = self.logs[vendor].lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = &receipt.msg_id
            && ear.ids.insert(id.clone())
        {
            self.distinct.fetch_add(1, Ordering::Relaxed);
        }
        ear.receipts.push(receipt);
        drop(ear);
        self.notify.notify_waiters();
    }

    fn stopped(&self, vendor: usize, why: String) {
        let mut ear = self.logs[vendor].lock().unwrap_or_else(|p| p.into_inner());
        ear.stopped = Some(why);
    }

    /// Waits until `want` distinct receipts were recorded, or `deadline`; returns how many were.
    pub async fn wait_for(&self, want: usize, deadline: Instant) -> usize {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let have = self.distinct.load(Ordering::Relaxed);
            let left = deadline.saturating_duration_since(Instant::now());
            if have >= want || left.is_zero() {
                return have;
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

/// What one vendor's listener needs.
pub struct Listen {
    pub index: usize,
    pub options: ListenOptions,
    pub identity: Identity,
    pub state: PathBuf,
}

/// How long the relay waits for a vendor's acknowledgement before it delivers again.
pub const ACK_WAIT: Duration = Duration::from_secs(10);

/// Starts the vendor's durable consumers; returns once they exist, with the task that reads
/// them until `stop` changes, and then returns how many interruptions of the relay's stream the
/// SDK read past. An error from the SDK ends the listener, as it ends `carnet-vendor listen`:
/// it is logged, for the test to fail on.
pub async fn start(
    js: jetstream::Context,
    listen: Listen,
    ears: std::sync::Arc<Ears>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<u64> {
    let state = State::open(&listen.state).expect("a vendor's state directory");
    let mut listener = Listener::start(&js, &listen.options, state, |_| {})
        .await
        .unwrap_or_else(|e| panic!("vendor {} cannot listen: {e}", listen.options.vendor))
        .opening_with(listen.identity);
    let v = listen.index;
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                _ = stop.changed() => return listener.interruptions(),
                next = listener.next() => next,
            };
            let receipt = match next {
                Ok(Some(Heard::Intent(h))) => {
                    let a = &h.announcement;
                    Receipt {
                        subject: announce_subject(&a.category, &a.region),
                        msg_id: Some(msg_id(a)),
                        heard: Some(HeardFacts {
                            intent_ref: a.intent_ref.clone(),
                            revision: a.revision,
                            event: a.event,
                            opened: h.opened.is_some(),
                        }),
                        reason: String::new(),
                        at: Instant::now(),
                    }
                }
                Ok(Some(Heard::Dropped {
                    subject,
                    msg_id,
                    reason,
                })) => Receipt {
                    subject,
                    msg_id,
                    heard: None,
                    reason,
                    at: Instant::now(),
                },
                Ok(None) => {
                    ears.stopped(v, "the relay ended the listener's streams".into());
                    return listener.interruptions();
                }
                Err(e) => {
                    ears.stopped(v, format!("listener stopped: {e}"));
                    return listener.interruptions();
                }
            };
            ears.record(v, receipt);
        }
    })
}
