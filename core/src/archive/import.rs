//! Reading an archive into this vault, inside one write transaction: a refused archive changes
//! nothing. The upload is parsed as it arrives, member by member and record by record, in the
//! order the schema gives (a member out of order is refused), and each record is checked,
//! sealed under this vault's key and inserted before the next is read.
//!
//! Only an empty vault takes an import: on one that holds anything, the archive is read to
//! the end to name the ids it shares with this vault, and nothing is written. The archive's
//! pseudonym key and receipt seeds replace the ones this vault would derive (see
//! `vault::imported`), and every receipt must verify under them. The access log is appended
//! in the archive's order and chained under this vault's own key.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::rc::Rc;

use carnet_schemas::{
    ARCHIVE_VERSION, ArchiveCounts, ArchiveKeys, ArchivedProfile, AuditVerification,
    ConsentReceipt, ImportReport,
};
use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use ring::hmac;
use ring::signature::{ED25519, KeyPair, UnparsedPublicKey};
use rusqlite::Connection;

use super::documents::DocImport;
use super::parse;
use crate::access::chain::{self, Head};
use crate::access::password::{self, WEB_PASSWORD};
use crate::access::receipts;
use crate::documents::Limits;
use crate::ledger::PROFILE_ID;
use crate::store::StoreError;
use crate::store::archive as rows;
use crate::store::records::{self, Row};
use crate::vault::ImportedKeys;
use crate::vault::imported::{self, decode_key};
use crate::vault::{Keys, SubKey, Table};

/// Where the parser is before the first member.
pub(super) const START: &str = "its start";

/// How many of the ids an archive shares with a non-empty vault are named.
const NAMED_CONFLICTS: usize = 10;

/// Why an archive was refused. Each says where, in the archive's own terms.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the archive is not valid JSON: {0}")]
    NotJson(String),
    #[error("this is not a Carnet archive: {0}")]
    NotAnArchive(String),
    #[error("the archive is format version {found}; this carnetd reads version {ARCHIVE_VERSION}")]
    Version { found: u64 },
    #[error("{at}: {reason}")]
    Invalid { at: String, reason: String },
    /// Larger than this vault takes (`limit` bytes: 1 GiB plus its document quota).
    #[error("the archive is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{at}: a record larger than {limit} bytes")]
    RecordTooLarge { at: String, limit: u64 },
    /// The archive's documents exceed this vault's limits (one document's size, or the quota).
    #[error("{at}: {reason}")]
    DocumentLimit { at: String, reason: String },
    /// The upload ended early or failed (the client went away, or its decryption failed).
    #[error("the archive stopped before its end: {0}")]
    Cut(String),
    #[error("the vault is not empty")]
    NotEmpty(Box<Conflicts>),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What stands in the way of importing into a non-empty vault.
#[derive(Debug, Default)]
pub struct Conflicts {
    /// The first ids the archive shares with this vault (`vendor ven_…`).
    pub named: Vec<String>,
    /// How many it shares in all.
    pub shared: u64,
    /// What this vault holds.
    pub present: ArchiveCounts,
    pub profile: bool,
}

/// The archive's key material, checked.
pub(super) struct TakenKeys {
    pub(super) pseudonym: SubKey,
    pub(super) pseudonym_hmac: hmac::Key,
    pub(super) seeds: BTreeMap<String, SubKey>,
}

pub(super) struct Importer<'c> {
    pub(super) c: &'c Connection,
    pub(super) keys: &'c Keys,
    /// `false`: this vault holds something; only look for shared ids.
    pub(super) writing: bool,
    pub(super) conflicts: Conflicts,
    pub(super) since_record: Rc<Cell<u64>>,
    /// The size limit of the record being read (a document chunk record's is larger).
    pub(super) record_limit: Rc<Cell<u64>>,
    /// The archive's size limit: 1 GiB plus this vault's document quota.
    pub(super) archive_limit: u64,
    /// The archive's documents so far.
    pub(super) docs: DocImport,
    /// Where the parser is: a member, and the index in a section.
    pub(super) at: (&'static str, Option<u64>),
    pub(super) failure: Option<ImportError>,
    pub(super) declared: Option<ArchiveCounts>,
    pub(super) counts: ArchiveCounts,
    pub(super) taken: Option<TakenKeys>,
    pub(super) vendor_names: HashSet<String>,
    /// Incident id → its vendor, to check the incidents interactions name.
    pub(super) incident_vendors: HashMap<String, String>,
    pub(super) last_seq: Option<i64>,
    pub(super) head: Option<Head>,
    pub(super) exported_at: Option<DateTime<Utc>>,
    pub(super) carnet_version: Option<String>,
    pub(super) verification: Option<AuditVerification>,
    /// The exporting log's retention checkpoint, adopted before its entries are chained.
    pub(super) checkpoint: Option<carnet_schemas::PrunedEntries>,
    pub(super) profile: bool,
    pub(super) web_password: bool,
}

