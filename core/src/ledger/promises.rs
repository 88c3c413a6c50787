//! Promises: what a vendor committed to, and whether it kept it. A promise is open, then kept
//! or broken, once (`settle`); an open promise past its due day is late, a state computed on
//! the clock's day (UTC), never stored. A vendor's promise record (`record`) is the one rule
//! for counting them, for the owner's loyalty facts and for the vendor's own view
//! (`promises:read`). Never moves a promise that is no longer open, nor links one to another
//! vendor's interaction.

use std::sync::Arc;

use carnet_schemas::ids::{InteractionKind, PromiseKind};
use carnet_schemas::{
    Followup, FollowupKind, Id, InteractionFields, Line, NewPromise, Promise, PromiseBroken,
    PromiseFields, PromiseId, PromiseKept, PromiseQuery, PromiseRecord, PromiseState,
    PromiseStateFilter, VendorId, VendorPromises,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::Connection;

use super::error::invalid;
use super::index::{Item, LedgerIndex, RecordKind, Rid};
use super::kind::{self, update, vendor_exists};
use super::listing::opened;
use super::{Kind, LedgerError, Record, Removable, Vendors, open};
use crate::access::pseudonym::customer_ref;
use crate::crypto::Keys;
use crate::store::{Store, records};

/// The promises, soonest due first.
pub struct Promises;

impl Kind for Promises {
    type Id = PromiseKind;
    type Fields = PromiseFields;
    type New = NewPromise;
    type Wire = Promise;
    type Filter = Option<VendorId>;
    type SortKey = (NaiveDate, String);

    /// `late` is the clock's to say: the services set it (`at`).
    fn wire(
        id: Id<PromiseKind>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        fields: PromiseFields,
    ) -> Promise {
        Promise {
            id,
            created_at,
            updated_at,
            fields,
            late: false,
        }
    }

    fn vendor_of(fields: &PromiseFields) -> Option<&VendorId> {
        Some(&fields.vendor_id)
    }

    /// A new promise is open.
    fn prepare(new: NewPromise, _: DateTime<Utc>) -> Result<PromiseFields, LedgerError> {
        Ok(PromiseFields {
            vendor_id: new.vendor_id,
            what: new.what,
            due: new.due,
            by: new.by,
            interaction_id: new.interaction_id,
            state: PromiseState::Open,
            kept_at: None,
            broken_at: None,
            note: None,
        })
    }

    /// Its vendor exists; its interaction, if named, exists and is the same vendor's.
    fn check_new(conn: &Connection, keys: &Keys, f: &PromiseFields) -> Result<(), LedgerError> {
        vendor_exists(conn, &f.vendor_id)?;
        if let Some(interaction) = &f.interaction_id {
            let Some(row) = records::get::<InteractionFields>(conn, interaction.as_str())? else {
                return Err(invalid(
                    "interaction_id",
                    format!("there is no interaction {interaction}"),
                ));
            };
            if open::<InteractionKind, _>(keys, row)?.fields.vendor_id != f.vendor_id {
                return Err(invalid(
                    "interaction_id",
                    format!("interaction {interaction} is with another vendor"),
                ));
            }
        }
        Ok(())
    }

    fn filter_vendor(vendor: &Option<VendorId>) -> Option<&VendorId> {
        vendor.as_ref()
    }

    fn sort_key(record: &Record<Self>) -> (NaiveDate, String) {
        (record.fields.due, record.id.to_string())
    }

    const RECORD: RecordKind = RecordKind::Promise;

    /// Sorted by due day; an open promise is among what comes due (its due day).
    fn index_item(id: &PromiseId, created_at: DateTime<Utc>, f: &PromiseFields) -> Item {
        let mut item = Item::new(
            RecordKind::Promise,
            id.as_str(),
            Some(f.vendor_id.as_str()),
            (i64::from(f.due.num_days_from_ce()), 0),
            created_at.timestamp_millis(),
        );
        item.pending = (f.state == PromiseState::Open).then_some(Some(f.due));
        item.text(Some(f.what.as_str()), true);
        item.text(f.by.as_ref().map(|b| b.as_str()), false);
        item.text(f.note.as_ref().map(|n| n.as_str()), false);
        item
    }
}

impl Removable for Promises {}

/// Whether a promise is late on `today`: open, and its due day has passed.
pub fn is_late(f: &PromiseFields, today: NaiveDate) -> bool {
    f.state == PromiseState::Open && f.due < today
}

fn at(mut p: Promise, today: NaiveDate) -> Promise {
    p.late = is_late(&p.fields, today);
    p
}

/// Records a promise.
pub async fn create(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    new: NewPromise,
    now: DateTime<Utc>,
) -> Result<Promise, LedgerError> {
    let p = kind::create::<Promises>(store, keys, index, new, now).await?;
    Ok(at(p, super::profile::today(store, keys, now)?))
}

/// One promise.
pub fn show(
    store: &Store,
    keys: &Keys,
    id: &PromiseId,
    now: DateTime<Utc>,
) -> Result<Promise, LedgerError> {
    Ok(at(
        kind::show::<Promises>(store, keys, id)?,
        super::profile::today(store, keys, now)?,
    ))
}

/// Deletes a promise.
pub async fn delete(
    store: &Store,
    index: &Arc<LedgerIndex>,
    id: &PromiseId,
) -> Result<(), LedgerError> {
    kind::delete::<Promises>(store, index, id).await
}

/// The promises `q` asks for, soonest due first. Open and late ones are picked by the index
/// (only those are opened); kept, broken or all of them are read from the vendor's (or every)
/// row.
pub fn list(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    q: &PromiseQuery,
    now: DateTime<Utc>,
) -> Result<Vec<Promise>, LedgerError> {
    let today = super::profile::today(store, keys, now)?;
    let mut items: Vec<Promise> = match q.state {
        Some(PromiseStateFilter::Open | PromiseStateFilter::Late) => {
            let through = (q.state == Some(PromiseStateFilter::Late)).then(|| today.pred_opt());
            let vendor = q
                .vendor
                .as_ref()
                .map(|v| super::index::rid(v.as_str()).unwrap_or_default());
            let picked = index.read(|d| d.promises_due(through.flatten(), vendor.as_ref()))?;
            let ids: Vec<Rid> = picked.iter().map(|p| p.0).collect();
            store
                .read(|c| opened::<Promises>(c, keys, &ids))?
                .into_iter()
                .map(kind::wire::<Promises>)
                .collect()
        }
        _ => store.read(|c| {
            records::list::<PromiseFields>(c, q.vendor.as_ref().map(|v| v.as_str()))?
                .into_iter()
                .map(|r| Ok(kind::wire::<Promises>(open(keys, r)?)))
                .collect::<Result<Vec<_>, LedgerError>>()
        })?,
    };
    items.retain(|p| match q.state {
        None => true,
        Some(PromiseStateFilter::Open) => p.fields.state == PromiseState::Open,
        Some(PromiseStateFilter::Late) => is_late(&p.fields, today),
        Some(PromiseStateFilter::Kept) => p.fields.state == PromiseState::Kept,
        Some(PromiseStateFilter::Broken) => p.fields.state == PromiseState::Broken,
    });
    items.sort_by(|a, b| (a.fields.due, a.id.as_str()).cmp(&(b.fields.due, b.id.as_str())));
    Ok(items.into_iter().map(|p| at(p, today)).collect())
}

/// How a promise was settled.
pub enum Settle {
    Kept(PromiseKept),
    Broken(PromiseBroken),
}

/// Marks an open promise kept (at the time given, or now) or broken (now, with a note); a
/// promise already kept or broken is a conflict.
pub async fn settle(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    id: &PromiseId,
    how: Settle,
    now: DateTime<Utc>,
) -> Result<Promise, LedgerError> {
    let p = update::<Promises>(store, keys, index, id, now, move |_, _, old| {
        let mut f = old.fields.clone();
        if f.state != PromiseState::Open {
            return Err(LedgerError::Conflict {
                detail: format!(
                    "promise {} is already {}: only an open promise is kept or broken",
                    old.id,
                    f.state.as_str()
                ),
                hint: "record a new promise if the vendor committed again",
            });
        }
        match how {
            Settle::Kept(k) => {
                f.state = PromiseState::Kept;
                f.kept_at = Some(k.at.unwrap_or_else(|| now.fixed_offset()));
            }
            Settle::Broken(b) => {
                f.state = PromiseState::Broken;
                f.broken_at = Some(now);
                f.note = b.note;
            }
        }
        Ok(f)
    })
    .await?;
    Ok(at(p, super::profile::today(store, keys, now)?))
}

/// A vendor's promise record, the one rule: kept, broken, open and late counts, and the
/// median of (day kept − day due) in days over kept promises.
pub fn record<'a>(
    promises: impl IntoIterator<Item = &'a PromiseFields>,
    today: NaiveDate,
) -> PromiseRecord {
    let mut r = PromiseRecord::default();
    let mut delays = Vec::new();
    for p in promises {
        match p.state {
            PromiseState::Open => {
                r.open += 1;
                r.late += u64::from(is_late(p, today));
            }
            PromiseState::Kept => {
                r.kept += 1;
                if let Some(k) = p.kept_at {
                    delays.push((k.date_naive() - p.due).num_days());
                }
            }
            PromiseState::Broken => r.broken += 1,
        }
    }
    delays.sort_unstable();
    let n = delays.len();
    r.median_delay_days = (n > 0).then(|| {
        if n % 2 == 1 {
            delays[n / 2] as f64
        } else {
            (delays[n / 2 - 1] + delays[n / 2]) as f64 / 2.0
        }
    });
    r
}

