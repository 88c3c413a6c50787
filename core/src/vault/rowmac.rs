//! Row MACs on an opened vault: giving the store its row key, and MACing every row once at
//! the first unlock after the upgrade to schema 6 (the rule itself is `crypto::rowmac`).

use crate::crypto::{Keys, RowMac, Table};
use crate::store::{Store, StoreError, integrity, records};

/// The canary's content once every row has its MAC (see `install`); before, it is
/// `vault::CANARY`. Only the vault key can write either.
pub(super) const CANARY_ROW_MACS: &[u8] = b"carnet vault canary v2: row macs";

/// Gives the store the row key of a proved vault. If the canary says the rows have no MACs
/// yet (`macs_on` false: the first unlock after the upgrade to schema 6), MACs every row as
/// it stands and, in the same transaction, seals into the canary that this was done: from
/// then on a row without a MAC is a failure.
pub(super) async fn install(store: &Store, keys: &Keys, macs_on: bool) -> Result<(), StoreError> {
    store.set_row_key(Some(RowMac::new(keys)));
    if macs_on {
        return Ok(());
    }
    let canary = keys
        .seal()
        .seal_bytes(Table::Meta, super::CANARY_ID, CANARY_ROW_MACS);
    let rows = store
        .write(move |c| {
            let n = integrity::seal_all(c)?;
            records::meta_put(c, super::CANARY_ID, &canary)?;
            Ok::<_, StoreError>(n)
        })
        .await?;
    tracing::info!(
        rows,
        "every row now carries its MAC (first unlock after the upgrade)"
    );
    Ok(())
}
