//! **Documents** in the web app: the list on a vendor's page (title, file name, size, what it
//! is attached to, shared or not) with Download, Share/Unshare and Delete, and the upload form
//! a phone's camera can fill (`capture="environment"`). The rules are the core's
//! (`carnet_core::documents`); the upload goes through the owner API's streaming bridge
//! (`owner_api::documents::store_streamed`), a chunk at a time, never the whole file in
//! memory; a download is the owner API's `serve` (an attachment, `nosniff`, sandboxed).
//! Never takes a file before the form's token was checked; a limit passed answers a page
//! that says which, and keeps nothing.

use axum::body::Bytes;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use carnet_core::documents::{self, Attachment, NewDocument};
use carnet_schemas::{Document, DocumentId, DocumentUpload, Line, VendorId};
use maud::{Markup, html};

use super::failed;
use super::shell::{self, csrf, empty};
use super::signed::{Posted, Signed, cross_site, refused_form, see_other};
use crate::owner_api::documents::{UploadSource, serve, store_streamed};
use crate::state::AppState;

/// What the file input offers: pictures (a phone offers its camera), PDFs, and the office
/// and text files an invoice or a contract comes as.
pub const ACCEPT: &str =
    "image/*,application/pdf,.pdf,.txt,.csv,.doc,.docx,.odt,.xls,.xlsx,.ods,.eml,.zip";

/// The most bytes a text field of the upload form may hold.
const FIELD_MAX: usize = 4096;

/// A size as a person reads it.
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// The documents section of vendor `vendor`'s page: its documents, and the upload form, whose
/// "attached to" offers the vendor and `records` (value: the record's id; label).
pub fn section(
    signed: &Signed,
    vendor: &VendorId,
    docs: &[Document],
    records: &[(String, String)],
    max_mib: u64,
) -> Markup {
    let label = |d: &Document| {
        records
            .iter()
            .find(|(id, _)| *id == d.attached_to.id)
            .map(|(_, l)| l.clone())
    };
    html! {
        section aria-labelledby="documents" {
            h2 #documents { "Documents" }
            @if docs.is_empty() { (empty("No document kept for this vendor yet.")) }
            ul.items {
                @for d in docs {
                    li #(d.id) {
                        span.tag { "document" } " "
                        strong { (title(d)) }
                        @if d.shared { " " span.tag.good { "shared" } }
                        div.meta {
                            @if let Some(f) = &d.file_name { (f) " · " }
                            (size(d.size)) " · " (d.content_type)
                            " · attached to " (d.attached_to.kind.as_str())
                            @if let Some(l) = label(d) { " “" (l) "”" }
                        }
                        div.actions {
                            a.button.secondary href={ "/app/documents/" (d.id) "/content" } download { "Download" }
                            @if d.shared {
                                (shell::button_form(signed, &format!("/app/documents/{}/unshare", d.id), "Stop sharing", "secondary"))
                            } @else {
                                (shell::button_form(signed, &format!("/app/documents/{}/share", d.id), "Share", "secondary"))
                            }
                            form.inline method="post" action={ "/app/documents/" (d.id) "/delete" } {
                                (csrf(signed))
                                button.danger type="submit" data-confirm="Delete this document? It cannot be brought back." { "Delete" }
                            }
                        }
                    }
                }
            }
            p.hint { "A shared document attached to an interaction you share with the vendor can be read by it; nothing else can." }
            h3 { "Add a document" }
            form.card method="post" action={ "/app/vendors/" (vendor) "/documents" } enctype="multipart/form-data" {
                (csrf(signed))
                div.field {
                    label for="d-title" { "Title" }
                    input id="d-title" type="text" name="title" maxlength="200";
                }
                div.field {
                    label for="d-to" { "Attached to" }
                    select id="d-to" name="to" {
                        option value=(vendor) { "This vendor" }
                        @for (id, l) in records { option value=(id) { (l) } }
                    }
                }
                div.field {
                    label for="d-file" { "File" }
                    small.hint id="d-file-hint" { "A photo (a phone offers its camera), a PDF or another file, up to " (max_mib) " MiB." }
                    input id="d-file" type="file" name="file" required accept=(ACCEPT) capture="environment" aria-describedby="d-file-hint";
                }
                button type="submit" { "Upload" }
            }
        }
    }
}

fn title(d: &Document) -> &str {
    d.title
        .as_ref()
        .or(d.file_name.as_ref())
        .map_or("(untitled)", Line::as_str)
}

impl UploadSource for Field<'_> {
    async fn next_bytes(&mut self) -> Option<Result<Bytes, String>> {
        self.chunk().await.map_err(|e| e.to_string()).transpose()
    }
}

fn unreadable() -> Response {
    shell::problem(
        StatusCode::BAD_REQUEST,
        "This form could not be read",
        "Nothing was kept. Go back, reload the page and send it again.",
    )
}

fn unreadable_because(_: MultipartError) -> Response {
    unreadable()
}

/// A text field of the form, at most `FIELD_MAX` bytes.
async fn text(field: &mut Field<'_>) -> Result<String, Response> {
    let mut out = Vec::new();
    while let Some(b) = field.chunk().await.map_err(unreadable_because)? {
        out.extend_from_slice(&b);
        if out.len() > FIELD_MAX {
            return Err(unreadable());
        }
    }
    String::from_utf8(out).map_err(|_| unreadable())
}