/// Reads an archive from `input` into this vault, whose documents are held to `limits`. Runs
/// inside the writer's transaction: any error rolls back everything this call wrote.
pub fn run(
    c: &Connection,
    keys: &Keys,
    limits: Limits,
    input: impl Read,
) -> Result<ImportReport, ImportError> {
    let present = rows::counts(c)?;
    let has_profile = records::exists(c, Table::Profile, PROFILE_ID)?;
    let mut imp = Importer {
        c,
        keys,
        writing: present.total() == 0 && !has_profile,
        conflicts: Conflicts {
            present,
            profile: has_profile,
            ..Conflicts::default()
        },
        since_record: Rc::new(Cell::new(0)),
        record_limit: Rc::new(Cell::new(carnet_schemas::MAX_ARCHIVE_RECORD_BYTES)),
        archive_limit: carnet_schemas::max_archive_bytes(limits.quota_bytes),
        docs: DocImport::new(limits),
        at: (START, None),
        failure: None,
        declared: None,
        counts: ArchiveCounts::default(),
        taken: None,
        vendor_names: HashSet::new(),
        incident_vendors: HashMap::new(),
        last_seq: None,
        head: None,
        exported_at: None,
        carnet_version: None,
        verification: None,
        checkpoint: None,
        profile: false,
        web_password: false,
    };
    parse::parse(&mut imp, input)?;
    imp.finish()
}

