//! Interactions: every exchange that mattered, with what was expected, said and felt, and
//! what happens next.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_schemas::ids::{IncidentKind, InteractionKind};
use carnet_schemas::{
    IncidentFields, Interaction, InteractionFields, InteractionId, InteractionQuery, Page,
};
use rusqlite::Connection;

use super::{Opened, open};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::store::records::{self, Row};
use carnet_core::vault::{Keys, Table};

pub(crate) fn to_wire(o: Opened<InteractionKind, InteractionFields>) -> Interaction {
    Interaction {
        id: o.id,
        created_at: o.row.created_at,
        updated_at: o.row.updated_at,
        fields: o.fields,
    }
}

pub(crate) fn get(
    conn: &Connection,
    keys: &Keys,
    id: &InteractionId,
) -> ApiResult<Opened<InteractionKind, InteractionFields>> {
    let row = records::get::<InteractionFields>(conn, id.as_str())?
        .ok_or_else(|| ApiError::not_found("interaction", id.as_str()))?;
    Ok(open(keys, row)?)
}

/// Checks references against the database, inside the write transaction.
fn check_references(conn: &Connection, keys: &Keys, f: &InteractionFields) -> ApiResult<()> {
    if !records::exists(conn, Table::Vendors, f.vendor_id.as_str())? {
        return Err(ApiError::invalid(
            "vendor_id",
            format!("there is no vendor {}", f.vendor_id),
        ));
    }
    if let Some(incident) = &f.incident_id {
        let row = records::get::<IncidentFields>(conn, incident.as_str())?;
        let same_vendor = match row {
            Some(r) => open::<IncidentKind, _>(keys, r)?.fields.vendor_id == f.vendor_id,
            None => {
                return Err(ApiError::invalid(
                    "incident_id",
                    format!("there is no incident {incident}"),
                ));
            }
        };
        if !same_vendor {
            return Err(ApiError::invalid(
                "incident_id",
                format!("incident {incident} is with another vendor"),
            ));
        }
    }
    Ok(())
}

fn check_fields(f: &InteractionFields) -> ApiResult<()> {
    if f.next_due.is_some() && f.next_step.is_none() {
        return Err(ApiError::invalid(
            "next_due",
            "a due date needs a next_step to be due",
        ));
    }
    Ok(())
}

/// Interactions, newest first.
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
            let rows = s.store.read(|c| {
                records::list::<InteractionFields>(c, q.vendor.as_ref().map(|v| v.as_str()))
            })?;
            let needle = q.grep.as_deref().map(str::to_lowercase);
            let mut items = Vec::new();
            for row in rows {
                let o = open::<InteractionKind, _>(&s.keys, row)?;
                let at = o.fields.at;
                if q.since.is_some_and(|t| at.is_none_or(|a| a < t))
                    || q.until.is_some_and(|t| at.is_none_or(|a| a >= t))
                    || needle.as_deref().is_some_and(|n| !mentions(&o.fields, n))
                {
                    continue;
                }
                let key = (-at.map_or(0, |a| a.timestamp_millis()), o.id.to_string());
                items.push((key, to_wire(o)));
            }
            crate::paging::paginate(items, q.limit, q.cursor.as_deref())
        })
        .await?;
    Ok(Json(page))
}

/// Whether any text of the interaction contains `needle` (already lower-case).
fn mentions(f: &InteractionFields, needle: &str) -> bool {
    let texts = [
        Some(f.summary.as_str()),
        f.with.as_ref().map(|t| t.as_str()),
        f.expected.as_ref().map(|t| t.as_str()),
        f.i_said.as_ref().map(|t| t.as_str()),
        f.they_said.as_ref().map(|t| t.as_str()),
        f.outcome.as_ref().map(|t| t.as_str()),
        f.next_step.as_ref().map(|t| t.as_str()),
    ];
    texts
        .into_iter()
        .flatten()
        .any(|t| t.to_lowercase().contains(needle))
}

/// Record an interaction.
#[utoipa::path(post, path = "/v1/interactions", tag = "interactions", request_body = InteractionFields,
    security(("owner" = [])),
    responses((status = 201, description = "Created", body = Interaction)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(mut fields): Json<InteractionFields>,
) -> ApiResult<impl IntoResponse> {
    check_fields(&fields)?;
    let id: InteractionId = s.new_id();
    let now = s.now();
    fields.at.get_or_insert_with(|| now.fixed_offset());
    let sealed = s.keys.seal().seal(id.as_str(), &fields);
    let (keys, checked, row_id) = (Arc::clone(&s.keys), fields.clone(), id.to_string());
    s.store
        .write(move |c| {
            check_references(c, &keys, &checked)?;
            records::insert(
                c,
                &Row {
                    id: row_id.clone(),
                    vendor_id: Some(checked.vendor_id.to_string()),
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )?;
            records::set_shared(c, &row_id, checked.shared)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    let location = format!("/v1/interactions/{id}");
    let created = Interaction {
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
    let o = s.store.read(|c| get(c, &s.keys, &id))?;
    Ok(Json(to_wire(o)))
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
    check_fields(&fields)?;
    let (state, iid) = (s.clone(), id.clone());
    let now = s.now();
    let (created_at, fields) = s
        .store
        .write(move |c| replace_in(c, &state, &iid, fields, now))
        .await?;
    Ok(Json(Interaction {
        id,
        created_at,
        updated_at: now,
        fields,
    }))
}

/// Stores new content for an existing interaction; shared by `PUT` and "follow-up done".
pub(crate) fn replace_in(
    c: &Connection,
    s: &AppState,
    id: &InteractionId,
    mut fields: InteractionFields,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<(chrono::DateTime<chrono::Utc>, InteractionFields)> {
    let old = get(c, &s.keys, id)?;
    if old.fields.vendor_id != fields.vendor_id {
        return Err(ApiError::invalid(
            "vendor_id",
            "an interaction stays with its vendor; record a new one instead",
        ));
    }
    // A link to an incident deleted since stays as it was; a new link must be valid.
    if fields.incident_id != old.fields.incident_id {
        check_references(c, &s.keys, &fields)?;
    }
    fields.at = fields.at.or(old.fields.at);
    let sealed = s.keys.seal().seal(id.as_str(), &fields);
    records::update(c, id.as_str(), now, &sealed)?;
    records::set_shared(c, id.as_str(), fields.shared)?;
    Ok((old.row.created_at, fields))
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
    super::delete(&s, Table::Interactions, id).await
}
