//! `carnet vendor add | list | show | edit | rm`; the OAuth client verbs (`connect`,
//! `rotate-secret`, `client`, `disconnect`) are in `connect.rs`.

use carnet_schemas::{Line, NewMarketVendor, Scorecard, Vendor, VendorDetail, VendorFields};

use super::{Confirm, Ctx, confirm, connect, join};
use crate::cli::{OrClear, VendorAdd, VendorCmd, VendorEdit, VendorRef, VendorSort};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{Fields, TableOut, long_time, quoted};

pub fn run(ctx: &Ctx, cmd: VendorCmd) -> CliResult<()> {
    match cmd {
        VendorCmd::Add(args) => add(ctx, args),
        VendorCmd::List { sort } => match sort {
            Some(VendorSort::Score) => by_score(ctx),
            Some(VendorSort::Name) | None => list(ctx),
        },
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
    if let Some(id) = a.from_directory {
        return add_from_directory(ctx, id);
    }
    let Some(name) = a.name else {
        // clap requires a name without --from-directory.
        return Err(CliError::usage(
            "a vendor needs a name (or --from-directory ID)",
        ));
    };
    let fields = VendorFields {
        name,
        website: a.website,
        categories: a.categories,
        accounts: a.accounts,
        note: a.note,
        channel: a.channel,
        contact_policy: a.contact_policy,
        directory_id: None,
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

/// `vendor add --from-directory ID`: the server adds it from the directory it holds (201), or
/// answers the one already added (200).
fn add_from_directory(ctx: &Ctx, id: Line) -> CliResult<()> {
    let added: Doc<Vendor> = ctx
        .client
        .post(
            "/v1/market/vendors",
            &NewMarketVendor {
                directory_id: id.clone(),
            },
        )
        .map_err(|e| match e.status {
            Some(404) => e.or_hint(
                "the id is the vendor's id in the market directory (e.g. acme): check its spelling",
            ),
            _ => e,
        })?;
    ctx.print(&added, |v| {
        ctx.done(&format!(
            "vendor {} {} is directory vendor {}",
            v.id,
            quoted(v.fields.name.as_str()),
            id
        ));
    });
    Ok(())
}

fn list(ctx: &Ctx) -> CliResult<()> {
    let vendors = ctx.vendors()?;
    ctx.print_list(
        &vendors,
        "no vendors yet; add one with `carnet vendor add NAME`",
        |vendors| table(vendors, None).print(),
    );
    Ok(())
}

/// `vendor list --sort score`: each vendor's scorecard fetched (the server keeps no score
/// index), highest score first, unknown scores last, then by name.
fn by_score(ctx: &Ctx) -> CliResult<()> {
    let vendors = ctx.vendors()?;
    let mut scored = Vec::with_capacity(vendors.len());
    for v in vendors {
        let d: Doc<VendorDetail> = ctx
            .client
            .get(&format!("/v1/vendors/{}", v.value.id), &[])?;
        let mut raw = v.raw;
        if let (Some(o), Some(card)) = (raw.as_object_mut(), d.raw.get("scorecard")) {
            o.insert("scorecard".into(), card.clone());
        }
        let card = d.value.scorecard;
        scored.push((
            Doc {
                value: v.value,
                raw,
            },
            card,
        ));
    }
    scored.sort_by(|(a, ca), (b, cb)| {
        let score = |c: &Option<Scorecard>| c.as_ref().and_then(|c| c.score);
        // `Some` above `None`, higher above lower.
        score(cb).cmp(&score(ca)).then_with(|| {
            a.value
                .fields
                .name
                .as_str()
                .cmp(b.value.fields.name.as_str())
        })
    });
    let scores: Vec<Option<u8>> = scored
        .iter()
        .map(|(_, c)| c.as_ref().and_then(|c| c.score))
        .collect();
    let docs: Vec<Doc<Vendor>> = scored.into_iter().map(|(d, _)| d).collect();
    ctx.print_list(
        &docs,
        "no vendors yet; add one with `carnet vendor add NAME`",
        |vendors| table(vendors, Some(&scores)).print(),
    );
    Ok(())
}

/// `vendor list`'s table; with `scores` (one per vendor), a SCORE column.
pub(super) fn table(vendors: &[&Vendor], scores: Option<&[Option<u8>]>) -> TableOut {
    let mut headers = vec!["id", "name"];
    if scores.is_some() {
        headers.push("score");
    }
    headers.extend(["categories", "website"]);
    let shift = usize::from(scores.is_some());
    let mut t = TableOut::new(&headers).ids(&[0]).words(&[2 + shift]);
    if scores.is_some() {
        t = t.right(&[2]);
    }
    for (n, v) in vendors.iter().enumerate() {
        let f = &v.fields;
        let mut row = vec![v.id.to_string(), f.name.to_string()];
        if let Some(scores) = scores {
            row.push(
                scores
                    .get(n)
                    .copied()
                    .flatten()
                    .map_or("-".into(), |s| s.to_string()),
            );
        }
        row.push(join(f.categories.iter()));
        row.push(
            f.website
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        );
        t.row(row);
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
        .opt("market directory", f.directory_id.as_ref())
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
    if let Some(c) = &d.scorecard {
        scorecard(&mut out, c);
    }
    out
}

/// The scorecard's lines of `vendor show`.
fn scorecard(out: &mut Fields, c: &Scorecard) {
    let money = |m: &std::collections::BTreeMap<_, carnet_schemas::Amount>| {
        if m.is_empty() {
            "-".to_string()
        } else {
            let parts: Vec<String> = m.iter().map(|(c, a)| format!("{a} {c}")).collect();
            parts.join(", ")
        }
    };
    out.add(
        "score",
        c.score
            .map_or("- (nothing known yet)".into(), |s| format!("{s}/100")),
    )
    .add(
        "promises kept",
        format!("{} of {} settled", c.promises_kept, c.promises_settled),
    )
    .add(
        "resolution time",
        c.median_days_to_resolution
            .map_or("-".into(), |d| format!("{d:.1} days (median)")),
    )
    .add(
        "satisfaction 12m",
        c.average_satisfaction
            .map_or("-".into(), |s| format!("{s:.2} (0..10)")),
    )
    .add(
        "sentiment 12m",
        c.average_sentiment
            .map_or("-".into(), |s| format!("{s:+.2} (-2..2)")),
    )
    .add(
        "sentiment trend",
        c.sentiment_trend.map_or("not enough data".into(), |t| {
            format!("{t:+.2} (last 6 months vs the 6 before)")
        }),
    )
    .add("spend 12m", money(&c.spend_last_12_months))
    .add("spend in all", money(&c.spend_total))
    .add("tenure", format!("{} months", c.tenure_months));
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
