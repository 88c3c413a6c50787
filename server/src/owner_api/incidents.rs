//! Incidents and complaints, and how they were resolved.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_schemas::ids::IncidentKind;
use carnet_schemas::{
    Incident, IncidentFields, IncidentId, IncidentResolution, IncidentStatus, NewIncident, Page,
    VendorFilter,
};

use super::{Opened, open};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::store::records::{self, Row};
use carnet_core::vault::Table;

fn to_wire(o: Opened<IncidentKind, IncidentFields>) -> Incident {
    Incident {
        id: o.id,
        created_at: o.row.created_at,
        updated_at: o.row.updated_at,
        fields: o.fields,
    }
}

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
            let rows = s.store.read(|c| {
                records::list::<IncidentFields>(c, q.vendor.as_ref().map(|v| v.as_str()))
            })?;
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let o = open::<IncidentKind, _>(&s.keys, row)?;
                let key = (-o.fields.opened_at.timestamp_millis(), o.id.to_string());
                items.push((key, to_wire(o)));
            }
            crate::paging::paginate(items, q.limit, q.cursor.as_deref())
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
    let id: IncidentId = s.new_id();
    let now = s.now();
    let fields = IncidentFields {
        vendor_id: new.vendor_id,
        description: new.description,
        opened_at: new.opened_at.unwrap_or_else(|| now.fixed_offset()),
        status: IncidentStatus::Open,
        resolution: None,
        satisfaction: None,
        resolved_at: None,
    };
    let sealed = s.keys.seal().seal(id.as_str(), &fields);
    let (vendor, row_id) = (fields.vendor_id.clone(), id.to_string());
    s.store
        .write(move |c| {
            if !records::exists(c, Table::Vendors, vendor.as_str())? {
                return Err(ApiError::invalid(
                    "vendor_id",
                    format!("there is no vendor {vendor}"),
                ));
            }
            records::insert(
                c,
                &Row {
                    id: row_id,
                    vendor_id: Some(vendor.to_string()),
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )?;
            Ok(())
        })
        .await?;
    let location = format!("/v1/incidents/{id}");
    let created = Incident {
        id,
        created_at: now,
        updated_at: now,
        fields,
    };
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
    let row = s
        .store
        .read(|c| records::get::<IncidentFields>(c, id.as_str()))?
        .ok_or_else(|| ApiError::not_found("incident", id.as_str()))?;
    Ok(Json(to_wire(open(&s.keys, row)?)))
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
    super::delete(&s, Table::Incidents, id).await
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
    let now = s.now();
    let state = s.clone();
    let incident = s
        .store
        .write(move |c| {
            let row = records::get::<IncidentFields>(c, id.as_str())?
                .ok_or_else(|| ApiError::not_found("incident", id.as_str()))?;
            let mut o = open::<IncidentKind, _>(&state.keys, row)?;
            o.fields.status = IncidentStatus::Resolved;
            o.fields.resolution = Some(resolution.resolution);
            // Re-resolving to correct the text keeps a satisfaction given earlier.
            o.fields.satisfaction = resolution.satisfaction.or(o.fields.satisfaction);
            o.fields.resolved_at = Some(now);
            let sealed = state.keys.seal().seal(id.as_str(), &o.fields);
            records::update(c, id.as_str(), now, &sealed)?;
            o.row.updated_at = now;
            Ok::<_, ApiError>(to_wire(o))
        })
        .await?;
    Ok(Json(incident))
}
