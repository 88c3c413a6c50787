//! Consent requests in flight: what a vendor asked for at `/oauth/authorize`, waiting for the
//! owner to sign in on the page or to answer from the terminal (`carnet consent approve`).
//! They live in memory for ten minutes: a restart asks the vendor to start again, nothing more.
//! Each is bound to the browser session that opened it (a cookie), which is also what the
//! form's CSRF token is checked against. The session id is always one this server issued: a
//! cookie no live request was opened with is replaced, never adopted.
//!
//! They are bounded: at most `MAX_PENDING_PER_CLIENT` per client and `MAX_PENDING` in all (the
//! oldest is evicted to admit a new one), and every parameter they echo is length-limited
//! (`MAX_STATE_BYTES`, `MAX_PARAM_BYTES`), since anyone may open one with a known `client_id`.
//!
//! Answers are serialized (`answering`): of two concurrent approvals of one request (a
//! double-clicked Allow, two `carnet consent approve`) one creates the grant and the other
//! finds it, and the browser is sent back with the same code however often it asks.

use std::collections::HashMap;
use std::sync::Mutex;

use carnet_schemas::{Category, ClientId, Grant, GrantId, NewGrant, ScopeSet, VendorId};
use chrono::{DateTime, Duration, Utc};

use crate::context::Core;
use crate::credential;

/// How long a consent request waits for the owner.
pub const CONSENT_TTL_MINUTES: i64 = 10;

/// Consent requests of one client kept at once; the oldest is evicted to admit a new one.
pub const MAX_PENDING_PER_CLIENT: usize = 20;

/// Consent requests kept at once, of all clients.
pub const MAX_PENDING: usize = 200;

/// The longest `state` a request may carry (it is echoed back to the vendor).
pub const MAX_STATE_BYTES: usize = 1024;

/// The longest value of any other authorization parameter.
pub const MAX_PARAM_BYTES: usize = 2048;

/// The owner's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Waiting,
    /// Granted: the code is issued when the browser continues.
    Approved {
        grant_id: GrantId,
        categories: Option<Vec<Category>>,
    },
    Denied,
    /// The browser was sent back to the vendor, to `location`; asking again (a double click, a
    /// reload) sends it there again, with the same code.
    Done {
        location: String,
    },
}

#[derive(Debug, Clone)]
pub struct Pending {
    pub id: String,
    /// Shown on the page for terminal approval, e.g. `K7QM-2XPA`.
    pub short_code: String,
    pub csrf: String,
    /// What the vendor asked for, and the session that opened the request.
    pub asked: NewPending,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decision: Decision,
    /// Order of opening (ties of `created_at` under a stopped clock).
    pub seq: u64,
    /// The grant an approval created, for a concurrent approval to answer with.
    pub granted: Option<Box<carnet_schemas::Grant>>,
}

#[derive(Default)]
pub struct Consents {
    by_id: Mutex<HashMap<String, Pending>>,
    /// Held while a request is being answered (granted, denied, sent back).
    answering: tokio::sync::Mutex<()>,
    opened: std::sync::atomic::AtomicU64,
}

/// Letters and digits that cannot be mistaken for one another when read aloud or typed.
const SHORT_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    credential::fill_random(&mut b);
    data_encoding::BASE64URL_NOPAD.encode(&b)
}

