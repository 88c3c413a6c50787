//! Intents, as the owner writes them: draft → active → fulfilled | withdrawn | expired. Every
//! change refreshes the opened active set that vendor pulls read.

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_schemas::{
    DEFAULT_MAX_OFFERS, DEFAULT_WINDOW_DAYS, Intent, IntentFields, IntentId, IntentQuery,
    IntentState, MAX_MAX_OFFERS,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use rust_decimal::Decimal;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::intents::effective_state;
use carnet_core::store::intents::{self as rows, IntentRow, StoredIntentState};
use carnet_core::vault::Keys;
use carnet_core::webhooks::{IntentEvent, intent_event};

/// Checks what the owner wrote and fills in the defaults (window end, offer cap).
pub(crate) fn complete(mut f: IntentFields, now: DateTime<Utc>) -> ApiResult<IntentFields> {
    if let Some(p) = &f.price_specification
        && let (Some(min), Some(max)) = (&p.min_price, &p.max_price)
    {
        let (min, max) = (
            Decimal::from_str(min.as_str()).unwrap_or_default(),
            Decimal::from_str(max.as_str()).unwrap_or_default(),
        );
        if min > max {
            return Err(ApiError::invalid(
                "price_specification.min_price",
                format!("the minimum price {min} is above the maximum {max}"),
            ));
        }
    }
    if f.eligible_quantity == Some(0) {
        return Err(ApiError::invalid(
            "eligible_quantity",
            "a quantity is 1 or more",
        ));
    }
    let max_offers = f.max_offers.unwrap_or(DEFAULT_MAX_OFFERS);
    if !(1..=MAX_MAX_OFFERS).contains(&max_offers) {
        return Err(ApiError::invalid(
            "max_offers",
            format!("an intent accepts 1 to {MAX_MAX_OFFERS} offers, not {max_offers}"),
        ));
    }
    f.max_offers = Some(max_offers);
    if !(1..=3650).contains(&f.terms.retention_days) {
        return Err(ApiError::invalid(
            "terms.retention_days",
            "retention is 1 to 3650 days",
        ));
    }
    let through = *f
        .valid_through
        .get_or_insert_with(|| (now + chrono::Duration::days(DEFAULT_WINDOW_DAYS)).fixed_offset());
    if let Some(from) = f.valid_from
        && from >= through
    {
        return Err(ApiError::invalid(
            "valid_through",
            format!("the window ends ({through}) before it starts ({from})"),
        ));
    }
    f.terms.withhold.sort();
    f.terms.withhold.dedup();
    Ok(f)
}

pub(crate) struct Stored {
    pub id: IntentId,
    pub row: IntentRow<IntentFields>,
    pub fields: IntentFields,
}

impl Stored {
    pub fn state(&self, now: DateTime<Utc>) -> IntentState {
        effective_state(self.row.state, &self.fields, now)
    }
}

pub(crate) fn get(conn: &Connection, keys: &Keys, id: &IntentId) -> ApiResult<Stored> {
    let row = rows::intent::<IntentFields>(conn, id.as_str())?
        .ok_or_else(|| ApiError::not_found("intent", id.as_str()))?;
    let fields = keys.seal().open(&row.id, &row.sealed)?;
    Ok(Stored {
        id: id.clone(),
        row,
        fields,
    })
}

fn to_wire(s: Stored, offers: u32, now: DateTime<Utc>) -> Intent {
    Intent {
        state: s.state(now),
        id: s.id,
        created_at: s.row.created_at,
        updated_at: s.row.updated_at,
        offers,
        fields: s.fields,
    }
}

/// Write an intent (a draft; activate it to publish).
#[utoipa::path(post, path = "/v1/intents", tag = "intents", request_body = IntentFields,
    security(("owner" = [])),
    responses((status = 201, description = "Created, as a draft", body = Intent)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(fields): Json<IntentFields>,
) -> ApiResult<impl IntoResponse> {
    let now = s.now();
    let fields = complete(fields, now)?;
    if fields.valid_through.is_some_and(|t| t <= now) {
        return Err(ApiError::invalid(
            "valid_through",
            "the buying window would already be over; give an end in the future",
        ));
    }
    let id: IntentId = s.new_id();
    let row = IntentRow {
        id: id.to_string(),
        state: StoredIntentState::Draft,
        created_at: now,
        updated_at: now,
        sealed: s.keys.seal().seal(id.as_str(), &fields),
    };
    s.store.write(move |c| rows::insert_intent(c, &row)).await?;
    let location = format!("/v1/intents/{id}");
    let intent = Intent {
        id,
        state: IntentState::Draft,
        created_at: now,
        updated_at: now,
        offers: 0,
        fields,
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(intent),
    ))
}

