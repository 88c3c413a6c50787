//! How often `/oauth/register` may be used without an invitation: at most
//! `PER_ADDRESS` registrations per client address and `IN_ALL` in all within `WINDOW_MINUTES`,
//! so that open registration cannot fill the vault with vendors. A refused registration (bad
//! metadata) is given back: only clients created count. Times come from the injected clock.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// The window the limits count over.
pub const WINDOW_MINUTES: i64 = 60;
/// Open registrations per client address in the window.
pub const PER_ADDRESS: usize = 5;
/// Open registrations in all in the window.
pub const IN_ALL: usize = 30;

#[derive(Default)]
struct Inner {
    all: VecDeque<DateTime<Utc>>,
    by_address: HashMap<IpAddr, VecDeque<DateTime<Utc>>>,
}

#[derive(Default)]
pub struct Registrations(Mutex<Inner>);

/// Drops the times that left the window.
fn sweep(times: &mut VecDeque<DateTime<Utc>>, since: DateTime<Utc>) {
    while times.front().is_some_and(|t| *t <= since) {
        times.pop_front();
    }
}

/// Seconds until the oldest of `times` leaves the window.
fn wait(times: &VecDeque<DateTime<Utc>>, now: DateTime<Utc>) -> u64 {
    times.front().map_or(1, |t| {
        (*t + Duration::minutes(WINDOW_MINUTES) - now)
            .num_seconds()
            .max(1) as u64
    })
}

impl Registrations {
    /// Counts one registration from `ip` at `now`, or says how many seconds to wait.
    pub fn take(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let since = now - Duration::minutes(WINDOW_MINUTES);
        sweep(&mut inner.all, since);
        inner.by_address.retain(|_, t| {
            sweep(t, since);
            !t.is_empty()
        });
        if let Some(times) = inner.by_address.get(&ip)
            && times.len() >= PER_ADDRESS
        {
            return Err(wait(times, now));
        }
        if inner.all.len() >= IN_ALL {
            return Err(wait(&inner.all, now));
        }
        inner.all.push_back(now);
        inner.by_address.entry(ip).or_default().push_back(now);
        Ok(())
    }

    /// Gives back what `take(ip, at)` counted, for a registration that was refused.
    pub fn give_back(&self, ip: IpAddr, at: DateTime<Utc>) {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let forget = |times: &mut VecDeque<DateTime<Utc>>| {
            if let Some(i) = times.iter().rposition(|t| *t == at) {
                times.remove(i);
            }
        };
        forget(&mut inner.all);
        if let Some(times) = inner.by_address.get_mut(&ip) {
            forget(times);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn limits_per_address_and_in_all_and_frees_with_time() {
        let r = Registrations::default();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..PER_ADDRESS {
            assert!(r.take(a, t0).is_ok());
        }
        assert_eq!(r.take(a, t0), Err(3600));
        for n in 0..(IN_ALL - PER_ADDRESS) {
            let other: IpAddr = format!("198.51.100.{n}").parse().unwrap();
            assert!(r.take(other, t0).is_ok());
        }
        let late: IpAddr = "203.0.113.9".parse().unwrap();
        assert!(r.take(late, t0).is_err(), "in all");
        assert!(r.take(a, t0 + Duration::minutes(WINDOW_MINUTES)).is_ok());
    }

    #[test]
    fn a_refused_registration_is_given_back() {
        let r = Registrations::default();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..PER_ADDRESS * 3 {
            assert!(r.take(a, t0).is_ok());
            r.give_back(a, t0);
        }
        assert!(r.take(a, t0).is_ok());
    }
}
