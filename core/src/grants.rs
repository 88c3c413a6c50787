//! Grants: the owner lets a vendor do named things (scopes) in named categories for a limited
//! time. A vendor has at most one live grant: a new one replaces it, while widening adds to
//! the live one (more scopes, more categories, a later end) and keeps its tokens. Every grant,
//! and every widening, comes with a signed consent receipt; revoking a grant stops its tokens
//! before the call returns. Never gives or widens a grant without its receipt, never narrows
//! one in place, nor leaves a replaced grant's tokens alive.

use carnet_schemas::{
    DEFAULT_GRANT_DAYS, Grant, GrantFields, GrantId, GrantState, GrantWidening, MAX_GRANT_DAYS,
    NewGrant, ReceiptId, VendorFields, VendorId, ids::VendorKind,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::access::pseudonym::customer_ref;
use crate::access::receipts::{self, ReceiptInput};
use crate::access::{ReceiptRecord, grant_entry};
use crate::context::Core;
use crate::crypto::{Keys, Unreadable};
use crate::ledger::open;
use crate::store::StoreError;
use crate::store::access::{self as rows, GrantRow, ReceiptRow};
use crate::store::records;

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// A field of the new grant is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no grant {0}")]
    NotFound(GrantId),
    /// Only a live grant can be widened.
    #[error("grant {id} is {state}: only a live grant can be widened")]
    NotLive { id: GrantId, state: &'static str },
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> GrantError {
    GrantError::Invalid {
        field,
        message: message.into(),
    }
}

fn state_of(row: &GrantRow<GrantFields>, now: DateTime<Utc>) -> GrantState {
    if row.revoked_at.is_some() {
        GrantState::Revoked
    } else if now >= row.expires_at {
        GrantState::Expired
    } else {
        GrantState::Live
    }
}

fn to_wire(
    keys: &Keys,
    row: GrantRow<GrantFields>,
    now: DateTime<Utc>,
) -> Result<Grant, GrantError> {
    let unreadable = || Unreadable {
        table: "grants",
        id: row.id.clone(),
    };
    let fields: GrantFields = keys.seal().open(&row.id, &row.sealed)?;
    let id = row.id.parse().map_err(|_| unreadable())?;
    Ok(Grant {
        id,
        state: state_of(&row, now),
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        fields,
    })
}

/// How many days `g` lasts, if it is acceptable.
fn check(g: &NewGrant) -> Result<u32, GrantError> {
    if g.scopes.is_empty() {
        return Err(invalid("scopes", "name at least one scope"));
    }
    match (g.categories.is_empty(), g.all_categories) {
        (true, false) => {
            return Err(invalid(
                "categories",
                "name the categories the vendor may see, or set all_categories",
            ));
        }
        (false, true) => {
            return Err(invalid(
                "all_categories",
                "give categories or all_categories, not both",
            ));
        }
        _ => {}
    }
    check_days(g.days.unwrap_or(DEFAULT_GRANT_DAYS))
}

fn check_days(days: u32) -> Result<u32, GrantError> {
    if !(1..=MAX_GRANT_DAYS).contains(&days) {
        return Err(invalid(
            "days",
            format!("a grant lasts 1 to {MAX_GRANT_DAYS} days, not {days}"),
        ));
    }
    Ok(days)
}

/// Live grants of a vendor, to be replaced by a new one.
fn live_of(
    conn: &Connection,
    vendor: &VendorId,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    Ok(rows::grants::<GrantFields>(conn, Some(vendor.as_str()))?
        .into_iter()
        .filter(|g| state_of(g, now) == GrantState::Live)
        .map(|g| g.id)
        .collect())
}

fn vendor_of(c: &Connection, keys: &Keys, id: &VendorId) -> Result<VendorFields, GrantError> {
    let vendor = records::get::<VendorFields>(c, id.as_str())?
        .ok_or_else(|| invalid("vendor_id", format!("there is no vendor {id}")))?;
    Ok(open::<VendorKind, _>(keys, vendor)?.fields)
}

/// Signs and stores the consent receipt of grant `id` as `f` says (in the grant's write).
fn sign_receipt(
    c: &Connection,
    core: &Core,
    id: &GrantId,
    f: &GrantFields,
    vendor: &VendorFields,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), GrantError> {
    let receipt = receipts::build(ReceiptInput {
        grant_id: id,
        grant: f,
        vendor,
        customer_ref: customer_ref(&core.keys, &f.vendor_id),
        jurisdiction: &core.policy.jurisdiction,
        created_at: now,
        expires_at,
    });
    let jws = receipts::sign(&core.keys, &f.vendor_id, &receipt);
    rows::insert_receipt(
        c,
        &ReceiptRow {
            id: f.receipt_id.to_string(),
            vendor_id: f.vendor_id.to_string(),
            grant_id: id.to_string(),
            created_at: now,
            sealed: core
                .keys
                .seal()
                .seal(f.receipt_id.as_str(), &ReceiptRecord { jws }),
        },
    )?;
    receipts::publish_keys(c, &core.keys)?;
    Ok(())
}

/// Grants what `new` says (replacing the vendor's live grant) and signs its receipt;
/// `collection_method` says how consent was collected (the owner's CLI, the consent page…).
pub async fn give(
    core: &Core,
    new: NewGrant,
    collection_method: &str,
) -> Result<Grant, GrantError> {
    let days = check(&new)?;
    let now = core.now();
    let expires_at = now + chrono::Duration::days(i64::from(days));
    let grant_id: GrantId = core.new_id();
    let receipt_id: ReceiptId = core.new_id();
    let mut scopes = new.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let mut categories = new.categories.clone();
    categories.sort();
    categories.dedup();
    let fields = GrantFields {
        vendor_id: new.vendor_id.clone(),
        scopes,
        categories,
        all_categories: new.all_categories,
        purpose: new.purpose,
        collection_method: collection_method.into(),
        receipt_id: receipt_id.clone(),
    };
    let state = core.clone();
    let (gid, f) = (grant_id.clone(), fields.clone());
    let replaced = core
        .store
        .write(move |c| {
            let vendor = vendor_of(c, &state.keys, &f.vendor_id)?;
            let replaced = live_of(c, &f.vendor_id, now)?;
            for old in &replaced {
                rows::revoke_grant(c, old, now)?;
                if let Ok(gid) = old.parse() {
                    crate::webhooks::grant_revoked(c, &state, &f.vendor_id, &gid, now)?;
                }
            }
            sign_receipt(c, &state, &gid, &f, &vendor, now, expires_at)?;
            rows::insert_grant(
                c,
                &GrantRow {
                    id: gid.to_string(),
                    vendor_id: f.vendor_id.to_string(),
                    created_at: now,
                    expires_at,
                    revoked_at: None,
                    sealed: state.keys.seal().seal(gid.as_str(), &f),
                },
            )?;
            Ok::<_, GrantError>(replaced)
        })
        .await?;
    for old in replaced.iter().filter_map(|id| id.parse().ok()) {
        core.access.revoke_grant(&old);
    }
    core.webhook_wake.notify_one();
    core.access
        .put_grant(grant_id.clone(), grant_entry(&fields, now, expires_at));
    Ok(Grant {
        id: grant_id,
        state: GrantState::Live,
        created_at: now,
        expires_at,
        revoked_at: None,
        fields,
    })
}

/// What `grant` (live, ending at `ends`) becomes when widened by `w`: the old scopes and
/// categories and the new ones, the later of the two ends. Refused when it would shorten the
/// grant, or when it adds nothing.
fn widened(
    old: &GrantFields,
    ends: DateTime<Utc>,
    w: &GrantWidening,
    now: DateTime<Utc>,
) -> Result<(GrantFields, DateTime<Utc>), GrantError> {
    let mut scopes = old.scopes.clone();
    scopes.extend(w.scopes.iter().copied());
    scopes.sort();
    scopes.dedup();
    let all_categories = old.all_categories || w.all_categories;
    let mut categories = old.categories.clone();
    if all_categories {
        categories.clear();
    } else {
        for c in &w.categories {
            if !categories.iter().any(|o| o.covers(c)) {
                categories.push(c.clone());
            }
        }
        categories.sort();
        categories.dedup();
    }
    let expires_at = match w.days {
        None => ends,
        Some(days) => {
            let days = check_days(days)?;
            let until = now + chrono::Duration::days(i64::from(days));
            if until < ends {
                return Err(invalid(
                    "days",
                    format!(
                        "{days} days from now is {}, sooner than the grant ends already ({}); widening never shortens a grant: to shorten it, revoke it and give a new one",
                        until.format("%Y-%m-%d"),
                        ends.format("%Y-%m-%d")
                    ),
                ));
            }
            until
        }
    };
    let fields = GrantFields {
        scopes,
        categories,
        all_categories,
        purpose: w.purpose.clone().or_else(|| old.purpose.clone()),
        ..old.clone()
    };
    let mut before = old.clone();
    before.scopes.sort();
    before.categories.sort();
    if fields == before && expires_at == ends {
        return Err(invalid(
            "scopes",
            "the grant gives all of this already: name a scope, a category or a number of days it does not have",
        ));
    }
    Ok((fields, expires_at))
}

/// Widens a live grant as `w` says and signs a new receipt for the grant as it then is;
/// `collection_method` as for `give`. The grant keeps its id and its tokens (each keeps the
/// scopes it was issued with: the vendor asks for a new one to use what was added).
pub async fn widen(
    core: &Core,
    id: &GrantId,
    w: GrantWidening,
    collection_method: &str,
) -> Result<Grant, GrantError> {
    let now = core.now();
    let current = show(core, id)?;
    let not_live = |state| GrantError::NotLive {
        id: id.clone(),
        state,
    };
    match current.state {
        GrantState::Live => {}
        GrantState::Expired => return Err(not_live("expired")),
        GrantState::Revoked => return Err(not_live("revoked")),
    }
    let (mut fields, expires_at) = widened(&current.fields, current.expires_at, &w, now)?;
    fields.receipt_id = core.new_id();
    fields.collection_method = collection_method.into();
    let state = core.clone();
    let (gid, f) = (id.clone(), fields.clone());
    core.store
        .write(move |c| {
            let vendor = vendor_of(c, &state.keys, &f.vendor_id)?;
            let sealed = state.keys.seal().seal(gid.as_str(), &f);
            if !rows::update_grant(c, gid.as_str(), expires_at, &sealed, now)? {
                // Revoked (or replaced) since it was read.
                return Err(GrantError::NotLive {
                    id: gid.clone(),
                    state: "revoked",
                });
            }
            sign_receipt(c, &state, &gid, &f, &vendor, now, expires_at)?;
            Ok::<_, GrantError>(())
        })
        .await?;
    core.access.put_grant(
        id.clone(),
        grant_entry(&fields, current.created_at, expires_at),
    );
    Ok(Grant {
        id: id.clone(),
        state: GrantState::Live,
        created_at: current.created_at,
        expires_at,
        revoked_at: None,
        fields,
    })
}

/// Grants (of one vendor, or all), newest first: live, expired and revoked.
pub fn list(core: &Core, vendor: Option<&VendorId>) -> Result<Vec<Grant>, GrantError> {
    let now = core.now();
    let rows = core
        .store
        .read(|c| rows::grants::<GrantFields>(c, vendor.map(|v| v.as_str())))?;
    let mut grants = rows
        .into_iter()
        .map(|r| to_wire(&core.keys, r, now))
        .collect::<Result<Vec<_>, _>>()?;
    grants.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    Ok(grants)
}

/// The vendor's live grant, if it has one (the one a new grant would replace).
pub fn live(core: &Core, vendor: &VendorId) -> Result<Option<Grant>, GrantError> {
    Ok(list(core, Some(vendor))?
        .into_iter()
        .find(|g| g.state == GrantState::Live))
}

/// One grant.
pub fn show(core: &Core, id: &GrantId) -> Result<Grant, GrantError> {
    let row = core
        .store
        .read(|c| rows::grant::<GrantFields>(c, id.as_str()))?
        .ok_or_else(|| GrantError::NotFound(id.clone()))?;
    to_wire(&core.keys, row, core.now())
}

/// Revokes a grant (one already ended stays as it is): its tokens stop working before this
/// returns, and the vendor is told by webhook.
pub async fn revoke(core: &Core, id: &GrantId) -> Result<Grant, GrantError> {
    let now = core.now();
    let gid = id.clone();
    let state = core.clone();
    let row = core
        .store
        .write(move |c| {
            let revoked = rows::revoke_grant(c, gid.as_str(), now)?;
            let row = rows::grant::<GrantFields>(c, gid.as_str())?
                .ok_or_else(|| GrantError::NotFound(gid.clone()))?;
            if revoked && let Ok(vendor) = row.vendor_id.parse() {
                crate::webhooks::grant_revoked(c, &state, &vendor, &gid, now)?;
            }
            Ok::<_, GrantError>(row)
        })
        .await?;
    core.access.revoke_grant(id);
    core.webhook_wake.notify_one();
    to_wire(&core.keys, row, now)
}
