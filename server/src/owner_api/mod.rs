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

use crate::api_routes::{ApiRouter, api_routes};

pub fn router<R: ApiRouter>() -> R {
    R::empty()
        .routes(api_routes!(vendors::list, vendors::create))
        .routes(api_routes!(
            vendors::show,
            vendors::replace,
            vendors::remove
        ))
        .routes(api_routes!(interactions::list, interactions::create))
        .routes(api_routes!(
            interactions::show,
            interactions::replace,
            interactions::remove
        ))
        .routes(api_routes!(purchases::list, purchases::create))
        .routes(api_routes!(
            purchases::show,
            purchases::replace,
            purchases::remove
        ))
        .routes(api_routes!(incidents::list, incidents::create))
        .routes(api_routes!(
            incidents::show,
            incidents::replace,
            incidents::remove
        ))
        .routes(api_routes!(incidents::resolve))
        .routes(api_routes!(promises::list, promises::create))
        .routes(api_routes!(promises::show, promises::remove))
        .routes(api_routes!(promises::kept))
        .routes(api_routes!(promises::broken))
        .routes(api_routes!(subscriptions::list, subscriptions::create))
        .routes(api_routes!(subscriptions::payments))
        .routes(api_routes!(
            subscriptions::show,
            subscriptions::edit,
            subscriptions::remove
        ))
        .routes(api_routes!(subscriptions::cancel))
        .routes(api_routes!(subscriptions::shop))
        .routes(api_routes!(documents::list, documents::upload))
        .routes(api_routes!(
            documents::show,
            documents::edit,
            documents::remove
        ))
        .routes(api_routes!(documents::content))
        .routes(api_routes!(documents::share))
        .routes(api_routes!(documents::unshare))
        .routes(api_routes!(search::search))
        .routes(api_routes!(followups::list))
        .routes(api_routes!(followups::done))
        .routes(api_routes!(profile::show, profile::replace))
        .routes(api_routes!(
            clients::connect,
            clients::show,
            clients::replace,
            clients::disconnect
        ))
        .routes(api_routes!(clients::rotate_secret))
        .routes(api_routes!(clients::list))
        .routes(api_routes!(grants::create, grants::list))
        .routes(api_routes!(grants::show))
        .routes(api_routes!(grants::revoke))
        .routes(api_routes!(grants::widen))
        .routes(api_routes!(receipts::list))
        .routes(api_routes!(access_log::list))
        .routes(api_routes!(
            access_log::verify,
            access_log::request_verification
        ))
        .routes(api_routes!(access_log::integrity))
        .routes(api_routes!(webhooks::list))
        .routes(api_routes!(notify::list, notify::create))
        .routes(api_routes!(notify::show, notify::update, notify::remove))
        .routes(api_routes!(notify::test))
        .routes(api_routes!(lifecycle::unlock))
        .routes(api_routes!(lifecycle::lock))
        .routes(api_routes!(consents::list))
        .routes(api_routes!(consents::approve))
        .routes(api_routes!(consents::deny))
        .routes(api_routes!(consents::invite))
        .routes(api_routes!(consents::set_password))
        .routes(api_routes!(intents::create, intents::list))
        .routes(api_routes!(intents::show, intents::replace))
        .routes(api_routes!(intents::activate))
        .routes(api_routes!(intents::withdraw))
        .routes(api_routes!(intents::fulfil))
        .routes(api_routes!(offers::list))
        .routes(api_routes!(offers::show))
        .routes(api_routes!(offers::accept))
        .routes(api_routes!(offers::decline))
        .routes(api_routes!(market::list))
        .routes(api_routes!(market::show))
        .routes(api_routes!(market::accept))
        .routes(api_routes!(market::decline))
        .routes(api_routes!(market::add_vendor))
        .routes(api_routes!(archive::export))
        .routes(api_routes!(archive::import))
}
