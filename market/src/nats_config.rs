//! `carnet-market nats-config`: the nats-server configuration of a relay with consent at the
//! transport. Decentralized JWT authentication with the operator's NATS keys (derived, see
//! `jwt`): the operator JWT, a memory resolver preloaded with two accounts (MARKET, which holds
//! the streams and every user, and the system account), JetStream on file storage.
//!
//! Users are not listed here: each carries its permissions in its own JWT (`creds`), so issuing
//! one needs no new configuration nor a restart. It prints no seed: the file holds public keys
//! and signed JWTs only.

use chrono::{DateTime, Utc};

use crate::directory::Directory;
use crate::jwt::{self, DerivedKey, JwtError, MARKET_ACCOUNT, SYSTEM_ACCOUNT};
use crate::keys::SigningKey;

/// What the operator chooses about the server itself.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `host:port` the server listens on for clients.
    pub listen: String,
    /// JetStream's store directory.
    pub store_dir: String,
}

/// The configuration text for `directory`'s relay, signed at `now`.
pub fn render(
    operator: &SigningKey,
    directory: &Directory,
    settings: &ServerSettings,
    now: DateTime<Utc>,
) -> Result<String, JwtError> {
    let op = jwt::derive(operator, DerivedKey::Operator)?;
    let market = jwt::derive(operator, DerivedKey::MarketAccount)?;
    let system = jwt::derive(operator, DerivedKey::SystemAccount)?;
    let operator_jwt = jwt::operator_jwt(&op, &system, now)?;
    let market_jwt = jwt::account_jwt(&op, &market, MARKET_ACCOUNT, true, now)?;
    let system_jwt = jwt::account_jwt(&op, &system, SYSTEM_ACCOUNT, false, now)?;
    let mut vendors = String::new();
    for v in &directory.vendors {
        let categories: Vec<String> = v.categories.iter().map(ToString::to_string).collect();
        vendors.push_str(&format!("#   {}: {}\n", v.id, categories.join(", ")));
    }
    Ok(format!(
        "# nats-server configuration written by `carnet-market nats-config` from the market\n\
         # directory version {version}. Consent at the transport: every client needs credentials\n\
         # from `carnet-market vault-user`, `vendor-user` or `admin-user`; each user's permissions\n\
         # are in its own JWT, so issuing one changes nothing here. Vendors of this directory:\n\
         {vendors}\
         listen: {listen}\n\
         \n\
         jetstream {{\n  store_dir: {store_dir}\n}}\n\
         \n\
         operator: {operator_jwt}\n\
         system_account: {system_key}\n\
         resolver: MEMORY\n\
         resolver_preload: {{\n  # {MARKET_ACCOUNT}: the relay's streams and every user.\n  \
         {market_key}: \"{market_jwt}\"\n  # {SYSTEM_ACCOUNT}: the server's own.\n  \
         {system_key}: \"{system_jwt}\"\n}}\n",
        version = directory.version,
        listen = quoted(&settings.listen),
        store_dir = quoted(&settings.store_dir),
        system_key = system.public_key(),
        market_key = market.public_key(),
    ))
}

/// A string value in nats-server's configuration syntax: double-quoted, `\` and `"` escaped.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
