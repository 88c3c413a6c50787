//! `carnet doc add | list | get | rm | share | unshare`. Uploads stream the file as it is
//! read (`Client::post_stream_as`); downloads stream to a temporary file beside the target,
//! renamed into place only once whole, so an error never leaves half a file. A name from the
//! server is only ever a file name in the current directory: any directory in it is dropped,
//! and an existing file is never replaced unless --out names it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use carnet_schemas::{AttachmentKind, Document, DocumentId, DocumentList, Line};

use super::archive::{human_bytes, writable_target};
use super::{Ctx, delete_asking, listed, name_of};
use crate::cli::{DocAdd, DocCmd, VendorRef};
use crate::client::{Doc, Upload};
use crate::error::{CliError, CliResult, io_error};
use crate::output::{self, TableOut, quoted, truncate};

/// How long an upload may take in all.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

pub fn run(ctx: &Ctx, cmd: DocCmd) -> CliResult<()> {
    match cmd {
        DocCmd::Add(a) => add(ctx, a),
        DocCmd::List { vendor } => list(ctx, vendor.as_ref()),
        DocCmd::Get { id, out } => get(ctx, &id, out.as_deref()),
        DocCmd::Rm { id, yes } => rm(ctx, &id, yes),
        DocCmd::Share { id } => share(ctx, &id, true),
        DocCmd::Unshare { id } => share(ctx, &id, false),
    }
}

fn path(id: &DocumentId) -> String {
    format!("/v1/documents/{id}")
}

/// `invoice.pdf, application/pdf, 12.0 KiB`.
fn summary(d: &Document) -> String {
    let name = d.file_name.as_ref().map_or("no file name", |n| n.as_str());
    format!(
        "{}, {}, {}",
        quoted(name),
        d.content_type,
        human_bytes(d.size)
    )
}

fn add(ctx: &Ctx, a: DocAdd) -> CliResult<()> {
    let file = File::open(&a.file).map_err(|e| io_error("read", &a.file, &e))?;
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(v) = &a.vendor {
        query.push(("vendor", ctx.vendor_id(v)?.to_string()));
    }
    if let Some(p) = &a.purchase {
        query.push(("purchase", p.to_string()));
    }
    if let Some(i) = &a.incident {
        query.push(("incident", i.to_string()));
    }
    if let Some(i) = &a.interaction {
        query.push(("interaction", i.to_string()));
    }
    if let Some(t) = &a.title {
        query.push(("title", t.to_string()));
    }
    let name = a
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse::<Line>().ok());
    if let Some(n) = name {
        query.push(("file_name", n.to_string()));
    }
    let upload = Upload {
        path: "/v1/documents",
        query: &query,
        content_type: "application/octet-stream",
        unchanged: "nothing of it was kept; try again",
    };
    let doc: Doc<Document> =
        ctx.client
            .post_stream_as(&upload, Box::new(io::BufReader::new(file)), UPLOAD_TIMEOUT)?;
    ctx.print(&doc, |d| {
        ctx.done(&format!("added document {} ({})", d.id, summary(d)));
    });
    Ok(())
}

fn list(ctx: &Ctx, vendor: Option<&VendorRef>) -> CliResult<()> {
    let query: Vec<(&str, String)> = match vendor {
        Some(v) => vec![("vendor", ctx.vendor_id(v)?.to_string())],
        None => Vec::new(),
    };
    let doc: Doc<DocumentList> = ctx.client.get("/v1/documents", &query)?;
    let items = listed(doc.value.items, &doc.raw);
    if ctx.json || items.is_empty() {
        ctx.print_list(&items, "no documents", |_| {});
        return Ok(());
    }
    let names = ctx.vendor_names()?;
    let mut t = TableOut::new(&[
        "id",
        "vendor",
        "attached to",
        "title",
        "file",
        "type",
        "size",
        "shared",
    ])
    .ids(&[0])
    .fixed(&[6, 7])
    .optional(&[5, 2, 3]);
    for d in items.iter().map(|d| &d.value) {
        t.row([
            d.id.to_string(),
            name_of(&names, &d.vendor_id),
            attached(d),
            d.title
                .as_ref()
                .map_or(String::new(), |t| truncate(t.as_str(), 40)),
            d.file_name
                .as_ref()
                .map_or(String::new(), |n| truncate(n.as_str(), 40)),
            d.content_type.clone(),
            human_bytes(d.size),
            if d.shared { "yes" } else { "no" }.to_owned(),
        ]);
    }
    t.print();
    Ok(())
}

/// What a document is attached to, for a listing: `purchase pur_…`, or `vendor`.
fn attached(d: &Document) -> String {
    match d.attached_to.kind {
        AttachmentKind::Vendor => "vendor".to_owned(),
        kind => format!("{} {}", kind.as_str(), d.attached_to.id),
    }
}

