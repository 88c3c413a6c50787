//! `carnet interaction add | list | show | edit | rm`.

use std::collections::HashMap;

use carnet_schemas::{Interaction, InteractionFields, InteractionId, Line, VendorId};

use super::{Ctx, delete_asking, name_of};
use crate::cli::{InteractionAdd, InteractionCmd, InteractionEdit, InteractionList, OrClear};
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{Fields, TableOut, long_time, quoted, short_time, truncate};

pub fn run(ctx: &Ctx, cmd: InteractionCmd) -> CliResult<()> {
    match cmd {
        InteractionCmd::Add(args) => add(ctx, args),
        InteractionCmd::List(args) => list(ctx, args),
        InteractionCmd::Show { id } => show(ctx, &id),
        InteractionCmd::Edit(args) => edit(ctx, args),
        InteractionCmd::Rm { id, yes } => rm(ctx, &id, yes),
    }
}

fn add(ctx: &Ctx, a: InteractionAdd) -> CliResult<()> {
    let vendor_id = ctx.vendor_id(&a.vendor)?;
    let fields = InteractionFields {
        vendor_id,
        at: a.at.map(|w| w.start()),
        channel: a.channel,
        summary: a.summary,
        with: a.with,
        expected: a.expected,
        i_said: a.i_said,
        they_said: a.they_said,
        outcome: a.outcome,
        sentiment: a.sentiment,
        next_step: a.next,
        next_due: a.due.map(|d| d.0),
        next_done: false,
        incident_id: a.incident,
        shared: a.shared,
    };
    let vendor_id = fields.vendor_id.clone();
    let mut created: Doc<Interaction> = ctx.client.post("/v1/interactions", &fields)?;
    // What they promised: a promise of its own, linked to the interaction just recorded.
    let promised = match (a.promised.they_promised, a.promised.promise_due) {
        (Some(what), Some(due)) => {
            let id = created.value.id.clone();
            let p = super::promise::add(ctx, vendor_id, what, due, None, Some(id.clone()))
                .map_err(|e| {
                    e.or_hint(format!(
                        "interaction {id} was recorded; add the promise with: carnet promise add \
                         VENDOR --what TEXT --due DATE --interaction {id}"
                    ))
                })?;
            if let Some(o) = created.raw.as_object_mut() {
                o.insert("promise".into(), p.raw.clone());
            }
            Some(p.value)
        }
        _ => None,
    };
    ctx.print(&created, |i| {
        ctx.done(&format!(
            "added interaction {} ({}, {})",
            i.id,
            i.fields.channel,
            i.fields.at.as_ref().map_or(String::new(), short_time)
        ));
        if let Some(p) = &promised {
            ctx.done(&format!("added promise {} (due {})", p.id, p.fields.due));
        }
    });
    Ok(())
}

fn list(ctx: &Ctx, a: InteractionList) -> CliResult<()> {
    let mut query = Vec::new();
    if let Some(v) = &a.vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    if let Some(g) = a.grep {
        query.push(("grep", g));
    }
    if let Some(c) = a.channel {
        query.push(("channel", c.to_string()));
    }
    if let Some(s) = a.since {
        query.push(("since", s.start().to_rfc3339()));
    }
    if let Some(u) = a.until {
        query.push(("until", u.end().to_rfc3339()));
    }
    let items: Vec<Doc<Interaction>> = ctx.client.list_all("/v1/interactions", &query)?;
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print_list(&items, "no interactions match", |items| {
        table(items, &names).print()
    });
    Ok(())
}

/// `interaction list`'s table.
pub(super) fn table(items: &[&Interaction], names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&["id", "when", "vendor", "ch", "feel", "summary"])
        .ids(&[0])
        .fixed(&[1, 3, 4])
        .optional(&[3]);
    for i in items {
        let f = &i.fields;
        t.row([
            i.id.to_string(),
            f.at.as_ref().map_or(String::new(), short_time),
            name_of(names, &f.vendor_id),
            f.channel.to_string(),
            f.sentiment
                .map_or(String::new(), |s| format!("{:+}", s.get())),
            f.summary.to_string(),
        ]);
    }
    t
}

fn show(ctx: &Ctx, id: &InteractionId) -> CliResult<()> {
    let doc: Doc<Interaction> = ctx.client.get(&format!("/v1/interactions/{id}"), &[])?;
    let names = if ctx.json {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print(&doc, |i| view(i, &names).print());
    Ok(())
}

/// `interaction show`'s view.
pub(super) fn view(i: &Interaction, names: &HashMap<VendorId, Line>) -> Fields {
    let f = &i.fields;
    let mut out = Fields::new();
    out.add("id", &i.id)
        .add(
            "vendor",
            format!("{} ({})", name_of(names, &f.vendor_id), f.vendor_id),
        )
        .opt("at", f.at.as_ref().map(long_time))
        .add("channel", f.channel)
        .opt("with", f.with.as_ref())
        .add("summary", &f.summary)
        .opt("expected", f.expected.as_ref())
        .opt("i said", f.i_said.as_ref())
        .opt("they said", f.they_said.as_ref())
        .opt("outcome", f.outcome.as_ref())
        .opt("sentiment", f.sentiment.map(|s| format!("{:+}", s.get())));
    if let Some(step) = &f.next_step {
        let state = if f.next_done { " (done)" } else { "" };
        out.add("next step", format!("{step}{state}"));
        out.opt("due", f.next_due);
    }
    out.opt("incident", f.incident_id.as_ref())
        .add(
            "shared",
            if f.shared {
                "yes, with this vendor"
            } else {
                "no"
            },
        )
        .add("recorded", long_time(&i.created_at))
        .add("changed", long_time(&i.updated_at));
    out
}

fn edit(ctx: &Ctx, a: InteractionEdit) -> CliResult<()> {
    let path = format!("/v1/interactions/{}", a.id);
    let mut f = ctx.client.get::<Interaction>(&path, &[])?.value.fields;
    if let Some(c) = a.channel {
        f.channel = c;
    }
    if let Some(s) = a.summary {
        f.summary = s;
    }
    if let Some(at) = a.at {
        f.at = Some(at.start());
    }
    OrClear::set(&mut f.with, a.with);
    OrClear::set(&mut f.expected, a.expected);
    OrClear::set(&mut f.i_said, a.i_said);
    OrClear::set(&mut f.they_said, a.they_said);
    OrClear::set(&mut f.outcome, a.outcome);
    OrClear::set(&mut f.sentiment, a.sentiment);
    if let Some(next) = a.next {
        f.next_step = next.into_option();
        f.next_done = false;
        if f.next_step.is_none() {
            f.next_due = None;
        }
    }
    OrClear::set(&mut f.next_due, a.due.map(|d| d.map(|d| d.0)));
    OrClear::set(&mut f.incident_id, a.incident);
    if a.shared {
        f.shared = true;
    }
    if a.private {
        f.shared = false;
    }
    let changed: Doc<Interaction> = ctx.client.put(&path, &f)?;
    ctx.print(&changed, |i| {
        ctx.done(&format!("changed interaction {}", i.id));
    });
    Ok(())
}

fn rm(ctx: &Ctx, id: &InteractionId, yes: bool) -> CliResult<()> {
    delete_asking(
        ctx,
        "interaction",
        "interactions",
        id,
        yes,
        |i: &Interaction| {
            let f = &i.fields;
            let when =
                f.at.as_ref()
                    .map_or(String::new(), |at| format!(" of {}", short_time(at)));
            format!("{when} {}", quoted(&truncate(f.summary.as_str(), 40)))
        },
    )
}
