//! Documents over HTTP: the owner's `/v1/documents` (the rules are `carnet_core::documents`).
//! Both ways stream: an upload's body goes to the core through a small bounded pipe, read a
//! chunk at a time on a blocking thread; a download is opened a chunk at a time into the
//! response. `serve` is the one way a document's bytes leave carnetd (owner and vendor API):
//! always as an attachment, `nosniff`, sandboxed, and never with a type a browser runs.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::archive::ChannelReader;
use carnet_core::documents::{self, Attachment, NewDocument, Reader, sniff};
use carnet_schemas::{
    Document, DocumentId, DocumentList, DocumentPatch, DocumentQuery, DocumentUpload,
};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::archive::ChannelBody;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Attach a document: the body is the file's bytes, as they are.
///
/// Exactly one of `vendor`, `purchase`, `incident` and `interaction` says what it is attached
/// to. Its type is found from its bytes. Past `document_max_mib` (default 25 MiB) or the vault's
/// `document_quota_mib` (default 1 GiB) it is refused (413) and nothing of it is kept.
#[utoipa::path(post, path = "/v1/documents", tag = "documents", params(DocumentUpload),
    request_body(content = String, content_type = "application/octet-stream", description = "The file's bytes"),
    security(("owner" = [])),
    responses(
        (status = 201, description = "Stored", body = Document),
        (status = 400, description = "The upload stopped before its end: nothing was kept", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 404, description = "The record it is to be attached to does not exist", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `document_max_mib`, or past the vault's `document_quota_mib`: nothing was kept", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of vendor, purchase, incident, interaction", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn upload(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<DocumentUpload>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let new = NewDocument {
        attachment: Attachment::from_upload(&q)?,
        title: q.title,
        file_name: q.file_name,
    };
    let limits = s.settings.documents;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_bytes) {
        return Err(documents::DocumentError::TooLarge {
            limit_mib: limits.max_bytes >> 20,
        }
        .into());
    }
    let doc = store_streamed(&s, new, body).await?;
    let location = format!("/v1/documents/{}", doc.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(doc),
    ))
}

/// Where an upload's bytes come from: a raw request body (the owner API), or the file field
/// of a form (the web app).
pub(crate) trait UploadSource: Send {
    /// The next bytes; `None` at the end; an error when the client's request broke.
    fn next_bytes(&mut self) -> impl Future<Output = Option<Result<Bytes, String>>> + Send;
}

impl UploadSource for Body {
    async fn next_bytes(&mut self) -> Option<Result<Bytes, String>> {
        loop {
            match self.frame().await? {
                Err(e) => return Some(Err(e.to_string())),
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some(Ok(data));
                    }
                }
            }
        }
    }
}

/// Stores a document read from `source` as it arrives: the bytes go through a small bounded
/// pipe to `documents::add` on a blocking thread, so at most a few chunks are in memory.
/// Whatever the core refuses (a limit, a cut upload), nothing of it is kept.
pub(crate) async fn store_streamed(
    s: &AppState,
    new: NewDocument,
    source: impl UploadSource,
) -> Result<Document, ApiError> {
    let limits = s.settings.documents;
    let (tx, rx) = mpsc::channel(16);
    let state = s.clone();
    let adding = tokio::task::spawn_blocking(move || {
        let now = state.now();
        documents::add(
            &state.store,
            &state.keys,
            &state.index,
            new,
            limits,
            ChannelReader::new(rx),
            now,
        )
    });
    // A body past twice the limit is not drained to its end: the connection is closed instead.
    let drain = limits.max_bytes.saturating_mul(2).saturating_add(1 << 20);
    pump(source, tx, s.settings.import_idle_timeout, drain).await;
    Ok(adding
        .await
        .map_err(|e| ApiError::Internal(format!("the upload task failed: {e}")))??)
}

/// Feeds the request body to the upload, refusing one silent for `idle` (the upload sees
/// the error and keeps nothing). Once the upload stopped reading (it refused), the rest of
/// the body is read and dropped, up to `drain` bytes, so the client gets the answer.
async fn pump(
    mut source: impl UploadSource,
    tx: mpsc::Sender<io::Result<Bytes>>,
    idle: Duration,
    drain: u64,
) {
    let (mut total, mut reading) = (0u64, true);
    loop {
        let data = match tokio::time::timeout(idle, source.next_bytes()).await {
            Err(_) => {
                let why = format!("the upload stalled for {} s", idle.as_secs_f64());
                let _ = tx.send(Err(io::Error::other(why))).await;
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                let _ = tx.send(Err(io::Error::other(e))).await;
                return;
            }
            Ok(Some(Ok(data))) => data,
        };
        total += data.len() as u64;
        if reading && tx.send(Ok(data)).await.is_err() {
            reading = false;
        }
        if !reading && total > drain {
            return;
        }
    }
}

/// Documents (their descriptions), oldest first.
#[utoipa::path(get, path = "/v1/documents", tag = "documents", params(DocumentQuery),
    security(("owner" = [])),
    responses((status = 200, description = "The documents", body = DocumentList)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<DocumentQuery>,
) -> ApiResult<Json<DocumentList>> {
    let items = s
        .blocking(move |s| Ok(documents::list(&s.store, &s.keys, q.vendor.as_ref())?))
        .await?;
    Ok(Json(DocumentList { items }))
}

