//! Dynamic client registration (RFC 7591). Off unless open registration is on or the client
//! presents an initial access token from `carnet vendor invite` (single use, 24 hours). With
//! an invitation the client belongs to the invited vendor; with open registration a new vendor
//! is created under the client's name, and registrations are limited per address and in all.
//! Either way the client is *unverified*: the consent page says Carnet cannot vouch for its
//! name. Never gives a vendor a second client.

use std::net::IpAddr;

use carnet_schemas::{
    ClientId, InvalidValue, Line, RedirectUri, RegistrationRequest, RegistrationResponse,
    VendorFields, VendorId, WebUrl,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::access::{ClientEntry, ClientRecord, GrantType, GrantTypes};
use crate::context::Core;
use crate::credential::{self, Credential};
use crate::ledger::index::Op;
use crate::limits::Registrations;
use crate::limits::registrations as limit;
use crate::store::StoreError;
use crate::store::access::{self as client_rows, ClientRow};
use crate::store::consent as rows;
use crate::vault::{Keys, Unreadable};

const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The most redirect URIs a client may register.
const MAX_REDIRECT_URIS: usize = 10;

/// Why a client was not registered. Each message is what the client is told.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("registration needs an initial access token from the owner (`carnet vendor invite`)")]
    NoInvitation,
    #[error("the initial access token is unknown, used or expired")]
    BadInvitation,
    #[error(
        "too many open registrations (at most {} per address and {} in all an hour); try again in {retry_after} s, or ask the owner for an invitation",
        limit::PER_ADDRESS,
        limit::IN_ALL
    )]
    TooMany { retry_after: u64 },
    /// A redirect URI is not acceptable.
    #[error("{0}")]
    RedirectUri(String),
    /// Other metadata is not acceptable.
    #[error("{0}")]
    Metadata(String),
    #[error("this vendor already has a client: ask the owner to disconnect it first")]
    VendorHasClient,
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn metadata(e: InvalidValue) -> RegistrationError {
    RegistrationError::Metadata(e.0)
}

/// Who is registering.
pub enum Registrant {
    /// The holder of this initial access token.
    Invited(String),
    /// Anyone, from this address (open registration).
    Open(IpAddr),
}

/// Lets a registration in: with an invitation, or (open registration on) within the limits,
/// which it counts.
pub fn admit(
    limits: &Registrations,
    open_registration: bool,
    invite: Option<String>,
    ip: IpAddr,
    now: DateTime<Utc>,
) -> Result<Registrant, RegistrationError> {
    match invite {
        Some(token) => Ok(Registrant::Invited(token)),
        None if !open_registration => Err(RegistrationError::NoInvitation),
        None => {
            limits
                .take(ip, now)
                .map_err(|retry_after| RegistrationError::TooMany { retry_after })?;
            Ok(Registrant::Open(ip))
        }
    }
}

impl Registrant {
    /// A registration `admit` let in at `admitted` that did not happen does not count.
    pub fn refused(&self, limits: &Registrations, admitted: DateTime<Utc>) {
        if let Registrant::Open(ip) = self {
            limits.give_back(*ip, admitted);
        }
    }
}

/// The registration metadata, checked.
struct Checked {
    webhook_url: Option<WebUrl>,
    redirect_uris: Vec<RedirectUri>,
    name: Line,
    website: Option<WebUrl>,
    auth_method: String,
    grant_types: Vec<String>,
}

fn check(r: RegistrationRequest) -> Result<Checked, RegistrationError> {
    if r.redirect_uris.is_empty() || r.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(RegistrationError::RedirectUri(format!(
            "give 1 to {MAX_REDIRECT_URIS} redirect_uris"
        )));
    }
    let redirect_uris = r
        .redirect_uris
        .iter()
        .map(|u| u.parse::<RedirectUri>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RegistrationError::RedirectUri(e.0))?;
    let name: Line = r
        .client_name
        .as_deref()
        .unwrap_or("Unnamed application")
        .parse()
        .map_err(metadata)?;
    let website = r
        .client_uri
        .as_deref()
        .map(str::parse::<WebUrl>)
        .transpose()
        .map_err(metadata)?;
    let auth_method = r
        .token_endpoint_auth_method
        .unwrap_or_else(|| AUTH_METHODS[0].into());
    if !AUTH_METHODS.contains(&auth_method.as_str()) {
        return Err(RegistrationError::Metadata(format!(
            "token_endpoint_auth_method {auth_method:?}: only client_secret_basic and client_secret_post (confidential clients)"
        )));
    }
    let grant_types = r.grant_types.unwrap_or_else(|| {
        [GrantType::AuthorizationCode, GrantType::RefreshToken]
            .map(|g| g.name().to_owned())
            .into()
    });
    if let Some(g) = grant_types
        .iter()
        .find(|g| GrantType::named(g.as_str()).is_none())
    {
        return Err(RegistrationError::Metadata(format!(
            "grant type {g:?} is not supported"
        )));
    }
    if r.response_types
        .is_some_and(|rt| rt.iter().any(|t| t != "code"))
    {
        return Err(RegistrationError::Metadata(
            "only the response type code is supported".into(),
        ));
    }
    let webhook_url = r
        .webhook_url
        .as_deref()
        .map(vendor_webhook_url)
        .transpose()?;
    Ok(Checked {
        webhook_url,
        redirect_uris,
        name,
        website,
        auth_method,
        grant_types,
    })
}

