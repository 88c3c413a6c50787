//! `carnet grant create | edit | list | show | revoke`: what a vendor may do, where and until
//! when. A new grant replaces the vendor's live one: `create` says first what the live one
//! gives that the new one would not, and asks (`--yes` skips the question); `edit` adds to
//! the live grant instead.

use std::collections::HashMap;

use carnet_schemas::{
    Client, Grant, GrantId, GrantLoss, GrantState, GrantWidening, Line, NewGrant, VendorDetail,
    VendorId,
};
use chrono::{Duration, Utc};

use super::{Confirm, Ctx, confirm, join, name_of};
use crate::cli::{GrantCmd, GrantCreate, GrantEdit, GrantRef, VendorRef};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{self, Fields, TableOut, long_time, quoted, short_time};

pub fn run(ctx: &Ctx, cmd: GrantCmd) -> CliResult<()> {
    match cmd {
        GrantCmd::Create(args) => create(ctx, args),
        GrantCmd::Edit(args) => edit(ctx, args),
        GrantCmd::List { vendor, live } => list(ctx, vendor.as_ref(), live),
        GrantCmd::Show { id } => show(ctx, &id),
        GrantCmd::Revoke { id } => revoke(ctx, &id),
    }
}

fn grants_of(ctx: &Ctx, vendor: Option<&VendorId>) -> CliResult<Vec<Doc<Grant>>> {
    let query: Vec<_> = vendor
        .map(|v| ("vendor", v.to_string()))
        .into_iter()
        .collect();
    ctx.client.get_array("/v1/grants", &query)
}

fn state(g: &Grant) -> &'static str {
    match g.state {
        GrantState::Live => "live",
        GrantState::Expired => "expired",
        GrantState::Revoked => "revoked",
    }
}

fn categories(g: &Grant) -> String {
    if g.fields.all_categories {
        "all".to_owned()
    } else {
        join(&g.fields.categories)
    }
}

/// When the grant stops (stopped) working: its revocation, else its expiry.
fn until(g: &Grant) -> String {
    short_time(g.revoked_at.as_ref().unwrap_or(&g.expires_at))
}

/// What a replaced grant would lose, in words (`ends`: when the new grant ends):
/// `scopes a, b; categories c; access from 2027-01-04 until 2027-03-05`.
pub(super) fn loss_words(lost: &GrantLoss, ends: &chrono::DateTime<Utc>) -> String {
    let mut parts = Vec::new();
    if !lost.scopes.is_empty() {
        parts.push(format!("scopes {}", join(&lost.scopes)));
    }
    if lost.all_categories {
        parts.push("every category (it covers all of them)".to_owned());
    }
    if !lost.categories.is_empty() {
        parts.push(format!("categories {}", join(&lost.categories)));
    }
    if let Some(end) = &lost.later_end {
        parts.push(format!(
            "access from {} until {}, when it ends",
            short_time(ends),
            short_time(end)
        ));
    }
    parts.join("; ")
}

/// The same `grant create` with `--yes`, for the hint when there is no terminal.
fn create_with_yes(a: &GrantCreate) -> String {
    let mut line = format!("carnet grant create {}", shell_word(&a.vendor));
    for s in &a.scopes {
        line.push_str(&format!(" --scope {s}"));
    }
    line.push_str(&super::consent::reach_flags(
        &a.categories,
        a.all_categories,
        a.days,
    ));
    if a.purpose.is_some() {
        line.push_str(" --purpose …");
    }
    line + " --yes"
}

/// A vendor as typed, quoted for a shell when it needs to be.
fn shell_word(v: &VendorRef) -> String {
    match v {
        VendorRef::Id(id) => id.to_string(),
        VendorRef::Name(n)
            if n.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
        {
            n.as_str().to_owned()
        }
        VendorRef::Name(n) => quoted(n.as_str()),
    }
}