/// Intents, newest first.
#[utoipa::path(get, path = "/v1/intents", tag = "intents", params(IntentQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Intents", body = Vec<Intent>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<IntentQuery>,
) -> ApiResult<Json<Vec<Intent>>> {
    let now = s.now();
    let list = s
        .blocking(move |s| {
            let (rows, counts) = s.store.read(|c| {
                Ok::<_, ApiError>((
                    rows::intents::<IntentFields>(c, None)?,
                    rows::offer_counts(c)?,
                ))
            })?;
            let counts: HashMap<String, u32> = counts.into_iter().collect();
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let id = row
                    .id
                    .parse()
                    .map_err(|_| ApiError::Internal("bad intent id".into()))?;
                let fields = s.keys.seal().open(&row.id, &row.sealed)?;
                let offers = counts.get(&row.id).copied().unwrap_or(0);
                let intent = to_wire(Stored { id, row, fields }, offers, now);
                if q.state.is_none_or(|st| st == intent.state) {
                    out.push(intent);
                }
            }
            out.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            Ok(out)
        })
        .await?;
    Ok(Json(list))
}

/// One intent.
#[utoipa::path(get, path = "/v1/intents/{id}", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses((status = 200, description = "The intent", body = Intent)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    let (stored, offers) = s
        .store
        .read(|c| Ok::<_, ApiError>((get(c, &s.keys, &id)?, rows::offer_count(c, id.as_str())?)))?;
    Ok(Json(to_wire(stored, offers, s.now())))
}

/// Edit a draft or active intent (vendors see the change at their next pull).
#[utoipa::path(put, path = "/v1/intents/{id}", tag = "intents", request_body = IntentFields,
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Updated", body = Intent),
        (status = 409, description = "Fulfilled, withdrawn or expired intents are final", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
    Json(fields): Json<IntentFields>,
) -> ApiResult<Json<Intent>> {
    let now = s.now();
    let fields = complete(fields, now)?;
    let state = s.clone();
    let iid = id.clone();
    let intent = s
        .store
        .write(move |c| {
            let old = get(c, &state.keys, &iid)?;
            let current = old.state(now);
            if !matches!(current, IntentState::Draft | IntentState::Active) {
                return Err(final_state(&iid, current));
            }
            let mut fields = fields;
            if current == IntentState::Active {
                fields.valid_from = fields.valid_from.or(old.fields.valid_from);
                if fields.valid_through.is_some_and(|t| t <= now) {
                    return Err(ApiError::invalid(
                        "valid_through",
                        "an active intent's window cannot end in the past; withdraw it instead",
                    ));
                }
            }
            let sealed = state.keys.seal().seal(iid.as_str(), &fields);
            rows::update_intent(c, iid.as_str(), old.row.state, now, &sealed)?;
            if current == IntentState::Active && was_visible(&fields, now) {
                intent_event(c, &state, IntentEvent::Updated, &iid, &fields, now, now)?;
            }
            let offers = rows::offer_count(c, iid.as_str())?;
            let mut row = old.row;
            row.updated_at = now;
            Ok(to_wire(
                Stored {
                    id: iid,
                    row,
                    fields,
                },
                offers,
                now,
            ))
        })
        .await?;
    s.intents
        .set(&id, stored_of(intent.state), &intent.fields, now);
    s.webhook_wake.notify_one();
    Ok(Json(intent))
}

/// The stored state behind an effective one (expired is stored as active).
fn stored_of(effective: IntentState) -> StoredIntentState {
    match effective {
        IntentState::Draft => StoredIntentState::Draft,
        IntentState::Active | IntentState::Expired => StoredIntentState::Active,
        IntentState::Fulfilled => StoredIntentState::Fulfilled,
        IntentState::Withdrawn => StoredIntentState::Withdrawn,
    }
}

