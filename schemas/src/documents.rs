//! Documents: the files a relationship is made of (an invoice, a contract, the photo of the
//! damage), attached to a vendor or to one of its purchases, incidents or interactions. The
//! bytes travel as the raw body of `POST /v1/documents` and of `GET /v1/documents/{id}/content`,
//! never inside JSON; these are the JSON that describes them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{DocumentId, VendorId};
use crate::values::Line;

/// What a document is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    Vendor,
    Purchase,
    Incident,
    Interaction,
}

impl AttachmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::Vendor => "vendor",
            AttachmentKind::Purchase => "purchase",
            AttachmentKind::Incident => "incident",
            AttachmentKind::Interaction => "interaction",
        }
    }
}

/// The record a document is attached to: its kind and id (`ven_…`, `pur_…`, `inc_…`, `int_…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct AttachedTo {
    pub kind: AttachmentKind,
    pub id: String,
}

/// A document's description (its bytes are at `GET /v1/documents/{id}/content`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Document {
    pub id: DocumentId,
    /// The vendor the document belongs to (that of the record it is attached to).
    pub vendor_id: VendorId,
    pub attached_to: AttachedTo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Line>,
    /// The name the file was uploaded under, without any directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<Line>,
    /// What the bytes are, found from the bytes themselves (never from the name).
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Whether a vendor the interaction it is attached to is shared with may read it.
    pub shared: bool,
    pub created_at: DateTime<Utc>,
}

/// The documents `GET /v1/documents` lists, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct DocumentList {
    pub items: Vec<Document>,
}

/// Query of `POST /v1/documents`: exactly one of `vendor`, `purchase`, `incident` and
/// `interaction`, and optionally a title and the file's name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentUpload {
    /// Attach it to this vendor (its id).
    pub vendor: Option<String>,
    /// Attach it to this purchase.
    pub purchase: Option<String>,
    /// Attach it to this incident.
    pub incident: Option<String>,
    /// Attach it to this interaction (a vendor it is shared with may then read it once shared).
    pub interaction: Option<String>,
    /// A title (one line).
    #[param(value_type = Option<String>)]
    pub title: Option<Line>,
    /// The file's name (one line; any directory is dropped).
    #[param(value_type = Option<String>)]
    pub file_name: Option<Line>,
}

/// Filter of `GET /v1/documents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// Only this vendor's documents.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
}

/// Body of `PATCH /v1/documents/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    pub shared: bool,
}