/// Says what the vendor's live grant gives that `a` would not, and asks before replacing it.
fn confirm_replacing(a: &GrantCreate, name: &str, live: &Grant) -> CliResult<()> {
    let ends = Utc::now() + Duration::days(i64::from(a.days));
    let lost = live.lost_to(&a.scopes, &a.categories, a.all_categories, ends);
    output::message(&format!(
        "{name} has a live grant {} ({}; {}; until {}): the new grant replaces it, and its tokens stop working",
        live.id,
        join(&live.fields.scopes),
        categories(live),
        short_time(&live.expires_at),
    ));
    let edit = format!("carnet grant edit {} …", live.id);
    if lost.is_empty() {
        output::message("the new grant keeps everything the live one gives");
    } else {
        output::message(&format!(
            "{name} would lose: {}; to add to the live grant instead: {edit}",
            loss_words(&lost, &ends)
        ));
    }
    if a.yes {
        return Ok(());
    }
    confirm(&Confirm {
        verb: ["replace", "replacing", "replaced"],
        what: &format!("the live grant {} of {name}", live.id),
        with_yes: create_with_yes(a),
        declined_hint: Some(format!(
            "nothing was granted; the live grant {} stays as it is (to add to it: {edit})",
            live.id
        )),
    })
}

fn create(ctx: &Ctx, a: GrantCreate) -> CliResult<()> {
    let (vendor_id, name) = ctx.vendor_named(&a.vendor)?;
    // Asked first, to tell the owner what the new grant replaces (the server revokes it).
    let live: Vec<Grant> = grants_of(ctx, Some(&vendor_id))?
        .into_iter()
        .filter(|g| g.value.state == GrantState::Live)
        .map(|g| g.value)
        .collect();
    for g in &live {
        confirm_replacing(&a, &name, g)?;
    }
    let replaced: Vec<GrantId> = live.into_iter().map(|g| g.id).collect();
    let connected = match ctx
        .client
        .get::<Client>(&format!("/v1/vendors/{vendor_id}/client"), &[])
    {
        Ok(_) => true,
        Err(e) if e.status == Some(404) => false,
        Err(e) => return Err(e),
    };
    let new = NewGrant {
        vendor_id: vendor_id.clone(),
        scopes: a.scopes,
        categories: a.categories,
        all_categories: a.all_categories,
        days: Some(a.days),
        purpose: a.purpose,
    };
    let created: Doc<Grant> = ctx.client.post("/v1/grants", &new)?;
    ctx.print(&created, |g| {
        let reach = if g.fields.all_categories {
            "all categories".to_owned()
        } else {
            format!("categories {}", categories(g))
        };
        ctx.done(&format!(
            "granted {} to {name} until {} (scopes {}; {reach})",
            g.id,
            short_time(&g.expires_at),
            join(&g.fields.scopes),
        ));
    });
    if !replaced.is_empty() {
        output::message(&format!(
            "it replaced the live grant {} of {name}, revoked now with its tokens",
            join(&replaced)
        ));
    }
    if !connected {
        let detail: Doc<VendorDetail> = ctx.client.get(&format!("/v1/vendors/{vendor_id}"), &[])?;
        let connect = format!("`carnet vendor connect {vendor_id} --redirect-uri URI`");
        output::message(&match detail.value.vendor.fields.directory_id {
            // A market directory vendor hears of sealed and notify intents through the relay.
            Some(_) => format!(
                "{name} is not connected to the vendor API: your intents at relay sealed or notify reach it through the market relay under this grant now; to let it pull (notify, and the other scopes), run {connect}"
            ),
            None => {
                format!("{name} is not connected yet: the grant applies once you run {connect}")
            }
        });
    }
    Ok(())
}

/// The live grant `g` names: by its id, or the vendor's live one.
fn live_grant(ctx: &Ctx, g: &GrantRef) -> CliResult<(Grant, String)> {
    let (grant, name) = match g {
        GrantRef::Id(id) => {
            let doc: Doc<Grant> = ctx.client.get(&format!("/v1/grants/{id}"), &[])?;
            let vendor = doc.value.fields.vendor_id.clone();
            let name = ctx
                .vendor_names()?
                .get(&vendor)
                .map_or_else(|| vendor.to_string(), |n| quoted(n.as_str()));
            (doc.value, name)
        }
        GrantRef::Vendor(v) => {
            let (vendor_id, name) = ctx.vendor_named(v)?;
            let live = grants_of(ctx, Some(&vendor_id))?
                .into_iter()
                .map(|g| g.value)
                .find(|g| g.state == GrantState::Live);
            let Some(grant) = live else {
                return Err(
                    CliError::failed(format!("{name} has no live grant to edit")).with_hint(
                        format!(
                            "give it one: carnet grant create {} --scope SCOPE --category CAT",
                            shell_word(v)
                        ),
                    ),
                );
            };
            (grant, name)
        }
    };
    Ok((grant, name))
}

