//! Delivering the outbox. A worker wakes when a change commits (and a few times a second
//! anyway), takes what is due, and POSTs each event on its own task, so a slow receiver does
//! not hold up the others. Each attempt re-checks the vendor's grant (only `grant.revoked`
//! goes out after a revoke), signs with a fresh `webhook-timestamp` and the same `webhook-id`,
//! never follows a redirect, and for a URL the vendor registered itself, connects only to a
//! public address it resolved and checked just before. Failures are retried within a second, then
//! exponentially with jitter up to 10 minutes, for three days; everything is in the database,
//! so delivery survives restarts (at least once).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};

pub use super::address::is_public;
use super::{Event, IntentEvent, intent_event, signature};
use crate::access::ClientRecord;
use crate::context::Core;
use crate::store::Store;
use crate::store::access as client_rows;
use crate::store::outbox::{self as rows, Attempt, Outbox, OutboxRow, OutboxState};

/// How many deliveries may be in flight at once.
const CONCURRENCY: usize = 32;
/// How many due events one read of the outbox takes: enough to refill every slot even when
/// the oldest due ones are still in flight.
const BATCH: u32 = 2 * CONCURRENCY as u32;
/// Each attempt's time limit.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Back-off cap, and when to give up.
const MAX_BACKOFF_SECONDS: f64 = 600.0;
pub const GIVE_UP_AFTER_DAYS: i64 = 3;

/// The delay before the next attempt after `failures` failed ones (counting the one that just
/// failed from 0): 2^n seconds times a random factor in [0.5, 1], capped at ten minutes — so
/// the first retry comes within a second, the second within two.
pub fn backoff(failures: u32) -> chrono::Duration {
    let mut b = [0u8; 2];
    let _ = SystemRandom::new().fill(&mut b);
    let jitter = 0.5 + f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX) / 2.0;
    let base = 2f64.powi(failures.min(20) as i32);
    let seconds = (base * jitter).min(MAX_BACKOFF_SECONDS);
    chrono::Duration::milliseconds((seconds * 1000.0) as i64)
}

/// Checks a vendor-registered webhook URL and resolves it to a public address to connect to.
async fn public_target(url: &url::Url) -> Result<(String, SocketAddr), &'static str> {
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        return Err("policy");
    }
    let host = url.host_str().ok_or("policy")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|_| "dns")?
        .collect();
    // Every address the name has must be public, or a rebinding could pick the other one.
    if addrs.is_empty() || !addrs.iter().all(|a| is_public(a.ip())) {
        return Err("address");
    }
    Ok((host, addrs[0]))
}

/// What one delivery attempt came to (webhooks and the owner's reminder channels alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// With the receiver's status (HTTP, or an SMTP reply code).
    Delivered(Option<u16>),
    /// Worth trying again later.
    Retry(Option<u16>, &'static str),
    /// Never deliverable.
    Drop(&'static str),
}

/// An HTTP attempt's outcome: a 2xx is delivered, anything else is retried (a redirect is
/// never followed).
pub(crate) fn http_outcome(sent: reqwest::Result<reqwest::Response>) -> Outcome {
    match sent {
        Ok(res) if res.status().is_success() => Outcome::Delivered(Some(res.status().as_u16())),
        Ok(res) if res.status().is_redirection() => {
            Outcome::Retry(Some(res.status().as_u16()), "redirect")
        }
        Ok(res) => Outcome::Retry(Some(res.status().as_u16()), "status"),
        Err(e) if e.is_timeout() => Outcome::Retry(None, "timeout"),
        Err(e) if e.is_connect() => Outcome::Retry(None, "connect"),
        Err(_) => Outcome::Retry(None, "request"),
    }
}

/// What a row becomes after an attempt (its `failures_before` failed ones not counting it):
/// delivered, dropped, retried after `backoff`, or failed for good once `given_up`.
pub(crate) fn settle(
    outcome: Outcome,
    failures_before: u32,
    given_up: bool,
    now: DateTime<Utc>,
) -> Attempt {
    let (state, status, error, next_attempt_at) = match outcome {
        Outcome::Delivered(status) => (OutboxState::Delivered, status, None, now),
        Outcome::Drop(why) => (OutboxState::Dropped, None, Some(why), now),
        Outcome::Retry(status, why) if given_up => (OutboxState::Failed, status, Some(why), now),
        Outcome::Retry(status, why) => (
            OutboxState::Pending,
            status,
            Some(why),
            now + backoff(failures_before),
        ),
    };
    Attempt {
        state,
        attempts: failures_before + 1,
        next_attempt_at,
        status,
        error,
        at: now,
    }
}

/// Records an attempt through the writer; a failure to record is logged (the row stays due,
/// so it is tried again: at least once).
pub(crate) async fn record(store: &Store, b: Outbox, id: String, a: Attempt) {
    let recorded = store
        .write(move |c| rows::record_attempt(c, b, &id, &a))
        .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e, "cannot record a delivery attempt");
    }
}

