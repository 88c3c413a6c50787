//! The export archive: everything in a vault as one JSON document, the plaintext that
//! `carnet export` encrypts with age and `carnet import` decrypts. `GET /v1/export` writes it
//! and `POST /v1/import` reads it, both as a stream, one record at a time, so the sections
//! appear in the order of `Archive`'s fields: the format and version first, then the key
//! material, then records after everything they refer to (vendors before their ledger,
//! intents before their offers, clients before grants and receipts).
//!
//! The archive holds the vault's pairwise-pseudonym key and each vendor's receipt signing
//! seed, so the vault it is imported into keeps every `customer_ref` and signs and publishes
//! with the same receipt keys: it is as sensitive as the vault itself. It holds no owner
//! token, no access or refresh token, no authorization code, invitation or webhook delivery:
//! those belong to the server that issued them.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::documents::Document;
use crate::grants::GrantFields;
use crate::ids::{
    ClientId, DocumentId, GrantId, IntentId, MarketOfferId, OfferId, PromiseId, PurchaseId,
    ReceiptId, SubscriptionId, VendorId,
};
use crate::intents::{IntentFields, OfferFields};
use crate::ledger::{Incident, Interaction, ProfileFields, Purchase, Vendor};
use crate::oauth::{AuditVerification, RedirectUri};
use crate::promises::PromiseFields;
use crate::subscriptions::SubscriptionFields;
use crate::values::{Amount, Currency, Text, WebUrl};

/// The format version this build writes and reads.
pub const ARCHIVE_VERSION: u32 = 5;

/// The largest archive (decrypted JSON) carnetd imports, documents aside: 1 GiB, about ten
/// times a vault of 100,000 interactions. With documents, see `max_archive_bytes`.
pub const MAX_ARCHIVE_BYTES: u64 = 1 << 30;

/// The largest single record in an archive: 1 MiB (a record the API accepts is at most
/// 64 KiB). A document chunk record is bounded by `MAX_ARCHIVE_CHUNK_RECORD_BYTES` instead.
pub const MAX_ARCHIVE_RECORD_BYTES: u64 = 1 << 20;

/// The most bytes of a document one chunk record carries: 1 MiB.
pub const MAX_ARCHIVE_CHUNK_BYTES: usize = 1 << 20;

/// The largest document chunk record: 1 MiB of bytes in base64 (4/3 of it), its JSON, and
/// the 64 KiB the import's parser may have read ahead when the record starts (record sizes
/// are counted on what it reads).
pub const MAX_ARCHIVE_CHUNK_RECORD_BYTES: u64 =
    (MAX_ARCHIVE_CHUNK_BYTES as u64).div_ceil(3) * 4 + (96 << 10);

/// The largest archive a vault whose document quota is `document_quota_bytes` imports: 1 GiB
/// plus the quota, the quota counted as it travels (base64, 4/3 of the bytes, and each 1 MiB
/// chunk record's JSON around it).
pub fn max_archive_bytes(document_quota_bytes: u64) -> u64 {
    let records = document_quota_bytes.div_ceil(MAX_ARCHIVE_CHUNK_BYTES as u64);
    MAX_ARCHIVE_BYTES
        .saturating_add(document_quota_bytes.div_ceil(3).saturating_mul(4))
        .saturating_add(records.saturating_mul(256))
}

/// The largest document quota carnetd can be configured with (`document_quota_mib`): 1 TiB,
/// so that the largest archive (`max_archive_bytes`) stays a file every common file system
/// holds.
pub const MAX_DOCUMENT_QUOTA_MIB: u32 = 1 << 20;

/// What the document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub enum ArchiveFormat {
    #[serde(rename = "carnet-archive")]
    CarnetArchive,
}

