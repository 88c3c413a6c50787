//! The ledger: the owner's records (vendors, interactions, purchases, incidents, promises, the
//! profile), which table each is sealed into, opening a stored row into its id and content, and
//! the services over them — one generic list/create/show/replace/delete for the four record
//! kinds (`kind`), follow-ups, loyalty facts, the owner's scorecards, receipts, and what a
//! vendor may read of it all. Never returns a row whose id or blob does not check out, nor
//! writes one that breaks a rule of its kind.

mod error;
pub mod followups;
pub mod incidents;
pub mod index;
pub mod interactions;
mod kind;
pub mod listing;
pub mod loyalty;
pub mod profile;
pub mod promises;
pub mod purchases;
pub mod receipts;
pub mod scorecard;
pub mod shared;
pub mod subscriptions;
pub mod vendors;

use carnet_schemas::{
    Id, IdKind, IncidentFields, InteractionFields, ProfileFields, PromiseFields, PurchaseFields,
    SubscriptionFields, VendorFields,
};

use crate::crypto::{Keys, Sealable, Table, Unreadable};
use crate::store::records::Row;

pub use error::LedgerError;
pub use incidents::Incidents;
pub use interactions::{InteractionFilter, Interactions};
pub use kind::{Kind, Paged, Record, Removable, Replace, create, delete, replace, show};
pub use promises::Promises;
pub use purchases::Purchases;
pub use vendors::Vendors;

/// Records of a listing, each with its key in the listing's order. Unsorted: the adapter's
/// paging sorts them and makes a page's cursor of the key of its last record.
pub type Listing<Key, T> = Vec<(Key, T)>;

/// The one row of the owner's profile.
pub const PROFILE_ID: &str = "profile";

impl Sealable for VendorFields {
    const TABLE: Table = Table::Vendors;
}
impl Sealable for InteractionFields {
    const TABLE: Table = Table::Interactions;
}
impl Sealable for PurchaseFields {
    const TABLE: Table = Table::Purchases;
}
impl Sealable for IncidentFields {
    const TABLE: Table = Table::Incidents;
}
impl Sealable for PromiseFields {
    const TABLE: Table = Table::Promises;
}
impl Sealable for SubscriptionFields {
    const TABLE: Table = Table::Subscriptions;
}
impl Sealable for ProfileFields {
    const TABLE: Table = Table::Profile;
}

/// An opened row: its parsed id and content.
pub struct Opened<K, T> {
    pub id: Id<K>,
    pub row: Row<T>,
    pub fields: T,
}

/// Opens a stored row; a row whose id or blob does not check out is `Unreadable`.
pub fn open<K: IdKind, T: Sealable>(keys: &Keys, row: Row<T>) -> Result<Opened<K, T>, Unreadable> {
    let unreadable = || Unreadable {
        table: T::TABLE.name(),
        id: row.id.clone(),
    };
    let id = row.id.parse::<Id<K>>().map_err(|_| unreadable())?;
    let fields = keys.seal().open(&row.id, &row.sealed)?;
    Ok(Opened { id, row, fields })
}