fn edit(ctx: &Ctx, a: GrantEdit) -> CliResult<()> {
    let (before, name) = live_grant(ctx, &a.grant)?;
    let widening = GrantWidening {
        scopes: a.scopes,
        categories: a.categories,
        all_categories: a.all_categories,
        days: a.days,
        purpose: a.purpose,
    };
    let path = format!("/v1/grants/{}/widen", before.id);
    let after: Doc<Grant> = ctx.client.post(&path, &widening)?;
    let g = &after.value;
    let line = format!(
        "widened grant {} of {name}: scopes {}; {}; until {} (new receipt {})",
        g.id,
        join(&g.fields.scopes),
        if g.fields.all_categories {
            "all categories".to_owned()
        } else {
            format!("categories {}", categories(g))
        },
        short_time(&g.expires_at),
        g.fields.receipt_id,
    );
    ctx.print(&after, |_| ctx.done(&line));
    if ctx.json {
        output::message(&line);
    }
    Ok(())
}

fn list(ctx: &Ctx, vendor: Option<&VendorRef>, only_live: bool) -> CliResult<()> {
    let vendor = vendor.map(|v| ctx.vendor_id(v)).transpose()?;
    let mut items = grants_of(ctx, vendor.as_ref())?;
    if only_live {
        items.retain(|g| g.value.state == GrantState::Live);
    }
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    let empty = match (only_live, vendor.is_some()) {
        (true, _) => "no live grants",
        (false, true) => "no grants for this vendor yet; give one with `carnet grant create`",
        (false, false) => "no grants yet; give one with `carnet grant create`",
    };
    ctx.print_list(&items, empty, |items| table(items, &names).print());
    Ok(())
}

/// `grant list`'s table.
pub(super) fn table(items: &[&Grant], names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&["id", "vendor", "state", "scopes", "categories", "until"])
        .ids(&[0])
        .fixed(&[2, 5])
        .words(&[3])
        .optional(&[4]);
    for g in items {
        t.row([
            g.id.to_string(),
            name_of(names, &g.fields.vendor_id),
            state(g).to_owned(),
            join(&g.fields.scopes),
            categories(g),
            until(g),
        ]);
    }
    t
}

fn show(ctx: &Ctx, id: &GrantId) -> CliResult<()> {
    let doc: Doc<Grant> = ctx.client.get(&format!("/v1/grants/{id}"), &[])?;
    let names = if ctx.json {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print(&doc, |g| view(g, &names).print());
    Ok(())
}

/// `grant show`'s view.
pub(super) fn view(g: &Grant, names: &HashMap<VendorId, Line>) -> Fields {
    let f = &g.fields;
    let mut out = Fields::new();
    out.add("id", &g.id)
        .add(
            "vendor",
            format!("{} ({})", name_of(names, &f.vendor_id), f.vendor_id),
        )
        .add("state", state(g))
        .add("scopes", join(&f.scopes))
        .add("categories", categories(g))
        .opt("purpose", f.purpose.as_ref())
        .add("granted", long_time(&g.created_at))
        .add(
            if g.state == GrantState::Live {
                "expires"
            } else {
                "expiry"
            },
            long_time(&g.expires_at),
        )
        .opt("revoked", g.revoked_at.as_ref().map(long_time))
        .add("given through", &f.collection_method)
        .add("receipt", &f.receipt_id);
    out
}

fn revoke(ctx: &Ctx, id: &GrantId) -> CliResult<()> {
    let before: Doc<Grant> = ctx.client.get(&format!("/v1/grants/{id}"), &[])?;
    let after: Doc<Grant> = ctx.client.post_empty(&format!("/v1/grants/{id}/revoke"))?;
    let vendor = &after.value.fields.vendor_id;
    let name = ctx
        .vendor_names()?
        .get(vendor)
        .map_or_else(|| vendor.to_string(), |n| quoted(n.as_str()));
    let b = &before.value;
    let line = match b.state {
        GrantState::Live => {
            format!("revoked grant {id} of {name}: its tokens stopped working")
        }
        GrantState::Expired => format!(
            "grant {id} of {name} had already expired on {}; it is marked revoked now",
            short_time(&b.expires_at)
        ),
        GrantState::Revoked => format!(
            "grant {id} of {name} was already revoked on {}",
            b.revoked_at.as_ref().map_or_else(String::new, short_time)
        ),
    };
    ctx.print(&after, |_| ctx.done(&line));
    if ctx.json {
        output::message(&line);
    }
    Ok(())
}
