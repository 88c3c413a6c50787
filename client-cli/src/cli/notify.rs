//! Reminder channels (`carnet notify`): a webhook, an ntfy topic or an email address, the
//! events each takes, at once or in a daily digest, with or without details. Secrets are read
//! from files (`--token-file`, `--smtp-password-file`), never taken as argument values.

use std::path::PathBuf;

use carnet_schemas::{NotifyChannelId, NotifyEvent};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};

/// EVENT values, listed in `--help` and completions.
fn event_parser() -> impl TypedValueParser<Value = NotifyEvent> {
    PossibleValuesParser::new(NotifyEvent::ALL.map(NotifyEvent::as_str))
        .try_map(|s| s.parse::<NotifyEvent>())
}

const NOTIFY_HELP: &str = "\
A channel takes the events you pick (--events; all by default) and tells you at once, or in a \
daily digest at the hour you pick in your time zone (--digest HOUR). A reminder says each \
event's kind, how many and the day (\"3 promises late · 2026-12-07\"): no vendor name, no \
text, unless the channel has --details. `carnet notify list` shows each channel's last \
delivery; `carnet notify test ID` sends one now.

Events: followup_due, followup_late, promise_due, promise_late, warranty_ending, \
renewal_notice, offer_new, consent_waiting, grant_expiring, access_log_failed.

Examples:
  carnet notify add webhook http://192.168.1.20:8123/api/webhook/carnet --events promise_late,followup_late
  carnet notify add ntfy https://ntfy.example.net/carnet-7Hq2 --token-file ~/.config/ntfy.token --digest 8
  carnet notify add email me@example.org --smtp-url smtps://mail.example.org:465 \\
      --smtp-user me@example.org --smtp-password-file ~/.config/smtp.pw --digest 7 --details
  carnet notify list
  carnet notify edit nch_0123456789abcdef --digest 18 --no-details
  carnet notify test nch_0123456789abcdef
  carnet notify rm nch_0123456789abcdef --yes";

#[derive(Debug, Subcommand)]
#[command(after_help = NOTIFY_HELP)]
pub enum NotifyCmd {
    /// Add a reminder channel: a webhook, an ntfy topic or an email address
    #[command(
        subcommand,
        after_help = "Examples:\n  \
carnet notify add webhook http://192.168.1.20:8123/api/webhook/carnet\n  \
carnet notify add ntfy https://ntfy.example.net/carnet-7Hq2 --token-file ntfy.token --digest 8\n  \
carnet notify add email me@example.org --smtp-url smtps://mail.example.org:465"
    )]
    Add(NotifyAdd),
    /// The reminder channels, with their last delivery and what waits
    #[command(
        after_help = "Each channel's last delivery: when, and ok or why not (connect, \
timeout, status 500, starttls, tls, smtp 535…); WAITING counts the reminders not delivered \
yet. --json has every field.\n\nExamples:\n  carnet notify list\n  carnet --json notify list"
    )]
    List,
    /// Change which events a channel takes, when, and whether with details
    #[command(
        after_help = "Its address and secret stay: to change those, remove the channel \
and add it again.\n\nExamples:\n  \
carnet notify edit nch_0123456789abcdef --events promise_late,renewal_notice\n  \
carnet notify edit nch_0123456789abcdef --digest 18 --no-details\n  \
carnet notify edit nch_0123456789abcdef --at-once"
    )]
    Edit(NotifyEdit),
    /// Send a test message to a channel now, and say what happened
    #[command(
        after_help = "The test is tried once, now, and not retried; it shows as the \
channel's last delivery. Exits 1 when it was not delivered.\n\nExamples:\n  \
carnet notify test nch_0123456789abcdef"
    )]
    Test {
        /// The channel's id (nch_…)
        id: NotifyChannelId,
    },
    /// Remove a reminder channel (what waits for it is dropped)
    #[command(after_help = "Examples:\n  carnet notify rm nch_0123456789abcdef\n  \
carnet notify rm nch_0123456789abcdef --yes")]
    Rm {
        /// The channel's id (nch_…)
        id: NotifyChannelId,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("change").required(true).multiple(true)))]
