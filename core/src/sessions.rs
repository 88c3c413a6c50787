//! The owner's web sessions (the web app under `/app/`): who is signed in, from where, until
//! when. Held in memory only, so a seal or a restart ends them all. Each session is stamped
//! with what signed it in (the web password's hash and the owner tokens' hashes); when either
//! changes — `carnet password set`, `carnetd owner-token rotate`, even from another process —
//! every session stamped before ends at its next request. Never stores a session's token:
//! only its SHA-256, as for every credential.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use data_encoding::BASE64URL_NOPAD;
use ring::digest::{Context, SHA256};
use subtle::ConstantTimeEq;

use crate::access::password::WEB_PASSWORD;
use crate::credential::{self, Credential};
use crate::store::{Store, StoreError, records};

/// Sessions kept at most; signing in beyond ends the one idle the longest.
pub const MAX_SESSIONS: usize = 32;

/// What a session is known by in the settings page (never its token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// A short public handle: the first characters of the token's hash, base64url.
    pub handle: String,
    pub started: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The browser, as it named itself (shortened), for the owner to recognise.
    pub device: String,
}

struct Session {
    csrf: String,
    stamp: [u8; 32],
    info: SessionInfo,
}

/// A session found live for a request: its form token, and its handle.
#[derive(Clone, Debug)]
pub struct Live {
    pub csrf: String,
    pub handle: String,
    token_hash: [u8; 32],
}

impl Live {
    /// Whether `presented` is this session's form token (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// Why a request's session is not live.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// No such session (never was, signed out, or ended everywhere).
    Unknown,
    /// Idle longer than the timeout.
    Idle,
    /// The web password or the owner token changed since it signed in.
    CredentialsChanged,
}

/// The web sessions of one open vault.
pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
    idle: Duration,
    /// Signs the sign-in form's token to the browser's pre-session cookie (before there is a
    /// session to hold a token, nothing is kept per visitor).
    form_key: ring::hmac::Key,
}

