//! Interactions over HTTP: the owner's `/v1/interactions` (the rules are
//! `carnet_core::ledger::interactions`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::ledger::{self, InteractionFilter, Interactions, Paged, listing};
use carnet_schemas::{Interaction, InteractionFields, InteractionId, InteractionQuery, Page};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Interactions, newest first. `grep` matches word prefixes (each of its words must begin a
/// word of the interaction, case and accents aside), not substrings.
#[utoipa::path(get, path = "/v1/interactions", tag = "interactions", params(InteractionQuery),
    security(("owner" = [])),
    responses((status = 200, description = "One page of interactions, newest first", body = Page<Interaction>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<InteractionQuery>,
) -> ApiResult<Json<Page<Interaction>>> {
    let page = s
        .blocking(move |s| {
            let filter = InteractionFilter::from(&q);
            crate::paging::keyset(
                q.limit,
                q.cursor.as_deref(),
                Interactions::index_key,
                |after, limit| {
                    let p = listing::page::<Interactions>(
                        &s.store, &s.keys, &s.index, &filter, after, limit,
                    )?;
                    Ok((p.items, p.next))
                },
            )
        })
        .await?;
    Ok(Json(page))
}

/// Record an interaction.
#[utoipa::path(post, path = "/v1/interactions", tag = "interactions", request_body = InteractionFields,
    security(("owner" = [])),
    responses((status = 201, description = "Created", body = Interaction)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(fields): Json<InteractionFields>,
) -> ApiResult<impl IntoResponse> {
    let created =
        ledger::create::<Interactions>(&s.store, &s.keys, &s.index, fields, s.now()).await?;
    let location = format!("/v1/interactions/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    ))
}

/// One interaction.
#[utoipa::path(get, path = "/v1/interactions/{id}", tag = "interactions",
    params(("id" = InteractionId, Path, description = "Interaction id")),
    security(("owner" = [])),
    responses((status = 200, description = "The interaction", body = Interaction)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<InteractionId>,
) -> ApiResult<Json<Interaction>> {
    Ok(Json(ledger::show::<Interactions>(&s.store, &s.keys, &id)?))
}

/// Replace an interaction (its vendor cannot change).
#[utoipa::path(put, path = "/v1/interactions/{id}", tag = "interactions", request_body = InteractionFields,
    params(("id" = InteractionId, Path, description = "Interaction id")),
    security(("owner" = [])),
    responses((status = 200, description = "Updated", body = Interaction)))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<InteractionId>,
    Json(fields): Json<InteractionFields>,
) -> ApiResult<Json<Interaction>> {
    let updated =
        ledger::replace::<Interactions>(&s.store, &s.keys, &s.index, &id, fields, s.now()).await?;
    Ok(Json(updated))
}

/// Delete an interaction.
#[utoipa::path(delete, path = "/v1/interactions/{id}", tag = "interactions",
    params(("id" = InteractionId, Path, description = "Interaction id")),
    security(("owner" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<InteractionId>,
) -> ApiResult<StatusCode> {
    ledger::delete::<Interactions>(&s.store, &s.index, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
