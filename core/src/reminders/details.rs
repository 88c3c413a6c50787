//! The details a channel with `details` on is told: a line per occurrence naming the vendor
//! and saying what (the step, the promise, the item). Only such channels cause a record to be
//! opened, and only the occurrences in their message. The lines are made one line each where
//! they are rendered (`notify::render`), whatever text they hold.

use carnet_schemas::ids::VendorKind;
use carnet_schemas::{NotifyEvent, VendorId};

use super::collect::Source;
use super::plan::Occurrence;
use crate::context::Core;
use crate::ledger::index::{Rid, id_of};
use crate::ledger::{Interactions, Promises, Purchases, Vendors, show, subscriptions};

/// Lines per item at most; past it, one line says how many more.
pub const MAX_LINES: usize = 20;

/// The detail lines of the occurrences `of`.
pub fn lines(
    core: &Core,
    occurrences: &[Occurrence],
    sources: &[Source],
    of: &[usize],
) -> Vec<String> {
    let mut out: Vec<String> = of
        .iter()
        .take(MAX_LINES)
        .map(|&i| line(core, &occurrences[i], &sources[i]))
        .collect();
    if of.len() > MAX_LINES {
        out.push(format!("… and {} more", of.len() - MAX_LINES));
    }
    out
}

fn line(core: &Core, o: &Occurrence, source: &Source) -> String {
    let date = o.date;
    match source {
        Source::Followup { id, vendor } => {
            let step = show::<Interactions>(&core.store, &core.keys, id)
                .ok()
                .and_then(|i| i.fields.next_step)
                .map(|s| s.to_string());
            let when = if o.event == NotifyEvent::FollowupLate {
                "was due"
            } else {
                "due"
            };
            format!("{}: {} ({when} {date})", name(core, vendor), said(step))
        }
        Source::Promise { id, vendor } => {
            let what = show::<Promises>(&core.store, &core.keys, id)
                .ok()
                .map(|p| p.fields.what.to_string());
            let when = if o.event == NotifyEvent::PromiseLate {
                "was due"
            } else {
                "due"
            };
            format!("{}: {} ({when} {date})", name(core, vendor), said(what))
        }
        Source::Warranty { id } => match show::<Purchases>(&core.store, &core.keys, id) {
            Ok(p) => format!(
                "{}: {} (warranty until {date})",
                name_of(core, &p.fields.vendor_id),
                p.fields.item
            ),
            Err(_) => format!("a purchase (warranty until {date})"),
        },
        Source::Offer { vendor, .. } => format!("{} made an offer ({date})", name_of(core, vendor)),
        Source::Consent { vendor_name } => {
            format!("{vendor_name} asks for access ({date})")
        }
        Source::Renewal { id, vendor } => {
            let item = subscriptions::show(&core.store, &core.keys, id, core.now())
                .map(|s| s.fields.item.to_string())
                .unwrap_or_else(|_| "a subscription".to_owned());
            format!(
                "{}: {item} (last day to give notice {date})",
                name_of(core, vendor)
            )
        }
        Source::Grant { vendor, .. } => {
            format!("{}: access ends {date}", name_of(core, vendor))
        }
        Source::AccessLog { seq, reason } => {
            format!("entry {seq} does not check out: {reason}")
        }
    }
}

fn said(text: Option<String>) -> String {
    text.unwrap_or_else(|| "(no longer readable)".to_owned())
}

fn name_of(core: &Core, vendor: &VendorId) -> String {
    show::<Vendors>(&core.store, &core.keys, vendor)
        .map(|v| v.fields.name.to_string())
        .unwrap_or_else(|_| "a vendor".to_owned())
}

fn name(core: &Core, vendor: &Rid) -> String {
    name_of(core, &id_of::<VendorKind>(vendor))
}
