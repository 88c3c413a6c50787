//! The owner API under `/v1/…`: the consumer's ledger. Every handler requires the owner
//! token (`Owner`), seals what it stores and opens what it returns; nothing here ever
//! writes user content to a clear column or a log.

mod access_log;
mod archive;
mod clients;
mod consents;
pub(crate) mod documents;
mod followups;
pub(crate) mod grants;
mod incidents;
mod intents;
mod interactions;
mod lifecycle;
mod market;
mod notify;
mod offers;
mod profile;
mod promises;
mod purchases;
mod receipts;
mod search;
mod subscriptions;
mod vendors;
mod webhooks;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

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
        .routes(routes!(
            incidents::show,
            incidents::replace,
            incidents::remove
        ))
        .routes(routes!(incidents::resolve))
        .routes(routes!(promises::list, promises::create))
        .routes(routes!(promises::show, promises::remove))
        .routes(routes!(promises::kept))
        .routes(routes!(promises::broken))
        .routes(routes!(subscriptions::list, subscriptions::create))
        .routes(routes!(subscriptions::payments))
        .routes(routes!(
            subscriptions::show,
            subscriptions::edit,
            subscriptions::remove
        ))
        .routes(routes!(subscriptions::cancel))
        .routes(routes!(subscriptions::shop))
        .routes(routes!(documents::list, documents::upload))
        .routes(routes!(documents::show, documents::edit, documents::remove))
        .routes(routes!(documents::content))
        .routes(routes!(documents::share))
        .routes(routes!(documents::unshare))
        .routes(routes!(search::search))
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
        .routes(routes!(grants::widen))
        .routes(routes!(receipts::list))
        .routes(routes!(access_log::list))
        .routes(routes!(
            access_log::verify,
            access_log::request_verification
        ))
        .routes(routes!(access_log::integrity))
        .routes(routes!(webhooks::list))
        .routes(routes!(notify::list, notify::create))
        .routes(routes!(notify::show, notify::update, notify::remove))
        .routes(routes!(notify::test))
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
        .routes(routes!(market::list))
        .routes(routes!(market::show))
        .routes(routes!(market::accept))
        .routes(routes!(market::decline))
        .routes(routes!(market::add_vendor))
        .routes(routes!(archive::export))
        .routes(routes!(archive::import))
}
