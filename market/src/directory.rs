//! The market directory: the file an operator publishes and signs, listing the categories of the
//! market and its vendors (id, name, website, Ed25519 and X25519 public keys, categories, the
//! terms they accept).
//!
//! On disk it is a small JSON object `{"format": "carnet-market-directory/1", "payload": …,
//! "signature": …}`: the directory's exact JSON bytes base64url-encoded, and the operator's
//! Ed25519 signature of `carnet-relay/1 directory\n<payload bytes>` (see `wire::SignedKind`), or
//! `null` while it is being edited. A verifier in any language decodes, verifies those bytes, and
//! only then parses them. `verify` never returns a directory that is unsigned, signed by another
//! key, expired, or older than the version the caller already has.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::keys::{Recipient, SigningKey, VerifyingKey, b64, unb64};
use crate::wire::{Category, SignedKind, VendorId};

/// The `format` of a directory file.
pub const FORMAT: &str = "carnet-market-directory/1";
/// The largest directory file read.
pub const MAX_DIRECTORY: usize = 16 * 1024 * 1024;

/// The directory file as stored and published.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    /// Always `carnet-market-directory/1`.
    pub format: String,
    /// The directory's JSON bytes (`Directory`), base64url without padding.
    pub payload: String,
    /// The operator's Ed25519 signature of `carnet-relay/1 directory\n` + the payload's bytes,
    /// base64url without padding; `null` until `carnet-market directory sign`.
    pub signature: Option<String>,
}

/// The market directory itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// Grows by one at each signature; a vault refuses a directory older than the one it has.
    pub version: u64,
    /// After this, the directory is refused.
    pub expires_at: DateTime<Utc>,
    /// The two-level category taxonomy: each first level and its second levels.
    pub taxonomy: BTreeMap<String, Vec<String>>,
    pub vendors: Vec<DirectoryVendor>,
}

/// One vendor of the market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryVendor {
    pub id: VendorId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Signs its offers: Ed25519, base64url without padding.
    pub ed25519: String,
    /// Its answers (and, next, sealed intents) are encrypted to it: an age `age1…` recipient.
    pub x25519: String,
    /// The categories it serves (two levels).
    pub categories: Vec<Category>,
    /// The terms it accepts.
    pub terms: AcceptedTerms,
}

/// The intent terms a vendor accepts (the same names as an intent's `terms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedTerms {
    /// The longest a consumer may ask it to keep an intent for, in days.
    pub retention_days: u32,
    /// It accepts not to sell or pass on an intent.
    pub no_resale: bool,
    /// It accepts not to use an intent to track the consumer.
    pub no_tracking: bool,
}