/// `vendor`'s promise record, its promises opened in `conn`.
pub fn record_of(
    conn: &Connection,
    keys: &Keys,
    vendor: &VendorId,
    today: NaiveDate,
) -> Result<PromiseRecord, LedgerError> {
    let fields = records::list::<PromiseFields>(conn, Some(vendor.as_str()))?
        .into_iter()
        .map(|r| Ok(open::<PromiseKind, _>(keys, r)?.fields))
        .collect::<Result<Vec<_>, LedgerError>>()?;
    Ok(record(&fields, today))
}

/// `vendor`'s promise record as the vendor reads it (`promises:read`): counts and days only.
pub fn for_vendor(
    store: &Store,
    keys: &Keys,
    vendor: &VendorId,
    now: DateTime<Utc>,
) -> Result<VendorPromises, LedgerError> {
    let today = super::profile::today(store, keys, now)?;
    let promises = store.read(|c| record_of(c, keys, vendor, today))?;
    Ok(VendorPromises {
        customer_ref: customer_ref(keys, vendor),
        promises,
    })
}

/// Late promises as follow-up items (`kind: promise`), soonest due first: the index says
/// which, only those (and their vendors) are opened.
pub fn late(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    now: DateTime<Utc>,
) -> Result<Vec<Followup>, LedgerError> {
    let today = super::profile::today(store, keys, now)?;
    due_items(store, keys, index, today.pred_opt())
}

