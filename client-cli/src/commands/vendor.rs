//! `carnet vendor add | list | show | edit | rm`; the OAuth client verbs (`connect`,
//! `rotate-secret`, `client`, `disconnect`) are in `connect.rs`.

use carnet_schemas::{Vendor, VendorDetail, VendorFields};

use super::{Confirm, Ctx, confirm, connect, join};
use crate::cli::{OrClear, VendorAdd, VendorCmd, VendorEdit, VendorRef};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{Fields, TableOut, long_time, quoted};

pub fn run(ctx: &Ctx, cmd: VendorCmd) -> CliResult<()> {
    match cmd {
        VendorCmd::Add(args) => add(ctx, args),
        VendorCmd::List => list(ctx),
        VendorCmd::Show { vendor } => show(ctx, &vendor),
        VendorCmd::Edit(args) => edit(ctx, args),
        VendorCmd::Rm { vendor, yes } => rm(ctx, &vendor, yes),
        VendorCmd::Connect(args) => connect::connect(ctx, args),
        VendorCmd::RotateSecret { vendor, webhook } => {
            connect::rotate_secret(ctx, &vendor, webhook)
        }
        VendorCmd::Invite { vendor } => connect::invite(ctx, &vendor),
        VendorCmd::EditClient(args) => connect::edit_client(ctx, args),
        VendorCmd::Client { vendor } => connect::show(ctx, &vendor),
        VendorCmd::Disconnect { vendor, yes } => connect::disconnect(ctx, &vendor, yes),
    }
}

fn name_taken(e: CliError) -> CliError {
    if e.status == Some(409) {
        e.or_hint("vendor names are unique: pick another, or change the existing one with `carnet vendor edit`")
    } else {
        e
    }
}

fn add(ctx: &Ctx, a: VendorAdd) -> CliResult<()> {
    let fields = VendorFields {
        name: a.name,
        website: a.website,
        categories: a.categories,
        accounts: a.accounts,
        note: a.note,
        channel: a.channel,
        contact_policy: a.contact_policy,
    };
    let created: Doc<Vendor> = ctx
        .client
        .post("/v1/vendors", &fields)
        .map_err(name_taken)?;
    ctx.print(&created, |v| {
        ctx.done(&format!(
            "added vendor {} {}",
            v.id,
            quoted(v.fields.name.as_str())
        ));
    });
    Ok(())
}

fn list(ctx: &Ctx) -> CliResult<()> {
    let vendors = ctx.vendors()?;
    ctx.print_list(
        &vendors,
        "no vendors yet; add one with `carnet vendor add NAME`",
        |vendors| table(vendors).print(),
    );
    Ok(())
}

/// `vendor list`'s table.
pub(super) fn table(vendors: &[&Vendor]) -> TableOut {
    let mut t = TableOut::new(&["id", "name", "categories", "website"])
        .ids(&[0])
        .words(&[2]);
    for v in vendors {
        let f = &v.fields;
        t.row([
            v.id.to_string(),
            f.name.to_string(),
            join(f.categories.iter()),
            f.website
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ]);
    }
    t
}

fn detail(ctx: &Ctx, vendor: &VendorRef) -> CliResult<Doc<VendorDetail>> {
    let id = ctx.vendor_id(vendor)?;
    ctx.client.get(&format!("/v1/vendors/{id}"), &[])
}

fn show(ctx: &Ctx, vendor: &VendorRef) -> CliResult<()> {
    let d = detail(ctx, vendor)?;
    ctx.print(&d, |d| view(d).print());
    Ok(())
}

/// `vendor show`'s view: the vendor, then the loyalty facts.
pub(super) fn view(d: &VendorDetail) -> Fields {
    let (v, l) = (&d.vendor, &d.loyalty);
    let f = &v.fields;
    let mut out = Fields::new();
    out.add("id", &v.id).add("name", &f.name);
    out.opt("website", f.website.as_ref());
    if !f.categories.is_empty() {
        out.add("categories", join(f.categories.iter()));
    }
    if !f.accounts.is_empty() {
        out.add("accounts", join(f.accounts.iter()));
    }
    out.opt("channel", f.channel)
        .opt("contact policy", f.contact_policy.as_ref())
        .opt("note", f.note.as_ref())
        .add("added", long_time(&v.created_at))
        .add("changed", long_time(&v.updated_at));
    out.add(
        "customer since",
        l.customer_since
            .map_or("no purchase yet".into(), |d| d.to_string()),
    )
    .add("purchases", l.purchases);
    if !l.total_spent.is_empty() {
        let totals = l.total_spent.iter().map(|(c, a)| format!("{a} {c}"));
        out.add("total spent", totals.collect::<Vec<_>>().join(", "));
    }
    out.add("interactions", l.interactions)
        .add(
            "last contact",
            l.last_contact.as_ref().map_or("never".into(), long_time),
        )
        .add(
            "average sentiment",
            l.average_sentiment
                .map_or("-".into(), |s| format!("{s:+.2} (-2..2)")),
        )
        .add(
            "incidents",
            format!("{} resolved of {}", l.incidents_resolved, l.incidents),
        )
        .add(
            "average satisfaction",
            l.average_satisfaction
                .map_or("-".into(), |s| format!("{s:.2} (0..10)")),
        );
    if let Some(r) = &l.promises {
        super::promise::record(&mut out, r);
    }
    out
}

fn edit(ctx: &Ctx, a: VendorEdit) -> CliResult<()> {
    let current = detail(ctx, &a.vendor)?.value.vendor;
    let mut f = current.fields;
    if let Some(name) = a.name {
        f.name = name;
    }
    OrClear::set(&mut f.website, a.website);
    if let Some(c) = a.categories {
        f.categories = c.into_iter().filter_map(OrClear::into_option).collect();
    }
    if let Some(acc) = a.accounts {
        f.accounts = acc.into_iter().filter_map(OrClear::into_option).collect();
    }
    OrClear::set(&mut f.note, a.note);
    OrClear::set(&mut f.channel, a.channel);
    OrClear::set(&mut f.contact_policy, a.contact_policy);
    let path = format!("/v1/vendors/{}", current.id);
    let changed: Doc<Vendor> = ctx.client.put(&path, &f).map_err(name_taken)?;
    ctx.print(&changed, |v| {
        ctx.done(&format!(
            "changed vendor {} {}",
            v.id,
            quoted(v.fields.name.as_str())
        ));
    });
    Ok(())
}

fn rm(ctx: &Ctx, vendor: &VendorRef, yes: bool) -> CliResult<()> {
    let d = detail(ctx, vendor)?.value;
    let (id, name) = (&d.vendor.id, quoted(d.vendor.fields.name.as_str()));
    let l = &d.loyalty;
    let what = format!(
        "vendor {id} {name} and its {} interaction{}, {} purchase{} and {} incident{}",
        l.interactions,
        plural(l.interactions),
        l.purchases,
        plural(l.purchases),
        l.incidents,
        plural(l.incidents)
    );
    if !yes {
        confirm(&Confirm {
            verb: ["remove", "removing", "removed"],
            what: &what,
            declined_hint: None,
            with_yes: format!("carnet vendor rm {id} --yes"),
        })?;
    }
    ctx.client.delete(&format!("/v1/vendors/{id}"))?;
    ctx.done(&format!("removed {what}"));
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
