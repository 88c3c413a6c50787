//! One delivery attempt to one channel: a signed webhook POST, an ntfy publish, or an email.
//! No redirect is followed; each attempt has a time limit. Outcomes carry a short reason,
//! never a URL, a secret or the message.

use std::time::Duration;

use carnet_schemas::NotifyKind;
use chrono::{DateTime, Utc};

use super::channel::ChannelRecord;
use super::email::{self, Mail};
use super::render::Rendered;

/// Each attempt's time limit.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

pub use crate::webhooks::deliver::Outcome;
use crate::webhooks::deliver::http_outcome;

/// The HTTP client the channels use: no redirects, a timeout (built once, at the first
/// delivery).
pub fn http_client() -> Option<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    crate::webhooks::deliver::client_builder()
        .user_agent(concat!("Carnet-Reminders/", env!("CARGO_PKG_VERSION")))
        .build()
        .ok()
}

/// Tries to deliver `r` (message `id`) to the channel now.
pub async fn send(
    http: &reqwest::Client,
    ch: &ChannelRecord,
    id: &str,
    r: &Rendered,
    now: DateTime<Utc>,
) -> Outcome {
    match ch.kind {
        NotifyKind::Webhook => {
            let (Some(url), Some(secret)) = (&ch.url, &ch.secret) else {
                return Outcome::Drop("channel");
            };
            let timestamp = now.timestamp();
            let Some(sig) = crate::webhooks::signature(secret, id, timestamp, &r.json) else {
                return Outcome::Drop("secret");
            };
            let sent = http
                .post(url.as_str())
                .header("content-type", "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", sig)
                .body(r.json.clone())
                .send()
                .await;
            http_outcome(sent)
        }
        NotifyKind::Ntfy => {
            let Some(url) = &ch.url else {
                return Outcome::Drop("channel");
            };
            let mut req = http
                .post(url.as_str())
                .header("Title", r.title.as_str())
                .header("Tags", "bell")
                .header("content-type", "text/plain; charset=utf-8")
                .body(r.lines.join("\n"));
            if let Some(token) = &ch.secret {
                req = req.bearer_auth(token);
            }
            http_outcome(req.send().await)
        }
        NotifyKind::Email => {
            let (Some(to), Some(smtp)) = (&ch.address, &ch.smtp_url) else {
                return Outcome::Drop("channel");
            };
            let mut body = r.lines.join("\n");
            body.push_str("\n\n-- \nSent by your Carnet vault (carnet notify list).\n");
            let mail = Mail {
                to,
                subject: &r.title,
                body,
            };
            email::send(
                smtp,
                ch.smtp_user.as_deref(),
                ch.secret.as_deref(),
                mail,
                ATTEMPT_TIMEOUT,
            )
            .await
        }
    }
}