impl Importer<'_> {
    pub(super) fn at(&self) -> String {
        match self.at {
            (member, None) => member.to_owned(),
            (member, Some(i)) => format!("{member}[{i}]"),
        }
    }

    pub(super) fn invalid(&self, reason: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            at: self.at(),
            reason: reason.into(),
        }
    }

    pub(super) fn conflict(
        &mut self,
        table: Table,
        noun: &str,
        id: &str,
    ) -> Result<(), ImportError> {
        if rows::exists(self.c, table, id)? {
            self.conflicts.shared += 1;
            if self.conflicts.named.len() < NAMED_CONFLICTS {
                self.conflicts.named.push(format!("{noun} {id}"));
            }
        }
        Ok(())
    }

    /// Refuses a reference to a record the archive did not hold before this one.
    pub(super) fn require(&self, table: Table, noun: &str, id: &str) -> Result<(), ImportError> {
        if records::exists(self.c, table, id)? {
            Ok(())
        } else {
            Err(self.invalid(format!(
                "names {noun} {id}, which the archive does not hold (before this record)"
            )))
        }
    }

    /// An insert's constraint failure is a record the archive holds twice.
    pub(super) fn inserted(
        &self,
        done: Result<(), StoreError>,
        what: &str,
    ) -> Result<(), ImportError> {
        match done {
            Err(e) if e.is_constraint() => {
                Err(self.invalid(format!("the archive holds {what} more than once")))
            }
            other => Ok(other?),
        }
    }

    pub(super) fn taken(&self) -> Result<&TakenKeys, ImportError> {
        self.taken
            .as_ref()
            .ok_or_else(|| self.invalid("comes before `keys`"))
    }

    pub(super) fn keys_member(&mut self, k: ArchiveKeys) -> Result<(), ImportError> {
        let bad = |what: &str| self.invalid(format!("{what} is not 32 bytes in base64url"));
        let pseudonym = decode_key(&k.pseudonym_key).ok_or_else(|| bad("pseudonym_key"))?;
        let mut seeds = BTreeMap::new();
        for rk in &k.receipt_keys {
            let seed = decode_key(&rk.seed)
                .ok_or_else(|| bad(&format!("the receipt seed of {}", rk.vendor_id)))?;
            if seeds.insert(rk.vendor_id.to_string(), seed).is_some() {
                return Err(self.invalid(format!(
                    "vendor {} has more than one receipt key",
                    rk.vendor_id
                )));
            }
        }
        self.taken = Some(TakenKeys {
            pseudonym_hmac: hmac::Key::new(hmac::HMAC_SHA256, pseudonym.expose()),
            pseudonym,
            seeds,
        });
        Ok(())
    }

    pub(super) fn web_password_member(
        &mut self,
        stored: Option<String>,
    ) -> Result<(), ImportError> {
        let Some(stored) = stored else { return Ok(()) };
        // A hash that asks for more work than carnetd allows would stall every sign-in.
        if let Err(e) = password::check(&stored) {
            return Err(self.invalid(e.to_string()));
        }
        if self.writing && records::meta_get(self.c, WEB_PASSWORD)?.is_none() {
            records::meta_put(self.c, WEB_PASSWORD, stored.as_bytes())?;
            self.web_password = true;
        }
        Ok(())
    }

    pub(super) fn profile_member(&mut self, p: Option<ArchivedProfile>) -> Result<(), ImportError> {
        let Some(p) = p else { return Ok(()) };
        if !self.writing {
            if self.conflicts.profile {
                self.conflicts.shared += 1;
                if self.conflicts.named.len() < NAMED_CONFLICTS {
                    self.conflicts.named.push("the profile".into());
                }
            }
            return Ok(());
        }
        let sealed = self.keys.seal().seal(PROFILE_ID, &p.fields);
        records::upsert(
            self.c,
            &Row {
                id: PROFILE_ID.into(),
                vendor_id: None,
                created_at: p.created_at,
                updated_at: p.updated_at,
                sealed,
            },
        )?;
        self.profile = true;
        Ok(())
    }

    /// After the whole archive: the counts it declared, then the conflicts or the keys.
    pub(super) fn finish(mut self) -> Result<ImportReport, ImportError> {
        self.end_documents()?;
        self.at = ("counts", None);
        let declared = self.declared.unwrap_or_default();
        if declared != self.counts {
            let (said, held) = (
                serde_json::to_value(declared).unwrap_or_default(),
                serde_json::to_value(self.counts).unwrap_or_default(),
            );
            let section = said
                .as_object()
                .and_then(|m| m.keys().find(|k| said[k.as_str()] != held[k.as_str()]))
                .cloned()
                .unwrap_or_default();
            return Err(self.invalid(format!(
                "they say {} {section}, the archive holds {}",
                said[&section], held[&section]
            )));
        }
        if !self.writing {
            return Err(ImportError::NotEmpty(Box::new(self.conflicts)));
        }
        if self.head.is_none() && self.checkpoint.is_some() && self.writing {
            // Every entry was pruned: the checkpoint alone comes over.
            self.start_chain()?;
        }
        if let Some(head) = &self.head {
            chain::save_head(self.c, self.keys, head)?;
        }
        let taken = self.taken()?;
        let keys = ImportedKeys {
            pseudonym: taken.pseudonym.copy(),
            receipt_seeds: taken
                .seeds
                .iter()
                .map(|(v, k)| (v.clone(), k.copy()))
                .collect(),
        };
        imported::save(self.c, self.keys.seal(), &keys)?;
        Ok(ImportReport {
            imported: self.counts,
            profile: self.profile,
            web_password: self.web_password,
            exported_at: self.exported_at.unwrap_or_default(),
            carnet_version: self.carnet_version.unwrap_or_default(),
            access_log_verification: self
                .verification
                .unwrap_or_else(AuditVerification::unchecked),
        })
    }
}

/// The payload of a receipt JWS, if it is signed by `seed`'s key under that key's id.
pub(super) fn verify_receipt(jws: &str, seed: &SubKey) -> Option<ConsentReceipt> {
    let pair = receipts::pair_of_seed(seed);
    let public = pair.public_key().as_ref();
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let header: serde_json::Value =
        serde_json::from_slice(&BASE64URL_NOPAD.decode(header.as_bytes()).ok()?).ok()?;
    if header["alg"] != "EdDSA" || header["kid"] != receipts::kid_of(public).as_str() {
        return None;
    }
    let signature = BASE64URL_NOPAD.decode(signature.as_bytes()).ok()?;
    let signed = &jws[..jws.rfind('.')?];
    UnparsedPublicKey::new(&ED25519, public)
        .verify(signed.as_bytes(), &signature)
        .ok()?;
    serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).ok()?).ok()
}
