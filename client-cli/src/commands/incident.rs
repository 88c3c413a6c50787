//! `carnet incident open | list | show | resolve | edit | rm`.

use std::collections::HashMap;

use carnet_schemas::{
    Incident, IncidentId, IncidentResolution, IncidentStatus, Line, NewIncident, Satisfaction,
    Text, VendorId,
};

use super::{Ctx, delete_asking, name_of};
use crate::cli::{IncidentCmd, IncidentEdit, VendorRef};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{Fields, TableOut, long_time, quoted, short_time, truncate};
use crate::when::When;

pub fn run(ctx: &Ctx, cmd: IncidentCmd) -> CliResult<()> {
    match cmd {
        IncidentCmd::Open {
            vendor,
            description,
            at,
        } => open(ctx, &vendor, description, at),
        IncidentCmd::List { vendor, open } => list(ctx, vendor.as_ref(), open),
        IncidentCmd::Show { id } => show(ctx, &id),
        IncidentCmd::Resolve {
            id,
            resolution,
            satisfaction,
        } => resolve(ctx, &id, resolution, satisfaction),
        IncidentCmd::Edit(args) => edit(ctx, args),
        IncidentCmd::Rm { id, yes } => rm(ctx, &id, yes),
    }
}

fn open(ctx: &Ctx, vendor: &VendorRef, description: Text, at: Option<When>) -> CliResult<()> {
    let new = NewIncident {
        vendor_id: ctx.vendor_id(vendor)?,
        description,
        opened_at: at.map(|w| w.start()),
    };
    let created: Doc<Incident> = ctx.client.post("/v1/incidents", &new)?;
    ctx.print(&created, |i| {
        ctx.done(&format!("opened incident {}", i.id));
    });
    Ok(())
}

fn status(i: &Incident) -> &'static str {
    match i.fields.status {
        IncidentStatus::Open => "open",
        IncidentStatus::Resolved => "resolved",
    }
}

fn list(ctx: &Ctx, vendor: Option<&VendorRef>, only_open: bool) -> CliResult<()> {
    let mut query = Vec::new();
    if let Some(v) = vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    let mut items: Vec<Doc<Incident>> = ctx.client.list_all("/v1/incidents", &query)?;
    if only_open {
        items.retain(|i| i.value.fields.status == IncidentStatus::Open);
    }
    let names = if ctx.json || items.is_empty() {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    let empty = if only_open {
        "no open incidents"
    } else {
        "no incidents recorded"
    };
    ctx.print_list(&items, empty, |items| table(items, &names).print());
    Ok(())
}

/// `incident list`'s table.
pub(super) fn table(items: &[&Incident], names: &HashMap<VendorId, Line>) -> TableOut {
    let mut t = TableOut::new(&["id", "opened", "vendor", "status", "description"])
        .ids(&[0])
        .fixed(&[1, 3]);
    for i in items {
        let f = &i.fields;
        t.row([
            i.id.to_string(),
            short_time(&f.opened_at),
            name_of(names, &f.vendor_id),
            status(i).to_owned(),
            f.description.to_string(),
        ]);
    }
    t
}

fn show(ctx: &Ctx, id: &IncidentId) -> CliResult<()> {
    let doc: Doc<Incident> = ctx.client.get(&format!("/v1/incidents/{id}"), &[])?;
    let names = if ctx.json {
        Default::default()
    } else {
        ctx.vendor_names()?
    };
    ctx.print(&doc, |i| {
        view(i, &name_of(&names, &i.fields.vendor_id)).print()
    });
    Ok(())
}

/// `incident show`'s view.
pub(super) fn view(i: &Incident, vendor_name: &str) -> Fields {
    let f = &i.fields;
    let mut out = Fields::new();
    out.add("id", &i.id)
        .add("vendor", format!("{vendor_name} ({})", f.vendor_id))
        .add("opened", long_time(&f.opened_at))
        .add("status", status(i))
        .add("description", &f.description)
        .opt("resolution", f.resolution.as_ref())
        .opt("satisfaction", f.satisfaction.map(|s| format!("{s}/10")))
        .opt("resolved", f.resolved_at.as_ref().map(long_time));
    out
}

fn resolve(
    ctx: &Ctx,
    id: &IncidentId,
    resolution: Text,
    satisfaction: Option<Satisfaction>,
) -> CliResult<()> {
    let body = IncidentResolution {
        resolution,
        satisfaction,
    };
    let done: Doc<Incident> = ctx
        .client
        .post(&format!("/v1/incidents/{id}/resolve"), &body)?;
    ctx.print(&done, |i| {
        ctx.done(&format!("resolved incident {}", i.id));
    });
    Ok(())
}

fn edit(ctx: &Ctx, a: IncidentEdit) -> CliResult<()> {
    let path = format!("/v1/incidents/{}", a.id);
    let mut f = ctx.client.get::<Incident>(&path, &[])?.value.fields;
    if let Some(d) = a.description {
        f.description = d;
    }
    if let Some(at) = a.at {
        f.opened_at = at.start();
    }
    if a.reopen {
        f.status = IncidentStatus::Open;
        f.resolution = None;
        f.satisfaction = None;
    }
    if let Some(r) = a.resolution {
        f.status = IncidentStatus::Resolved;
        f.resolution = Some(r);
    }
    match a.satisfaction {
        Some(_) if f.status == IncidentStatus::Open => {
            return Err(CliError::usage(format!(
                "incident {} is open: it has no satisfaction yet",
                a.id
            ))
            .with_hint("resolve it too: add --resolution TEXT"));
        }
        Some(s) => f.satisfaction = s.into_option(),
        None => {}
    }
    let changed: Doc<Incident> = ctx.client.put(&path, &f)?;
    ctx.print(&changed, |i| {
        ctx.done(&format!("changed incident {}", i.id));
    });
    Ok(())
}

fn rm(ctx: &Ctx, id: &IncidentId, yes: bool) -> CliResult<()> {
    delete_asking(ctx, "incident", "incidents", id, yes, |i: &Incident| {
        let f = &i.fields;
        format!(
            " of {} {}",
            short_time(&f.opened_at),
            quoted(&truncate(f.description.as_str(), 40))
        )
    })
}
