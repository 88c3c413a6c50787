//! What each channel is told on one pass, from what is the case now and what the last pass
//! saw: a pure function, so its rules are tested without a clock, a store or a network.
//!
//! - A channel "at once" hears of each occurrence once, on the first pass that sees it (an
//!   occurrence is an event about one thing on one day: this promise late, due the 3rd; that
//!   offer waiting). One message per pass, one item per kind of event, counted.
//! - A channel on a digest hears, once a day at its hour (the owner's time zone) or on the
//!   first pass after it, of everything that is the case then: how many of each kind.

use std::collections::{BTreeMap, BTreeSet};

use carnet_schemas::{NotifyEvent, NotifyTiming};
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::notify::Route;

/// Something that is the case now and worth telling: `key` names the thing and its day (the
/// same occurrence has the same key on every pass), `date` is the day it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub event: NotifyEvent,
    pub key: String,
    pub date: NaiveDate,
}

/// What the scheduler remembers between passes (sealed in the vault's `meta`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// The keys of each kind of event seen by the last pass.
    pub seen: BTreeMap<NotifyEvent, BTreeSet<String>>,
    /// The day of each digest channel's last digest (owner's time zone).
    pub digests: BTreeMap<String, NaiveDate>,
}

/// One item of a planned message: `of` are the indices of its occurrences in what `plan` was
/// given (for the details a channel with `details` on is told).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedItem {
    pub event: NotifyEvent,
    pub date: NaiveDate,
    pub of: Vec<usize>,
}

/// A message to one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub channel_id: String,
    pub digest: bool,
    pub details: bool,
    pub items: Vec<PlannedItem>,
}

