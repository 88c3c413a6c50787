//! `carnet followups [--within DAYS | --all]` (next steps and late promises) and `carnet
//! followups done ID`.

use carnet_schemas::{Followup, FollowupKind, Interaction, InteractionId};
use chrono::Days;

use super::Ctx;
use crate::cli::{FollowupsArgs, FollowupsCmd};
use crate::client::Doc;
use crate::error::CliResult;
use crate::output::{self, TableOut, quoted};
use crate::when::today;

pub fn run(ctx: &Ctx, args: FollowupsArgs) -> CliResult<()> {
    match args.action {
        Some(FollowupsCmd::Done { id }) => done(ctx, &id),
        None => list(ctx, (!args.all).then_some(args.within)),
    }
}

/// Not paged: the server answers one array.
fn list(ctx: &Ctx, within: Option<u32>) -> CliResult<()> {
    let today = today();
    let mut query = Vec::new();
    if let Some(days) = within {
        let through = today
            .checked_add_days(Days::new(u64::from(days)))
            .unwrap_or(today);
        query.push(("through", through.to_string()));
    }
    let doc: Doc<Vec<serde_json::Value>> = ctx.client.get("/v1/followups", &query)?;
    let items = doc
        .value
        .into_iter()
        .map(|raw| {
            serde_json::from_value::<Followup>(raw.clone())
                .map(|value| Doc { value, raw })
                .map_err(|e| {
                    crate::error::CliError::failed(format!(
                        "a follow-up from the server is not understood: {e}"
                    ))
                    .with_hint(format!(
                        "check that carnet ({}) and carnetd (its /healthz) are the same version",
                        env!("CARGO_PKG_VERSION")
                    ))
                })
        })
        .collect::<CliResult<Vec<_>>>()?;
    let empty = match within {
        Some(d) => format!(
            "nothing due within {d} day{}; `carnet followups --all` lists every open step",
            if d == 1 { "" } else { "s" }
        ),
        None => "no open next steps".to_owned(),
    };
    ctx.print_list(&items, &empty, |items| {
        let mut t = TableOut::new(&["due", "vendor", "next step", "id"])
            .fixed(&[0])
            .ids(&[3]);
        for f in items {
            let due = match f.due {
                Some(d) if d < today => format!("{d} late"),
                Some(d) => d.to_string(),
                None => "-".to_owned(),
            };
            // A late promise names itself; a step, the interaction that set it.
            let (step, id) = match (f.kind, &f.promise_id, &f.interaction_id) {
                (FollowupKind::Promise, Some(p), _) => {
                    (format!("promised: {}", f.next_step), p.to_string())
                }
                (_, _, i) => (
                    f.next_step.to_string(),
                    i.as_ref().map_or("-".into(), ToString::to_string),
                ),
            };
            t.row([due, f.vendor_name.to_string(), step, id]);
        }
        t.print();
    });
    Ok(())
}

fn done(ctx: &Ctx, id: &InteractionId) -> CliResult<()> {
    let doc: Doc<Interaction> = ctx
        .client
        .post_empty(&format!("/v1/followups/{id}/done"))
        .map_err(|e| {
            if e.status == Some(409) {
                e.or_hint(format!(
                    "give it a next step first: carnet interaction edit {id} --next TEXT"
                ))
            } else {
                e
            }
        })?;
    ctx.print(&doc, |i| {
        let step = i.fields.next_step.as_ref().map_or(String::new(), |s| {
            format!(": {}", quoted(&output::truncate(s.as_str(), 60)))
        });
        ctx.done(&format!("done{step} (interaction {})", i.id));
    });
    Ok(())
}
