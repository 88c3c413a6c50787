//! Search over HTTP: the owner's `GET /v1/search` (the matching and ranking are
//! `carnet_core::ledger::listing::search`, over the in-memory ledger index).

use axum::extract::State;
use carnet_core::ledger::listing;
use carnet_schemas::{DEFAULT_SEARCH, MAX_SEARCH, SearchQuery, SearchResults};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Query};
use crate::state::AppState;

/// Search every record (vendors, interactions, purchases, incidents) by the words of its text
/// fields: each word of `q` must begin a word of the record (word-prefix matching, case- and
/// accent-insensitive: `techn` finds `Technicien`, `chnic` does not). Best matches first: more
/// matched words, rarer words and words of the title count more; ties go to the newest.
#[utoipa::path(get, path = "/v1/search", tag = "search", params(SearchQuery),
    security(("owner" = [])),
    responses((status = 200, description = "The best matches, best first", body = SearchResults)))]
pub async fn search(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    let limit = match q.limit {
        None => DEFAULT_SEARCH,
        Some(n) if (1..=MAX_SEARCH).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::bad_request(
                format!("limit {n} is out of range"),
                format!("use a limit from 1 to {MAX_SEARCH}"),
            ));
        }
    } as usize;
    let text = q.q.unwrap_or_default();
    let items = s
        .blocking(move |s| {
            Ok(listing::search(
                &s.store,
                &s.keys,
                &s.index,
                &text,
                q.kind,
                q.vendor.as_ref(),
                limit,
            )?)
        })
        .await?;
    Ok(Json(SearchResults { items }))
}