fn short_code() -> String {
    let b = credential::random_bytes::<8>();
    let chars: String = b
        .iter()
        .map(|x| char::from(SHORT_ALPHABET[usize::from(*x) % SHORT_ALPHABET.len()]))
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// `k7qm2xpa` and `K7QM-2XPA` name the same code.
pub fn normalize_code(code: &str) -> String {
    let c: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if c.len() == 8 {
        format!("{}-{}", &c[..4], &c[4..])
    } else {
        c
    }
}

/// What a new consent request carries.
#[derive(Debug, Clone)]
pub struct NewPending {
    /// SHA-256 of the session cookie that opened it.
    pub session: [u8; 32],
    pub client_id: ClientId,
    pub vendor_id: VendorId,
    pub vendor_name: String,
    pub vendor_website: Option<String>,
    pub verified: bool,
    /// For a client that registered itself: the existing vendor whose name its name looks like.
    pub looks_like: Option<String>,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub scopes: ScopeSet,
    pub requested_categories: Vec<Category>,
}

impl Consents {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn open(&self, n: NewPending, now: DateTime<Utc>) -> Pending {
        let mut map = self.lock();
        map.retain(|_, p| p.expires_at > now);
        evict_oldest(&mut map, MAX_PENDING_PER_CLIENT, |p| {
            p.asked.client_id == n.client_id
        });
        evict_oldest(&mut map, MAX_PENDING, |_| true);
        let p = Pending {
            id: random_token(24),
            short_code: short_code(),
            csrf: random_token(24),
            asked: n,
            created_at: now,
            expires_at: now + Duration::minutes(CONSENT_TTL_MINUTES),
            decision: Decision::Waiting,
            seq: self
                .opened
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            granted: None,
        };
        map.insert(p.id.clone(), p.clone());
        p
    }

    /// Whether a live request was opened by the session with this hash: only such a session
    /// (one this server issued) is kept for a new request.
    pub fn knows_session(&self, session: &[u8; 32], now: DateTime<Utc>) -> bool {
        self.lock()
            .values()
            .any(|p| p.expires_at > now && p.asked.session == *session)
    }

    /// Held while answering a request, so that answers happen one after the other.
    pub async fn answering(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.answering.lock().await
    }

    /// Records the grant an approval created, with the decision.
    pub fn approved(&self, id: &str, grant: &carnet_schemas::Grant, decision: Decision) -> bool {
        match self.lock().get_mut(id) {
            Some(p) if p.decision == Decision::Waiting => {
                p.decision = decision;
                p.granted = Some(Box::new(grant.clone()));
                true
            }
            _ => false,
        }
    }

    /// Records where the browser was sent back to; the request is spent.
    pub fn done(&self, id: &str, location: String) {
        if let Some(p) = self.lock().get_mut(id) {
            p.decision = Decision::Done { location };
        }
    }

    /// A live request by its id.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<Pending> {
        self.lock().get(id).filter(|p| p.expires_at > now).cloned()
    }

    /// A live request still waiting for the owner, by its short code.
    pub fn waiting(&self, code: &str, now: DateTime<Utc>) -> Option<Pending> {
        let code = normalize_code(code);
        self.lock()
            .values()
            .find(|p| p.short_code == code && p.expires_at > now && p.decision == Decision::Waiting)
            .cloned()
    }

    /// Every request waiting for the owner, oldest first.
    pub fn all_waiting(&self, now: DateTime<Utc>) -> Vec<Pending> {
        let mut list: Vec<Pending> = self
            .lock()
            .values()
            .filter(|p| p.expires_at > now && p.decision == Decision::Waiting)
            .cloned()
            .collect();
        list.sort_by_key(|p| p.created_at);
        list
    }

    /// Records a decision, if the request is still waiting; `false` otherwise.
    pub fn decide(&self, id: &str, decision: Decision) -> bool {
        match self.lock().get_mut(id) {
            Some(p) if p.decision == Decision::Waiting => {
                p.decision = decision;
                true
            }
            _ => false,
        }
    }
}

/// Removes the oldest of the requests `matching` until fewer than `cap` of them are left.
fn evict_oldest(
    map: &mut HashMap<String, Pending>,
    cap: usize,
    matching: impl Fn(&Pending) -> bool,
) {
    let mut of: Vec<(DateTime<Utc>, u64, String)> = map
        .values()
        .filter(|p| matching(p))
        .map(|p| (p.created_at, p.seq, p.id.clone()))
        .collect();
    if of.len() < cap {
        return;
    }
    of.sort();
    for (_, _, id) in of.iter().take(of.len() + 1 - cap) {
        map.remove(id);
    }
}

/// Why an approval did not make a grant.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("this consent request was denied")]
    Denied,
    /// Expired, answered and done, or never there (by its short code).
    #[error("no consent request {0}")]
    Gone(String),
    #[error(transparent)]
    Grant(#[from] crate::grants::GrantError),
}

/// Grants what the owner approved; the code is issued when the browser continues. A request
/// approved already (a concurrent approval) answers with the grant that approval created.
pub async fn approve(
    core: &Core,
    consents: &Consents,
    p: &Pending,
    categories: Vec<Category>,
    all: bool,
    days: Option<u32>,
    how: &str,
) -> Result<Grant, ConsentError> {
    let _answering = consents.answering().await;
    let now = core.now();
    let current = consents.get(&p.id, now);
    match current.as_ref().map(|c| (&c.decision, &c.granted)) {
        Some((Decision::Waiting, _)) => {}
        Some((_, Some(grant))) => return Ok((**grant).clone()),
        Some((Decision::Denied, _)) => {
            return Err(ConsentError::Denied);
        }
        _ => {
            return Err(ConsentError::Gone(p.short_code.clone()));
        }
    }
    let grant = crate::grants::give(
        core,
        NewGrant {
            vendor_id: p.asked.vendor_id.clone(),
            scopes: p.asked.scopes.iter().collect(),
            categories: if all { vec![] } else { categories },
            all_categories: all,
            days,
            purpose: None,
        },
        how,
    )
    .await?;
    let categories = (!grant.fields.all_categories).then(|| grant.fields.categories.clone());
    consents.approved(
        &p.id,
        &grant,
        Decision::Approved {
            grant_id: grant.id.clone(),
            categories,
        },
    );
    Ok(grant)
}

/// Denies a request still waiting; `false` if it was answered already.
pub async fn deny(consents: &Consents, id: &str) -> bool {
    let _answering = consents.answering().await;
    consents.decide(id, Decision::Denied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_read_the_same_however_typed() {
        let c = short_code();
        assert_eq!(c.len(), 9);
        assert_eq!(normalize_code(&c.to_lowercase().replace('-', "")), c);
        assert_eq!(normalize_code(" k7qm 2xpa "), "K7QM-2XPA");
    }
}
