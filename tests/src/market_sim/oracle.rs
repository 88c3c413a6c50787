//! The oracle: the promises judged from the generated grants (with the phase each
//! revoked one ended in), the publications the relay acknowledged, and every vendor's log.
//! Each check returns the broken cases, each naming the vendor and the intent, so a failing
//! assertion says what broke.
//!
//! It recomputes who was entitled from the grants themselves, never from the recipients a
//! vault chose, so a vault that chose wrongly is caught too.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use carnet_market::wire::announcement::Level;
use carnet_market::wire::{ANNOUNCE_PREFIX, IntentRef};

use super::vault::Published;
use super::vendor::Receipt;
use super::world::{SimVault, World};

/// Everything a run left for the oracle.
pub struct Evidence<'a> {
    pub world: &'a World,
    pub vaults: &'a [SimVault],
    pub published: &'a [Published],
    /// Each vendor's receipts, in arrival order.
    pub receipts: &'a [Vec<Receipt>],
    /// When nats-server was killed, if it was.
    pub killed_at: Option<Instant>,
}

/// The broken cases of one promise (at most `MAX_SHOWN` kept) and how many cases were checked.
#[derive(Debug, Default)]
pub struct Verdict {
    pub checked: usize,
    pub broken: Vec<String>,
    pub broken_count: usize,
}

const MAX_SHOWN: usize = 20;

impl Verdict {
    fn check(&mut self, ok: bool, why: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.broken_count += 1;
            if self.broken.len() < MAX_SHOWN {
                self.broken.push(why());
            }
        }
    }

    /// Panics with the broken cases, if any, or when nothing was checked (a promise that held
    /// vacuously proves nothing).
    pub fn assert_holds(&self, promise: &str) {
        assert!(self.checked > 0, "{promise}: no case to check");
        assert!(
            self.broken_count == 0,
            "{promise}: {} of {} cases broken, e.g.:\n  {}",
            self.broken_count,
            self.checked,
            self.broken.join("\n  ")
        );
    }
}

