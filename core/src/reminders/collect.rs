//! What is the case now, for each event a reminder can be about. The ledger's side comes from
//! its index (no record opened: a vault of 100,000 interactions costs a walk of the index's
//! due-date sets); the rest from the few rows it concerns (offers waiting, live grants,
//! consent requests in memory, the access log's last check).

use carnet_schemas::{
    GrantId, GrantState, InteractionId, NotifyEvent, OfferId, PromiseId, PurchaseId,
    SubscriptionId, VendorId,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::ReminderError;
use super::plan::Occurrence;
use crate::consent::Consents;
use crate::context::Core;
use crate::ledger::index::{Rid, id_of};
use crate::ledger::subscriptions;

/// How far ahead a warranty's end is worth telling.
pub const WARRANTY_DAYS: i64 = 30;
/// How far ahead a grant's end is worth telling.
pub const GRANT_DAYS: i64 = 7;
/// How far ahead a renewal's notice deadline is worth telling (as the web app's Today); an
/// at-once channel hears of it again when it is `RENEWAL_LAST_DAYS` away.
pub const RENEWAL_DAYS: u64 = 30;
pub const RENEWAL_LAST_DAYS: i64 = 7;

/// What an occurrence is about, for the details a channel with `details` on is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Followup {
        id: InteractionId,
        vendor: Rid,
    },
    Promise {
        id: PromiseId,
        vendor: Rid,
    },
    Warranty {
        id: PurchaseId,
    },
    Offer {
        id: OfferId,
        vendor: VendorId,
    },
    Consent {
        vendor_name: String,
    },
    Grant {
        id: GrantId,
        vendor: VendorId,
    },
    Renewal {
        id: SubscriptionId,
        vendor: VendorId,
    },
    AccessLog {
        seq: i64,
        reason: String,
    },
}

/// Everything that is the case at `now` (days counted in the owner's zone `tz`), with what each is
/// about.
pub fn current(
    core: &Core,
    consents: &Consents,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(Vec<Occurrence>, Vec<Source>), ReminderError> {
    let today = now.with_timezone(&tz).date_naive();
    let mut found = Found::default();
    let (steps, promised, warranties) = core.index.read(|d| {
        (
            d.followups(Some(today)),
            d.promises_due(Some(today), None),
            d.warranties_ending(today, today + Duration::days(WARRANTY_DAYS)),
        )
    })?;
    for (id, vendor, due) in steps {
        let Some(due) = due else { continue };
        let event = if due < today {
            NotifyEvent::FollowupLate
        } else {
            NotifyEvent::FollowupDue
        };
        let id = id_of::<carnet_schemas::ids::InteractionKind>(&id);
        found.add(
            event,
            format!("{id}@{due}"),
            due,
            Source::Followup { id, vendor },
        );
    }
    for (id, vendor, due) in promised {
        let event = if due < today {
            NotifyEvent::PromiseLate
        } else {
            NotifyEvent::PromiseDue
        };
        let id = id_of::<carnet_schemas::ids::PromiseKind>(&id);
        found.add(
            event,
            format!("{id}@{due}"),
            due,
            Source::Promise { id, vendor },
        );
    }
    for (id, ends) in warranties {
        let id = id_of::<carnet_schemas::ids::PurchaseKind>(&id);
        found.add(
            NotifyEvent::WarrantyEnding,
            format!("{id}@{ends}"),
            ends,
            Source::Warranty { id },
        );
    }
    for sub in subscriptions::renewals_on(&core.store, &core.keys, today, RENEWAL_DAYS)? {
        let Some(deadline) = sub.notice_deadline else {
            continue;
        };
        let last_days = (deadline - today).num_days() <= RENEWAL_LAST_DAYS;
        found.add(
            NotifyEvent::RenewalNotice,
            format!(
                "{}@{deadline}{}",
                sub.id,
                if last_days { ":last" } else { "" }
            ),
            deadline,
            Source::Renewal {
                id: sub.id,
                vendor: sub.fields.vendor_id,
            },
        );
    }
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    for offer in crate::intents::offers::waiting(core)? {
        found.add(
            NotifyEvent::OfferNew,
            offer.id.to_string(),
            day(offer.created_at),
            Source::Offer {
                id: offer.id,
                vendor: offer.vendor_id,
            },
        );
    }
    for pending in consents.all_waiting(now) {
        found.add(
            NotifyEvent::ConsentWaiting,
            pending.id.clone(),
            day(pending.created_at),
            Source::Consent {
                vendor_name: pending.asked.vendor_name.clone(),
            },
        );
    }
    let horizon = now + Duration::days(GRANT_DAYS);
    for grant in crate::grants::list(core, None)? {
        if grant.state != GrantState::Live || grant.expires_at > horizon {
            continue;
        }
        let ends = day(grant.expires_at);
        found.add(
            NotifyEvent::GrantExpiring,
            format!("{}@{ends}", grant.id),
            ends,
            Source::Grant {
                id: grant.id,
                vendor: grant.fields.vendor_id,
            },
        );
    }
    let check = core.log_check.current();
    if let (false, Some(bad), Some(at)) = (check.ok, check.first_bad, check.checked_at) {
        found.add(
            NotifyEvent::AccessLogFailed,
            format!("seq-{}", bad.seq),
            day(at),
            Source::AccessLog {
                seq: bad.seq,
                reason: bad.reason,
            },
        );
    }
    Ok((found.occurrences, found.sources))
}

#[derive(Default)]
struct Found {
    occurrences: Vec<Occurrence>,
    sources: Vec<Source>,
}

impl Found {
    fn add(&mut self, event: NotifyEvent, key: String, date: NaiveDate, source: Source) {
        self.occurrences.push(Occurrence { event, key, date });
        self.sources.push(source);
    }
}