fn final_state(id: &IntentId, state: IntentState) -> ApiError {
    ApiError::conflict(
        format!("intent {id} is {state}, which is final"),
        "write a new intent (`carnet intent new`) for a new buying situation",
    )
}

/// Moves an intent from one of `from` to `to`, applying `change` to its content.
async fn transition(
    s: &AppState,
    id: IntentId,
    from: &'static [IntentState],
    to: IntentState,
    change: fn(&mut IntentFields, DateTime<Utc>) -> ApiResult<()>,
) -> ApiResult<Intent> {
    let now = s.now();
    let state = s.clone();
    let iid = id.clone();
    let intent = s
        .store
        .write(move |c| {
            let mut old = get(c, &state.keys, &iid)?;
            let current = old.state(now);
            if current == to {
                let offers = rows::offer_count(c, iid.as_str())?;
                return Ok(to_wire(old, offers, now));
            }
            if !from.contains(&current) {
                return Err(ApiError::conflict(
                    format!("intent {iid} is {current} and cannot become {to}"),
                    match current {
                        IntentState::Draft => "activate it first (`carnet intent activate`)",
                        IntentState::Active => "it can be withdrawn or fulfilled",
                        _ => "write a new intent (`carnet intent new`) for a new buying situation",
                    },
                ));
            }
            change(&mut old.fields, now)?;
            let sealed = state.keys.seal().seal(iid.as_str(), &old.fields);
            rows::update_intent(c, iid.as_str(), stored_of(to), now, &sealed)?;
            // Vendors that could see it are told it ended (activation is announced by the
            // webhook worker once the window is open).
            let ended = match to {
                IntentState::Withdrawn => Some(IntentEvent::Withdrawn),
                IntentState::Fulfilled => Some(IntentEvent::Fulfilled),
                _ => None,
            };
            if let Some(kind) = ended
                && current == IntentState::Active
                && was_visible(&old.fields, now)
            {
                intent_event(c, &state, kind, &iid, &old.fields, now, now)?;
            }
            old.row.state = stored_of(to);
            old.row.updated_at = now;
            let offers = rows::offer_count(c, iid.as_str())?;
            Ok(to_wire(old, offers, now))
        })
        .await?;
    s.intents
        .set(&id, stored_of(intent.state), &intent.fields, now);
    s.webhook_wake.notify_one();
    Ok(intent)
}

/// Whether granted vendors could see the intent (its window had opened).
pub(crate) fn was_visible(f: &IntentFields, now: DateTime<Utc>) -> bool {
    f.valid_from.is_some_and(|from| from <= now)
}

fn open_window(f: &mut IntentFields, now: DateTime<Utc>) -> ApiResult<()> {
    let from = *f.valid_from.get_or_insert_with(|| now.fixed_offset());
    match f.valid_through {
        Some(through) if through > now && through > from => Ok(()),
        _ => Err(ApiError::conflict(
            "its buying window is already over",
            "edit it with a later end (`carnet intent edit ID --until DATE`), then activate it",
        )),
    }
}

fn unchanged(_: &mut IntentFields, _: DateTime<Utc>) -> ApiResult<()> {
    Ok(())
}

/// Publish a draft: granted vendors see it inside its window.
#[utoipa::path(post, path = "/v1/intents/{id}/activate", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses((status = 200, description = "Active", body = Intent)))]
pub async fn activate(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    const FROM: &[IntentState] = &[IntentState::Draft];
    Ok(Json(
        transition(&s, id, FROM, IntentState::Active, open_window).await?,
    ))
}

/// Withdraw: no vendor sees it any more.
#[utoipa::path(post, path = "/v1/intents/{id}/withdraw", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses((status = 200, description = "Withdrawn", body = Intent)))]
pub async fn withdraw(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    const FROM: &[IntentState] = &[IntentState::Draft, IntentState::Active];
    Ok(Json(
        transition(&s, id, FROM, IntentState::Withdrawn, unchanged).await?,
    ))
}

/// Mark it bought: no vendor sees it any more.
#[utoipa::path(post, path = "/v1/intents/{id}/fulfil", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses((status = 200, description = "Fulfilled", body = Intent)))]
pub async fn fulfil(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    const FROM: &[IntentState] = &[IntentState::Active];
    Ok(Json(
        transition(&s, id, FROM, IntentState::Fulfilled, unchanged).await?,
    ))
}
