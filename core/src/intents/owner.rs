//! The owner's intents: written as drafts, edited while draft or active, moved to active,
//! withdrawn or fulfilled. Every change that vendors could have seen writes its webhook event
//! in the same transaction, and the active set learns it right after the commit.

use std::collections::HashMap;

use carnet_schemas::{Intent, IntentFields, IntentId, IntentState};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::IntentError;
use super::check::{complete, invalid, open_window, was_visible};
use super::stored::{self, Stored};
use crate::context::Core;
use crate::store::StoreError;
use crate::store::intents::{self as rows, IntentRow, StoredIntentState};
use crate::webhooks::{IntentEvent, intent_event};

/// Writes a new intent, as a draft (activate it to publish).
pub async fn create(core: &Core, fields: IntentFields) -> Result<Intent, IntentError> {
    let now = core.now();
    let mut fields = complete(fields, now)?;
    relay_check(core, &mut fields, now)?;
    if fields.valid_through.is_some_and(|t| t <= now) {
        return Err(invalid(
            "valid_through",
            "the buying window would already be over; give an end in the future",
        ));
    }
    let id: IntentId = core.new_id();
    let row = IntentRow {
        id: id.to_string(),
        state: StoredIntentState::Draft,
        created_at: now,
        updated_at: now,
        sealed: core.keys.seal().seal(id.as_str(), &fields),
    };
    core.store
        .write(move |c| rows::insert_intent(c, &row))
        .await?;
    Ok(Intent {
        id,
        state: IntentState::Draft,
        created_at: now,
        updated_at: now,
        offers: 0,
        fields,
    })
}

/// Intents (all, or those in `state` now), newest first.
pub fn list(core: &Core, state: Option<IntentState>) -> Result<Vec<Intent>, IntentError> {
    let now = core.now();
    let (rows, counts) = core.store.read(|c| {
        Ok::<_, StoreError>((
            rows::intents::<IntentFields>(c, None)?,
            rows::offer_counts(c)?,
        ))
    })?;
    let counts: HashMap<String, u32> = counts.into_iter().collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let offers = counts.get(&row.id).copied().unwrap_or(0);
        let intent = Stored::open(&core.keys, row)?.into_wire(offers, now);
        if state.is_none_or(|st| st == intent.state) {
            out.push(intent);
        }
    }
    out.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    Ok(out)
}

/// One intent, with the number of offers it received.
pub fn show(core: &Core, id: &IntentId) -> Result<Intent, IntentError> {
    let (stored, offers) = core.store.read(|c| {
        let stored = stored::get::<IntentError>(c, &core.keys, id)?;
        let stored = stored.ok_or_else(|| IntentError::NotFound(id.clone()))?;
        Ok::<_, IntentError>((stored, rows::offer_count(c, id.as_str())?))
    })?;
    Ok(stored.into_wire(offers, core.now()))
}

/// Replaces a draft or active intent's content (vendors see the change at their next pull,
/// and those that could see it are told).
pub async fn edit(core: &Core, id: &IntentId, fields: IntentFields) -> Result<Intent, IntentError> {
    let now = core.now();
    let fields = complete(fields, now)?;
    apply(core, id, now, move |c, core, mut old, current| {
        let mut fields = fields;
        if current == IntentState::Active {
            fields.valid_from = fields.valid_from.or(old.fields.valid_from);
        }
        relay_check(core, &mut fields, now)?;
        if !editable(current) {
            return Err(IntentError::Final {
                id: old.id,
                state: current,
            });
        }
        if !fields.relay.is_off() && crate::relay::ended(c, &old.id)? {
            return Err(invalid(
                "relay",
                "this intent's announcement on the market ended (it was taken off the relay); write a new intent to announce again",
            ));
        }
        if current == IntentState::Active && fields.valid_through.is_some_and(|t| t <= now) {
            return Err(invalid(
                "valid_through",
                "an active intent's window cannot end in the past; withdraw it instead",
            ));
        }
        let sealed = core.keys.seal().seal(old.id.as_str(), &fields);
        rows::update_intent(c, old.id.as_str(), old.row.state, now, &sealed)?;
        if current == IntentState::Active && was_visible(&fields, now) {
            intent_event(c, core, IntentEvent::Updated, &old.id, &fields, now, now)?;
        }
        old.fields = fields;
        old.row.updated_at = now;
        Ok(old)
    })
    .await
}

/// Publishes a draft: granted vendors see it inside its window (which opens now unless it
/// opens later).
pub async fn activate(core: &Core, id: &IntentId) -> Result<Intent, IntentError> {
    transition(core, id, Move::Activate).await
}

/// Withdraws a draft or active intent: no vendor sees it any more.
pub async fn withdraw(core: &Core, id: &IntentId) -> Result<Intent, IntentError> {
    transition(core, id, Move::Withdraw).await
}

/// Marks an active intent bought: no vendor sees it any more.
pub async fn fulfil(core: &Core, id: &IntentId) -> Result<Intent, IntentError> {
    transition(core, id, Move::Fulfil).await
}

