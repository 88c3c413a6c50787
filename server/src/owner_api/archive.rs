//! `GET /v1/export` and `POST /v1/import`: the whole vault out as one archive, and an archive
//! into an empty vault (see `carnet_core::archive`). Both bodies stream through a small bounded
//! pipe between the connection and a blocking task, so memory stays flat whatever the size of
//! the vault. An import's upload is spooled (sealed, to an unnamed file) before the import
//! takes the single writer, so a slow or stalled upload never holds up the vault's writes;
//! it is refused once silent for `import_idle_timeout` or older than `import_total_timeout`. The CLI encrypts and decrypts with age on the owner's machine; this server only
//! ever sees the plaintext JSON, over the owner-token-authenticated API.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use carnet_schemas::{Archive, ArchiveCounts, ImportReport, max_archive_bytes};
use http_body::Frame;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner};
use crate::state::AppState;
use carnet_core::archive::export::{self, ExportError};
use carnet_core::archive::import::{self, Conflicts, ImportError};
use carnet_core::archive::{ChannelReader, ChannelWriter, spool};

/// A streamed response body: chunks from a blocking writer (an export, a document). An
/// error ends the body cut, so the client never takes a short body for a whole one.
pub(crate) struct ChannelBody {
    pub(crate) rx: mpsc::Receiver<io::Result<Bytes>>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|r| r.map(Frame::data)))
    }
}

/// Export everything: the archive `carnet export` encrypts.
///
/// Streamed as it is written, from one consistent snapshot. If the server fails part way
/// (a record that no longer opens), the transfer is cut rather than ended, so a client never
/// takes a short archive for a whole one; the server log says why.
#[utoipa::path(get, path = "/v1/export", tag = "archive",
    security(("owner" = [])),
    responses((status = 200, description = "The whole vault as one archive (JSON, streamed)", body = Archive)))]
pub async fn export(_: Owner, State(s): State<AppState>) -> ApiResult<Response> {
    // Accesses still buffered are appended first: the archive holds every one made so far.
    s.access_log.flush(&s.store, &s.keys, s.now()).await?;
    let (tx, rx) = mpsc::channel(8);
    let state = s.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter::new(tx);
        let now = state.now();
        let written = state
            .store
            .read(|c| export::write(c, &state.keys, now, &mut out));
        match written {
            Ok(counts) => match out.finish() {
                Ok(()) => tracing::info!(records = counts.total(), "vault exported"),
                Err(_) => tracing::warn!("the export's client went away before its end"),
            },
            Err(ExportError::Write(_)) => {
                tracing::warn!("the export's client went away before its end")
            }
            Err(e) => {
                tracing::error!(error = %e, "the export failed; the transfer was cut");
                out.fail();
            }
        }
    });
    let mut res = Body::new(ChannelBody { rx }).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}