/// A whole vault, as `GET /v1/export` streams it and `POST /v1/import` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    /// Always `carnet-archive`; the first member.
    pub format: ArchiveFormat,
    /// The format version (`5`; `4` before market offers, `3` before documents, `2` before
    /// promises, `1` before the access log's checkpoint); the second member. A reader takes every version up to its own
    /// and refuses the others.
    pub version: u32,
    pub exported_at: DateTime<Utc>,
    /// The carnetd version that wrote it.
    pub carnet_version: String,
    /// How many records each section holds (checked on import).
    pub counts: ArchiveCounts,
    /// The key material behind pseudonyms and receipt signatures.
    pub keys: ArchiveKeys,
    /// The access log's HMAC chain as checked by the exporting server just before it wrote
    /// the log out. The importing server chains the entries anew under its own key.
    pub access_log_verification: AuditVerification,
    /// The access log's retention checkpoint (version 2 on; absent or `null`: nothing was
    /// pruned): how many entries were pruned, up to which position and time. The importing
    /// server seals it anew and chains the entries after it, so its log verifies and still
    /// says what was pruned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log_checkpoint: Option<crate::oauth::PrunedEntries>,
    /// The consent page's web password, as its Argon2id hash in PHC form (`$argon2id$…`; one
    /// written before Argon2id is `pbkdf2-sha256$…`), if one is set. An import refuses a hash
    /// whose costs exceed m = 65536 KiB, t = 10, p = 4 (or 1,000,000 PBKDF2 iterations).
    pub web_password: Option<String>,
    /// The owner's profile, if one was ever set.
    pub profile: Option<ArchivedProfile>,
    pub vendors: Vec<Vendor>,
    pub incidents: Vec<Incident>,
    pub purchases: Vec<Purchase>,
    pub interactions: Vec<Interaction>,
    /// The vendors' promises (version 3 on; absent: none).
    #[serde(default)]
    pub promises: Vec<ArchivedPromise>,
    /// The subscriptions and contracts (version 3 on, once they were added; absent: none).
    #[serde(default)]
    pub subscriptions: Vec<ArchivedSubscription>,
    pub intents: Vec<ArchivedIntent>,
    pub offers: Vec<ArchivedOffer>,
    /// The offers that came through the market relay (version 5 on; absent: none), with what
    /// the vault keeps to answer them and prove them. Not carried, on purpose: each announced
    /// intent's relay keys and the relay's outbox (see `ArchivedMarketOffer`).
    #[serde(default)]
    pub market_offers: Vec<ArchivedMarketOffer>,
    pub clients: Vec<ArchivedClient>,
    pub grants: Vec<ArchivedGrant>,
    pub receipts: Vec<ArchivedReceipt>,
    /// In log order.
    pub access_log: Vec<ArchivedAccessEntry>,
    /// The documents' descriptions, oldest first, as the owner API gives them (version 4 on;
    /// absent: none); the content type is found again from the bytes on import. Their bytes
    /// follow in `document_chunks`.
    #[serde(default)]
    pub documents: Vec<Document>,
    /// The documents' bytes (version 4 on; absent: none): for each document of `documents`
    /// with any bytes, in the same order, its records numbered 0, 1, 2, …, each carrying at
    /// most 1 MiB of the bytes in base64 (standard alphabet, padded), every record but the
    /// last of a document full. Their bytes add up to the document's `size`; an empty
    /// document has no record.
    #[serde(default)]
    pub document_chunks: Vec<ArchivedDocumentChunk>,
}

/// Up to 1 MiB of a document's bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedDocumentChunk {
    pub document_id: DocumentId,
    /// The record's position among its document's records, from 0.
    pub index: u64,
    /// The bytes, base64 (standard alphabet, padded).
    pub data: String,
}

/// A promise as archived: as stored, without what is computed when answered (`late`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ArchivedPromise {
    pub id: PromiseId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: PromiseFields,
}

/// A subscription as archived: as stored, without what is computed when answered (its state,
/// next payment, renewal and notice deadline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ArchivedSubscription {
    pub id: SubscriptionId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: SubscriptionFields,
}