/// The relay's rules for the intent as it is to be (`crate::relay::check`).
fn relay_check(
    core: &Core,
    fields: &mut IntentFields,
    now: DateTime<Utc>,
) -> Result<(), IntentError> {
    crate::relay::check(fields, core.policy.relay_region.as_deref(), now)
        .map_err(|e| invalid(e.field, e.message))
}

/// Whether an intent in `state` may still be edited (fulfilled, withdrawn and expired are
/// final).
pub fn editable(state: IntentState) -> bool {
    matches!(state, IntentState::Draft | IntentState::Active)
}

/// The owner's moves between states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Activate,
    Withdraw,
    Fulfil,
}

impl Move {
    /// Where it leads, as shown and as stored.
    fn to(self) -> (IntentState, StoredIntentState) {
        match self {
            Move::Activate => (IntentState::Active, StoredIntentState::Active),
            Move::Withdraw => (IntentState::Withdrawn, StoredIntentState::Withdrawn),
            Move::Fulfil => (IntentState::Fulfilled, StoredIntentState::Fulfilled),
        }
    }

    /// Whether an intent in state `current` can make this move (what a page offers).
    pub fn allowed_from(self, current: IntentState) -> bool {
        match self {
            Move::Activate => current == IntentState::Draft,
            Move::Withdraw => matches!(current, IntentState::Draft | IntentState::Active),
            Move::Fulfil => current == IntentState::Active,
        }
    }

    /// What it does to the content (activation opens the window).
    fn change(self, fields: &mut IntentFields, now: DateTime<Utc>) -> Result<(), IntentError> {
        match self {
            Move::Activate => open_window(fields, now),
            Move::Withdraw | Move::Fulfil => Ok(()),
        }
    }

    /// The event for vendors that could see it (activation is announced by the webhook worker
    /// once the window is open).
    fn ended(self) -> Option<IntentEvent> {
        match self {
            Move::Activate => None,
            Move::Withdraw => Some(IntentEvent::Withdrawn),
            Move::Fulfil => Some(IntentEvent::Fulfilled),
        }
    }
}

/// Makes `step` on intent `id`; one already where `step` leads is left as it is.
async fn transition(core: &Core, id: &IntentId, step: Move) -> Result<Intent, IntentError> {
    let now = core.now();
    apply(core, id, now, move |c, core, mut old, current| {
        let (to, stored_to) = step.to();
        if current == to {
            return Ok(old);
        }
        if !step.allowed_from(current) {
            return Err(IntentError::CannotBecome {
                id: old.id,
                from: current,
                to,
            });
        }
        step.change(&mut old.fields, now)?;
        if step == Move::Activate {
            relay_check(core, &mut old.fields, now)?;
        }
        let sealed = core.keys.seal().seal(old.id.as_str(), &old.fields);
        rows::update_intent(c, old.id.as_str(), stored_to, now, &sealed)?;
        if let Some(kind) = step.ended()
            && current == IntentState::Active
            && was_visible(&old.fields, now)
        {
            intent_event(c, core, kind, &old.id, &old.fields, now, now)?;
        }
        old.row.state = stored_to;
        old.row.updated_at = now;
        Ok(old)
    })
    .await
}

/// Changes intent `id` in one transaction: `change` gets it as stored and its state at
/// `now`, and gives it back as it is to be. After the commit the active set learns it, the
/// webhook worker wakes, and the owner gets the intent as it now is.
async fn apply<F>(
    core: &Core,
    id: &IntentId,
    now: DateTime<Utc>,
    change: F,
) -> Result<Intent, IntentError>
where
    F: FnOnce(&Connection, &Core, Stored, IntentState) -> Result<Stored, IntentError>
        + Send
        + 'static,
{
    let state = core.clone();
    let iid = id.clone();
    let (stored, offers) = core
        .store
        .write(move |c| {
            let old = stored::get::<IntentError>(c, &state.keys, &iid)?
                .ok_or_else(|| IntentError::NotFound(iid.clone()))?;
            let current = old.state(now);
            let new = change(c, &state, old, current)?;
            Ok::<_, IntentError>((new, rows::offer_count(c, iid.as_str())?))
        })
        .await?;
    core.intents
        .set(&stored.id, stored.row.state, &stored.fields, now);
    core.webhook_wake.notify_one();
    core.relay_wake.notify_one();
    Ok(stored.into_wire(offers, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_drafts_activate_only_active_intents_fulfil_and_final_states_stay() {
        use IntentState::*;
        let can = |m: Move| {
            [Draft, Active, Fulfilled, Withdrawn, Expired]
                .into_iter()
                .filter(|s| m.allowed_from(*s))
                .collect::<Vec<_>>()
        };
        assert_eq!(can(Move::Activate), [Draft]);
        assert_eq!(can(Move::Withdraw), [Draft, Active]);
        assert_eq!(can(Move::Fulfil), [Active]);
        let edits: Vec<_> = [Draft, Active, Fulfilled, Withdrawn, Expired]
            .into_iter()
            .filter(|s| editable(*s))
            .collect();
        assert_eq!(edits, [Draft, Active]);
    }
}
