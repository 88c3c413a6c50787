//! The owner's web password (it signs the owner in on the consent page): PBKDF2-HMAC-SHA256
//! with a random salt, verified in constant time, always off the async workers and one at a
//! time, with sign-in attempts limited per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use data_encoding::BASE64URL_NOPAD;
use ring::pbkdf2;

/// About a quarter of a second here: slow for guessing, quick enough for a person.
const ITERATIONS: u32 = 300_000;
const ALGORITHM: pbkdf2::Algorithm = pbkdf2::PBKDF2_HMAC_SHA256;

/// The stored form: `pbkdf2-sha256$ITERATIONS$SALT$HASH` (base64url).
pub fn hash(password: &str) -> String {
    let salt = crate::credential::random_bytes::<16>();
    let mut out = [0u8; 32];
    let iterations = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(ALGORITHM, iterations, &salt, password.as_bytes(), &mut out);
    format!(
        "pbkdf2-sha256${ITERATIONS}${}${}",
        BASE64URL_NOPAD.encode(&salt),
        BASE64URL_NOPAD.encode(&out)
    )
}

/// Whether `password` matches `stored` (constant time); a malformed `stored` never matches.
pub fn verify(stored: &str, password: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iter), Some(salt), Some(expected), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Some(iterations), Ok(salt), Ok(expected)) = (
        iter.parse().ok().and_then(NonZeroU32::new),
        BASE64URL_NOPAD.decode(salt.as_bytes()),
        BASE64URL_NOPAD.decode(expected.as_bytes()),
    ) else {
        return false;
    };
    pbkdf2::verify(ALGORITHM, iterations, &salt, password.as_bytes(), &expected).is_ok()
}

/// Sign-in attempts allowed per client address in `WINDOW`.
const ATTEMPTS: u32 = 5;
const WINDOW_SECONDS: i64 = 60;

/// Counts sign-in attempts per client address on the injected clock.
#[derive(Default)]
pub struct Attempts {
    by_addr: Mutex<HashMap<IpAddr, (u32, DateTime<Utc>)>>,
}

impl Attempts {
    /// Counts an attempt; `Err(seconds)` if this address must wait first.
    pub fn take(&self, addr: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let mut map = self.by_addr.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, start)| now - *start < Duration::seconds(WINDOW_SECONDS));
        }
        let (count, start) = map.entry(addr).or_insert((0, now));
        if now - *start >= Duration::seconds(WINDOW_SECONDS) {
            *count = 0;
            *start = now;
        }
        if *count >= ATTEMPTS {
            let wait = Duration::seconds(WINDOW_SECONDS) - (now - *start);
            return Err(wait.num_seconds().max(1) as u64);
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let h = hash("correct horse battery");
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse batterY"));
        assert!(!verify("garbage", "x"));
        assert_ne!(h, hash("correct horse battery"), "salted");
    }

    #[test]
    fn attempts_are_limited_per_address_and_window() {
        let a = Attempts::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t = Utc::now();
        for _ in 0..ATTEMPTS {
            assert!(a.take(ip, t).is_ok());
        }
        assert!(a.take(ip, t).is_err());
        assert!(a.take(other, t).is_ok());
        assert!(a.take(ip, t + Duration::seconds(WINDOW_SECONDS)).is_ok());
    }
}