/// Records per section: in an archive, what it holds; in an import report, what was imported.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ArchiveCounts {
    pub vendors: u64,
    pub incidents: u64,
    pub purchases: u64,
    pub interactions: u64,
    /// (Version 3 on; absent: 0.)
    #[serde(default)]
    pub promises: u64,
    /// (Absent: 0.)
    #[serde(default)]
    pub subscriptions: u64,
    pub intents: u64,
    pub offers: u64,
    /// (Version 5 on; absent: 0.)
    #[serde(default)]
    pub market_offers: u64,
    pub clients: u64,
    pub grants: u64,
    pub receipts: u64,
    pub access_log: u64,
    /// (Version 4 on; absent: 0.) Documents, not their chunk records.
    #[serde(default)]
    pub documents: u64,
}

impl ArchiveCounts {
    pub fn total(&self) -> u64 {
        self.vendors
            + self.incidents
            + self.purchases
            + self.interactions
            + self.promises
            + self.subscriptions
            + self.intents
            + self.offers
            + self.market_offers
            + self.clients
            + self.grants
            + self.receipts
            + self.access_log
            + self.documents
    }
}

/// Secret key material (base64url without padding, 32 bytes each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveKeys {
    /// The HMAC-SHA256 key of pairwise pseudonyms: `customer_ref` is `cus_` and the first 16
    /// bytes of HMAC(key, vendor id) in lower-case base32hex.
    pub pseudonym_key: String,
    /// The Ed25519 seed of each vendor's receipt key: every vendor in the archive and every
    /// vendor that has receipts.
    pub receipt_keys: Vec<ArchivedReceiptKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedReceiptKey {
    pub vendor_id: VendorId,
    /// The 32-byte Ed25519 seed.
    pub seed: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ArchivedProfile {
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: ProfileFields,
}

/// An intent's stored state (`expired` is never stored: it is read off the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArchivedIntentState {
    Draft,
    Active,
    Fulfilled,
    Withdrawn,
}

impl ArchivedIntentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchivedIntentState::Draft => "draft",
            ArchivedIntentState::Active => "active",
            ArchivedIntentState::Fulfilled => "fulfilled",
            ArchivedIntentState::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ArchivedIntent {
    pub id: IntentId,
    pub state: ArchivedIntentState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether vendors were told it became active (`intent.activated`), so a move does not
    /// announce it twice.
    pub activation_announced: bool,
    /// Whether vendors were told its window closed (`intent.expired`).
    pub expiry_announced: bool,
    #[serde(flatten)]
    pub fields: IntentFields,
}

/// An offer's stored state (`expired` is read off the offer's and its intent's windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArchivedOfferState {
    Pending,
    Accepted,
    Declined,
}

impl ArchivedOfferState {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchivedOfferState::Pending => "pending",
            ArchivedOfferState::Accepted => "accepted",
            ArchivedOfferState::Declined => "declined",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ArchivedOffer {
    pub id: OfferId,
    pub intent_id: IntentId,
    pub vendor_id: VendorId,
    pub state: ArchivedOfferState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: OfferFields,
    pub decline_reason: Option<Text>,
    pub purchase_id: Option<PurchaseId>,
}

/// An offer that came through the market relay from a directory vendor: what the owner API
/// shows of it (`MarketOffer`, without what is read off the clock) and what the vault keeps to
/// answer it and prove it. The terms shown (price, currency, `valid_through`, description)
/// are those `signed_terms` carries; an import refuses an offer where they differ.
///
/// The keys of the intent it was made to are not carried (they are secrets, like channel
/// secrets): after a move the vault cannot send the vendor its answer, and offers vendors make
/// to the intent's old announcement are not read. See the README's export section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedMarketOffer {
    pub id: MarketOfferId,
    pub intent_id: IntentId,
    /// The vendor's id in the market directory.
    pub directory_vendor: String,
    /// The vendor's own id for this offer (a second offer with the same id is dropped).
    pub remote_id: String,
    pub state: ArchivedOfferState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The vendor as the directory described it when the offer arrived.
    pub vendor: ArchivedDirectoryVendor,
    pub price: Amount,
    pub price_currency: Currency,
    #[serde(default)]
    pub description: Option<String>,
    pub valid_through: DateTime<Utc>,
    /// The vendor's signed terms exactly as received: the proof of what it offered.
    pub signed_terms: ArchivedSignedTerms,
    pub decline_reason: Option<Text>,
    /// The purchase recorded when it was accepted.
    pub purchase_id: Option<PurchaseId>,
    /// The vault's vendor for it, once accepting found or added one.
    pub vendor_id: Option<VendorId>,
    /// Whether the answer went to the vendor through the relay (from the vault that exported
    /// it; an importing vault cannot send one: the relay keys stay behind).
    #[serde(default)]
    pub vendor_told: bool,
}

