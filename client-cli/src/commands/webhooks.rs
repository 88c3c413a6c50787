//! `carnet webhooks`: the webhook deliveries to vendors, newest first, as carnetd's outbox
//! holds them (one row per event and vendor, whatever the number of attempts).

use std::collections::HashMap;

use carnet_schemas::{DeliveryState, Line, VendorId, WebhookDelivery};
use chrono::{DateTime, Local, Utc};

use super::{Ctx, name_of};
use crate::cli::WebhooksArgs;
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{self, TableOut, short_time};

/// The server's page when no `--limit` is given.
const DEFAULT_LIMIT: usize = 200;

pub fn run(ctx: &Ctx, a: WebhooksArgs) -> CliResult<()> {
    let mut query = Vec::new();
    // A vendor named by id is fetched too: an unknown id is an error, not an empty listing.
    let vendor = a.vendor.as_ref().map(|v| ctx.vendor_named(v)).transpose()?;
    if let Some((id, _)) = &vendor {
        query.push(("vendor", id.to_string()));
    }
    if let Some(n) = a.limit {
        query.push(("limit", n.to_string()));
    }
    let items: Vec<Doc<WebhookDelivery>> = ctx.client.get_array("/v1/webhooks", &query)?;
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    let empty = match &vendor {
        None => "no webhook deliveries yet".to_owned(),
        Some((_, name)) => format!("no webhook deliveries to {name} yet"),
    };
    ctx.print_list(&items, &empty, |items| {
        table(items, &names, &Utc::now()).print()
    });
    let limit = a.limit.map_or(DEFAULT_LIMIT, |n| n as usize);
    if items.len() >= limit {
        let shown = match limit {
            1 => "the newest delivery".to_owned(),
            n => format!("the {n} newest deliveries"),
        };
        output::message(&format!(
            "showing {shown}, the limit: there may be more (--limit N, up to 1000)"
        ));
    }
    Ok(())
}

/// `webhooks`' table; NEXT is said relative to `now`.
pub(super) fn table(
    items: &[&WebhookDelivery],
    names: &HashMap<VendorId, Line>,
    now: &DateTime<Utc>,
) -> TableOut {
    let mut t = TableOut::new(&["when", "vendor", "event", "state", "tries", "next", "last"])
        .fixed(&[0, 2, 3, 4, 5])
        .optional(&[0])
        .right(&[4]);
    for d in items {
        t.row([
            short_time(&d.created_at),
            name_of(names, &d.vendor_id),
            d.event.clone(),
            state(d.state).to_owned(),
            d.attempts.to_string(),
            d.next_attempt_at
                .filter(|_| d.state == DeliveryState::Pending)
                .map(|n| next_time(&n, now))
                .unwrap_or_default(),
            last(d.last_status, d.last_error.as_deref()),
        ]);
    }
    t
}

fn state(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Dropped => "dropped",
        DeliveryState::Failed => "failed",
    }
}

/// When a pending delivery is tried next: the time of day when that is today (retries come
/// seconds to ten minutes apart), else the date and time.
fn next_time(next: &DateTime<Utc>, now: &DateTime<Utc>) -> String {
    let (next, now) = (next.with_timezone(&Local), now.with_timezone(&Local));
    if next.date_naive() == now.date_naive() {
        next.format("%H:%M").to_string()
    } else {
        short_time(&next)
    }
}

/// What the last attempt got: the vendor's HTTP status, and/or why it failed or was not sent,
/// in a word or two that fit the column (carnetd's one-word reasons; an unknown one is shown
/// as it is). A non-2xx status is its own reason.
fn last(status: Option<u16>, error: Option<&str>) -> String {
    let why = error.map(|e| match e {
        // A 3xx is shown as its status: redirects are never followed, and the word would not fit.
        "status" | "redirect" => "",
        "timeout" => "timeout",
        "connect" => "unreachable",
        "request" => "send failed",
        "no-url" => "no URL",
        "grant" => "no grant",
        "client" => "disconnected",
        "vendor" => "vendor gone",
        "policy" | "address" => "not public",
        "secret" => "no secret",
        other => other,
    });
    match (status, why) {
        (Some(s), Some(why)) if !why.is_empty() => format!("HTTP {s} {why}"),
        (Some(s), _) => format!("HTTP {s}"),
        (None, Some(why)) => why.to_owned(),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn last_says_what_the_vendor_answered_or_why_not() {
        assert_eq!(last(None, None), "");
        assert_eq!(last(Some(204), None), "HTTP 204");
        assert_eq!(last(Some(503), Some("status")), "HTTP 503");
        assert_eq!(last(Some(302), Some("redirect")), "HTTP 302");
        assert_eq!(last(None, Some("connect")), "unreachable");
        assert_eq!(last(None, Some("grant")), "no grant");
        assert_eq!(last(None, Some("dns")), "dns");
    }

    #[test]
    fn next_is_a_time_of_day_today_else_a_date() {
        let now = Local
            .with_ymd_and_hms(2026, 12, 15, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let soon = now + Duration::seconds(90);
        assert_eq!(next_time(&soon, &now), "10:01");
        let tomorrow = now + Duration::days(1);
        assert_eq!(next_time(&tomorrow, &now), short_time(&tomorrow));
    }
}
