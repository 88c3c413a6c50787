//! `POST /oauth/register` (RFC 7591). Off unless `open_registration` is set or the request
//! carries an initial access token from `carnet vendor invite` (single use, 24 hours). With an
//! invitation the client belongs to the invited vendor; with open registration a new vendor is
//! created under the client's name. Either way the client is *unverified*: the consent page
//! says Carnet cannot vouch for its name.

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use carnet_schemas::{
    ClientId, Line, RedirectUri, RegistrationRequest, RegistrationResponse, VendorFields, VendorId,
    WebUrl,
};
use rusqlite::Connection;

use super::error::{OAuthError, no_store};
use crate::client_ip::ClientIp;
use crate::extract::bearer_token;
use crate::state::AppState;
use carnet_core::access::{ClientEntry, ClientRecord, GrantTypes};
use carnet_core::credential::{self, Credential};
use carnet_core::limits::registrations as register_limit;
use carnet_core::store::access::{self as client_rows, ClientRow};
use carnet_core::store::consent as rows;
use carnet_core::store::records::{self, Row};
use carnet_core::vault::Keys;

const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The registration metadata, checked.
struct Checked {
    webhook_url: Option<WebUrl>,
    redirect_uris: Vec<RedirectUri>,
    name: Line,
    website: Option<WebUrl>,
    auth_method: String,
    grant_types: Vec<String>,
}

