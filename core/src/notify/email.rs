//! Reminders by email, through the owner's SMTP server (lettre over tokio, TLS by rustls).
//! `smtps://` is TLS from the first byte; `smtp://` must upgrade with STARTTLS, except to a
//! loopback host (a relay on this machine), where plain SMTP is allowed: SMTP refuses
//! `smtp://` to a non-loopback host without STARTTLS. Never logs the password.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::send::Outcome;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the start.
    Implicit,
    /// `smtp://` to another machine: STARTTLS, or no delivery.
    StartTlsRequired,
    /// `smtp://` to a loopback host: STARTTLS when offered, else plain.
    LoopbackOpportunistic,
}

/// A parsed `smtp[s]://HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl SmtpTarget {
    /// Parses the URL and decides its security (no user, password, path or query in it).
    pub fn parse(text: &str) -> Result<SmtpTarget, String> {
        let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
        let implicit = match url.scheme() {
            "smtps" => true,
            "smtp" => false,
            other => {
                return Err(format!(
                    "the SMTP URL is smtps://HOST:PORT (TLS) or smtp://HOST:PORT (STARTTLS), not {other}://"
                ));
            }
        };
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.trim_matches(['[', ']']).to_owned(),
            _ => return Err("the SMTP URL has no host".into()),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "no credentials in the SMTP URL: give --smtp-user and --smtp-password-file".into(),
            );
        }
        if !url.path().trim_matches('/').is_empty() || url.query().is_some() {
            return Err("the SMTP URL is only smtp[s]://HOST:PORT (no path or query)".into());
        }
        let security = decide(implicit, &host);
        let port = url.port().unwrap_or(if implicit { 465 } else { 587 });
        Ok(SmtpTarget {
            host,
            port,
            security,
        })
    }
}

impl std::fmt::Display for SmtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.security {
            Security::Implicit => "smtps",
            Security::StartTlsRequired | Security::LoopbackOpportunistic => "smtp",
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// The rule: TLS for `smtps`; for `smtp`, STARTTLS required unless the host is loopback.
pub fn decide(implicit: bool, host: &str) -> Security {
    if implicit {
        Security::Implicit
    } else if super::channel::is_loopback_host(host) {
        Security::LoopbackOpportunistic
    } else {
        Security::StartTlsRequired
    }
}

/// What one email says.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: String,
}

/// Sends one email; `user` and `password` log in when given.
pub async fn send(
    smtp_url: &str,
    user: Option<&str>,
    password: Option<&str>,
    mail: Mail<'_>,
    timeout: Duration,
) -> Outcome {
    let Ok(target) = SmtpTarget::parse(smtp_url) else {
        return Outcome::Drop("smtp-url");
    };
    let Ok(address) = mail.to.parse::<lettre::Address>() else {
        return Outcome::Drop("address");
    };
    let mailbox = lettre::message::Mailbox::new(Some("Carnet".into()), address);
    let message = lettre::Message::builder()
        .from(mailbox.clone())
        .to(mailbox)
        .subject(mail.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body);
    let Ok(message) = message else {
        return Outcome::Drop("message");
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Ok(tls) = TlsParameters::new(target.host.clone()) else {
        return Outcome::Retry(None, "tls");
    };
    let tls = match target.security {
        Security::Implicit => Tls::Wrapper(tls),
        Security::StartTlsRequired => Tls::Required(tls),
        Security::LoopbackOpportunistic => Tls::Opportunistic(tls),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(target.host)
        .port(target.port)
        .tls(tls)
        .timeout(Some(timeout));
    if let (Some(u), Some(p)) = (user, password) {
        builder = builder.credentials(Credentials::new(u.to_owned(), p.to_owned()));
    }
    let required = target.security == Security::StartTlsRequired;
    match builder.build().send(message).await {
        Ok(r) => Outcome::Delivered(code(r.code())),
        Err(e) => {
            let status = e.status().and_then(code);
            // lettre says a server without STARTTLS is a client error, in these words.
            let why = if required && e.is_client() && e.to_string().contains("STARTTLS") {
                "starttls"
            } else if e.is_client() {
                "smtp-client"
            } else if e.is_tls() {
                "tls"
            } else if e.is_timeout() {
                "timeout"
            } else if status.is_some() {
                "smtp"
            } else {
                "connect"
            };
            Outcome::Retry(status, why)
        }
    }
}

fn code(c: lettre::transport::smtp::response::Code) -> Option<u16> {
    c.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_refuses_plain_smtp_to_a_non_loopback_host_without_starttls() {
        assert_eq!(decide(true, "mail.example.org"), Security::Implicit);
        assert_eq!(
            decide(false, "mail.example.org"),
            Security::StartTlsRequired
        );
        assert_eq!(decide(false, "192.168.1.10"), Security::StartTlsRequired);
        assert_eq!(decide(false, "127.0.0.1"), Security::LoopbackOpportunistic);
        assert_eq!(decide(false, "::1"), Security::LoopbackOpportunistic);
        assert_eq!(decide(false, "localhost"), Security::LoopbackOpportunistic);
        assert_eq!(decide(true, "127.0.0.1"), Security::Implicit);
    }

    #[test]
    fn smtp_urls_parse_to_a_host_a_port_and_a_security() {
        let t = SmtpTarget::parse("smtp://mail.example.org").unwrap();
        assert_eq!((t.port, t.security), (587, Security::StartTlsRequired));
        assert_eq!(t.to_string(), "smtp://mail.example.org:587");
        let t = SmtpTarget::parse("smtps://[::1]:2465").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 2465));
        assert_eq!(t.to_string(), "smtps://[::1]:2465");
        for bad in [
            "http://mail.example.org",
            "smtp://",
            "smtp://u:p@mail.example.org",
            "smtp://mail.example.org/x",
            "mail.example.org",
        ] {
            assert!(SmtpTarget::parse(bad).is_err(), "{bad}");
        }
    }
}