/// Why a directory was refused or could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("not a market directory file ({0})")]
    Malformed(String),
    #[error("the directory is not signed")]
    Unsigned,
    #[error("the directory is not signed by the expected key")]
    BadSignature,
    #[error("the directory expired at {0}")]
    Expired(DateTime<Utc>),
    #[error("the directory is version {got}, older than version {have} already known")]
    Older { have: u64, got: u64 },
    #[error("{0}")]
    BadVendor(String),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl Directory {
    /// An empty directory, version 0, to add vendors to.
    pub fn empty(now: DateTime<Utc>) -> Self {
        Directory {
            version: 0,
            expires_at: now,
            taxonomy: BTreeMap::new(),
            vendors: Vec::new(),
        }
    }

    /// The vendor with this id.
    pub fn vendor(&self, id: &VendorId) -> Option<&DirectoryVendor> {
        self.vendors.iter().find(|v| v.id == *id)
    }

    /// A vendor's Ed25519 key (what verifies its offers).
    pub fn vendor_key(&self, id: &VendorId) -> Option<VerifyingKey> {
        self.vendor(id).and_then(|v| v.ed25519.parse().ok())
    }

    /// Adds `vendor`, or replaces the one with its id; its categories join the taxonomy.
    pub fn add_vendor(&mut self, vendor: DirectoryVendor) -> Result<(), DirectoryError> {
        check_vendor(&vendor)?;
        for c in &vendor.categories {
            let subs = self.taxonomy.entry(c.top().to_owned()).or_default();
            if !subs.iter().any(|s| s == c.sub()) {
                subs.push(c.sub().to_owned());
                subs.sort();
            }
        }
        match self.vendors.iter_mut().find(|v| v.id == vendor.id) {
            Some(old) => *old = vendor,
            None => self.vendors.push(vendor),
        }
        Ok(())
    }

    /// The file for this directory, unsigned (any edit drops the signature).
    pub fn unsigned_file(&self) -> DirectoryFile {
        DirectoryFile {
            format: FORMAT.into(),
            payload: b64(&to_json(self)),
            signature: None,
        }
    }

    /// Moves to the next version, valid for `valid_for` from `now`, and signs it with `key`.
    pub fn sign(
        &mut self,
        key: &SigningKey,
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> DirectoryFile {
        self.version += 1;
        self.expires_at = now + valid_for;
        let bytes = to_json(self);
        DirectoryFile {
            format: FORMAT.into(),
            signature: Some(b64(&key.sign(&SignedKind::Directory.signing_input(&bytes)))),
            payload: b64(&bytes),
        }
    }
}

fn to_json(directory: &Directory) -> Vec<u8> {
    // Strings, numbers and maps of strings always serialise.
    serde_json::to_vec(directory).expect("directory JSON")
}

fn check_vendor(v: &DirectoryVendor) -> Result<(), DirectoryError> {
    let bad = |why: String| Err(DirectoryError::BadVendor(format!("vendor {}: {why}", v.id)));
    if v.name.trim().is_empty() || v.name.chars().count() > 200 {
        return bad("a name of 1 to 200 characters is needed".into());
    }
    if v.ed25519.parse::<VerifyingKey>().is_err() {
        return bad("its ed25519 key is not 43 base64url characters".into());
    }
    if v.x25519.parse::<Recipient>().is_err() {
        return bad("its x25519 key is not an age1… recipient".into());
    }
    if v.categories.is_empty() {
        return bad("it needs at least one category".into());
    }
    if let Some(w) = &v.website
        && !(w.starts_with("https://") || w.starts_with("http://"))
    {
        return bad(format!("website '{w}' is not an http(s) URL"));
    }
    Ok(())
}

impl DirectoryFile {
    /// Reads a directory file from `bytes` (not verified).
    pub fn parse(bytes: &[u8]) -> Result<DirectoryFile, DirectoryError> {
        if bytes.len() > MAX_DIRECTORY {
            return Err(DirectoryError::Malformed("too large".into()));
        }
        let file: DirectoryFile = serde_json::from_slice(bytes)
            .map_err(|e| DirectoryError::Malformed(format!("not its JSON: {e}")))?;
        if file.format != FORMAT {
            return Err(DirectoryError::Malformed(format!("format is not {FORMAT}")));
        }
        Ok(file)
    }

    /// The directory inside, without checking the signature: for the operator's own edits only.
    pub fn unverified(&self) -> Result<Directory, DirectoryError> {
        let bytes = unb64(&self.payload)
            .ok_or_else(|| DirectoryError::Malformed("payload is not base64url".into()))?;
        parse_directory(&bytes)
    }

    /// The file's JSON, as written.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Three strings always serialise.
        let mut out = serde_json::to_vec_pretty(self).expect("directory file JSON");
        out.push(b'\n');
        out
    }

    /// Writes the file to `path` whole or not at all (a temporary file renamed over it).
    pub fn write(&self, path: &Path) -> Result<(), DirectoryError> {
        let io = |action, source| DirectoryError::Io {
            action,
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp-write");
        std::fs::write(&tmp, self.to_bytes()).map_err(|e| io("write", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("replace", e))
    }
}

fn parse_directory(bytes: &[u8]) -> Result<Directory, DirectoryError> {
    let d: Directory = serde_json::from_slice(bytes)
        .map_err(|e| DirectoryError::Malformed(format!("its payload: {e}")))?;
    for v in &d.vendors {
        check_vendor(v)?;
    }
    Ok(d)
}

/// Verifies a published directory file: signed by `operator`, not expired at `now`, and, when
/// the caller has one already, not older than `have_version`. Returns the directory inside.
pub fn verify(
    bytes: &[u8],
    operator: &VerifyingKey,
    now: DateTime<Utc>,
    have_version: Option<u64>,
) -> Result<Directory, DirectoryError> {
    let file = DirectoryFile::parse(bytes)?;
    let signature = file.signature.as_deref().ok_or(DirectoryError::Unsigned)?;
    let signature = unb64(signature).ok_or(DirectoryError::BadSignature)?;
    let payload = unb64(&file.payload)
        .ok_or_else(|| DirectoryError::Malformed("payload is not base64url".into()))?;
    if !operator.verify(&SignedKind::Directory.signing_input(&payload), &signature) {
        return Err(DirectoryError::BadSignature);
    }
    let directory = parse_directory(&payload)?;
    if directory.expires_at <= now {
        return Err(DirectoryError::Expired(directory.expires_at));
    }
    if let Some(have) = have_version
        && directory.version < have
    {
        return Err(DirectoryError::Older {
            have,
            got: directory.version,
        });
    }
    Ok(directory)
}

/// Reads the directory at `path` for editing: its content, signed or not, or an empty directory
/// when the file does not exist.
pub fn load_for_edit(path: &Path, now: DateTime<Utc>) -> Result<Directory, DirectoryError> {
    match std::fs::read(path) {
        Ok(bytes) => DirectoryFile::parse(&bytes)?.unverified(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Directory::empty(now)),
        Err(source) => Err(DirectoryError::Io {
            action: "read",
            path: path.display().to_string(),
            source,
        }),
    }
}
