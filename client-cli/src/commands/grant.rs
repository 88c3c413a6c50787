//! `carnet grant create | list | show | revoke`: what a vendor may do, where and until when.

use std::collections::HashMap;

use carnet_schemas::{Client, Grant, GrantId, GrantState, Line, NewGrant, VendorId};

use super::{Ctx, join, name_of};
use crate::cli::{GrantCmd, GrantCreate, VendorRef};
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{self, Fields, TableOut, long_time, quoted, short_time};

pub fn run(ctx: &Ctx, cmd: GrantCmd) -> CliResult<()> {
    match cmd {
        GrantCmd::Create(args) => create(ctx, args),
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

fn create(ctx: &Ctx, a: GrantCreate) -> CliResult<()> {
    let (vendor_id, name) = ctx.vendor_named(&a.vendor)?;
    // Asked first, to tell the owner what the new grant replaces (the server revokes it).
    let replaced: Vec<GrantId> = grants_of(ctx, Some(&vendor_id))?
        .into_iter()
        .filter(|g| g.value.state == GrantState::Live)
        .map(|g| g.value.id)
        .collect();
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
            "it replaces the live grant {} of {name}, revoked now with its tokens",
            join(&replaced)
        ));
    }
    if !connected {
        output::message(&format!(
            "{name} is not connected yet: the grant applies once you run `carnet vendor connect {vendor_id} --redirect-uri URI`"
        ));
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