/// A directory vendor as the vault keeps it with its offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedDirectoryVendor {
    pub name: String,
    pub website: Option<String>,
    /// Its X25519 key (`age1…`): where an answer is encrypted to.
    pub x25519: String,
}

/// The vendor's signed terms (the relay's inner envelope, of kind `offer`): the terms' JSON
/// bytes and the vendor's Ed25519 signature of them, both base64url without padding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedSignedTerms {
    pub payload: String,
    pub signature: String,
}

/// A vendor's OAuth client, with what lets the vendor keep working after a move: the hash of
/// its client secret (the secret itself is never stored) and its webhook signing secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedClient {
    pub client_id: ClientId,
    pub vendor_id: VendorId,
    /// SHA-256 of the client secret, base64url without padding.
    pub secret_sha256: String,
    /// Connected by the owner (`false`: registered itself through `/oauth/register`).
    pub verified: bool,
    pub redirect_uris: Vec<RedirectUri>,
    pub webhook_url: Option<WebUrl>,
    /// The Standard Webhooks secret (`whsec_…`).
    pub webhook_secret: Option<String>,
    /// The grant types it registered (`/oauth/register`); absent: every grant type (a client
    /// the owner connected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ArchivedGrant {
    pub id: GrantId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub fields: GrantFields,
}

/// A signed consent receipt; it verifies with the vendor's key from `keys.receipt_keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedReceipt {
    pub id: ReceiptId,
    pub vendor_id: VendorId,
    pub grant_id: GrantId,
    pub created_at: DateTime<Utc>,
    /// The compact JWS (EdDSA).
    pub jws: String,
}

/// One access-log entry. Entries keep their order and content; the importing server gives
/// them positions from 1 and chains them under its own key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivedAccessEntry {
    /// Position in the exporting server's log (strictly increasing).
    pub seq: i64,
    /// The entry's id (lower-case base32hex, 16 characters): derived from its position for entries
    /// written since schema 8, random for older ones; kept as it is on import.
    pub id: String,
    pub at: DateTime<Utc>,
    pub vendor_id: VendorId,
    pub client_id: ClientId,
    pub grant_id: Option<GrantId>,
    pub endpoint: String,
    pub scope: String,
    pub ids: Vec<String>,
    pub status: u16,
    /// For intent reads: intent id → the fields it withheld from the vendor.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub withheld: std::collections::BTreeMap<String, Vec<crate::IntentField>>,
    /// Identical reads this entry stands for (see `AccessEntry`; version 2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<crate::Repeats>,
}

/// `POST /v1/import`: what was imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ImportReport {
    pub imported: ArchiveCounts,
    pub profile: bool,
    /// Whether the archive's web password was taken (a password already set here is kept).
    pub web_password: bool,
    /// When the archive was written, and by which carnetd.
    pub exported_at: DateTime<Utc>,
    pub carnet_version: String,
    /// The access log as checked by the exporting server (see `Archive`).
    pub access_log_verification: AuditVerification,
}