/// An HTTP client that follows no redirect and gives each attempt a time limit (the owner's
/// reminder channels use it too).
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("Carnet-Webhooks/", env!("CARGO_PKG_VERSION")))
}

/// The worker: runs while the vault is unsealed.
pub async fn run(s: Core) {
    // The HTTP client (and the TLS roots it loads) is built when there is a first event to
    // deliver: a vault that never sends a webhook does not pay for it in memory or start time.
    let mut http: Option<reqwest::Client> = None;
    // Ids being delivered, and those finished (their outcome committed) since the last read of
    // the outbox: they leave `in_flight` only just before the next read, so a read made while a
    // delivery was finishing cannot start it a second time.
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let finished: Arc<Mutex<Vec<String>>> = Arc::default();
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut announced = HashSet::new();
    loop {
        tokio::select! {
            () = s.webhook_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        announce(&s, &mut announced).await;
        {
            let done = std::mem::take(&mut *finished.lock().unwrap_or_else(|p| p.into_inner()));
            let mut flying = in_flight.lock().unwrap_or_else(|p| p.into_inner());
            for id in done {
                flying.remove(&id);
            }
        }
        let now = s.now();
        let due = match s
            .store
            .read(|c| rows::due::<Event>(c, Outbox::Vendors, now, BATCH))
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the webhook outbox");
                continue;
            }
        };
        if due.is_empty() {
            continue;
        }
        let client = match &http {
            Some(c) => c.clone(),
            None => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                match client_builder().build() {
                    Ok(c) => http.insert(c).clone(),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks wait");
                        continue;
                    }
                }
            }
        };
        for row in due {
            if !in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(row.id.clone())
            {
                continue;
            }
            let (s, client, finished, permits) =
                (s.clone(), client.clone(), finished.clone(), permits.clone());
            tokio::spawn(async move {
                let Ok(_permit) = permits.acquire().await else {
                    return;
                };
                let id = row.id.clone();
                attempt(&s, &client, row).await;
                finished.lock().unwrap_or_else(|p| p.into_inner()).push(id);
                // Look for more at once: a backlog drains at the receivers' pace, not the tick's.
                s.webhook_wake.notify_one();
            });
        }
    }
}

