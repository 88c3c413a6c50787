//! Incidents over HTTP: the owner's `/v1/incidents` (the rules are
//! `carnet_core::ledger::incidents`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::ledger::{self, Incidents, Paged, incidents, listing};
use carnet_schemas::{
    Incident, IncidentFields, IncidentId, IncidentResolution, NewIncident, Page, VendorFilter,
};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Incidents, most recently opened first.
#[utoipa::path(get, path = "/v1/incidents", tag = "incidents", params(VendorFilter),
    security(("owner" = [])),
    responses((status = 200, description = "One page of incidents", body = Page<Incident>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<VendorFilter>,
) -> ApiResult<Json<Page<Incident>>> {
    let page = s
        .blocking(move |s| {
            crate::paging::keyset(
                q.limit,
                q.cursor.as_deref(),
                Incidents::index_key,
                |after, limit| {
                    let p = listing::page::<Incidents>(
                        &s.store, &s.keys, &s.index, &q.vendor, after, limit,
                    )?;
                    Ok((p.items, p.next))
                },
            )
        })
        .await?;
    Ok(Json(page))
}

/// Open an incident.
#[utoipa::path(post, path = "/v1/incidents", tag = "incidents", request_body = NewIncident,
    security(("owner" = [])),
    responses((status = 201, description = "Created", body = Incident)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(new): Json<NewIncident>,
) -> ApiResult<impl IntoResponse> {
    let created = ledger::create::<Incidents>(&s.store, &s.keys, &s.index, new, s.now()).await?;
    let location = format!("/v1/incidents/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    ))
}

/// One incident.
#[utoipa::path(get, path = "/v1/incidents/{id}", tag = "incidents",
    params(("id" = IncidentId, Path, description = "Incident id")),
    security(("owner" = [])),
    responses((status = 200, description = "The incident", body = Incident)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IncidentId>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(ledger::show::<Incidents>(&s.store, &s.keys, &id)?))
}

/// Correct an incident: its description, start, resolution and satisfaction (`status: open`
/// opens it again; its vendor cannot change; `resolved_at` is the server's).
#[utoipa::path(put, path = "/v1/incidents/{id}", tag = "incidents", request_body = IncidentFields,
    params(("id" = IncidentId, Path, description = "Incident id")),
    security(("owner" = [])),
    responses((status = 200, description = "Updated", body = Incident)))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IncidentId>,
    Json(fields): Json<IncidentFields>,
) -> ApiResult<Json<Incident>> {
    let updated = incidents::replace(&s.store, &s.keys, &s.index, &id, fields, s.now()).await?;
    Ok(Json(updated))
}

/// Delete an incident (interactions that referred to it keep their text).
#[utoipa::path(delete, path = "/v1/incidents/{id}", tag = "incidents",
    params(("id" = IncidentId, Path, description = "Incident id")),
    security(("owner" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IncidentId>,
) -> ApiResult<StatusCode> {
    ledger::delete::<Incidents>(&s.store, &s.index, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resolve an incident (again, to correct the resolution).
#[utoipa::path(post, path = "/v1/incidents/{id}/resolve", tag = "incidents", request_body = IncidentResolution,
    params(("id" = IncidentId, Path, description = "Incident id")),
    security(("owner" = [])),
    responses((status = 200, description = "Resolved", body = Incident)))]
pub async fn resolve(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IncidentId>,
    Json(resolution): Json<IncidentResolution>,
) -> ApiResult<Json<Incident>> {
    let incident =
        incidents::resolve(&s.store, &s.keys, &s.index, &id, resolution, s.now()).await?;
    Ok(Json(incident))
}