pub struct NotifyEdit {
    /// The channel's id (nch_…)
    pub id: NotifyChannelId,
    /// The events it takes from now on, comma-separated
    #[arg(long, value_name = "EVENT,…", value_delimiter = ',', value_parser = event_parser(),
          hide_possible_values = true, group = "change")]
    pub events: Vec<NotifyEvent>,
    /// A daily digest at this hour (0-23) of your time zone
    #[arg(long, value_name = "HOUR", value_parser = clap::value_parser!(u8).range(0..=23),
          group = "change", conflicts_with = "at_once")]
    pub digest: Option<u8>,
    /// Each reminder at once (no digest)
    #[arg(long, group = "change")]
    pub at_once: bool,
    /// Let reminders name vendors and carry text
    #[arg(long, group = "change", conflicts_with = "no_details")]
    pub details: bool,
    /// Kind, count and date only
    #[arg(long, group = "change")]
    pub no_details: bool,
}

/// What every channel takes: which events, when, how much.
#[derive(Debug, Args)]
pub struct NotifyRouting {
    /// The events it takes, comma-separated [default: all]
    #[arg(long, value_name = "EVENT,…", value_delimiter = ',', value_parser = event_parser(),
          hide_possible_values = true)]
    pub events: Vec<NotifyEvent>,
    /// A daily digest at this hour (0-23) of your time zone [default: each reminder at once]
    #[arg(long, value_name = "HOUR", value_parser = clap::value_parser!(u8).range(0..=23))]
    pub digest: Option<u8>,
    /// Let reminders name vendors and carry text (what was promised…); off by default: kind,
    /// count and date only
    #[arg(long)]
    pub details: bool,
}

#[derive(Debug, Subcommand)]
pub enum NotifyAdd {
    /// A signed POST (Standard Webhooks) to your own URL; its whsec_ secret is printed once
    #[command(
        after_help = "The URL may be on your home network (home automation): unlike a \
vendor's, it is not refused for a private address. Redirects are not followed. Each delivery \
is signed like vendor webhooks (webhook-id, webhook-timestamp, webhook-signature) with the \
secret printed now, and only now.\n\nExamples:\n  \
carnet notify add webhook http://192.168.1.20:8123/api/webhook/carnet\n  \
carnet --json notify add webhook https://hooks.example.net/carnet --digest 8"
    )]
    Webhook {
        /// Where to POST (http or https)
        url: String,
        #[command(flatten)]
        routing: NotifyRouting,
    },
    /// A message to an ntfy topic (ntfy's HTTP publish API)
    #[command(
        after_help = "On a public server (ntfy.sh, or any host that is not on your \
network) anyone who guesses the topic reads it: carnet warns, and a long random topic with \
an access token is wise.\n\nExamples:\n  \
carnet notify add ntfy https://ntfy.example.net/carnet-7Hq2 --token-file ~/.config/ntfy.token\n  \
carnet notify add ntfy http://192.168.1.5:8080/carnet --events consent_waiting"
    )]
    Ntfy {
        /// The topic's URL (https://ntfy.example.net/TOPIC)
        url: String,
        /// Read the access token (sent as Authorization: Bearer) from this file's first line
        /// ("-" for stdin)
        #[arg(long, value_name = "F|-")]
        token_file: Option<PathBuf>,
        #[command(flatten)]
        routing: NotifyRouting,
    },
    /// An email through your SMTP server
    #[command(
        after_help = "smtps:// speaks TLS from the start (port 465 by default); \
smtp:// must upgrade with STARTTLS (port 587 by default), except to a loopback host, where a \
local relay may answer in plain. The password is read from a file and sealed in the vault.\n\n\
Examples:\n  carnet notify add email me@example.org --smtp-url smtps://mail.example.org:465 \\\n      \
--smtp-user me@example.org --smtp-password-file ~/.config/smtp.pw\n  \
carnet notify add email me@example.org --smtp-url smtp://127.0.0.1:25"
    )]
    Email {
        /// The address reminders go to (and come from)
        address: String,
        /// smtps://HOST[:PORT] or smtp://HOST[:PORT]
        #[arg(long, value_name = "URL", required = true)]
        smtp_url: String,
        /// The SMTP user name
        #[arg(long, value_name = "U", requires = "smtp_password_file")]
        smtp_user: Option<String>,
        /// Read the SMTP password from this file's first line ("-" for stdin)
        #[arg(long, value_name = "F|-", requires = "smtp_user")]
        smtp_password_file: Option<PathBuf>,
        #[command(flatten)]
        routing: NotifyRouting,
    },
}
