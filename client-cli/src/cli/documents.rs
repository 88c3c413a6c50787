//! `carnet doc …`'s arguments: documents attached to a vendor, a purchase, an incident or an
//! interaction (issue 18).

use std::path::PathBuf;

use carnet_schemas::{DocumentId, IncidentId, InteractionId, Line, PurchaseId};
use clap::{ArgGroup, Args, Subcommand};

use super::VendorRef;

#[derive(Debug, Subcommand)]
#[command(
    after_help = "A document is sealed in 64 KiB chunks on the server and streamed both ways. \
Its type is found from its bytes. It is always downloaded as a file, never shown by a \
browser as a page. A vendor may read it only once you share it AND it is attached to an \
interaction you shared with that vendor.\n\nExamples:\n  \
carnet doc add invoice.pdf --purchase pur_0123456789abcdef --title \"Invoice\"\n  \
carnet doc add photo.jpg --interaction int_0123456789abcdef\n  \
carnet doc list --vendor Acme\n  \
carnet doc get doc_0123456789abcdef\n  \
carnet doc get doc_0123456789abcdef --out - | less\n  \
carnet doc share doc_0123456789abcdef\n  \
carnet doc rm doc_0123456789abcdef --yes"
)]
pub enum DocCmd {
    /// Attach a file to a vendor, a purchase, an incident or an interaction
    #[command(
        after_help = "The file is streamed; its type is found from its bytes. At most \
25 MiB per document and 1 GiB for all (the server's document_max_mib and \
document_quota_mib).\n\nExamples:\n  \
carnet doc add invoice.pdf --purchase pur_0123456789abcdef --title \"Invoice\"\n  \
carnet doc add contract.pdf --vendor Acme\n  \
carnet doc add photo.jpg --incident inc_0123456789abcdef"
    )]
    Add(DocAdd),
    /// List documents (oldest first)
    #[command(after_help = "Examples:\n  \
carnet doc list\n  \
carnet doc list --vendor Acme\n  \
carnet --csv doc list > documents.csv")]
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
    },
    /// Download a document: to its own name in the current directory (never replacing a
    /// file), to --out FILE, or to stdout with --out -
    #[command(
        after_help = "Only the stored name's last part is used, never a directory. The \
file is written to a temporary file first and renamed once whole.\n\nExamples:\n  \
carnet doc get doc_0123456789abcdef\n  \
carnet doc get doc_0123456789abcdef --out ~/invoice.pdf\n  \
carnet doc get doc_0123456789abcdef --out - | less"
    )]
    Get {
        id: DocumentId,
        /// Where to write it (`-`: stdout)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Delete a document
    #[command(after_help = "Examples:\n  \
carnet doc rm doc_0123456789abcdef\n  \
carnet doc rm doc_0123456789abcdef --yes")]
    Rm {
        id: DocumentId,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// Share a document: a vendor may then read it if it is attached to an interaction shared
    /// with that vendor (scope interactions:read)
    #[command(after_help = "Examples:\n  \
carnet doc share doc_0123456789abcdef")]
    Share { id: DocumentId },
    /// Stop sharing a document
    #[command(after_help = "Examples:\n  \
carnet doc unshare doc_0123456789abcdef")]
    Unshare { id: DocumentId },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("to").required(true).multiple(false)
    .args(["vendor", "purchase", "incident", "interaction"])))]
pub struct DocAdd {
    /// The file to attach
    pub file: PathBuf,
    /// Attach it to this vendor (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
    /// Attach it to this purchase
    #[arg(long, value_name = "ID")]
    pub purchase: Option<PurchaseId>,
    /// Attach it to this incident
    #[arg(long, value_name = "ID")]
    pub incident: Option<IncidentId>,
    /// Attach it to this interaction
    #[arg(long, value_name = "ID")]
    pub interaction: Option<InteractionId>,
    /// A title (one line)
    #[arg(long, value_name = "TEXT")]
    pub title: Option<Line>,
}