/// The attachment the form's "attached to" names (a record's id, whose prefix says its kind).
fn attachment(to: &str) -> Result<Attachment, documents::DocumentError> {
    let mut q = DocumentUpload::default();
    let slot = match to.split_once('_').map(|(p, _)| p) {
        Some("pur") => &mut q.purchase,
        Some("inc") => &mut q.incident,
        Some("int") => &mut q.interaction,
        _ => &mut q.vendor,
    };
    *slot = Some(to.to_owned());
    Attachment::from_upload(&q)
}

/// `POST /app/vendors/{id}/documents` (multipart/form-data: `csrf` first, then `title`, `to`,
/// and the file last): streams the file into the vault, then back to the vendor's page.
pub async fn upload(State(s): State<AppState>, Path(raw): Path<String>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let signed = match Signed::from_request_parts(&mut parts, &s).await {
        Ok(signed) => signed,
        Err(r) => return r,
    };
    if cross_site(&parts.headers) {
        return refused_form();
    }
    let limits = s.settings.documents;
    // A browser shows an answer only once it has sent its body: a file somewhat past the
    // limit is read (and dropped) as it streams, to answer a page; one declared past twice
    // the limit is refused at once, as the streaming would cut it anyway.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = declared.is_some_and(|n| n > limits.max_bytes.saturating_mul(2));
    let Ok(mut form) = Multipart::from_request(Request::from_parts(parts, body), &s).await else {
        return unreadable();
    };
    let (mut token_ok, mut title, mut to) = (false, String::new(), raw);
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return unreadable(),
            Err(e) => return unreadable_because(e),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name != "csrf" && !token_ok {
            // Nothing is read, let alone stored, before the form's token.
            return refused_form();
        }
        match name.as_str() {
            "csrf" => {
                let token = match text(&mut field).await {
                    Ok(t) => t,
                    Err(r) => return r,
                };
                if !signed.0.csrf_matches(&token) {
                    return refused_form();
                }
                token_ok = true;
            }
            "title" => match text(&mut field).await {
                Ok(t) => title = t,
                Err(r) => return r,
            },
            "to" => match text(&mut field).await {
                Ok(t) => to = t,
                Err(r) => return r,
            },
            "file" => {
                if too_large {
                    return failed(documents::DocumentError::TooLarge {
                        limit_mib: limits.max_bytes >> 20,
                    });
                }
                let file_name = field
                    .file_name()
                    .and_then(|n| n.trim().parse::<Line>().ok());
                let title = title.trim();
                let new = NewDocument {
                    attachment: match attachment(to.trim()) {
                        Ok(a) => a,
                        Err(e) => return failed(e),
                    },
                    title: if title.is_empty() {
                        None
                    } else {
                        match title.parse() {
                            Ok(t) => Some(t),
                            Err(_) => {
                                return shell::problem(
                                    StatusCode::UNPROCESSABLE_ENTITY,
                                    "This title cannot be kept",
                                    "A title is one line of text. Nothing was kept: go back and change it.",
                                );
                            }
                        }
                    },
                    file_name,
                };
                return match store_streamed(&s, new, field).await {
                    Ok(doc) => see_other(&format!("/app/vendors/{}#{}", doc.vendor_id, doc.id)),
                    Err(e) => failed(e),
                };
            }
            _ => {}
        }
    }
}

fn document_id(raw: &str) -> Option<DocumentId> {
    raw.parse().ok()
}

fn no_document() -> Response {
    shell::problem(
        StatusCode::NOT_FOUND,
        "No such document",
        "This document is not in your Carnet (it may have been deleted).",
    )
}

/// `GET /app/documents/{id}/content`: the document's bytes, as the owner API serves them.
pub async fn download(_: Signed, State(s): State<AppState>, Path(raw): Path<String>) -> Response {
    let Some(id) = document_id(&raw) else {
        return no_document();
    };
    match s
        .blocking(move |s| Ok(documents::open(&s.store, &s.keys, &id)?))
        .await
    {
        Ok((doc, reader)) => serve(doc, reader),
        Err(e) => failed(e),
    }
}

async fn set_shared(s: AppState, raw: String, shared: bool) -> Response {
    let Some(id) = document_id(&raw) else {
        return no_document();
    };
    match documents::set_shared(&s.store, &s.keys, &id, shared, s.now()).await {
        Ok(doc) => see_other(&format!("/app/vendors/{}#{}", doc.vendor_id, doc.id)),
        Err(e) => failed(e),
    }
}

/// `POST /app/documents/{id}/share`.
pub async fn share(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    set_shared(s, raw, true).await
}

/// `POST /app/documents/{id}/unshare`.
pub async fn unshare(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    set_shared(s, raw, false).await
}

/// `POST /app/documents/{id}/delete`: then back to its vendor's documents.
pub async fn delete(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    let Some(id) = document_id(&raw) else {
        return no_document();
    };
    let shown = s
        .blocking({
            let id = id.clone();
            move |s| Ok(documents::show(&s.store, &s.keys, &id)?)
        })
        .await;
    let doc = match shown {
        Ok(doc) => doc,
        Err(e) => return failed(e),
    };
    match documents::delete(&s.store, &s.index, &id).await {
        Ok(()) => see_other(&format!("/app/vendors/{}#documents", doc.vendor_id)),
        Err(e) => failed(e),
    }
}