/// The name a download takes in the current directory: the stored file name without any
/// directory or control character, else the document's id.
fn local_name(d: &Document) -> PathBuf {
    let stored = d.file_name.as_ref().map_or("", |n| n.as_str());
    let base: String = stored
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let base = base.trim();
    if base.is_empty() || base == "." || base == ".." {
        PathBuf::from(d.id.as_str())
    } else {
        PathBuf::from(base)
    }
}

fn get(ctx: &Ctx, id: &DocumentId, out: Option<&Path>) -> CliResult<()> {
    let meta: Doc<Document> = ctx.client.get(&path(id), &[])?;
    let mut body = ctx.client.get_stream(&format!("{}/content", path(id)))?;
    let cut = |e: &io::Error| {
        CliError::failed(format!(
            "the document from carnetd stopped before its end: {e}"
        ))
    };
    if out == Some(Path::new("-")) {
        let mut stdout = io::stdout().lock();
        let n = io::copy(&mut body, &mut stdout).map_err(|e| cut(&e))?;
        stdout.flush().map_err(|e| cut(&e))?;
        if n != meta.value.size {
            return Err(CliError::failed("the document from carnetd ended early"));
        }
        return Ok(());
    }
    let (target, replace) = match out {
        Some(p) => (p.to_owned(), true),
        None => (local_name(&meta.value), false),
    };
    if !replace && fs::symlink_metadata(&target).is_ok() {
        return Err(CliError::failed(format!(
            "{} exists: carnet doc get never replaces a file it was not told to",
            target.display()
        ))
        .with_hint(format!(
            "name where to write it: carnet doc get {id} --out FILE"
        )));
    }
    let dir = writable_target(&target)?;
    let unwritten = format!("nothing was written to {}", target.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".carnet-doc-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io_error("create a temporary file in", &dir, &e))?;
    let n = io::copy(&mut body, tmp.as_file_mut())
        .map_err(|e| cut(&e).with_hint(format!("{unwritten}; try again")))?;
    if n != meta.value.size {
        return Err(CliError::failed("the document from carnetd ended early")
            .with_hint(format!("{unwritten}; try again")));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_error("write", tmp.path(), &e))?;
    let placed = if replace {
        writable_target(&target)?;
        tmp.persist(&target).map_err(|e| e.error)
    } else {
        tmp.persist_noclobber(&target).map_err(|e| e.error)
    };
    placed.map_err(|e| io_error("write", &target, &e).with_hint(unwritten))?;
    if ctx.json {
        output::json(&serde_json::json!({
            "id": id.to_string(),
            "file": target.display().to_string(),
            "bytes": n,
        }));
    }
    ctx.done(&format!(
        "wrote document {id} to {} ({})",
        target.display(),
        human_bytes(n)
    ));
    Ok(())
}

fn rm(ctx: &Ctx, id: &DocumentId, yes: bool) -> CliResult<()> {
    delete_asking(ctx, "doc", "documents", id, yes, |d: &Document| {
        format!(" ({})", summary(d))
    })
}

fn share(ctx: &Ctx, id: &DocumentId, shared: bool) -> CliResult<()> {
    let verb = if shared { "share" } else { "unshare" };
    let doc: Doc<Document> = ctx.client.post_empty(&format!("{}/{verb}", path(id)))?;
    ctx.print(&doc, |d| {
        let said = if shared {
            "shared: a vendor may read it if it is attached to an interaction shared with that vendor"
        } else {
            "no longer shared"
        };
        ctx.done(&format!("document {} {said}", d.id));
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: Option<&str>) -> Document {
        Document {
            id: "doc_aaaaaaaaaaaaaaaa".parse().unwrap(),
            vendor_id: "ven_aaaaaaaaaaaaaaaa".parse().unwrap(),
            attached_to: carnet_schemas::AttachedTo {
                kind: AttachmentKind::Vendor,
                id: "ven_aaaaaaaaaaaaaaaa".into(),
            },
            title: None,
            file_name: name.map(|n| n.parse().unwrap()),
            content_type: "text/plain".into(),
            size: 0,
            shared: false,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_name_from_the_server_never_leaves_the_current_directory() {
        assert_eq!(
            local_name(&doc(Some("invoice.pdf"))),
            PathBuf::from("invoice.pdf")
        );
        assert_eq!(
            local_name(&doc(Some("../../.ssh/authorized_keys"))),
            PathBuf::from("authorized_keys")
        );
        assert_eq!(
            local_name(&doc(Some("/etc/passwd"))),
            PathBuf::from("passwd")
        );
        assert_eq!(
            local_name(&doc(Some("C:\\Users\\x\\a.txt"))),
            PathBuf::from("a.txt")
        );
        assert_eq!(
            local_name(&doc(Some("dir/.."))),
            PathBuf::from("doc_aaaaaaaaaaaaaaaa")
        );
        assert_eq!(
            local_name(&doc(None)),
            PathBuf::from("doc_aaaaaaaaaaaaaaaa")
        );
    }
}