/// What signs the owner in, as one hash: the web password's stored hash and the owner
/// tokens' hashes. A change of either changes it.
pub fn stamp(store: &Store) -> Result<[u8; 32], StoreError> {
    store.read(|c| {
        let mut ctx = Context::new(&SHA256);
        let password = records::meta_get(c, WEB_PASSWORD)?.unwrap_or_default();
        ctx.update(&(password.len() as u64).to_be_bytes());
        ctx.update(&password);
        for h in records::owner_token_hashes(c)? {
            ctx.update(&(h.len() as u64).to_be_bytes());
            ctx.update(&h);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        Ok(out)
    })
}

fn handle_of(hash: &[u8; 32]) -> String {
    BASE64URL_NOPAD.encode(&hash[..9])
}

impl Sessions {
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            by_hash: Mutex::default(),
            idle,
            form_key: ring::hmac::Key::new(
                ring::hmac::HMAC_SHA256,
                &credential::random_bytes::<32>(),
            ),
        }
    }

    /// A fresh pre-session value for the sign-in form's cookie, and the form token bound to it.
    pub fn sign_in_form(&self) -> (String, String) {
        let nonce = BASE64URL_NOPAD.encode(&credential::random_bytes::<16>());
        let token = self.sign_in_token(&nonce);
        (nonce, token)
    }

    fn sign_in_token(&self, nonce: &str) -> String {
        BASE64URL_NOPAD.encode(ring::hmac::sign(&self.form_key, nonce.as_bytes()).as_ref())
    }

    /// Whether the sign-in form's `token` was made for the pre-session cookie `nonce`.
    pub fn sign_in_form_matches(&self, nonce: &str, token: &str) -> bool {
        BASE64URL_NOPAD
            .decode(token.as_bytes())
            .is_ok_and(|tag| ring::hmac::verify(&self.form_key, nonce.as_bytes(), &tag).is_ok())
            && !nonce.is_empty()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session for a signed-in owner; the token goes in the cookie, once.
    pub fn start(&self, stamp: [u8; 32], device: &str, now: DateTime<Utc>) -> Credential {
        let token = Credential::generate();
        let hash = token.hash();
        let device: String = device
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        let mut map = self.map();
        map.retain(|_, s| now - s.info.last_seen <= self.idle && s.stamp == stamp);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.info.last_seen)
                .map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            hash,
            Session {
                csrf: BASE64URL_NOPAD.encode(&credential::random_bytes::<32>()),
                stamp,
                info: SessionInfo {
                    handle: handle_of(&hash),
                    started: now,
                    last_seen: now,
                    device,
                },
            },
        );
        token
    }

    /// The live session of `token`, seen now. An idle session, or one stamped before the
    /// credentials changed (`stamp` is today's), ends here.
    pub fn touch(&self, token: &str, stamp: [u8; 32], now: DateTime<Utc>) -> Result<Live, Ended> {
        let hash = credential::hash(token);
        let mut map = self.map();
        let Some(s) = map.get_mut(&hash) else {
            return Err(Ended::Unknown);
        };
        if s.stamp != stamp {
            // Every session stamped before is as stale as this one.
            map.retain(|_, s| s.stamp == stamp);
            return Err(Ended::CredentialsChanged);
        }
        if now - s.info.last_seen > self.idle {
            map.remove(&hash);
            return Err(Ended::Idle);
        }
        s.info.last_seen = now;
        Ok(Live {
            csrf: s.csrf.clone(),
            handle: s.info.handle.clone(),
            token_hash: hash,
        })
    }

    /// Re-stamps `live` after the owner changed the web password from it: this session goes
    /// on, every other ends at its next request.
    pub fn restamp(&self, live: &Live, stamp: [u8; 32]) {
        if let Some(s) = self.map().get_mut(&live.token_hash) {
            s.stamp = stamp;
        }
    }

    /// Signs `live` out.
    pub fn end(&self, live: &Live) {
        self.map().remove(&live.token_hash);
    }

    /// Ends the session known by `handle` (from the settings page); whether there was one.
    pub fn end_handle(&self, handle: &str) -> bool {
        let mut map = self.map();
        let before = map.len();
        map.retain(|_, s| s.info.handle != handle);
        map.len() != before
    }

    /// Signs out everywhere, this session included.
    pub fn end_all(&self) {
        self.map().clear();
    }

    /// The live sessions, most recently seen first.
    pub fn list(&self, now: DateTime<Utc>) -> Vec<SessionInfo> {
        let mut out: Vec<SessionInfo> = self
            .map()
            .values()
            .filter(|s| now - s.info.last_seen <= self.idle)
            .map(|s| s.info.clone())
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        out
    }

    /// How long a session may stay idle.
    pub fn idle(&self) -> Duration {
        self.idle
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn a_session_lives_while_used_and_ends_when_idle() {
        let sessions = Sessions::new(Duration::minutes(30));
        let token = sessions.start([1; 32], "Firefox", t(0));
        let live = sessions.touch(token.expose(), [1; 32], t(29 * 60)).unwrap();
        assert!(live.csrf_matches(&live.csrf.clone()));
        assert!(!live.csrf_matches("guess"));
        // Seen at 29 min: still live 29 min later, then idle.
        assert!(sessions.touch(token.expose(), [1; 32], t(58 * 60)).is_ok());
        assert_eq!(
            sessions
                .touch(token.expose(), [1; 32], t(89 * 60))
                .unwrap_err(),
            Ended::Idle
        );
        assert_eq!(
            sessions
                .touch(token.expose(), [1; 32], t(89 * 60))
                .unwrap_err(),
            Ended::Unknown,
            "an idle session is gone, not revived"
        );
    }

    #[test]
    fn a_credential_change_ends_every_session_stamped_before() {
        let sessions = Sessions::new(Duration::hours(1));
        let phone = sessions.start([1; 32], "phone", t(0));
        let laptop = sessions.start([1; 32], "laptop", t(0));
        let live = sessions.touch(phone.expose(), [1; 32], t(1)).unwrap();
        // Changed from the phone: the phone is re-stamped, the laptop ends.
        sessions.restamp(&live, [2; 32]);
        assert!(sessions.touch(phone.expose(), [2; 32], t(2)).is_ok());
        assert_eq!(
            sessions.touch(laptop.expose(), [2; 32], t(2)).unwrap_err(),
            Ended::CredentialsChanged
        );
        // Changed elsewhere (the owner token rotated): the phone ends too.
        assert_eq!(
            sessions.touch(phone.expose(), [3; 32], t(3)).unwrap_err(),
            Ended::CredentialsChanged
        );
        assert!(sessions.list(t(3)).is_empty());
    }

    #[test]
    fn signing_out_everywhere_and_by_handle() {
        let sessions = Sessions::new(Duration::hours(1));
        let a = sessions.start([1; 32], "a", t(0));
        let b = sessions.start([1; 32], "b\u{7}\nb", t(1));
        let listed = sessions.list(t(2));
        assert_eq!(listed.len(), 2);
        assert_eq!(
            listed[0].device, "bb",
            "newest first, control characters dropped"
        );
        assert!(sessions.end_handle(&listed[0].handle));
        assert!(!sessions.end_handle(&listed[0].handle));
        assert_eq!(
            sessions.touch(b.expose(), [1; 32], t(3)).unwrap_err(),
            Ended::Unknown
        );
        sessions.end_all();
        assert_eq!(
            sessions.touch(a.expose(), [1; 32], t(3)).unwrap_err(),
            Ended::Unknown
        );
    }

    #[test]
    fn the_sign_in_form_token_is_bound_to_its_cookie() {
        let sessions = Sessions::new(Duration::hours(1));
        let (nonce, token) = sessions.sign_in_form();
        assert!(sessions.sign_in_form_matches(&nonce, &token));
        let (other, _) = sessions.sign_in_form();
        assert!(!sessions.sign_in_form_matches(&other, &token));
        assert!(!sessions.sign_in_form_matches(&nonce, "not-a-token"));
        assert!(!sessions.sign_in_form_matches("", &sessions.sign_in_token("")));
        // Another vault's (or an earlier start's) token does not match.
        let restarted = Sessions::new(Duration::hours(1));
        assert!(!restarted.sign_in_form_matches(&nonce, &token));
    }

    #[test]
    fn sessions_are_bounded() {
        let sessions = Sessions::new(Duration::hours(1));
        let first = sessions.start([1; 32], "first", t(0));
        for i in 1..=MAX_SESSIONS as i64 {
            sessions.start([1; 32], "more", t(i));
        }
        assert_eq!(sessions.list(t(100)).len(), MAX_SESSIONS);
        assert_eq!(
            sessions.touch(first.expose(), [1; 32], t(100)).unwrap_err(),
            Ended::Unknown,
            "the one idle the longest made room"
        );
    }
}
