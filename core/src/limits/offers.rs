//! The offer rate limit: a token bucket per vendor, on the injected clock. The same limiter
//! serves the vault's own vendors (keyed by `VendorId`) and the market directory's vendors whose
//! offers come through the relay (keyed by their directory id).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use carnet_schemas::VendorId;
use chrono::{DateTime, Utc};

/// Offers a vendor may make in a burst, and how fast the allowance comes back.
pub const OFFER_BURST: u32 = 10;
pub const OFFER_REFILL_SECONDS: i64 = 6;

/// A token bucket per vendor for offers, on the injected clock; `K` names the vendor.
pub struct OfferLimiter<K = VendorId> {
    buckets: Mutex<HashMap<K, (f64, DateTime<Utc>)>>,
}

impl<K> Default for OfferLimiter<K> {
    fn default() -> Self {
        OfferLimiter {
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone> OfferLimiter<K> {
    /// Takes one offer from `vendor`'s allowance, or says how many seconds until there is one.
    pub fn take(&self, vendor: &K, now: DateTime<Utc>) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets
            .entry(vendor.clone())
            .or_insert((f64::from(OFFER_BURST), now));
        let elapsed = (now - *last).num_milliseconds().max(0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed / OFFER_REFILL_SECONDS as f64).min(f64::from(OFFER_BURST));
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) * OFFER_REFILL_SECONDS as f64;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_allowance_refills_with_the_clock() {
        let l = OfferLimiter::default();
        let v: VendorId = "ven_0000000000000000".parse().unwrap();
        let t0 = Utc::now();
        for _ in 0..OFFER_BURST {
            assert!(l.take(&v, t0).is_ok());
        }
        assert_eq!(l.take(&v, t0), Err(OFFER_REFILL_SECONDS as u64));
        assert!(
            l.take(&v, t0 + chrono::Duration::seconds(OFFER_REFILL_SECONDS))
                .is_ok()
        );
        let other: VendorId = "ven_1111111111111111".parse().unwrap();
        assert!(
            l.take(&other, t0).is_ok(),
            "each vendor has its own allowance"
        );
    }
}
