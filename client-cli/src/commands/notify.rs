//! `carnet notify add | list | test | rm`: the owner's reminder channels. A webhook's secret
//! is printed once, on stdout (the only time carnetd shows it); warnings and everything said
//! about it go to stderr. Secrets for ntfy and SMTP are read from files, never arguments.

use carnet_schemas::{
    DeliveryState, NewNotifyChannel, NotifyChannel, NotifyChannelCreated, NotifyChannelId,
    NotifyChannelPatch, NotifyEvent, NotifyKind, NotifyTest, NotifyTiming,
};
use chrono::Utc;

use super::lifecycle::read_secret;
use super::{Confirm, Ctx, confirm};
use crate::cli::{NotifyAdd, NotifyCmd, NotifyEdit, NotifyRouting};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{self, Fields, TableOut, short_time};

pub fn run(ctx: &Ctx, cmd: NotifyCmd) -> CliResult<()> {
    match cmd {
        NotifyCmd::Add(add) => self::add(ctx, add),
        NotifyCmd::List => list(ctx),
        NotifyCmd::Edit(e) => edit(ctx, e),
        NotifyCmd::Test { id } => test(ctx, &id),
        NotifyCmd::Rm { id, yes } => rm(ctx, &id, yes),
    }
}

/// A secret file's first line, exactly (the rest, and the line break, are not part of it).
fn first_line(path: &std::path::Path, what: &str) -> CliResult<String> {
    let (text, from) = read_secret(path, what)?;
    // `lines` drops the line break (`\n` or `\r\n`); spaces are the secret's own.
    match text.lines().next() {
        Some(line) if !line.is_empty() => Ok(line.to_owned()),
        _ => Err(CliError::failed(format!(
            "the first line of {from} is empty: it holds no {what}"
        ))
        .with_hint("nothing was sent; put the secret on the file's first line")),
    }
}

fn new_channel(kind: NotifyKind, routing: NotifyRouting) -> NewNotifyChannel {
    NewNotifyChannel {
        events: (!routing.events.is_empty()).then_some(routing.events),
        digest_hour: routing.digest,
        details: routing.details,
        ..NewNotifyChannel::of(kind)
    }
}

fn add(ctx: &Ctx, add: NotifyAdd) -> CliResult<()> {
    let body = match add {
        NotifyAdd::Webhook { url, routing } => NewNotifyChannel {
            url: Some(url),
            ..new_channel(NotifyKind::Webhook, routing)
        },
        NotifyAdd::Ntfy {
            url,
            token_file,
            routing,
        } => NewNotifyChannel {
            url: Some(url),
            token: token_file
                .map(|f| first_line(&f, "ntfy token"))
                .transpose()?,
            ..new_channel(NotifyKind::Ntfy, routing)
        },
        NotifyAdd::Email {
            address,
            smtp_url,
            smtp_user,
            smtp_password_file,
            routing,
        } => NewNotifyChannel {
            address: Some(address),
            smtp_url: Some(smtp_url),
            smtp_user,
            smtp_password: smtp_password_file
                .map(|f| first_line(&f, "SMTP password"))
                .transpose()?,
            ..new_channel(NotifyKind::Email, routing)
        },
    };
    let created: Doc<NotifyChannelCreated> =
        ctx.client.post("/v1/notify/channels", &body).map_err(|e| {
            if e.status == Some(422) {
                e.or_hint(
                    "nothing was added; `carnet notify add --help` says what each channel takes",
                )
            } else {
                e
            }
        })?;
    let c = &created.value;
    for w in &c.warnings {
        output::message(&format!("carnet: warning: {w}"));
    }
    output::message(&format!(
        "added {} channel {} (reminders: {})",
        c.channel.kind.as_str(),
        c.channel.id,
        timing(&c.channel)
    ));
    ctx.print(&created, |c| {
        let mut out = Fields::new();
        out.add("id", &c.channel.id)
            .opt("secret", c.secret.as_ref());
        out.print();
    });
    if c.secret.is_some() {
        output::message(
            "the secret is not shown again: give it to whatever receives the webhook now, to check each delivery's webhook-signature",
        );
    }
    Ok(())
}

/// At once, or the digest's hour.
fn timing(c: &NotifyChannel) -> String {
    match c.digest_hour {
        Some(h) => format!("digest {h:02}:00"),
        None => "at once".to_owned(),
    }
}

fn target(c: &NotifyChannel) -> String {
    match c.kind {
        NotifyKind::Webhook | NotifyKind::Ntfy => c.url.clone().unwrap_or_default(),
        NotifyKind::Email => format!(
            "{} via {}",
            c.address.as_deref().unwrap_or_default(),
            c.smtp_url.as_deref().unwrap_or_default()
        ),
    }
}

