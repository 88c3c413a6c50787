//! The sign-in limiter: attempts per client address (the real one behind trusted proxies), on
//! the injected clock. Every page that takes the web password goes through it (`sign_in`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Sign-in attempts allowed per client address in `WINDOW`.
pub const ATTEMPTS: u32 = 5;
pub const WINDOW_SECONDS: i64 = 60;

/// Counts sign-in attempts per client address on the injected clock.
#[derive(Default)]
pub struct SignInAttempts {
    by_addr: Mutex<HashMap<IpAddr, (u32, DateTime<Utc>)>>,
}

impl SignInAttempts {
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