/// Writes `intent.activated` for each active intent whose window is open, and
/// `intent.expired` for each whose window has closed — each once (the database remembers; the
/// set spares a transaction per tick). All of a tick's go in one transaction, so a burst of
/// activations costs one commit, not one each.
async fn announce(s: &Core, announced: &mut HashSet<(carnet_schemas::IntentId, bool)>) {
    let now = s.now();
    let opened = s
        .intents
        .open_now(now)
        .into_iter()
        .map(|(id, i)| (id, i, false));
    let closed = s
        .intents
        .closed(now)
        .into_iter()
        .map(|(id, i)| (id, i, true));
    let due: Vec<_> = opened
        .chain(closed)
        .filter(|(id, _, expired)| !announced.contains(&(id.clone(), *expired)))
        .collect();
    if due.is_empty() {
        return;
    }
    let state = s.clone();
    let written = s
        .store
        .write(move |c| {
            let mut done = Vec::with_capacity(due.len());
            let mut any = false;
            for (id, intent, expired) in due {
                let (first, kind) = if expired {
                    (rows::announce_expiry(c, id.as_str())?, IntentEvent::Expired)
                } else {
                    (
                        rows::announce_activation(c, id.as_str())?,
                        IntentEvent::Activated,
                    )
                };
                if first {
                    intent_event(c, &state, kind, &id, &intent.fields, intent.updated_at, now)?;
                    any = true;
                }
                done.push((id, expired));
            }
            Ok::<_, crate::store::StoreError>((done, any))
        })
        .await;
    match written {
        Ok((done, any)) => {
            announced.extend(done);
            if any {
                s.webhook_wake.notify_one();
                s.relay_wake.notify_one();
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot announce an intent's window"),
    }
}

async fn attempt(s: &Core, client: &reqwest::Client, row: OutboxRow<Event>) {
    let now = s.now();
    let outcome = match s.keys.seal().open(&row.id, &row.sealed) {
        Ok(event) => send(s, client, &row, &event, now).await,
        Err(e) => {
            tracing::error!(error = %e, "a webhook event does not open");
            Outcome::Drop("unreadable")
        }
    };
    let given_up = now - row.created_at > chrono::Duration::days(GIVE_UP_AFTER_DAYS);
    log_outcome(&row, row.attempts + 1, &outcome, given_up);
    match outcome {
        Outcome::Delivered(_) => s.deliveries.delivered(),
        Outcome::Retry(..) => s.deliveries.failed(),
        Outcome::Drop(_) => {}
    }
    let attempt = settle(outcome, row.attempts, given_up, now);
    record(&s.store, Outbox::Vendors, row.id, attempt).await;
}

/// A failed delivery is worth the operator's eye at the default level: the vendor's endpoint is
/// down or refusing, and events queue until it answers. One line per attempt, which the backoff
/// keeps rare.
fn log_outcome(row: &OutboxRow<Event>, attempt: u32, outcome: &Outcome, given_up: bool) {
    match outcome {
        Outcome::Delivered(_) => {}
        Outcome::Drop(why) => tracing::info!(
            vendor = %row.recipient,
            event = %row.id,
            reason = why,
            "webhook event dropped, not delivered"
        ),
        Outcome::Retry(status, why) => {
            tracing::warn!(
                vendor = %row.recipient,
                event = %row.id,
                attempt,
                status = status.map(i64::from),
                error = why,
                given_up,
                "webhook delivery failed"
            );
        }
    }
}

async fn send(
    s: &Core,
    client: &reqwest::Client,
    row: &OutboxRow<Event>,
    event: &Event,
    now: DateTime<Utc>,
) -> Outcome {
    let Ok(vendor) = row.recipient.parse::<carnet_schemas::VendorId>() else {
        return Outcome::Drop("vendor");
    };
    let found = s
        .store
        .read(|c| client_rows::client_of_vendor::<ClientRecord>(c, vendor.as_str()));
    let Ok(Some(client_row)) = found else {
        return Outcome::Drop("client");
    };
    let Ok(record) = s
        .keys
        .seal()
        .open::<ClientRecord>(&client_row.id, &client_row.sealed)
    else {
        return Outcome::Drop("client");
    };
    let (Some(url), Some(secret)) = (record.webhook_url, record.webhook_secret) else {
        return Outcome::Drop("no-url");
    };
    if event.needs_grant {
        let Some((_, grant)) = s.access.live_grant(&vendor, now) else {
            return Outcome::Drop("grant");
        };
        if !event.category.as_ref().is_none_or(|c| grant.covers(c)) {
            return Outcome::Drop("grant");
        }
    }
    let Ok(parsed) = url::Url::parse(url.as_str()) else {
        return Outcome::Drop("url");
    };
    // A URL the vendor registered itself may only reach a public address, checked now.
    let pinned;
    let client = if client_row.verified {
        client
    } else {
        match public_target(&parsed).await {
            Ok((host, addr)) => match client_builder().resolve(&host, addr).build() {
                Ok(c) => {
                    pinned = c;
                    &pinned
                }
                Err(_) => return Outcome::Retry(None, "client"),
            },
            Err(why) => return Outcome::Retry(None, why),
        }
    };
    let timestamp = now.timestamp();
    let Some(sig) = signature(&secret, &row.id, timestamp, &event.body) else {
        return Outcome::Drop("secret");
    };
    let sent = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("webhook-id", &row.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sig)
        .body(event.body.clone())
        .send()
        .await;
    http_outcome(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_within_two_seconds_and_back_off_to_ten_minutes() {
        for _ in 0..50 {
            let first = backoff(0).num_milliseconds();
            assert!((500..=1000).contains(&first), "{first}");
            let second = backoff(1).num_milliseconds();
            assert!((1000..=2000).contains(&second), "{second}");
            assert!(backoff(30).num_seconds() <= 600);
            assert!(backoff(12).num_seconds() >= 300);
        }
    }

    #[tokio::test]
    async fn a_vendor_url_is_refused_unless_it_resolves_to_public_addresses() {
        for (url, why) in [
            ("https://127.0.0.1:8443/hook", "address"),
            ("https://[::1]/hook", "address"),
            ("https://10.1.2.3/hook", "address"),
            ("https://[::ffff:192.168.1.1]/hook", "address"),
            ("https://[::127.0.0.1]/hook", "address"),
            ("https://[64:ff9b::7f00:1]/hook", "address"),
            ("https://[64:ff9b:1::7f00:1]/hook", "address"),
            ("https://[fec0::1]/hook", "address"),
            ("https://[2002:7f00:1::1]/hook", "address"),
            ("http://93.184.216.34/hook", "policy"),
            ("https://user:pw@93.184.216.34/hook", "policy"),
        ] {
            let parsed = url::Url::parse(url).unwrap();
            assert_eq!(public_target(&parsed).await.err(), Some(why), "{url}");
        }
        let (host, addr) = public_target(&url::Url::parse("https://93.184.216.34:8443/h").unwrap())
            .await
            .unwrap();
        assert_eq!(
            (host.as_str(), addr.to_string().as_str()),
            ("93.184.216.34", "93.184.216.34:8443")
        );
    }
}
