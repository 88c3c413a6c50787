//! Follow-ups over HTTP: `/v1/followups` (the rules are `carnet_core::ledger::followups`).

use axum::extract::State;
use carnet_core::ledger::followups;
use carnet_schemas::{Followup, FollowupQuery, Interaction, InteractionId};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Next steps not done (`kind: followup`) and late promises (`kind: promise`), soonest due
/// first (steps without a due date last).
#[utoipa::path(get, path = "/v1/followups", tag = "interactions", params(FollowupQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Open next steps and late promises", body = Vec<Followup>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<FollowupQuery>,
) -> ApiResult<Json<Vec<Followup>>> {
    let items = s
        .blocking(move |s| {
            Ok(followups::list(
                &s.store,
                &s.keys,
                &s.index,
                q.through,
                s.now(),
            )?)
        })
        .await?;
    Ok(Json(items))
}

/// Mark the next step of an interaction as done.
#[utoipa::path(post, path = "/v1/followups/{id}/done", tag = "interactions",
    params(("id" = InteractionId, Path, description = "Id of the interaction that set the step")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "The interaction, its next step done", body = Interaction),
        (status = 409, description = "The interaction has no next step", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn done(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<InteractionId>,
) -> ApiResult<Json<Interaction>> {
    Ok(Json(
        followups::done(&s.store, &s.keys, &s.index, &id, s.now()).await?,
    ))
}