/// A webhook URL a vendor gives itself: https, no credentials, and not a literal address or
/// name that is obviously not public (the resolved address is checked at each delivery).
fn vendor_webhook_url(u: &str) -> Result<WebUrl, RegistrationError> {
    let bad = |why: &str| RegistrationError::Metadata(format!("webhook_url {u:?}: {why}"));
    let url: WebUrl = u.parse().map_err(|e: InvalidValue| bad(&e.0))?;
    let parsed = url::Url::parse(url.as_str()).map_err(|_| bad("not a URL"))?;
    if parsed.scheme() != "https" {
        return Err(bad("must be https"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    let public = crate::webhooks::deliver::is_public;
    match parsed.host() {
        Some(url::Host::Ipv4(a)) if !public(a.into()) => Err(bad("must be a public address")),
        Some(url::Host::Ipv6(a)) if !public(a.into()) => Err(bad("must be a public address")),
        Some(url::Host::Domain(d)) if is_local_name(d) => Err(bad("must be a public address")),
        Some(_) => Ok(url),
        None => Err(bad("has no host")),
    }
}

/// `localhost` and its subdomains (RFC 6761), whatever the case and with a trailing dot.
fn is_local_name(host: &str) -> bool {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// A vendor for an openly registered client: its name, made unique; and what the ledger
/// index learns of it.
fn new_vendor(
    c: &Connection,
    core: &Core,
    checked: &Checked,
) -> Result<(VendorId, Op), RegistrationError> {
    let keys: &Keys = &core.keys;
    let name = crate::ledger::vendors::free_name(c, keys, checked.name.as_str())?;
    let id: VendorId = core.new_id();
    let fields = VendorFields {
        name: name.parse().map_err(metadata)?,
        website: checked.website.clone(),
        categories: vec![],
        accounts: vec![],
        note: "Registered itself through /oauth/register (unverified)"
            .parse()
            .ok(),
        channel: None,
        contact_policy: None,
        directory_id: None,
    };
    let op = crate::ledger::vendors::insert(c, keys, &id, &fields, core.now())?;
    Ok((id, op))
}

/// The vendor an invitation was made for, if it is unused, unexpired and the vendor has no
/// client yet.
fn invited_vendor(
    c: &Connection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<VendorId, RegistrationError> {
    let vendor = rows::take_invite(c, &credential::hash(token), now)?
        .ok_or(RegistrationError::BadInvitation)?;
    if client_rows::client_of_vendor::<ClientRecord>(c, &vendor)?.is_some() {
        return Err(RegistrationError::VendorHasClient);
    }
    vendor.parse().map_err(|_| {
        Unreadable {
            table: "invites",
            id: vendor.clone(),
        }
        .into()
    })
}

/// Checks `req` and creates the client (and, for an open registration, its vendor); the
/// answer carries the client's secret, shown this once.
pub async fn register(
    core: &Core,
    registrant: &Registrant,
    req: RegistrationRequest,
) -> Result<RegistrationResponse, RegistrationError> {
    let checked = check(req)?;
    let client_id: ClientId = core.new_id();
    let secret = Credential::generate();
    let secret_hash = secret.hash();
    let now = core.now();
    let webhook_secret = checked
        .webhook_url
        .as_ref()
        .map(|_| crate::webhooks::new_secret());
    let record = ClientRecord {
        redirect_uris: checked.redirect_uris.clone(),
        webhook_url: checked.webhook_url.clone(),
        webhook_secret: webhook_secret.clone(),
        grant_types: Some(checked.grant_types.clone()),
    };
    let sealed = core.keys.seal().seal(client_id.as_str(), &record);
    let (state, cid) = (core.clone(), client_id.clone());
    let invite = match registrant {
        Registrant::Invited(token) => Some(token.clone()),
        Registrant::Open(_) => None,
    };
    let (vendor_id, checked) = core
        .index
        .write(&core.store, move |c| {
            let (vendor_id, ops) = match invite {
                Some(token) => (invited_vendor(c, &token, now)?, vec![]),
                None => {
                    let (id, op) = new_vendor(c, &state, &checked)?;
                    (id, vec![op])
                }
            };
            client_rows::insert_client(
                c,
                &ClientRow {
                    id: cid.to_string(),
                    vendor_id: vendor_id.to_string(),
                    secret_hash: secret_hash.to_vec(),
                    verified: false,
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )?;
            Ok::<_, RegistrationError>(((vendor_id, checked), ops))
        })
        .await?;
    core.access.put_client(
        client_id.clone(),
        ClientEntry {
            vendor_id,
            secret_hash,
            grant_types: GrantTypes::of(Some(&checked.grant_types)),
        },
    );
    Ok(RegistrationResponse {
        client_id,
        client_secret: secret.expose().to_owned(),
        client_id_issued_at: now.timestamp(),
        client_secret_expires_at: 0,
        redirect_uris: checked.redirect_uris,
        client_name: checked.name,
        token_endpoint_auth_method: checked.auth_method,
        grant_types: checked.grant_types,
        response_types: vec!["code".into()],
        webhook_url: checked.webhook_url.map(|u| u.to_string()),
        webhook_secret,
    })
}