fn check(r: RegistrationRequest) -> Result<Checked, OAuthError> {
    if r.redirect_uris.is_empty() || r.redirect_uris.len() > 10 {
        return Err(OAuthError::InvalidRedirectUri(
            "give 1 to 10 redirect_uris".into(),
        ));
    }
    let redirect_uris = r
        .redirect_uris
        .iter()
        .map(|u| u.parse::<RedirectUri>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| OAuthError::InvalidRedirectUri(e.0))?;
    let meta = |e: carnet_schemas::InvalidValue| OAuthError::InvalidClientMetadata(e.0);
    let name: Line = r
        .client_name
        .as_deref()
        .unwrap_or("Unnamed application")
        .parse()
        .map_err(meta)?;
    let website = r
        .client_uri
        .as_deref()
        .map(str::parse::<WebUrl>)
        .transpose()
        .map_err(meta)?;
    let auth_method = r
        .token_endpoint_auth_method
        .unwrap_or_else(|| AUTH_METHODS[0].into());
    if !AUTH_METHODS.contains(&auth_method.as_str()) {
        return Err(OAuthError::InvalidClientMetadata(format!(
            "token_endpoint_auth_method {auth_method:?}: only client_secret_basic and client_secret_post (confidential clients)"
        )));
    }
    let grant_types = r
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]);
    if let Some(g) = grant_types
        .iter()
        .find(|g| !GrantTypes::NAMES.contains(&g.as_str()))
    {
        return Err(OAuthError::InvalidClientMetadata(format!(
            "grant type {g:?} is not supported"
        )));
    }
    if r.response_types
        .is_some_and(|rt| rt.iter().any(|t| t != "code"))
    {
        return Err(OAuthError::InvalidClientMetadata(
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
fn vendor_webhook_url(u: &str) -> Result<WebUrl, OAuthError> {
    let bad = |why: &str| OAuthError::InvalidClientMetadata(format!("webhook_url {u:?}: {why}"));
    let url: WebUrl = u
        .parse()
        .map_err(|e: carnet_schemas::InvalidValue| bad(&e.0))?;
    let parsed = url::Url::parse(url.as_str()).map_err(|_| bad("not a URL"))?;
    if parsed.scheme() != "https" {
        return Err(bad("must be https"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    match parsed.host() {
        Some(url::Host::Ipv4(a)) if !carnet_core::webhooks::deliver::is_public(a.into()) => {
            Err(bad("must be a public address"))
        }
        Some(url::Host::Ipv6(a)) if !carnet_core::webhooks::deliver::is_public(a.into()) => {
            Err(bad("must be a public address"))
        }
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

/// A vendor for an openly registered client: its name, made unique.
fn new_vendor(
    c: &Connection,
    keys: &Keys,
    s: &AppState,
    checked: &Checked,
) -> Result<VendorId, OAuthError> {
    let taken: Vec<String> = records::list::<VendorFields>(c, None)?
        .into_iter()
        .filter_map(|r| keys.seal().open::<VendorFields>(&r.id, &r.sealed).ok())
        .map(|v| v.name.to_string())
        .collect();
    let base = checked.name.to_string();
    let name = (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base} ({n})")
            }
        })
        .find(|n| !taken.contains(n))
        .unwrap_or(base);
    let id: VendorId = s.new_id();
    let fields = VendorFields {
        name: name
            .parse()
            .map_err(|e: carnet_schemas::InvalidValue| OAuthError::InvalidClientMetadata(e.0))?,
        website: checked.website.clone(),
        categories: vec![],
        accounts: vec![],
        note: Some(
            "Registered itself through /oauth/register (unverified)"
                .parse()
                .map_err(|_| OAuthError::Server("note".into()))?,
        ),
        channel: None,
        contact_policy: None,
    };
    let now = s.now();
    records::insert(
        c,
        &Row {
            id: id.to_string(),
            vendor_id: None,
            created_at: now,
            updated_at: now,
            sealed: keys.seal().seal(id.as_str(), &fields),
        },
    )?;
    Ok(id)
}

/// Register a client (RFC 7591).
#[utoipa::path(post, path = "/oauth/register", tag = "oauth",
    request_body(content = RegistrationRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered; the secret is shown once", body = RegistrationResponse),
        (status = 400, description = "invalid_redirect_uri or invalid_client_metadata", body = carnet_schemas::OAuthErrorBody),
        (status = 401, description = "No valid initial access token, and open registration is off", body = carnet_schemas::OAuthErrorBody),
        (status = 429, description = "temporarily_unavailable: too many open registrations from this address or in all (Retry-After)", body = carnet_schemas::OAuthErrorBody)),
    security((), ("initial_access_token" = [])))]
pub async fn register(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Response, OAuthError> {
    // An empty token is an invitation too (one that will not be found).
    let invite = bearer_token(req.headers()).ok().map(str::to_owned);
    if invite.is_none() && !s.settings.open_registration {
        return Err(OAuthError::InvalidToken(
            "registration needs an initial access token from the owner (`carnet vendor invite`)"
                .into(),
        ));
    }
    let open = invite.is_none();
    let now = s.now();
    if open && let Err(retry_after) = s.registrations.take(ip, now) {
        return Err(OAuthError::TooManyRegistrations {
            retry_after,
            detail: format!(
                "too many open registrations (at most {} per address and {} in all an hour); \
                 try again in {retry_after} s, or ask the owner for an invitation",
                register_limit::PER_ADDRESS,
                register_limit::IN_ALL
            ),
        });
    }
    let registered = create(&s, invite, req).await;
    if open && registered.is_err() {
        s.registrations.give_back(ip, now);
    }
    registered
}

/// Checks the request and creates the client (and, with open registration, its vendor).
async fn create(
    s: &AppState,
    invite: Option<String>,
    req: Request,
) -> Result<Response, OAuthError> {
    let axum::Json(body) = axum::Json::<RegistrationRequest>::from_request(req, s)
        .await
        .map_err(|e| OAuthError::InvalidClientMetadata(e.body_text()))?;
    let checked = check(body)?;
    let client_id: ClientId = s.new_id();
    let secret = Credential::generate();
    let secret_hash = secret.hash();
    let now = s.now();
    let webhook_secret = checked
        .webhook_url
        .as_ref()
        .map(|_| carnet_core::webhooks::new_secret());
    let record = ClientRecord {
        redirect_uris: checked.redirect_uris.clone(),
        webhook_url: checked.webhook_url.clone(),
        webhook_secret: webhook_secret.clone(),
        grant_types: Some(checked.grant_types.clone()),
    };
    let sealed = s.keys.seal().seal(client_id.as_str(), &record);
    let (state, cid) = (s.clone(), client_id.clone());
    let invite_hash = invite.as_deref().map(credential::hash);
    let (vendor_id, checked) = s
        .store
        .write(move |c| {
            let vendor_id = match invite_hash {
                Some(hash) => {
                    let vendor = rows::take_invite(c, &hash, now)?.ok_or_else(|| {
                        OAuthError::InvalidToken("the initial access token is unknown, used or expired".into())
                    })?;
                    if client_rows::client_of_vendor::<ClientRecord>(c, &vendor)?.is_some() {
                        return Err(OAuthError::InvalidClientMetadata(
                            "this vendor already has a client: ask the owner to disconnect it first".into(),
                        ));
                    }
                    vendor.parse().map_err(|_| OAuthError::Server("bad vendor id".into()))?
                }
                None => new_vendor(c, &state.keys, &state, &checked)?,
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
            Ok::<_, OAuthError>((vendor_id, checked))
        })
        .await?;
    s.access.put_client(
        client_id.clone(),
        ClientEntry {
            vendor_id,
            secret_hash,
            grant_types: GrantTypes::of(Some(&checked.grant_types)),
        },
    );
    let body = RegistrationResponse {
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
    };
    let mut res = (StatusCode::CREATED, axum::Json(body)).into_response();
    no_store(&mut res);
    Ok(res)
}