/// Open promises due on or before `through` as follow-up items (`kind: promise`), soonest
/// first.
pub fn due_items(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    through: Option<NaiveDate>,
) -> Result<Vec<Followup>, LedgerError> {
    let Some(through) = through else {
        return Ok(Vec::new());
    };
    let picked = index.read(|d| d.promises_due(Some(through), None))?;
    let ids: Vec<Rid> = picked.iter().map(|p| p.0).collect();
    let mut vendors: Vec<Rid> = picked.iter().map(|p| p.1).collect();
    vendors.sort_unstable();
    vendors.dedup();
    let (promises, vendors) = store.read(|c| {
        let found = opened::<Promises>(c, keys, &ids)?;
        Ok::<_, LedgerError>((found, opened::<Vendors>(c, keys, &vendors)?))
    })?;
    let names: std::collections::HashMap<_, _> =
        vendors.into_iter().map(|v| (v.id, v.fields.name)).collect();
    Ok(promises
        .into_iter()
        .filter(|o| o.fields.state == PromiseState::Open && o.fields.due <= through)
        .filter_map(|o| {
            let name = names.get(&o.fields.vendor_id)?.clone();
            Some(as_followup(kind::wire::<Promises>(o), name))
        })
        .collect())
}

/// An open promise as a follow-up item (`kind: promise`) of vendor `vendor_name`.
pub fn as_followup(p: Promise, vendor_name: Line) -> Followup {
    Followup {
        kind: FollowupKind::Promise,
        interaction_id: p.fields.interaction_id,
        promise_id: Some(p.id),
        vendor_id: p.fields.vendor_id,
        vendor_name,
        next_step: p.fields.what,
        due: Some(p.fields.due),
        at: p.created_at.fixed_offset(),
        channel: None,
    }
}

#[cfg(test)]
mod tests {
    use carnet_schemas::{PromiseFields, PromiseState};
    use chrono::{DateTime, NaiveDate};

    use super::{is_late, record};

    fn promise(due: &str, state: PromiseState, kept: Option<&str>) -> PromiseFields {
        PromiseFields {
            vendor_id: "ven_0123456789abcdef".parse().unwrap(),
            what: "x".parse().unwrap(),
            due: due.parse().unwrap(),
            by: None,
            interaction_id: None,
            state,
            kept_at: kept.map(|k| DateTime::parse_from_rfc3339(k).unwrap()),
            broken_at: None,
            note: None,
        }
    }

    #[test]
    fn late_is_open_after_the_due_day_and_the_median_delay_counts_days() {
        let today: NaiveDate = "2026-03-10".parse().unwrap();
        let open = promise("2026-03-10", PromiseState::Open, None);
        assert!(!is_late(&open, today), "not late on its due day");
        let late = promise("2026-03-09", PromiseState::Open, None);
        assert!(is_late(&late, today));
        let kept = |k| promise("2026-03-01", PromiseState::Kept, Some(k));
        let all = [
            open,
            late,
            promise("2026-03-01", PromiseState::Broken, None),
            kept("2026-02-28T23:00:00-02:00"), // 28 February where it was kept: a day early
            kept("2026-03-04T09:00:00Z"),
            kept("2026-03-08T09:00:00Z"),
        ];
        let r = record(&all, today);
        assert_eq!((r.kept, r.broken, r.late, r.open), (3, 1, 1, 2));
        assert_eq!(r.median_delay_days, Some(3.0));
        assert_eq!(record(&all[..2], today).median_delay_days, None);
    }
}
