//! `carnet promise add | list | show | kept | broken | rm`, and the promise record's lines of
//! `carnet vendor show`.

use std::collections::HashMap;

use carnet_schemas::{
    InteractionId, Line, NewPromise, Promise, PromiseBroken, PromiseId, PromiseKept, PromiseList,
    PromiseRecord, PromiseState, PromiseStateFilter, Text, VendorId,
};

use super::{Ctx, delete_asking, listed, name_of};
use crate::cli::{Day, PromiseCmd, VendorRef};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{Fields, TableOut, long_time, quoted, truncate};
use crate::when::When;

pub fn run(ctx: &Ctx, cmd: PromiseCmd) -> CliResult<()> {
    match cmd {
        PromiseCmd::Add {
            vendor,
            what,
            due,
            by,
            interaction,
        } => {
            let vendor_id = ctx.vendor_id(&vendor)?;
            let created = add(ctx, vendor_id, what, due, by, interaction)?;
            ctx.print(&created, |p| {
                ctx.done(&format!("added promise {} (due {})", p.id, p.fields.due));
            });
            Ok(())
        }
        PromiseCmd::List { vendor, state } => list(ctx, vendor.as_ref(), state),
        PromiseCmd::Show { id } => show(ctx, &id),
        PromiseCmd::Kept { id, at } => kept(ctx, &id, at),
        PromiseCmd::Broken { id, note } => broken(ctx, &id, note),
        PromiseCmd::Rm { id, yes } => rm(ctx, &id, yes),
    }
}

/// Records a promise (also what `interaction add --they-promised` sends).
pub(super) fn add(
    ctx: &Ctx,
    vendor_id: VendorId,
    what: Text,
    due: Day,
    by: Option<Line>,
    interaction_id: Option<InteractionId>,
) -> CliResult<Doc<Promise>> {
    let new = NewPromise {
        vendor_id,
        what,
        due: due.0,
        by,
        interaction_id,
    };
    ctx.client.post("/v1/promises", &new)
}

/// A promise's state in words: open, late (open past its due day), kept or broken.
fn state(p: &Promise) -> &'static str {
    match p.fields.state {
        PromiseState::Open if p.late => "late",
        s => s.as_str(),
    }
}

fn list(
    ctx: &Ctx,
    vendor: Option<&VendorRef>,
    filter: Option<PromiseStateFilter>,
) -> CliResult<()> {
    let mut query = Vec::new();
    if let Some(v) = vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    if let Some(s) = filter {
        let s = serde_json::to_value(s).unwrap_or_default();
        query.push(("state", s.as_str().unwrap_or_default().to_owned()));
    }
    // Not paged: the server answers the promises asked for at once.
    let doc: Doc<PromiseList> = ctx.client.get("/v1/promises", &query)?;
    let items = listed(doc.value.items, &doc.raw);
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    let empty = match filter {
        Some(_) => "no promises in that state",
        None => "no promises recorded",
    };
    ctx.print_list(&items, empty, |items| table(items, &names).print());
    Ok(())
}

/// `promise list`'s table.
pub(super) fn table(items: &[&Promise], names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&["id", "due", "state", "vendor", "what"])
        .ids(&[0])
        .fixed(&[1, 2]);
    for p in items {
        let f = &p.fields;
        t.row([
            p.id.to_string(),
            f.due.to_string(),
            state(p).to_owned(),
            name_of(names, &f.vendor_id),
            f.what.to_string(),
        ]);
    }
    t
}

fn show(ctx: &Ctx, id: &PromiseId) -> CliResult<()> {
    let doc: Doc<Promise> = ctx.client.get(&format!("/v1/promises/{id}"), &[])?;
    let names = if ctx.json {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print(&doc, |p| {
        view(p, &name_of(&names, &p.fields.vendor_id)).print()
    });
    Ok(())
}

/// `promise show`'s view.
pub(super) fn view(p: &Promise, vendor_name: &str) -> Fields {
    let f = &p.fields;
    let mut out = Fields::new();
    out.add("id", &p.id)
        .add("vendor", format!("{vendor_name} ({})", f.vendor_id))
        .add("what", &f.what)
        .add("due", f.due)
        .add("state", state(p))
        .opt("by", f.by.as_ref())
        .opt("interaction", f.interaction_id.as_ref())
        .opt("kept", f.kept_at.as_ref().map(long_time))
        .opt("broken", f.broken_at.as_ref().map(long_time))
        .opt("note", f.note.as_ref())
        .add("recorded", long_time(&p.created_at));
    out
}

/// A move refused because the promise is kept or broken already, with what to do instead.
fn settled(e: CliError, id: &PromiseId) -> CliError {
    if e.status == Some(409) {
        e.or_hint(format!(
            "see where it stands with: carnet promise show {id}"
        ))
    } else {
        e
    }
}

fn kept(ctx: &Ctx, id: &PromiseId, at: Option<When>) -> CliResult<()> {
    let body = PromiseKept {
        at: at.map(|w| w.start()),
    };
    let doc: Doc<Promise> = ctx
        .client
        .post(&format!("/v1/promises/{id}/kept"), &body)
        .map_err(|e| settled(e, id))?;
    ctx.print(&doc, |p| ctx.done(&format!("promise {} kept", p.id)));
    Ok(())
}

fn broken(ctx: &Ctx, id: &PromiseId, note: Option<Text>) -> CliResult<()> {
    let doc: Doc<Promise> = ctx
        .client
        .post(
            &format!("/v1/promises/{id}/broken"),
            &PromiseBroken { note },
        )
        .map_err(|e| settled(e, id))?;
    ctx.print(&doc, |p| ctx.done(&format!("promise {} broken", p.id)));
    Ok(())
}

fn rm(ctx: &Ctx, id: &PromiseId, yes: bool) -> CliResult<()> {
    delete_asking(ctx, "promise", "promises", id, yes, |p: &Promise| {
        format!(
            " due {} {}",
            p.fields.due,
            quoted(&truncate(p.fields.what.as_str(), 40))
        )
    })
}

/// The promise record's lines of `vendor show`.
pub(super) fn record(out: &mut Fields, r: &PromiseRecord) {
    out.add(
        "promises",
        format!(
            "{} kept, {} broken, {} late, {} open",
            r.kept, r.broken, r.late, r.open
        ),
    )
    .add(
        "median delay",
        r.median_delay_days.map_or("-".into(), |d| {
            format!("{d:+} days (of kept promises: day kept - day due)")
        }),
    );
}
