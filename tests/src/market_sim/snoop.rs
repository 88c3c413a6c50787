//! Vendors as attackers on the transport: a few vendors subscribe, on their own credentials and
//! with plain NATS (no JetStream, no SDK), to every announcement (`icast.v1.>`) and to
//! categories they are not registered for — and, as a control, to one they are. What each
//! subscription is handed while the run republishes messages is counted: the forbidden ones
//! must get nothing, the control everything of its category (else the check proved nothing).
//!
//! It only counts; the test judges.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::Notify;

use super::relay::Access;
use super::world::World;

/// One snooping vendor's subscriptions and what they were handed.
#[derive(Debug)]
pub struct Snoop {
    pub vendor: usize,
    /// The subjects it may not read.
    pub forbidden: Vec<String>,
    /// Its own category (an index into `World::categories`), the control.
    pub control: usize,
    pub forbidden_got: AtomicUsize,
    pub control_got: AtomicUsize,
}

/// The snooping vendors, and a signal each time one is handed something.
pub struct Snoops {
    pub all: Vec<Arc<Snoop>>,
    pub notify: Arc<Notify>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Subscribes `count` vendors (spread over the directory); returns once the relay has their
/// subscriptions (a flush after them).
pub async fn start(access: &Access, world: &World, count: usize) -> Snoops {
    let notify = Arc::new(Notify::new());
    let mut all = Vec::new();
    let mut tasks = Vec::new();
    let step = (world.vendors.len() / count.max(1)).max(1);
    for v in (0..world.vendors.len()).step_by(step).take(count) {
        let mine = &world.vendors[v].categories;
        let mut forbidden = vec!["icast.v1.>".to_owned()];
        forbidden.extend(
            (0..world.categories.len())
                .filter(|c| !mine.contains(c))
                .step_by(7)
                .map(|c| format!("icast.v1.{}.>", world.categories[c])),
        );
        let snoop = Arc::new(Snoop {
            vendor: v,
            forbidden,
            control: mine[0],
            forbidden_got: AtomicUsize::new(0),
            control_got: AtomicUsize::new(0),
        });
        let client = access.vendor(v).await;
        let control = format!("icast.v1.{}.>", world.categories[snoop.control]);
        let mut subs = vec![(
            true,
            client.subscribe(control).await.expect("a subscription"),
        )];
        for subject in &snoop.forbidden {
            // Refused by the relay (a permissions violation), or not: either way, counted.
            if let Ok(sub) = client.subscribe(subject.clone()).await {
                subs.push((false, sub));
            }
        }
        client
            .flush()
            .await
            .expect("the subscriptions reach the relay");
        for (is_control, mut sub) in subs {
            let (snoop, notify) = (snoop.clone(), notify.clone());
            tasks.push(tokio::spawn(async move {
                while sub.next().await.is_some() {
                    let counter = match is_control {
                        true => &snoop.control_got,
                        false => &snoop.forbidden_got,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    notify.notify_waiters();
                }
            }));
        }
        all.push(snoop);
    }
    Snoops { all, notify, tasks }
}

impl Snoops {
    /// Waits until each snoop's control has `want(snoop)` messages, or `deadline`.
    pub async fn wait_for(&self, want: impl Fn(&Snoop) -> usize, deadline: Instant) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let done = self
                .all
                .iter()
                .all(|s| s.control_got.load(Ordering::Relaxed) >= want(s));
            let left = deadline.saturating_duration_since(Instant::now());
            if done || left.is_zero() {
                return;
            }
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// Stops reading.
    pub fn stop(self) -> Vec<Arc<Snoop>> {
        for t in self.tasks {
            t.abort();
        }
        self.all
    }
}
