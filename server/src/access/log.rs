//! The access log: every token issued and every vendor API request, appended through the
//! writer without making the vendor wait. Entries travel to the writer as ordinary write
//! jobs, so concurrent requests share one commit; if carnetd dies, at most the entries of the
//! batch being committed at that moment (requests answered in the last few milliseconds) can
//! be lost. The HMAC chain over entries comes with the tamper-evident log.

use carnet_schemas::{ClientId, GrantId, VendorId};
use serde::{Deserialize, Serialize};

use crate::state::AppState;
use crate::store::access::{self as rows, AccessRow};
use crate::vault::{Sealable, Table};

/// What the log keeps sealed about one access.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessRecord {
    pub grant_id: Option<GrantId>,
    pub endpoint: String,
    pub scope: String,
    pub ids: Vec<String>,
    /// The HTTP status answered (a refused request is logged too).
    pub status: u16,
}

impl Sealable for AccessRecord {
    const TABLE: Table = Table::AccessLog;
}

/// One access to record.
#[derive(Debug, Clone)]
pub struct AccessEvent {
    pub vendor_id: VendorId,
    pub client_id: ClientId,
    pub record: AccessRecord,
}

/// Appends an entry; returns at once (the write commits with the next batch).
pub fn record(s: &AppState, event: AccessEvent) {
    let id = s.new_random_id();
    let row = AccessRow {
        seq: 0,
        at: s.now(),
        vendor_id: event.vendor_id.to_string(),
        client_id: event.client_id.to_string(),
        sealed: s.keys.seal().seal(&id, &event.record),
        id,
    };
    s.store
        .write_detached("appending to the access log", move |c| {
            rows::append_access(c, &row)
        });
}