/// The messages of this pass and the memory to keep, from `now` (the owner's local time).
pub fn plan(
    routes: &[Route],
    memory: &Memory,
    current: &[Occurrence],
    now: NaiveDateTime,
) -> (Vec<Planned>, Memory) {
    let today = now.date();
    let mut by_event: BTreeMap<NotifyEvent, Vec<usize>> = BTreeMap::new();
    for (i, o) in current.iter().enumerate() {
        by_event.entry(o.event).or_default().push(i);
    }
    let fresh: BTreeMap<NotifyEvent, Vec<usize>> = by_event
        .iter()
        .map(|(event, all)| {
            let seen = memory.seen.get(event);
            let new = all
                .iter()
                .copied()
                .filter(|&i| seen.is_none_or(|s| !s.contains(&current[i].key)))
                .collect();
            (*event, new)
        })
        .collect();
    let items = |route: &Route, pick: &BTreeMap<NotifyEvent, Vec<usize>>| -> Vec<PlannedItem> {
        let mut wanted: Vec<NotifyEvent> = route.events.clone();
        wanted.sort_unstable();
        wanted.dedup();
        wanted
            .into_iter()
            .filter_map(|event| {
                let of = pick.get(&event).filter(|v| !v.is_empty())?.clone();
                let date = of.iter().map(|&i| current[i].date).min()?;
                Some(PlannedItem { event, date, of })
            })
            .collect()
    };
    let mut next = Memory {
        seen: by_event
            .iter()
            .map(|(e, all)| (*e, all.iter().map(|&i| current[i].key.clone()).collect()))
            .collect(),
        digests: BTreeMap::new(),
    };
    let mut out = Vec::new();
    for route in routes {
        let planned = |items: Vec<PlannedItem>, digest: bool| Planned {
            channel_id: route.channel_id.clone(),
            digest,
            details: route.details,
            items,
        };
        match route.timing {
            NotifyTiming::AtOnce => {
                let items = items(route, &fresh);
                if !items.is_empty() {
                    out.push(planned(items, false));
                }
            }
            NotifyTiming::Digest => {
                let last = memory.digests.get(&route.channel_id).copied();
                let due = now.hour() >= u32::from(route.digest_hour) && last < Some(today);
                if due {
                    let items = items(route, &by_event);
                    if !items.is_empty() {
                        out.push(planned(items, true));
                    }
                }
                if let Some(day) = if due { Some(today) } else { last } {
                    next.digests.insert(route.channel_id.clone(), day);
                }
            }
        }
    }
    (out, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn at(d: u32, h: u32) -> NaiveDateTime {
        day(d).and_hms_opt(h, 5, 0).unwrap()
    }

    fn route(id: &str, timing: NotifyTiming, hour: u8, events: &[NotifyEvent]) -> Route {
        Route {
            channel_id: id.into(),
            events: events.to_vec(),
            timing,
            digest_hour: hour,
            details: false,
        }
    }

    fn occ(event: NotifyEvent, key: &str, d: u32) -> Occurrence {
        Occurrence {
            event,
            key: key.into(),
            date: day(d),
        }
    }

    fn counts(p: &Planned) -> Vec<(NotifyEvent, usize, NaiveDate)> {
        p.items
            .iter()
            .map(|i| (i.event, i.of.len(), i.date))
            .collect()
    }

    #[test]
    fn at_once_tells_each_occurrence_once_counted_by_kind_and_only_the_kinds_it_takes() {
        let routes = [route(
            "nch_a",
            NotifyTiming::AtOnce,
            0,
            &[NotifyEvent::PromiseLate, NotifyEvent::OfferNew],
        )];
        let now = vec![
            occ(NotifyEvent::PromiseLate, "p1", 3),
            occ(NotifyEvent::PromiseLate, "p2", 1),
            occ(NotifyEvent::FollowupLate, "i1", 2),
        ];
        let (sent, memory) = plan(&routes, &Memory::default(), &now, at(7, 9));
        assert_eq!(sent.len(), 1);
        assert_eq!(counts(&sent[0]), [(NotifyEvent::PromiseLate, 2, day(1))]);
        assert!(!sent[0].digest);

        // The next pass sees the same: nothing to tell. A new one: only it.
        let (sent, memory) = plan(&routes, &memory, &now, at(7, 9));
        assert!(sent.is_empty());
        let mut later = now.clone();
        later.push(occ(NotifyEvent::OfferNew, "o1", 7));
        let (sent, memory) = plan(&routes, &memory, &later, at(7, 10));
        assert_eq!(counts(&sent[0]), [(NotifyEvent::OfferNew, 1, day(7))]);

        // Gone (kept), then back under the same key: told again.
        let (_, memory) = plan(&routes, &memory, &later[1..], at(7, 11));
        let (sent, _) = plan(&routes, &memory, &later, at(7, 12));
        assert_eq!(counts(&sent[0]), [(NotifyEvent::PromiseLate, 1, day(3))]);
    }

    #[test]
    fn a_digest_comes_once_a_day_at_its_hour_with_everything_that_is_the_case() {
        let routes = [route(
            "nch_d",
            NotifyTiming::Digest,
            8,
            &[NotifyEvent::FollowupLate, NotifyEvent::WarrantyEnding],
        )];
        let now = vec![
            occ(NotifyEvent::FollowupLate, "i1", 2),
            occ(NotifyEvent::FollowupLate, "i2", 5),
            occ(NotifyEvent::WarrantyEnding, "w1", 20),
            occ(NotifyEvent::OfferNew, "o1", 7),
        ];
        // Before the hour: nothing, and nothing remembered for the channel.
        let (sent, memory) = plan(&routes, &Memory::default(), &now, at(7, 7));
        assert!(sent.is_empty());
        assert!(memory.digests.is_empty());
        // At the hour: the counts of what it takes.
        let (sent, memory) = plan(&routes, &memory, &now, at(7, 8));
        assert_eq!(sent.len(), 1);
        assert!(sent[0].digest);
        assert_eq!(
            counts(&sent[0]),
            [
                (NotifyEvent::FollowupLate, 2, day(2)),
                (NotifyEvent::WarrantyEnding, 1, day(20)),
            ]
        );
        // Not twice the same day; again the next day, with the same (still the case) items.
        let (sent, memory) = plan(&routes, &memory, &now, at(7, 23));
        assert!(sent.is_empty());
        let (sent, memory) = plan(&routes, &memory, &now, at(8, 6));
        assert!(sent.is_empty());
        let (sent, _) = plan(&routes, &memory, &now, at(8, 9));
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn a_day_with_nothing_sends_no_digest_but_counts_as_done() {
        let routes = [route("nch_d", NotifyTiming::Digest, 8, &NotifyEvent::ALL)];
        let (sent, memory) = plan(&routes, &Memory::default(), &[], at(7, 8));
        assert!(sent.is_empty());
        assert_eq!(memory.digests.get("nch_d"), Some(&day(7)));
        // Something turns up later that day: the at-once channels hear of it, not the digest.
        let now = [occ(NotifyEvent::ConsentWaiting, "c1", 7)];
        let (sent, _) = plan(&routes, &memory, &now, at(7, 15));
        assert!(sent.is_empty());
    }

    #[test]
    fn memory_forgets_removed_channels_and_events_no_longer_the_case() {
        let routes = [route("nch_d", NotifyTiming::Digest, 0, &NotifyEvent::ALL)];
        let mut memory = Memory::default();
        memory.digests.insert("nch_gone".into(), day(1));
        memory
            .seen
            .insert(NotifyEvent::GrantExpiring, ["g1".to_owned()].into());
        let now = [occ(NotifyEvent::PromiseDue, "p1", 7)];
        let (_, next) = plan(&routes, &memory, &now, at(7, 1));
        assert_eq!(next.digests.keys().collect::<Vec<_>>(), ["nch_d"]);
        assert_eq!(
            next.seen.keys().copied().collect::<Vec<_>>(),
            [NotifyEvent::PromiseDue]
        );
    }

    #[test]
    fn channels_at_once_and_on_a_digest_are_told_apart_on_the_same_pass() {
        let mut loud = route("nch_a", NotifyTiming::AtOnce, 0, &NotifyEvent::ALL);
        loud.details = true;
        let routes = [
            loud,
            route("nch_d", NotifyTiming::Digest, 9, &NotifyEvent::ALL),
        ];
        let now = [occ(NotifyEvent::AccessLogFailed, "a:12", 7)];
        let (sent, _) = plan(&routes, &Memory::default(), &now, at(7, 9));
        assert_eq!(sent.len(), 2);
        assert!(sent[0].details && !sent[0].digest);
        assert!(!sent[1].details && sent[1].digest);
    }
}
