//! The owner's channel operations: add, list, show, remove, test. Each answers the channel
//! as the owner sees it (no secret), with where its deliveries stand; only `create` answers
//! the webhook's secret, once.

use carnet_schemas::{
    NewNotifyChannel, NotifyChannel, NotifyChannelCreated, NotifyChannelId, NotifyChannelPatch,
    NotifyDelivery, NotifyKind, NotifyTest,
};
use rusqlite::Connection;

use super::channel::{self, ChannelRecord};
use super::send::Outcome;
use super::{NotifyError, Queued};
use crate::context::Core;
use crate::crypto::{Keys, Table};
use crate::store::outbox::{self as rows, Outbox, OutboxState};
use crate::store::records::{self, Row};

/// The channel of a row, with its pending count and last delivery.
fn wire(
    c: &Connection,
    keys: &Keys,
    row: &Row<ChannelRecord>,
) -> Result<NotifyChannel, NotifyError> {
    let record = keys.seal().open(&row.id, &row.sealed)?;
    let id: NotifyChannelId = row.id.parse().map_err(|_| crate::crypto::Unreadable {
        table: Table::NotifyChannels.name(),
        id: row.id.clone(),
    })?;
    let mut out = record.to_wire(id, row.created_at, row.updated_at);
    out.pending = rows::pending_count(c, Outbox::Owner, &row.id)?;
    out.last_delivery =
        rows::last_attempted::<Queued>(c, Outbox::Owner, &row.id)?.map(|r| NotifyDelivery {
            at: r.updated_at,
            ok: r.state == OutboxState::Delivered,
            state: crate::webhooks::delivery_state(r.state),
            attempts: r.attempts,
            status: r.last_status,
            error: r.last_error,
        });
    Ok(out)
}

/// Adds a channel; a webhook's secret is in the answer, this once.
pub async fn create(
    core: &Core,
    new: NewNotifyChannel,
) -> Result<NotifyChannelCreated, NotifyError> {
    let (record, warnings) = channel::validate(new)?;
    let id: NotifyChannelId = core.new_id();
    let now = core.now();
    let row = Row {
        id: id.to_string(),
        vendor_id: None,
        created_at: now,
        updated_at: now,
        sealed: core.keys.seal().seal(id.as_str(), &record),
    };
    core.store.write(move |c| records::insert(c, &row)).await?;
    let secret = match record.kind {
        NotifyKind::Webhook => record.secret.clone(),
        NotifyKind::Ntfy | NotifyKind::Email => None,
    };
    Ok(NotifyChannelCreated {
        channel: record.to_wire(id, now, now),
        secret,
        warnings,
    })
}

/// Every channel, oldest first.
pub fn list(core: &Core) -> Result<Vec<NotifyChannel>, NotifyError> {
    core.store.read(|c| {
        let mut rows = records::list::<ChannelRecord>(c, None)?;
        rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        rows.iter().map(|r| wire(c, &core.keys, r)).collect()
    })
}

pub fn show(core: &Core, id: &NotifyChannelId) -> Result<NotifyChannel, NotifyError> {
    core.store.read(|c| {
        let row = records::get::<ChannelRecord>(c, id.as_str())?
            .ok_or_else(|| NotifyError::NotFound(id.to_string()))?;
        wire(c, &core.keys, &row)
    })
}

/// Changes which events a channel takes, when, and whether with details.
pub async fn update(
    core: &Core,
    id: &NotifyChannelId,
    patch: NotifyChannelPatch,
) -> Result<NotifyChannel, NotifyError> {
    let (key, keys, now) = (id.to_string(), core.keys.clone(), core.now());
    core.store
        .write(move |c| {
            let row = records::get::<ChannelRecord>(c, &key)?
                .ok_or_else(|| NotifyError::NotFound(key.clone()))?;
            let mut record = keys.seal().open(&row.id, &row.sealed)?;
            record.patch(patch)?;
            let sealed = keys.seal().seal(&key, &record);
            records::update(c, &key, now, &sealed)?;
            let row = Row {
                updated_at: now,
                sealed,
                ..row
            };
            wire(c, &keys, &row)
        })
        .await
}

/// Removes a channel and its outbox rows (nothing more is sent to it).
pub async fn delete(core: &Core, id: &NotifyChannelId) -> Result<(), NotifyError> {
    let key = id.to_string();
    let found = core
        .store
        .write(move |c| {
            let found = records::delete(c, Table::NotifyChannels, &key)?;
            if found {
                rows::delete_for(c, Outbox::Owner, &key)?;
            }
            Ok::<_, NotifyError>(found)
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(NotifyError::NotFound(id.to_string()))
    }
}

/// Sends a test message to the channel now and answers what happened (also its last
/// delivery in `list`).
pub async fn test(core: &Core, id: &NotifyChannelId) -> Result<NotifyTest, NotifyError> {
    let row = core
        .store
        .read(|c| records::get::<ChannelRecord>(c, id.as_str()))?
        .ok_or_else(|| NotifyError::NotFound(id.to_string()))?;
    let record = core.keys.seal().open(&row.id, &row.sealed)?;
    let outcome = super::deliver::test_now(core, id.as_str(), &record).await?;
    let (delivered, status, error) = match outcome {
        Outcome::Delivered(status) => (true, status, None),
        Outcome::Retry(status, why) => (false, status, Some(why.to_owned())),
        Outcome::Drop(why) => (false, None, Some(why.to_owned())),
    };
    Ok(NotifyTest {
        channel_id: id.clone(),
        delivered,
        status,
        error,
    })
}