/// One document's description.
#[utoipa::path(get, path = "/v1/documents/{id}", tag = "documents",
    params(("id" = DocumentId, Path, description = "Document id")),
    security(("owner" = [])),
    responses((status = 200, description = "The document", body = Document)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<DocumentId>,
) -> ApiResult<Json<Document>> {
    Ok(Json(documents::show(&s.store, &s.keys, &id)?))
}

/// A document's bytes, streamed: always as an attachment (`Content-Disposition`), with
/// `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`; HTML, SVG and
/// unknown types as `application/octet-stream`.
#[utoipa::path(get, path = "/v1/documents/{id}/content", tag = "documents",
    params(("id" = DocumentId, Path, description = "Document id")),
    security(("owner" = [])),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream", body = String)))]
pub async fn content(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<DocumentId>,
) -> ApiResult<Response> {
    let (doc, reader) = s
        .blocking(move |s| Ok(documents::open(&s.store, &s.keys, &id)?))
        .await?;
    Ok(serve(doc, reader))
}

/// `Content-Disposition: attachment` with the file's name, as an ASCII fallback and as RFC
/// 5987 UTF-8 (`filename*`); never a directory (the core keeps none).
fn disposition(doc: &Document) -> String {
    let name = doc
        .file_name
        .as_ref()
        .map_or_else(|| doc.id.to_string(), |n| n.to_string());
    let ascii: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | ' ' | '(' | ')' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => encoded.push(char::from(b)),
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~' => {
                encoded.push(char::from(b))
            }
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A document's bytes as a response (owner and vendor API alike), one chunk at a time from
/// a blocking task. A chunk that does not open cuts the transfer (and is logged).
pub(crate) fn serve(doc: Document, reader: Reader) -> Response {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(4);
    let id = doc.id.clone();
    tokio::task::spawn_blocking(move || {
        for chunk in reader {
            let sent = match chunk {
                Ok(plain) => tx.blocking_send(Ok(Bytes::copy_from_slice(&plain))),
                Err(e) => {
                    tracing::error!(document = %id, error = %e, "a document's chunk did not open; the transfer was cut");
                    let _ = tx.blocking_send(Err(io::Error::other("the document did not open")));
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
    });
    let mut res = Body::new(ChannelBody { rx }).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(sniff::served_as(&doc.content_type)),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(doc.size));
    // `disposition` writes only visible ASCII, so the fallback is never taken; it is there so
    // that no answer ever goes out without `attachment`.
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition(&doc)).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    res
}

/// Delete a document.
#[utoipa::path(delete, path = "/v1/documents/{id}", tag = "documents",
    params(("id" = DocumentId, Path, description = "Document id")),
    security(("owner" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<DocumentId>,
) -> ApiResult<StatusCode> {
    documents::delete(&s.store, &s.index, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set whether a document is shared (`{"shared": true}`).
#[utoipa::path(patch, path = "/v1/documents/{id}", tag = "documents", request_body = DocumentPatch,
    params(("id" = DocumentId, Path, description = "Document id")),
    security(("owner" = [])),
    responses((status = 200, description = "The document", body = Document)))]
pub async fn edit(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<DocumentId>,
    Json(patch): Json<DocumentPatch>,
) -> ApiResult<Json<Document>> {
    Ok(Json(
        documents::set_shared(&s.store, &s.keys, &id, patch.shared, s.now()).await?,
    ))
}

/// Share a document: a vendor an interaction it is attached to is shared with may then read
/// it (with `interactions:read`). Off by default.
#[utoipa::path(post, path = "/v1/documents/{id}/share", tag = "documents",
    params(("id" = DocumentId, Path, description = "Document id")),
    security(("owner" = [])),
    responses((status = 200, description = "The document, shared", body = Document)))]
pub async fn share(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<DocumentId>,
) -> ApiResult<Json<Document>> {
    Ok(Json(
        documents::set_shared(&s.store, &s.keys, &id, true, s.now()).await?,
    ))
}

/// Stop sharing a document.
#[utoipa::path(post, path = "/v1/documents/{id}/unshare", tag = "documents",
    params(("id" = DocumentId, Path, description = "Document id")),
    security(("owner" = [])),
    responses((status = 200, description = "The document, not shared", body = Document)))]
pub async fn unshare(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<DocumentId>,
) -> ApiResult<Json<Document>> {
    Ok(Json(
        documents::set_shared(&s.store, &s.keys, &id, false, s.now()).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_is_escaped_both_ways() {
        let doc = |name: &str| Document {
            id: "doc_aaaaaaaaaaaaaaaa".parse().unwrap(),
            vendor_id: "ven_aaaaaaaaaaaaaaaa".parse().unwrap(),
            attached_to: carnet_schemas::AttachedTo {
                kind: carnet_schemas::AttachmentKind::Vendor,
                id: "ven_aaaaaaaaaaaaaaaa".into(),
            },
            title: None,
            file_name: Some(name.parse().unwrap()),
            content_type: "text/plain".into(),
            size: 0,
            shared: false,
            created_at: chrono::Utc::now(),
        };
        assert_eq!(
            disposition(&doc("facture été \"1\".pdf")),
            "attachment; filename=\"facture _t_ _1_.pdf\"; filename*=UTF-8''facture%20%C3%A9t%C3%A9%20%221%22.pdf"
        );
        assert!(disposition(&doc("a\";b")).starts_with("attachment; filename=\"a__b\";"));
    }
}
