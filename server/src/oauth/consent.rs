//! Consent requests in flight: what a vendor asked for at `/oauth/authorize`, waiting for the
//! owner to sign in on the page or to answer from the terminal (`carnet consent approve`).
//! They live in memory for ten minutes: a restart asks the vendor to start again, nothing more.
//! Each is bound to the browser session that opened it (a cookie), which is also what the
//! form's CSRF token is checked against.

use std::collections::HashMap;
use std::sync::Mutex;

use carnet_schemas::{Category, ClientId, GrantId, ScopeSet, VendorId};
use chrono::{DateTime, Duration, Utc};

use crate::credential;

/// How long a consent request waits for the owner.
pub const CONSENT_TTL_MINUTES: i64 = 10;

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
    /// The browser was sent back to the vendor; the request is spent.
    Done,
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
}

#[derive(Default)]
pub struct Consents {
    by_id: Mutex<HashMap<String, Pending>>,
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
        let p = Pending {
            id: random_token(24),
            short_code: short_code(),
            csrf: random_token(24),
            asked: n,
            created_at: now,
            expires_at: now + Duration::minutes(CONSENT_TTL_MINUTES),
            decision: Decision::Waiting,
        };
        map.insert(p.id.clone(), p.clone());
        p
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

    /// Marks a request spent and returns it as it was, if its decision is final.
    pub fn finish(&self, id: &str) -> Option<Pending> {
        let mut map = self.lock();
        let p = map.get_mut(id)?;
        match p.decision {
            Decision::Approved { .. } | Decision::Denied => {
                let was = p.clone();
                p.decision = Decision::Done;
                Some(was)
            }
            Decision::Waiting | Decision::Done => None,
        }
    }
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
