//! The owner API under `/v1/…`: the consumer's ledger. Every handler requires the owner
//! token (`Owner`), seals what it stores and opens what it returns; nothing here ever
//! writes user content to a clear column or a log.

mod access_log;
mod archive;
mod clients;
pub(crate) use clients::webhook_secret;
mod consents;
mod followups;
pub(crate) mod grants;
mod incidents;
mod intents;
mod interactions;
mod lifecycle;
pub(crate) mod loyalty;
mod offers;
pub(crate) mod profile;
mod purchases;
pub(crate) mod receipts;
mod vendors;
mod webhooks;

use axum::http::StatusCode;
use carnet_schemas::{
    Id, IdKind, IncidentFields, InteractionFields, ProfileFields, PurchaseFields, VendorFields,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::records::{self, Row};
use crate::vault::{Keys, Sealable, Table, Unreadable};

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
impl Sealable for ProfileFields {
    const TABLE: Table = Table::Profile;
}

/// An opened row: its parsed id and content.
pub(crate) struct Opened<K, T> {
    pub id: Id<K>,
    pub row: Row<T>,
    pub fields: T,
}

/// Opens a stored row; a row whose id or blob does not check out is `Unreadable`.
pub(crate) fn open<K: IdKind, T: Sealable>(
    keys: &Keys,
    row: Row<T>,
) -> Result<Opened<K, T>, Unreadable> {
    let unreadable = || Unreadable {
        table: T::TABLE.name(),
        id: row.id.clone(),
    };
    let id = row.id.parse::<Id<K>>().map_err(|_| unreadable())?;
    let fields = keys.seal().open(&row.id, &row.sealed)?;
    Ok(Opened { id, row, fields })
}

/// Deletes record `id` of `table`: 204, or 404 naming what was not there.
pub(crate) async fn delete<K: IdKind + 'static>(
    s: &AppState,
    table: Table,
    id: Id<K>,
) -> ApiResult<StatusCode> {
    let (found, id) = s
        .store
        .write(move |c| records::delete(c, table, id.as_str()).map(|d| (d, id)))
        .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(K::NOUN, id.as_str()))
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vendors::list, vendors::create))
        .routes(routes!(vendors::show, vendors::replace, vendors::remove))
        .routes(routes!(interactions::list, interactions::create))
        .routes(routes!(
            interactions::show,
            interactions::replace,
            interactions::remove
        ))
        .routes(routes!(purchases::list, purchases::create))
        .routes(routes!(
            purchases::show,
            purchases::replace,
            purchases::remove
        ))
        .routes(routes!(incidents::list, incidents::create))
        .routes(routes!(incidents::show, incidents::remove))
        .routes(routes!(incidents::resolve))
        .routes(routes!(followups::list))
        .routes(routes!(followups::done))
        .routes(routes!(profile::show, profile::replace))
        .routes(routes!(
            clients::connect,
            clients::show,
            clients::replace,
            clients::disconnect
        ))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(clients::list))
        .routes(routes!(grants::create, grants::list))
        .routes(routes!(grants::show))
        .routes(routes!(grants::revoke))
        .routes(routes!(receipts::list))
        .routes(routes!(access_log::list))
        .routes(routes!(access_log::verify))
        .routes(routes!(access_log::integrity))
        .routes(routes!(webhooks::list))
        .routes(routes!(lifecycle::unlock))
        .routes(routes!(lifecycle::lock))
        .routes(routes!(consents::list))
        .routes(routes!(consents::approve))
        .routes(routes!(consents::deny))
        .routes(routes!(consents::invite))
        .routes(routes!(consents::set_password))
        .routes(routes!(intents::create, intents::list))
        .routes(routes!(intents::show, intents::replace))
        .routes(routes!(intents::activate))
        .routes(routes!(intents::withdraw))
        .routes(routes!(intents::fulfil))
        .routes(routes!(offers::list))
        .routes(routes!(offers::show))
        .routes(routes!(offers::accept))
        .routes(routes!(offers::decline))
        .routes(routes!(archive::export))
        .routes(routes!(archive::import))
}
