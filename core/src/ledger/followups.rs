//! Follow-ups: next steps not done yet and late promises, across vendors, soonest due first;
//! and marking a step done. Never lists the step of an interaction whose vendor is gone.

use std::collections::HashMap;
use std::sync::Arc;

use carnet_schemas::{Followup, FollowupKind, Interaction, InteractionId};
use chrono::{DateTime, NaiveDate, Utc};

use super::index::{LedgerIndex, Rid};
use super::kind::update;
use super::listing::opened;
use super::{Interactions, LedgerError, Replace, Vendors};
use crate::crypto::Keys;
use crate::store::Store;

/// Next steps not done, due on or before `through` if given, and promises late on `now`'s
/// day (due before it, and on or before `through`), soonest due first (steps without a due
/// date last, and always listed): the index says which, only those are opened.
pub fn list(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    through: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Vec<Followup>, LedgerError> {
    let picked = index.read(|d| d.followups(through))?;
    let mut items = opened_in_order(store, keys, through, &picked)?;
    let yesterday = super::profile::today(store, keys, now)?.pred_opt();
    let late_through = match (through, yesterday) {
        (Some(t), Some(y)) => Some(t.min(y)),
        (_, y) => y,
    };
    items.extend(super::promises::due_items(
        store,
        keys,
        index,
        late_through,
    )?);
    sort(&mut items);
    Ok(items)
}

/// `list`'s order: dated first, soonest first, then by time and id.
fn sort(items: &mut [Followup]) {
    fn id(f: &Followup) -> &str {
        match (&f.interaction_id, &f.promise_id, f.kind) {
            (_, Some(p), FollowupKind::Promise) => p.as_str(),
            (Some(i), _, _) => i.as_str(),
            _ => "",
        }
    }
    items.sort_by(|a, b| {
        (a.due.is_none(), a.due, a.at, id(a)).cmp(&(b.due.is_none(), b.due, b.at, id(b)))
    });
}

/// The `limit` next steps due soonest (as `list` orders them), and how many `list` would give:
/// what a glance shows (the web app's Today), opening only those it shows, however many steps
/// are open.
pub fn soonest(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    through: Option<NaiveDate>,
    limit: usize,
) -> Result<(Vec<Followup>, usize), LedgerError> {
    let mut picked = index.read(|d| d.followups(through))?;
    let total = picked.len();
    // Dated steps first, soonest first; the index knows no time within a day, so the ties at
    // the cut are all kept and `list`'s order settles them.
    picked.sort_unstable_by_key(|p| (p.2.is_none(), p.2));
    if let Some(last) = picked
        .get(limit.saturating_sub(1))
        .map(|p| (p.2.is_none(), p.2))
    {
        let keep = picked.partition_point(|p| (p.2.is_none(), p.2) <= last);
        picked.truncate(keep);
    }
    let mut items = opened_in_order(store, keys, through, &picked)?;
    items.truncate(limit);
    Ok((items, total))
}

/// The next steps of `picked` (id, vendor, due), opened, checked and in `list`'s order.
fn opened_in_order(
    store: &Store,
    keys: &Keys,
    through: Option<NaiveDate>,
    picked: &[(Rid, Rid, Option<NaiveDate>)],
) -> Result<Vec<Followup>, LedgerError> {
    let mut vendors: Vec<Rid> = picked.iter().map(|p| p.1).collect();
    vendors.sort_unstable();
    vendors.dedup();
    let (interactions, vendors) = store.read(|c| {
        let ids: Vec<Rid> = picked.iter().map(|p| p.0).collect();
        let found = opened::<Interactions>(c, keys, &ids)?;
        Ok::<_, LedgerError>((found, opened::<Vendors>(c, keys, &vendors)?))
    })?;
    let names: HashMap<_, _> = vendors.into_iter().map(|v| (v.id, v.fields.name)).collect();
    let mut items = Vec::new();
    for o in interactions {
        let f = o.fields;
        let (Some(step), false) = (f.next_step, f.next_done) else {
            continue;
        };
        if f.next_due.zip(through).is_some_and(|(due, t)| due > t) {
            continue;
        }
        let Some(name) = names.get(&f.vendor_id) else {
            continue;
        };
        items.push(Followup {
            kind: FollowupKind::Followup,
            interaction_id: Some(o.id),
            promise_id: None,
            vendor_id: f.vendor_id,
            vendor_name: name.clone(),
            next_step: step,
            due: f.next_due,
            at: f.at.unwrap_or_else(|| o.row.created_at.fixed_offset()),
            channel: Some(f.channel),
        });
    }
    sort(&mut items);
    Ok(items)
}

/// Marks the next step of an interaction as done.
pub async fn done(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    id: &InteractionId,
    now: DateTime<Utc>,
) -> Result<Interaction, LedgerError> {
    update::<Interactions>(store, keys, index, id, now, |c, keys, old| {
        if old.fields.next_step.is_none() {
            return Err(LedgerError::Conflict {
                detail: format!("interaction {} has no next step to mark done", old.id),
                hint: "give it a next step first (`next_step`), or pick another interaction",
            });
        }
        let mut fields = old.fields.clone();
        fields.next_done = true;
        Interactions::merge(c, keys, old, fields)
    })
    .await
}
