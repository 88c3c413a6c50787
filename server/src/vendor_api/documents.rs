//! `GET /v1/vendor/documents/{id}`: a document's bytes, for a vendor with `interactions:read`,
//! only when the owner shared the document AND it is attached to an interaction of this
//! vendor that the owner shared with it (`carnet_core::documents::open_for_vendor`, the one
//! rule). Anything else is 404, as a document that does not exist. Served like the owner's
//! download (`owner_api::documents::serve`): an attachment, `nosniff`, sandboxed.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use carnet_core::documents;
use carnet_schemas::DocumentId;

use super::{Returned, Vendor};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::owner_api::documents::serve;
use crate::state::AppState;

/// A document shared with this vendor, streamed; 404 for anything outside its view.
#[utoipa::path(get, path = "/v1/vendor/documents/{id}", tag = "vendor",
    params(("id" = DocumentId, Path, description = "Document id")),
    security(("vendor" = ["interactions:read"])),
    responses(
        (status = 200, description = "The file's bytes (always `Content-Disposition: attachment`, `nosniff`, `sandbox`)", content_type = "application/octet-stream", body = String),
        (status = 404, description = "No such document in this vendor's view", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn document(
    v: Vendor,
    State(s): State<AppState>,
    Path(id): Path<DocumentId>,
) -> ApiResult<Response> {
    let vendor = v.0.vendor_id.clone();
    let wanted = id.clone();
    let opened = s
        .blocking(move |s| {
            Ok(documents::open_for_vendor(
                &s.store, &s.keys, &wanted, &vendor,
            )?)
        })
        .await;
    match opened {
        Ok((doc, reader)) => {
            let ids = vec![doc.id.to_string()];
            Ok((Returned::ids(ids), serve(doc, reader)).into_response())
        }
        // Not found and not shared look the same: the vendor learns nothing of other files.
        Err(ApiError::NotFound { .. }) => Err(ApiError::not_found("document", id.as_str())),
        Err(e) => Err(e),
    }
}
