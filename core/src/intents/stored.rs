//! An intent as stored: its row and its opened content, as the owner's services read them
//! inside their transactions.

use carnet_schemas::{Intent, IntentFields, IntentId, IntentState};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::effective_state;
use crate::crypto::{Keys, Unreadable};
use crate::store::StoreError;
use crate::store::intents::{self as rows, IntentRow};
use crate::vault::Table;

pub(super) struct Stored {
    pub id: IntentId,
    pub row: IntentRow<IntentFields>,
    pub fields: IntentFields,
}

impl Stored {
    pub fn open(keys: &Keys, row: IntentRow<IntentFields>) -> Result<Stored, Unreadable> {
        let id = row.id.parse().map_err(|_| Unreadable {
            table: Table::Intents.name(),
            id: row.id.clone(),
        })?;
        let fields = keys.seal().open(&row.id, &row.sealed)?;
        Ok(Stored { id, row, fields })
    }

    pub fn state(&self, now: DateTime<Utc>) -> IntentState {
        effective_state(self.row.state, &self.fields, now)
    }

    pub fn into_wire(self, offers: u32, now: DateTime<Utc>) -> Intent {
        Intent {
            state: self.state(now),
            id: self.id,
            created_at: self.row.created_at,
            updated_at: self.row.updated_at,
            offers,
            fields: self.fields,
        }
    }
}

/// The intent `id`, opened, if there is one.
pub(super) fn get<E>(c: &Connection, keys: &Keys, id: &IntentId) -> Result<Option<Stored>, E>
where
    E: From<StoreError> + From<Unreadable>,
{
    match rows::intent::<IntentFields>(c, id.as_str())? {
        Some(row) => Ok(Some(Stored::open(keys, row)?)),
        None => Ok(None),
    }
}
