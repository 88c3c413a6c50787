//! The details a channel with `details` on is told: a line per occurrence naming the vendor
//! and saying what (the step, the promise, the item). Only such channels cause a record to be
//! opened, and only the occurrences in their message.

use carnet_schemas::ids::IdKind;
use carnet_schemas::{Id, NotifyEvent};

use super::collect::Source;
use super::plan::Occurrence;
use crate::context::Core;
use crate::ledger::index::{Rid, rid};
use crate::ledger::{Interactions, Promises, Purchases, show};

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
            format!("{} asks for access ({date})", clean(vendor_name))
        }
        Source::Grant { vendor, .. } => {
            format!("{}: access ends {date}", name_of(core, vendor))
        }
        Source::AccessLog { seq, reason } => {
            format!("entry {seq} does not check out: {}", clean(reason))
        }
    }
}

fn said(text: Option<String>) -> String {
    text.map_or_else(|| "(no longer readable)".to_owned(), |t| clean(&t))
}

fn name_of<K: IdKind>(core: &Core, vendor: &Id<K>) -> String {
    rid(vendor.as_str()).map_or_else(|| "a vendor".to_owned(), |r| name(core, &r))
}

fn name(core: &Core, vendor: &Rid) -> String {
    core.index
        .read(|d| d.vendor_name(vendor).map(clean))
        .ok()
        .flatten()
        .unwrap_or_else(|| "a vendor".to_owned())
}

/// One line: control characters (a vendor-supplied name could carry some) become spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