impl Evidence<'_> {
    fn by_id(&self) -> HashMap<&str, &Published> {
        self.published
            .iter()
            .map(|p| (p.msg_id.as_str(), p))
            .collect()
    }

    fn vendor(&self, v: usize) -> &str {
        self.world.vendors[v].id.as_str()
    }

    /// Who the grants entitled to intent `p` at its phase: a grant covering its category, not
    /// revoked in that phase or before.
    fn entitled(&self, p: &Published) -> Vec<usize> {
        let mut out: Vec<usize> = self.vaults[p.vault]
            .grants
            .iter()
            .filter(|g| {
                g.categories.contains(&p.category)
                    && g.revoked_in.is_none_or(|r| r > p.phase as usize)
            })
            .map(|g| g.vendor)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// 1. No vendor opened a box it was not entitled to, and no vendor was handed a subject
    ///    outside its registered categories; every box went to exactly the entitled vendors.
    pub fn opened_only_when_granted(&self) -> Verdict {
        let by_id = self.by_id();
        let mut verdict = Verdict::default();
        for p in self.published {
            if matches!(p.level, Level::Sealed | Level::Notify) && !p.event.is_terminal() {
                let want = self.entitled(p);
                verdict.check(p.recipients == want, || {
                    format!(
                        "{} went to {:?}, the grants entitle {:?}",
                        p.msg_id, p.recipients, want
                    )
                });
            }
        }
        for (v, receipts) in self.receipts.iter().enumerate() {
            let mine: Vec<String> = self.world.vendors[v]
                .categories
                .iter()
                .map(|&c| format!("{ANNOUNCE_PREFIX}.{}.", self.world.categories[c]))
                .collect();
            for r in receipts {
                verdict.check(mine.iter().any(|m| r.subject.starts_with(m)), || {
                    format!(
                        "vendor {} was handed {} outside its categories",
                        self.vendor(v),
                        r.subject
                    )
                });
                let Some(h) = r.heard.as_ref().filter(|h| h.opened) else {
                    continue;
                };
                let id = r.msg_id.as_deref().unwrap_or_default();
                let entitled = by_id.get(id).map(|p| self.entitled(p));
                verdict.check(entitled.is_some_and(|e| e.contains(&v)), || {
                    format!(
                        "vendor {} opened {} (intent {} rev {}) without a grant",
                        self.vendor(v),
                        id,
                        h.intent_ref,
                        h.revision
                    )
                });
            }
        }
        verdict
    }

    /// 2. Every live intent (published, not ended) was heard at its latest revision by every
    ///    vendor entitled to it: at `announce` every vendor registered in its category, at
    ///    `sealed` and `notify` every recipient, with the box opened.
    pub fn entitled_vendors_heard_live_intents(&self) -> Verdict {
        let mut latest: HashMap<&IntentRef, &Published> = HashMap::new();
        for p in self.published {
            let e = latest.entry(&p.intent_ref).or_insert(p);
            if p.revision > e.revision {
                *e = p;
            }
        }
        let heard = self.heard_index();
        let mut verdict = Verdict::default();
        for p in latest.values().filter(|p| !p.event.is_terminal()) {
            let (who, opened) = match p.level {
                Level::Announce => (self.world.registered(p.category), false),
                Level::Sealed | Level::Notify => (self.entitled(p), true),
            };
            for v in who {
                let got = heard.get(&(v, p.msg_id.as_str()));
                verdict.check(got.is_some_and(|&o| o == opened), || {
                    format!(
                        "vendor {} did not hear live intent {} ({:?}) at revision {}{}",
                        self.vendor(v),
                        p.intent_ref,
                        p.level,
                        p.revision,
                        if got.is_some() { " opened" } else { "" }
                    )
                });
            }
        }
        verdict
    }

    /// 3. (with the republishing, checked where it happens) No vendor heard one revision twice,
    ///    and the revisions it heard of an intent only ever grow.
    /// 4. A terminal event is the last thing a vendor heard of an intent, and a vendor that
    ///    heard an announce-level intent end had heard it announced first.
    pub fn each_intent_heard_once_in_order(&self) -> Verdict {
        let mut verdict = Verdict::default();
        for (v, receipts) in self.receipts.iter().enumerate() {
            let mut seen: HashMap<&IntentRef, Vec<(u64, bool, bool)>> = HashMap::new();
            for h in receipts.iter().filter_map(|r| r.heard.as_ref()) {
                seen.entry(&h.intent_ref).or_default().push((
                    h.revision,
                    h.event.is_terminal(),
                    h.opened,
                ));
            }
            for (intent, heard) in seen {
                let growing = heard.windows(2).all(|w| w[0].0 < w[1].0);
                verdict.check(growing, || {
                    format!(
                        "vendor {} heard intent {intent} as revisions {:?} (twice, or out of order)",
                        self.vendor(v),
                        heard.iter().map(|h| h.0).collect::<Vec<_>>()
                    )
                });
                let ended_at = heard.iter().position(|h| h.1);
                verdict.check(ended_at.is_none_or(|i| i + 1 == heard.len()), || {
                    format!(
                        "vendor {} heard intent {intent} after its end",
                        self.vendor(v)
                    )
                });
            }
        }
        // Announce-level intents that ended: their registered vendors heard the start first.
        let heard = self.heard_index();
        let first: HashMap<&IntentRef, &Published> = self
            .published
            .iter()
            .filter(|p| p.revision == 1)
            .map(|p| (&p.intent_ref, p))
            .collect();
        for end in self
            .published
            .iter()
            .filter(|p| p.event.is_terminal() && p.level == Level::Announce)
        {
            let start = first[&end.intent_ref];
            for v in self.world.registered(end.category) {
                let order = self.position(v, &start.msg_id) < self.position(v, &end.msg_id);
                verdict.check(
                    heard.contains_key(&(v, start.msg_id.as_str())) && order,
                    || {
                        format!(
                            "vendor {} heard {} end without (or before) its announcement",
                            self.vendor(v),
                            end.intent_ref
                        )
                    },
                );
            }
        }
        verdict
    }

    /// 5. Every publication acknowledged before the kill reached every vendor registered in its
    ///    category after the restart (heard or dropped: its message was handed over). The stream
    ///    check (its sequence still holds it) is `run`'s, against the relay itself.
    pub fn acked_before_kill_reached_vendors(&self) -> Verdict {
        let mut verdict = Verdict::default();
        let Some(killed_at) = self.killed_at else {
            return verdict;
        };
        let received = self.received();
        for p in self.published.iter().filter(|p| p.acked_at < killed_at) {
            for v in self.world.registered(p.category) {
                verdict.check(received[v].contains(p.msg_id.as_str()), || {
                    format!(
                        "vendor {} never received {}, acknowledged before the kill",
                        self.vendor(v),
                        p.msg_id
                    )
                });
            }
        }
        verdict
    }

    /// 6. A vendor whose grant a vault revoked opened none of that vault's revisions published
    ///    from then on (it was handed them, and could not open them).
    pub fn revoked_vendors_open_nothing_later(&self) -> Verdict {
        let mut verdict = Verdict::default();
        let by_id = self.by_id();
        for (v, receipts) in self.receipts.iter().enumerate() {
            for r in receipts {
                let Some(p) = r.msg_id.as_deref().and_then(|id| by_id.get(id)) else {
                    continue;
                };
                let revoked = self.vaults[p.vault]
                    .grants
                    .iter()
                    .any(|g| g.vendor == v && g.revoked_in.is_some_and(|r| r <= p.phase as usize));
                if !revoked || p.level == Level::Announce {
                    continue;
                }
                let opened = r.heard.as_ref().is_some_and(|h| h.opened);
                verdict.check(!opened, || {
                    format!(
                        "vendor {} opened {} of vault {} after the vault revoked its grant",
                        self.vendor(v),
                        p.msg_id,
                        p.vault
                    )
                });
            }
        }
        verdict
    }

    /// Every publication was received by every vendor registered in its category.
    pub fn every_publication_reached_its_subscribers(&self) -> Verdict {
        let mut verdict = Verdict::default();
        let received = self.received();
        for p in self.published {
            for v in self.world.registered(p.category) {
                verdict.check(received[v].contains(p.msg_id.as_str()), || {
                    format!("vendor {} never received {}", self.vendor(v), p.msg_id)
                });
            }
        }
        verdict
    }

    /// Each vendor's distinct `Nats-Msg-Id`s received.
    fn received(&self) -> Vec<HashSet<&str>> {
        self.receipts
            .iter()
            .map(|rs| rs.iter().filter_map(|r| r.msg_id.as_deref()).collect())
            .collect()
    }

    /// (vendor, msg id) → whether the box was opened, for every announcement a vendor heard.
    fn heard_index(&self) -> HashMap<(usize, &str), bool> {
        let mut out = HashMap::new();
        for (v, receipts) in self.receipts.iter().enumerate() {
            for r in receipts {
                if let (Some(h), Some(id)) = (&r.heard, &r.msg_id) {
                    out.insert((v, id.as_str()), h.opened);
                }
            }
        }
        out
    }

    fn position(&self, v: usize, msg_id: &str) -> Option<usize> {
        self.receipts[v]
            .iter()
            .position(|r| r.msg_id.as_deref() == Some(msg_id))
    }
}
