//! The connections carnetd holds, each in one of three phases — waiting for a request's
//! headers, serving a request, or idle between requests — and since when. At the cap, room is
//! made by evicting the connection that has waited longest for its headers, else the one idle
//! longest; a connection serving a request is never evicted. Never decides anything from what
//! a client says beyond the fact that it sent bytes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepted, or sent the first bytes of its next request: its headers are due.
    Head,
    /// A request's headers arrived and its response is not finished.
    Busy,
    /// Between requests on a kept-alive connection, nothing received yet.
    Idle,
}

#[derive(Debug)]
struct Now {
    phase: Phase,
    since: Instant,
    in_flight: usize,
}

/// One connection's phase, and how its task is told to close it.
#[derive(Debug)]
pub struct Slot {
    id: u64,
    now: Mutex<Now>,
    /// Woken when the phase changes, once [`Slot::watch`] was called (a connection closing
    /// waits for its request to end). Not before: that would wake the connection's task
    /// three times per request for deadlines it can read when it wakes anyway.
    pub changed: Notify,
    watched: AtomicBool,
    /// Woken when the connection was evicted to make room.
    pub evicted: Notify,
}

impl Slot {
    fn new(id: u64) -> Slot {
        Slot {
            id,
            now: Mutex::new(Now {
                phase: Phase::Head,
                since: Instant::now(),
                in_flight: 0,
            }),
            changed: Notify::new(),
            watched: AtomicBool::new(false),
            evicted: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Now> {
        self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, now: &mut Now, phase: Phase) {
        if now.phase != phase {
            now.phase = phase;
            now.since = Instant::now();
            if self.watched.load(Ordering::Acquire) {
                self.changed.notify_one();
            }
        }
    }

    /// From now on, every phase change wakes `changed` (a permit is kept if nobody waits).
    pub fn watch(&self) {
        self.watched.store(true, Ordering::Release);
    }

    /// Bytes arrived: on an idle connection, the next request has begun, and its headers are
    /// due from now.
    pub fn received(&self) {
        let mut now = self.lock();
        if now.phase == Phase::Idle {
            self.set(&mut now, Phase::Head);
        }
    }

    /// A request's headers were read; it is being served.
    pub fn request_started(&self) {
        let mut now = self.lock();
        now.in_flight += 1;
        self.set(&mut now, Phase::Busy);
    }

    /// A response was written (or dropped): idle again once nothing else is in flight.
    pub fn request_ended(&self) {
        let mut now = self.lock();
        now.in_flight = now.in_flight.saturating_sub(1);
        if now.in_flight == 0 {
            self.set(&mut now, Phase::Idle);
        }
    }

    pub fn phase(&self) -> (Phase, Instant) {
        let now = self.lock();
        (now.phase, now.since)
    }

    /// When the connection must be closed if nothing changes: `header` after it started
    /// waiting for headers, `idle` after it went idle; never while it serves a request.
    pub fn deadline(&self, header: Duration, idle: Duration) -> Option<Instant> {
        match self.phase() {
            (Phase::Head, since) => Some(since + header),
            (Phase::Idle, since) => Some(since + idle),
            (Phase::Busy, _) => None,
        }
    }
}

/// Every connection carnetd holds.
#[derive(Debug, Default)]
pub struct Slots {
    all: Mutex<HashMap<u64, Arc<Slot>>>,
    next: AtomicU64,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Slot>>> {
        self.all.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes in a new connection, first evicting one if `cap` are held. `None` when every
    /// held connection is serving a request: the new one is then closed instead.
    pub fn admit(&self, cap: usize) -> Option<Arc<Slot>> {
        let mut all = self.lock();
        while all.len() >= cap.max(1) {
            if !Self::evict_from(&mut all) {
                return None;
            }
        }
        let slot = Arc::new(Slot::new(self.next.fetch_add(1, Ordering::Relaxed)));
        all.insert(slot.id, slot.clone());
        Some(slot)
    }

    /// Evicts one connection (the longest waiting for headers, else the longest idle), to
    /// free a file descriptor. False if every connection is serving a request.
    pub fn evict_one(&self) -> bool {
        Self::evict_from(&mut self.lock())
    }

    fn evict_from(all: &mut HashMap<u64, Arc<Slot>>) -> bool {
        let victim = all
            .values()
            .filter_map(|s| match s.phase() {
                (Phase::Head, since) => Some(((0, since), s.id)),
                (Phase::Idle, since) => Some(((1, since), s.id)),
                (Phase::Busy, _) => None,
            })
            .min()
            .map(|(_, id)| id);
        match victim.and_then(|id| all.remove(&id)) {
            Some(slot) => {
                slot.evicted.notify_one();
                true
            }
            None => false,
        }
    }

    /// The connection closed.
    pub fn remove(&self, slot: &Slot) {
        self.lock().remove(&slot.id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evicted: no longer held (its task was told to close it).
    fn gone(slots: &Slots, s: &Slot) -> bool {
        !slots.lock().contains_key(&s.id)
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_cap_the_longest_waiting_for_headers_goes_first_then_the_longest_idle() {
        let slots = Slots::default();
        let idle_old = slots.admit(4).unwrap();
        idle_old.request_started();
        idle_old.request_ended();
        tokio::time::advance(Duration::from_secs(1)).await;
        let head_old = slots.admit(4).unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        let busy = slots.admit(4).unwrap();
        busy.request_started();
        let head_new = slots.admit(4).unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;

        let first = slots.admit(4).unwrap();
        assert!(
            gone(&slots, &head_old),
            "the longest waiting for its headers"
        );
        assert!(!gone(&slots, &idle_old) && !gone(&slots, &busy) && !gone(&slots, &head_new));
        // `first` (newest) and `head_new` wait for headers: the older of them goes.
        let second = slots.admit(4).unwrap();
        assert!(gone(&slots, &head_new));
        first.request_started();
        let third = slots.admit(4).unwrap();
        assert!(gone(&slots, &second), "headers before idle");
        let fourth = slots.admit(4).unwrap();
        assert!(gone(&slots, &third));
        // Nobody waits for headers any more: the idle one goes, the busy ones stay.
        fourth.request_started();
        let _fifth = slots.admit(4).unwrap();
        assert!(gone(&slots, &idle_old), "then the longest idle");
        assert!(!gone(&slots, &busy) && !gone(&slots, &first) && !gone(&slots, &fourth));
        assert_eq!(slots.len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_serving_a_request_is_never_evicted() {
        let slots = Slots::default();
        let a = slots.admit(2).unwrap();
        let b = slots.admit(2).unwrap();
        a.request_started();
        b.request_started();
        assert!(slots.admit(2).is_none(), "the newcomer is refused instead");
        assert!(!slots.evict_one());
        b.request_ended();
        assert!(slots.admit(2).is_some(), "an idle one makes room");
        assert!(gone(&slots, &b) && !gone(&slots, &a));
    }

    #[tokio::test(start_paused = true)]
    async fn the_header_deadline_starts_with_the_first_byte_after_idling() {
        let (header, idle) = (Duration::from_secs(10), Duration::from_secs(60));
        let slots = Slots::default();
        let s = slots.admit(8).unwrap();
        let t0 = Instant::now();
        assert_eq!(s.deadline(header, idle), Some(t0 + header));
        s.received();
        assert_eq!(
            s.deadline(header, idle),
            Some(t0 + header),
            "dripping buys no time"
        );
        s.request_started();
        assert_eq!(s.deadline(header, idle), None);
        tokio::time::advance(Duration::from_secs(5)).await;
        s.request_ended();
        assert_eq!(
            s.deadline(header, idle),
            Some(t0 + Duration::from_secs(5) + idle)
        );
        tokio::time::advance(Duration::from_secs(7)).await;
        s.received();
        assert_eq!(s.deadline(header, idle), Some(Instant::now() + header));
    }
}
