//! A channel's configuration as the vault keeps it (sealed whole, secret included), and the
//! rules a new one must pass: which URL schemes, which fields each kind takes, which events
//! and hours. Never answers a secret: `to_wire` leaves it out.

use std::net::IpAddr;

use carnet_schemas::{
    NewNotifyChannel, NotifyChannel, NotifyChannelId, NotifyChannelPatch, NotifyEvent, NotifyKind,
    NotifyTiming,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::NotifyError;
use crate::crypto::{Sealable, Table};

/// What the vault keeps about a channel (sealed in `notify_channels`).
#[derive(Clone, Serialize, Deserialize)]
pub struct ChannelRecord {
    pub kind: NotifyKind,
    /// webhook and ntfy: where to POST.
    pub url: Option<String>,
    /// email: the address reminders go to and come from.
    pub address: Option<String>,
    pub smtp_url: Option<String>,
    pub smtp_user: Option<String>,
    /// The webhook's `whsec_` secret, the ntfy token or the SMTP password.
    pub secret: Option<String>,
    pub events: Vec<NotifyEvent>,
    pub digest_hour: Option<u8>,
    pub details: bool,
}

impl Sealable for ChannelRecord {
    const TABLE: Table = Table::NotifyChannels;
}

impl Drop for ChannelRecord {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl std::fmt::Debug for ChannelRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelRecord")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("address", &self.address)
            .field("smtp_url", &self.smtp_url)
            .field("events", &self.events)
            .field("digest_hour", &self.digest_hour)
            .field("details", &self.details)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl ChannelRecord {
    pub fn timing(&self) -> NotifyTiming {
        match self.digest_hour {
            Some(_) => NotifyTiming::Digest,
            None => NotifyTiming::AtOnce,
        }
    }

    /// The channel as the owner sees it (no secret); the delivery fields are filled by the
    /// caller.
    pub fn to_wire(
        &self,
        id: NotifyChannelId,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> NotifyChannel {
        NotifyChannel {
            id,
            created_at,
            updated_at,
            kind: self.kind,
            url: self.url.clone(),
            address: self.address.clone(),
            smtp_url: self.smtp_url.clone(),
            smtp_user: self.smtp_user.clone(),
            has_secret: self.secret.is_some(),
            events: self.events.clone(),
            timing: self.timing(),
            digest_hour: self.digest_hour,
            details: self.details,
            pending: 0,
            last_delivery: None,
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> NotifyError {
    NotifyError::Invalid {
        field,
        message: message.into(),
    }
}

/// Refuses a field the channel's kind does not take.
fn absent(
    field: &'static str,
    value: &Option<String>,
    kind: NotifyKind,
) -> Result<(), NotifyError> {
    match value {
        Some(_) => Err(invalid(
            field,
            format!("a {} channel does not take {field}", kind.as_str()),
        )),
        None => Ok(()),
    }
}

fn required<'a>(
    field: &'static str,
    value: &'a Option<String>,
    kind: NotifyKind,
) -> Result<&'a str, NotifyError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(invalid(
            field,
            format!("a {} channel needs {field}", kind.as_str()),
        )),
    }
}

/// A secret as given: one line, no spaces or control characters (it goes into a header or an
/// SMTP command).
fn secret(field: &'static str, value: &Option<String>) -> Result<Option<String>, NotifyError> {
    // Taken as given (a password may begin or end with a space).
    let Some(v) = value.as_deref() else {
        return Ok(None);
    };
    if v.is_empty() || v.len() > 4096 || v.chars().any(|c| c.is_control()) {
        return Err(invalid(
            field,
            format!("{field} must be one non-empty line of at most 4096 characters"),
        ));
    }
    if field == "token" && v.contains(' ') {
        return Err(invalid(field, "an ntfy token has no spaces"));
    }
    Ok(Some(v.to_owned()))
}

/// An http(s) URL with a host and no credentials in it.
fn http_url(field: &'static str, text: &str) -> Result<url::Url, NotifyError> {
    let url = url::Url::parse(text).map_err(|e| invalid(field, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            field,
            format!(
                "{field} must be http:// or https://, not {}://",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(field, format!("{field} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            field,
            "credentials in a URL are refused (they would be stored and shown in clear): give an ntfy token with --token-file",
        ));
    }
    Ok(url)
}

/// Whether a host is on this machine or the owner's own network: a loopback or private
/// address, `localhost`, or a name under a local-only suffix. Anything else is public.
pub fn is_private_host(host: &str) -> bool {
    let bare = host.trim_matches(['[', ']']);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return !crate::webhooks::deliver::is_public(ip);
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || [".localhost", ".local", ".lan", ".home.arpa", ".internal"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// Whether a host is this machine (loopback): the only place plain SMTP may go.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_matches(['[', ']']);
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
    }
}

/// The events a channel takes: all when not given, never none, each once.
fn events(given: Option<Vec<NotifyEvent>>) -> Result<Vec<NotifyEvent>, NotifyError> {
    match given {
        None => Ok(NotifyEvent::ALL.to_vec()),
        Some(e) if e.is_empty() => Err(invalid(
            "events",
            "a channel takes at least one event (leave events out for all of them)",
        )),
        Some(mut e) => {
            e.sort();
            e.dedup();
            Ok(e)
        }
    }
}

fn digest_hour(h: Option<u8>) -> Result<Option<u8>, NotifyError> {
    match h {
        Some(h) if h > 23 => Err(invalid(
            "digest_hour",
            format!("the digest hour is 0 to 23, not {h}"),
        )),
        h => Ok(h),
    }
}

impl ChannelRecord {
    /// Applies a change of events, timing or details (the target and secret stay).
    pub fn patch(&mut self, p: NotifyChannelPatch) -> Result<(), NotifyError> {
        if p.events.is_some() {
            self.events = events(p.events)?;
        }
        let hour = digest_hour(p.digest_hour)?;
        self.digest_hour = match (p.timing, hour) {
            (None, None) => self.digest_hour,
            (None | Some(NotifyTiming::Digest), Some(h)) => Some(h),
            (Some(NotifyTiming::AtOnce), None) => None,
            (Some(NotifyTiming::AtOnce), Some(_)) => {
                return Err(invalid(
                    "digest_hour",
                    "a channel told at once has no digest hour",
                ));
            }
            (Some(NotifyTiming::Digest), None) => match self.digest_hour {
                Some(h) => Some(h),
                None => {
                    return Err(invalid("digest_hour", "a digest needs its hour (0 to 23)"));
                }
            },
        };
        if let Some(d) = p.details {
            self.details = d;
        }
        Ok(())
    }
}

/// Checks a new channel and turns it into what the vault keeps, with the warnings the owner
/// should read. A webhook gets a new secret here.
pub fn validate(new: NewNotifyChannel) -> Result<(ChannelRecord, Vec<String>), NotifyError> {
    let kind = new.kind;
    let mut warnings = Vec::new();
    let mut record = ChannelRecord {
        kind,
        url: None,
        address: None,
        smtp_url: None,
        smtp_user: None,
        secret: None,
        events: events(new.events)?,
        digest_hour: digest_hour(new.digest_hour)?,
        details: new.details,
    };
    match kind {
        NotifyKind::Webhook | NotifyKind::Ntfy => {
            absent("address", &new.address, kind)?;
            absent("smtp_url", &new.smtp_url, kind)?;
            absent("smtp_user", &new.smtp_user, kind)?;
            absent("smtp_password", &new.smtp_password, kind)?;
            let url = http_url("url", required("url", &new.url, kind)?)?;
            if kind == NotifyKind::Webhook {
                absent("token", &new.token, kind)?;
                record.secret = Some(crate::webhooks::new_secret());
            } else {
                if url.path().trim_matches('/').is_empty() {
                    return Err(invalid(
                        "url",
                        "an ntfy URL names its topic: https://ntfy.example/TOPIC",
                    ));
                }
                let host = url.host_str().unwrap_or_default();
                if !is_private_host(host) {
                    warnings.push(format!(
                        "{host} is a public ntfy server: anyone who guesses the topic reads these reminders; use a long random topic and an access token (--token-file), or your own server"
                    ));
                }
                record.secret = secret("token", &new.token)?;
            }
            record.url = Some(url.to_string());
        }
        NotifyKind::Email => {
            absent("url", &new.url, kind)?;
            absent("token", &new.token, kind)?;
            let address = required("address", &new.address, kind)?;
            address
                .parse::<lettre::Address>()
                .map_err(|e| invalid("address", format!("not an email address: {e}")))?;
            let smtp_url = required("smtp_url", &new.smtp_url, kind)?;
            let target = super::email::SmtpTarget::parse(smtp_url)
                .map_err(|message| invalid("smtp_url", message))?;
            let user = new.smtp_user.as_deref().map(str::trim);
            let password = secret("smtp_password", &new.smtp_password)?;
            match (user, &password) {
                (Some(u), Some(_)) if !u.is_empty() && !u.chars().any(char::is_control) => {}
                (None, None) => {}
                (Some(_), None) => {
                    return Err(invalid(
                        "smtp_password",
                        "an SMTP user needs its password (--smtp-password-file)",
                    ));
                }
                (None, Some(_)) => {
                    return Err(invalid(
                        "smtp_user",
                        "an SMTP password needs its user (--smtp-user)",
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(invalid("smtp_user", "the SMTP user is one non-empty line"));
                }
            }
            record.address = Some(address.to_owned());
            record.smtp_url = Some(target.to_string());
            record.smtp_user = user.map(str::to_owned);
            record.secret = password;
        }
    }
    Ok((record, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(kind: NotifyKind) -> NewNotifyChannel {
        NewNotifyChannel::of(kind)
    }

    fn field(r: Result<(ChannelRecord, Vec<String>), NotifyError>) -> &'static str {
        match r {
            Err(NotifyError::Invalid { field, .. }) => field,
            other => panic!("expected a refused field, got {other:?}"),
        }
    }

    #[test]
    fn each_kind_takes_its_own_fields_and_refuses_the_others() {
        let mut w = new(NotifyKind::Webhook);
        assert_eq!(field(validate(w.clone())), "url");
        w.url = Some("ftp://host/x".into());
        assert_eq!(field(validate(w.clone())), "url");
        w.url = Some("http://user:pw@192.168.1.5/hook".into());
        assert_eq!(field(validate(w.clone())), "url");
        w.url = Some("http://192.168.1.5:8123/api/webhook/carnet".into());
        w.token = Some("t".into());
        assert_eq!(field(validate(w.clone())), "token");
        w.token = None;
        let (rec, warnings) = validate(w).unwrap();
        assert!(rec.secret.as_deref().unwrap().starts_with("whsec_"));
        assert_eq!(rec.events, NotifyEvent::ALL.to_vec());
        assert!(warnings.is_empty(), "a LAN webhook is fine");

        let mut n = new(NotifyKind::Ntfy);
        n.url = Some("https://ntfy.sh/".into());
        assert_eq!(field(validate(n.clone())), "url", "no topic");
        n.url = Some("https://ntfy.sh/carnet-x1".into());
        n.token = Some("tk one".into());
        assert_eq!(field(validate(n.clone())), "token");
        n.token = Some("tk_abc".into());
        let (rec, warnings) = validate(n.clone()).unwrap();
        assert_eq!(rec.secret.as_deref(), Some("tk_abc"));
        assert_eq!(warnings.len(), 1, "ntfy.sh is public");
        n.url = Some("http://10.0.0.2/alerts".into());
        assert!(validate(n).unwrap().1.is_empty(), "a private ntfy is not");

        let mut e = new(NotifyKind::Email);
        e.address = Some("me@example.org".into());
        assert_eq!(field(validate(e.clone())), "smtp_url");
        e.smtp_url = Some("http://mail.example.org".into());
        assert_eq!(field(validate(e.clone())), "smtp_url");
        e.smtp_url = Some("smtps:///".into());
        assert_eq!(field(validate(e.clone())), "smtp_url");
        e.smtp_url = Some("smtps://mail.example.org".into());
        e.smtp_user = Some("me".into());
        assert_eq!(field(validate(e.clone())), "smtp_password");
        e.smtp_password = Some("pw".into());
        e.address = Some("not an address".into());
        assert_eq!(field(validate(e.clone())), "address");
        e.address = Some("me@example.org".into());
        let (rec, _) = validate(e).unwrap();
        assert_eq!(
            rec.smtp_url.as_deref(),
            Some("smtps://mail.example.org:465")
        );
        assert_eq!(rec.secret.as_deref(), Some("pw"));
    }

    #[test]
    fn events_are_never_empty_and_the_digest_hour_is_a_clock_hour() {
        let mut w = new(NotifyKind::Webhook);
        w.url = Some("https://hooks.example/x".into());
        w.events = Some(vec![]);
        assert_eq!(field(validate(w.clone())), "events");
        w.events = Some(vec![
            NotifyEvent::PromiseLate,
            NotifyEvent::FollowupDue,
            NotifyEvent::PromiseLate,
        ]);
        w.digest_hour = Some(24);
        assert_eq!(field(validate(w.clone())), "digest_hour");
        w.digest_hour = Some(23);
        let (rec, _) = validate(w).unwrap();
        assert_eq!(
            rec.events,
            vec![NotifyEvent::FollowupDue, NotifyEvent::PromiseLate]
        );
        assert_eq!(rec.timing(), NotifyTiming::Digest);
    }

    #[test]
    fn a_patch_changes_events_timing_and_details_only() {
        let mut w = new(NotifyKind::Webhook);
        w.url = Some("https://hooks.example/x".into());
        let (mut rec, _) = validate(w).unwrap();
        let secret = rec.secret.clone();
        let patch = |p: serde_json::Value| serde_json::from_value::<NotifyChannelPatch>(p).unwrap();
        rec.patch(patch(
            serde_json::json!({"digest_hour": 8, "details": true}),
        ))
        .unwrap();
        assert_eq!((rec.digest_hour, rec.details), (Some(8), true));
        rec.patch(patch(serde_json::json!({"timing": "digest"})))
            .unwrap();
        assert_eq!(rec.digest_hour, Some(8), "a digest keeps its hour");
        rec.patch(patch(serde_json::json!({"timing": "at_once"})))
            .unwrap();
        assert_eq!(rec.timing(), NotifyTiming::AtOnce);
        for (p, f) in [
            (serde_json::json!({"timing": "digest"}), "digest_hour"),
            (
                serde_json::json!({"timing": "at_once", "digest_hour": 3}),
                "digest_hour",
            ),
            (serde_json::json!({"digest_hour": 30}), "digest_hour"),
            (serde_json::json!({"events": []}), "events"),
        ] {
            match rec.patch(patch(p)) {
                Err(NotifyError::Invalid { field, .. }) => assert_eq!(field, f),
                other => panic!("{other:?}"),
            }
        }
        rec.patch(patch(serde_json::json!({"events": ["offer_new"]})))
            .unwrap();
        assert_eq!(rec.events, vec![NotifyEvent::OfferNew]);
        assert_eq!(rec.secret, secret);
    }

    #[test]
    fn private_and_loopback_hosts() {
        for h in [
            "127.0.0.1",
            "[::1]",
            "10.1.2.3",
            "192.168.0.9",
            "localhost",
            "ntfy.lan",
            "pi.local",
        ] {
            assert!(is_private_host(h), "{h}");
        }
        for h in ["ntfy.sh", "93.184.216.34", "ntfy.example.com"] {
            assert!(!is_private_host(h), "{h}");
        }
        assert!(
            is_loopback_host("127.0.0.2")
                && is_loopback_host("[::1]")
                && is_loopback_host("localhost")
        );
        assert!(!is_loopback_host("192.168.1.2") && !is_loopback_host("mail.example.org"));
    }

    #[test]
    fn a_record_never_shows_its_secret_in_debug() {
        let mut w = new(NotifyKind::Webhook);
        w.url = Some("https://hooks.example/x".into());
        let (rec, _) = validate(w).unwrap();
        let secret = rec.secret.clone().unwrap();
        assert!(!format!("{rec:?}").contains(&secret));
    }
}
