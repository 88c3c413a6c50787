//! Follow-ups: next steps not done yet, across vendors, soonest due first.

use std::collections::HashMap;

use axum::extract::State;
use carnet_schemas::ids::InteractionKind;
use carnet_schemas::{Followup, FollowupQuery, Interaction, InteractionFields, InteractionId};

use super::{interactions, open, vendors};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::store::records;

/// Next steps not done, soonest due first (steps without a due date last).
#[utoipa::path(get, path = "/v1/followups", tag = "interactions", params(FollowupQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Open next steps", body = Vec<Followup>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<FollowupQuery>,
) -> ApiResult<Json<Vec<Followup>>> {
    let items = s
        .blocking(move |s| {
            let (rows, vendors) = s.store.read(|c| {
                let rows = records::list::<InteractionFields>(c, None)?;
                Ok::<_, ApiError>((rows, vendors::all(c, &s.keys)?))
            })?;
            let names: HashMap<_, _> = vendors.into_iter().map(|v| (v.id, v.fields.name)).collect();
            let mut items = Vec::new();
            for row in rows {
                let o = open::<InteractionKind, _>(&s.keys, row)?;
                let f = o.fields;
                let (Some(step), false) = (f.next_step, f.next_done) else {
                    continue;
                };
                if f.next_due
                    .zip(q.through)
                    .is_some_and(|(due, through)| due > through)
                {
                    continue;
                }
                let Some(name) = names.get(&f.vendor_id) else {
                    continue;
                };
                items.push(Followup {
                    interaction_id: o.id,
                    vendor_id: f.vendor_id,
                    vendor_name: name.clone(),
                    next_step: step,
                    due: f.next_due,
                    at: f.at.unwrap_or_else(|| o.row.created_at.fixed_offset()),
                    channel: f.channel,
                });
            }
            items.sort_by(|a, b| {
                (a.due.is_none(), a.due, a.at).cmp(&(b.due.is_none(), b.due, b.at))
            });
            Ok(items)
        })
        .await?;
    Ok(Json(items))
}

/// Mark the next step of an interaction as done.
#[utoipa::path(post, path = "/v1/followups/{id}/done", tag = "interactions",
    params(("id" = InteractionId, Path, description = "Id of the interaction that set the step")),
    security(("owner" = [])),
    responses((status = 200, description = "The interaction, its next step done", body = Interaction)))]
pub async fn done(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<InteractionId>,
) -> ApiResult<Json<Interaction>> {
    let now = s.now();
    let state = s.clone();
    let iid = id.clone();
    let (created_at, fields) = s
        .store
        .write(move |c| {
            let mut fields = interactions::get(c, &state.keys, &iid)?.fields;
            if fields.next_step.is_none() {
                return Err(ApiError::conflict(
                    format!("interaction {iid} has no next step to mark done"),
                    "give it a next step first (`next_step`), or pick another interaction",
                ));
            }
            fields.next_done = true;
            interactions::replace_in(c, &state, &iid, fields, now)
        })
        .await?;
    Ok(Json(Interaction {
        id,
        created_at,
        updated_at: now,
        fields,
    }))
}
