//! Follow-ups: next steps not done yet, across vendors, soonest due first; and marking one
//! done. Never lists the step of an interaction whose vendor is gone.

use std::collections::HashMap;
use std::sync::Arc;

use carnet_schemas::ids::InteractionKind;
use carnet_schemas::{Followup, Interaction, InteractionFields, InteractionId};
use chrono::{DateTime, NaiveDate, Utc};

use super::kind::{all, update};
use super::{Interactions, LedgerError, Replace, Vendors, open};
use crate::crypto::Keys;
use crate::store::Store;
use crate::store::records;

/// Next steps not done, due on or before `through` if given, soonest due first (steps
/// without a due date last, and always listed).
pub fn list(
    store: &Store,
    keys: &Keys,
    through: Option<NaiveDate>,
) -> Result<Vec<Followup>, LedgerError> {
    let (rows, vendors) = store.read(|c| {
        let rows = records::list::<InteractionFields>(c, None)?;
        Ok::<_, LedgerError>((rows, all::<Vendors>(c, keys)?))
    })?;
    let names: HashMap<_, _> = vendors.into_iter().map(|v| (v.id, v.fields.name)).collect();
    let mut items = Vec::new();
    for row in rows {
        let o = open::<InteractionKind, _>(keys, row)?;
        let f = o.fields;
        let (Some(step), false) = (f.next_step, f.next_done) else {
            continue;
        };
        if f.next_due
            .zip(through)
            .is_some_and(|(due, through)| due > through)
        {
            continue;
        }
        let Some(name) = names.get(&f.vendor_id) else {
            continue;
        };
        items.push(Followup {
            interaction_id: o.id,
            vendor_id: f.vendor_id,
            vendor_name: name.clone(),
            next_step: step,
            due: f.next_due,
            at: f.at.unwrap_or_else(|| o.row.created_at.fixed_offset()),
            channel: f.channel,
        });
    }
    items.sort_by_key(|f| (f.due.is_none(), f.due, f.at));
    Ok(items)
}

/// Marks the next step of an interaction as done.
pub async fn done(
    store: &Store,
    keys: &Arc<Keys>,
    id: &InteractionId,
    now: DateTime<Utc>,
) -> Result<Interaction, LedgerError> {
    update::<Interactions>(store, keys, id, now, |c, keys, old| {
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
