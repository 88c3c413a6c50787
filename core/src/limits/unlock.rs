//! The unlock back-off: failed unlocks per client address, each doubling the wait before the
//! next attempt (1, 2, 4 … 60 s), on the injected clock. Guessing is slow; the owner is never
//! locked out.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

/// Failed unlocks per client address: each failure doubles the wait before the next attempt
/// (1, 2, 4 … 60 s), so guessing is slow but the owner is never locked out.
#[derive(Default)]
pub struct UnlockBackoff(std::sync::Mutex<HashMap<IpAddr, (u32, DateTime<Utc>)>>);

impl UnlockBackoff {
    pub fn check(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&ip) {
            Some((failures, last)) => {
                let wait = Duration::seconds(delay(*failures));
                let ready = *last + wait;
                if now < ready {
                    Err((ready - now).num_seconds().max(1) as u64)
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    pub fn failed(&self, ip: IpAddr, now: DateTime<Utc>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, last)| now - *last < Duration::hours(1));
        }
        let e = map.entry(ip).or_insert((0, now));
        e.0 = e.0.saturating_add(1);
        e.1 = now;
    }

    pub fn succeeded(&self, ip: IpAddr) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
    }
}

/// Seconds to wait after `failures` failed attempts.
fn delay(failures: u32) -> i64 {
    1i64.checked_shl(failures.saturating_sub(1).min(6))
        .unwrap_or(60)
        .min(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_unlocks_slow_down_without_locking_out() {
        assert_eq!(delay(1), 1);
        assert_eq!(delay(2), 2);
        assert_eq!(delay(7), 60);
        assert_eq!(delay(40), 60);
        let a = UnlockBackoff::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t = Utc::now();
        assert!(a.check(ip, t).is_ok());
        a.failed(ip, t);
        assert!(a.check(ip, t).is_err());
        assert!(a.check(ip, t + Duration::seconds(1)).is_ok());
        a.failed(ip, t + Duration::seconds(1));
        assert_eq!(a.check(ip, t + Duration::seconds(1)), Err(2));
        assert!(
            a.check("192.0.2.2".parse().unwrap(), t).is_ok(),
            "per address"
        );
    }
}