fn events(c: &NotifyChannel) -> String {
    if c.events.len() == NotifyEvent::ALL.len() {
        "all".to_owned()
    } else {
        c.events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The last delivery in a few words: when, ok or what failed.
fn last(c: &NotifyChannel) -> String {
    let Some(d) = &c.last_delivery else {
        return "-".to_owned();
    };
    let when = short_time(&d.at.with_timezone(&chrono::Local));
    if d.ok {
        return format!("{when} ok");
    }
    let why = d.error.as_deref().unwrap_or("failed");
    let given_up = if d.state == DeliveryState::Failed {
        ", gave up"
    } else {
        ""
    };
    match d.status {
        Some(s) => format!("{when} {why} {s}{given_up}"),
        None => format!("{when} {why}{given_up}"),
    }
}

fn list(ctx: &Ctx) -> CliResult<()> {
    let items: Vec<Doc<NotifyChannel>> = ctx.client.get_array("/v1/notify/channels", &[])?;
    ctx.print_list(
        &items,
        "no reminder channels: add one with `carnet notify add`",
        |items| table(items).print(),
    );
    Ok(())
}

/// `notify list`'s table: where each channel goes, when, and how its last delivery went;
/// events, details and what waits when the width allows (`--json` has everything).
pub(super) fn table(items: &[&NotifyChannel]) -> TableOut {
    let mut t = TableOut::new(&[
        "id",
        "kind",
        "to",
        "when",
        "last delivery",
        "events",
        "details",
        "waiting",
    ])
    .ids(&[0])
    .fixed(&[1, 3, 4])
    .words(&[5])
    .optional(&[6, 7, 5]);
    for c in items {
        t.row([
            c.id.to_string(),
            c.kind.as_str().to_owned(),
            target(c),
            timing(c),
            last(c),
            events(c),
            if c.details { "yes" } else { "no" }.to_owned(),
            c.pending.to_string(),
        ]);
    }
    t
}

fn edit(ctx: &Ctx, e: NotifyEdit) -> CliResult<()> {
    let patch = NotifyChannelPatch {
        events: (!e.events.is_empty()).then_some(e.events),
        timing: e.at_once.then_some(NotifyTiming::AtOnce),
        digest_hour: e.digest,
        details: match (e.details, e.no_details) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
    };
    let doc: Doc<NotifyChannel> = ctx
        .client
        .patch(&format!("/v1/notify/channels/{}", e.id), &patch)?;
    ctx.print(&doc, |c| {
        ctx.done(&format!(
            "reminder channel {} now takes {} events, {}{}",
            c.id,
            events(c),
            timing(c),
            if c.details { ", with details" } else { "" }
        ));
    });
    Ok(())
}

fn test(ctx: &Ctx, id: &NotifyChannelId) -> CliResult<()> {
    let doc: Doc<NotifyTest> = ctx.client.post(
        &format!("/v1/notify/channels/{id}/test"),
        &serde_json::json!({}),
    )?;
    let t = &doc.value;
    if ctx.json {
        output::json(&doc.raw);
    }
    if t.delivered {
        let status = t
            .status
            .map(|s| format!(" (answered {s})"))
            .unwrap_or_default();
        ctx.done(&format!("test message delivered to {id}{status}"));
        return Ok(());
    }
    let why = t.error.as_deref().unwrap_or("failed");
    let status = t
        .status
        .map(|s| format!(", answered {s}"))
        .unwrap_or_default();
    Err(
        CliError::failed(format!("the test message to {id} was not delivered: {why}{status}"))
            .with_hint(format!(
                "check the channel's address and that its server is up (`carnet notify list` shows it; at {})",
                short_time(&Utc::now().with_timezone(&chrono::Local))
            )),
    )
}

fn rm(ctx: &Ctx, id: &NotifyChannelId, yes: bool) -> CliResult<()> {
    let path = format!("/v1/notify/channels/{id}");
    if !yes {
        let c: Doc<NotifyChannel> = ctx.client.get(&path, &[])?;
        confirm(&Confirm {
            verb: ["remove", "removing", "removed"],
            what: &format!(
                "reminder channel {id} ({} to {})",
                c.value.kind.as_str(),
                target(&c.value)
            ),
            with_yes: format!("carnet notify rm {id} --yes"),
            declined_hint: None,
        })?;
    }
    ctx.client.delete(&path)?;
    ctx.done(&format!("removed reminder channel {id}"));
    Ok(())
}