/// Import an archive into this vault, which must be empty.
///
/// Every id, `customer_ref` and receipt key is kept; the access log is chained anew under this
/// vault's key. On a vault that holds anything, nothing is written and the answer (409) names
/// the ids the archive shares with it. A refused archive changes nothing: the import is one
/// transaction, which starts once the whole upload has arrived. Archives are at most 1 GiB plus
/// the document quota (`document_quota_mib`, in base64), records at most 1 MiB (a document
/// chunk record: 1 MiB of bytes); documents past `document_max_mib` or the quota are refused
/// (413); an upload silent for 60 s, or still arriving after 30 minutes, is
/// refused (400) with nothing imported.
#[utoipa::path(post, path = "/v1/import", tag = "archive", request_body = Archive,
    security(("owner" = [])),
    responses(
        (status = 200, description = "Imported", body = ImportReport),
        (status = 409, description = "The vault is not empty: nothing was imported", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn import(
    _: Owner,
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limits = s.settings.documents;
    let limit = max_archive_bytes(limits.quota_bytes);
    if declared.is_some_and(|n| n > limit) {
        return Err(refused(ImportError::TooLarge { limit }));
    }
    // The whole upload first, to the spool: the writer is not taken while it arrives.
    let (tx, rx) = mpsc::channel(16);
    let dir = s.paths.dir.clone();
    let spooling = tokio::task::spawn_blocking(move || spool::fill(&dir, ChannelReader::new(rx)));
    let (idle, total) = (
        s.settings.import_idle_timeout,
        s.settings.import_total_timeout,
    );
    let uploaded = match tokio::time::timeout(total, pump(body, tx, idle, limit)).await {
        Ok(done) => done,
        Err(_) => Err(ImportError::Cut(format!(
            "the upload took longer than {} s",
            total.as_secs()
        ))),
    };
    let spooled = spooling
        .await
        .map_err(|e| ApiError::Internal(format!("the spool task failed: {e}")))?;
    // The upload's own failure explains why the spool stopped.
    uploaded.map_err(refused)?;
    let spooled =
        spooled.map_err(|e| ApiError::Internal(format!("the upload could not be spooled: {e}")))?;
    let keys = s.keys.clone();
    let report = s
        .store
        .write(move |c| import::run(c, &keys, limits, spooled))
        .await
        .map_err(refused)?;
    tracing::info!(records = report.imported.total(), "archive imported");
    // The in-memory views, the keys taken over and the published receipt keys come from the
    // database again.
    s.lifecycle
        .reopen()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(report))
}

/// Feeds the request body to the spool, chunk by chunk, refusing an upload silent for `idle`.
/// Once the spool has stopped reading (it failed), the rest of the body is still read and
/// dropped, so the client finishes sending and gets the answer.
async fn pump(
    mut body: Body,
    tx: mpsc::Sender<io::Result<Bytes>>,
    idle: Duration,
    limit: u64,
) -> Result<(), ImportError> {
    let mut total: u64 = 0;
    let mut reading = true;
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => {
                let why = format!("the upload stalled for {} s", idle.as_secs_f64());
                let _ = tx.send(Err(io::Error::other(why.clone()))).await;
                return Err(ImportError::Cut(why));
            }
            Ok(None) => return Ok(()),
            Ok(Some(Err(e))) => {
                let why = format!("the upload failed: {e}");
                let _ = tx.send(Err(io::Error::other(why.clone()))).await;
                return Err(ImportError::Cut(why));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len() as u64;
        if total > limit {
            let _ = tx.send(Err(io::Error::other("too large"))).await;
            return Err(ImportError::TooLarge { limit });
        }
        if reading && tx.send(Ok(data)).await.is_err() {
            reading = false;
        }
    }
}

/// The problem for a refused import.
fn refused(e: ImportError) -> ApiError {
    let unchanged = "nothing was imported: the vault is as it was";
    match e {
        ImportError::NotJson(why) => ApiError::BadRequest {
            detail: format!("the archive is not valid JSON: {why}"),
            hint: Some(format!(
                "{unchanged}; the archive was damaged, or was not written by `carnet export`"
            )),
        },
        ImportError::NotAnArchive(why) => ApiError::Unprocessable {
            detail: format!("this is not a Carnet archive: {why}"),
            hint: format!("{unchanged}; import a file written by `carnet export`"),
        },
        e @ ImportError::Version { .. } => ApiError::Unprocessable {
            detail: e.to_string(),
            hint: format!(
                "{unchanged}; import it with a carnetd at least as new as the one that exported it"
            ),
        },
        ImportError::Invalid { at, reason } => ApiError::Unprocessable {
            detail: format!("the archive's content is not valid at {at}: {reason}"),
            hint: format!(
                "{unchanged}; the archive was altered after `carnet export` wrote it, or comes from elsewhere"
            ),
        },
        ImportError::TooLarge { limit } => ApiError::StreamTooLarge {
            detail: format!(
                "the archive is larger than {} MiB, the most this carnetd imports (1 GiB plus its document quota)",
                limit >> 20
            ),
            hint: format!(
                "{unchanged}; an archive written by `carnet export` stays below it unless its documents exceed this server's `document_quota_mib`"
            ),
        },
        ImportError::RecordTooLarge { at, limit } => ApiError::StreamTooLarge {
            detail: format!(
                "the record at {at} is larger than {} KiB, the most an archive record may be",
                limit >> 10
            ),
            hint: format!("{unchanged}; the archive was altered, or comes from elsewhere"),
        },
        ImportError::DocumentLimit { at, reason } => ApiError::StreamTooLarge {
            detail: format!("the archive's documents do not fit this vault, at {at}: {reason}"),
            hint: format!(
                "{unchanged}; raise `document_max_mib` or `document_quota_mib` in this carnetd's configuration, then import again"
            ),
        },
        ImportError::Cut(why) => ApiError::BadRequest {
            detail: format!("the archive stopped before its end: {why}"),
            hint: Some(format!("{unchanged}; send the whole archive again")),
        },
        ImportError::NotEmpty(c) => not_empty(*c),
        ImportError::Store(e) => ApiError::Store(e),
    }
}

fn not_empty(c: Conflicts) -> ApiError {
    let present = describe(&c.present, c.profile);
    let detail = if c.shared == 0 {
        format!(
            "this vault is not empty ({present}), so nothing was imported; none of the archive's ids are here"
        )
    } else {
        let more = c.shared.saturating_sub(c.named.len() as u64);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!(
            "this vault is not empty ({present}), so nothing was imported; {} of the archive's records are already here: {}{tail}",
            c.shared,
            c.named.join(", ")
        )
    };
    ApiError::conflict(
        detail,
        "an import restores a whole vault into an empty one and never merges or overwrites: import into a new carnetd data directory",
    )
}

/// "3 vendors, 12 interactions, a profile".
fn describe(n: &ArchiveCounts, profile: bool) -> String {
    let mut parts: Vec<String> = [
        (n.vendors, "vendor"),
        (n.incidents, "incident"),
        (n.purchases, "purchase"),
        (n.interactions, "interaction"),
        (n.promises, "promise"),
        (n.subscriptions, "subscription"),
        (n.intents, "intent"),
        (n.offers, "offer"),
        (n.clients, "client"),
        (n.grants, "grant"),
        (n.receipts, "receipt"),
        (n.access_log, "access-log entry"),
        (n.documents, "document"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, noun)| match (count, noun) {
        (1, noun) => format!("1 {noun}"),
        (n, "access-log entry") => format!("{n} access-log entries"),
        (n, noun) => format!("{n} {noun}s"),
    })
    .collect();
    if profile {
        parts.push("a profile".into());
    }
    parts.join(", ")
}
