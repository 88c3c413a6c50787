//! What a vendor remembers between runs, under its state directory (`--state DIR`, by default
//! `$XDG_STATE_HOME/carnet-vendor/<id>`): one JSON file per intent it verified
//! (`intents/<intent_ref>.json`: the intent's key, latest revision and event, whether it ended,
//! its reply bucket and X25519 key), one per offer it made (`offers/<offer_id>.json`) and one per
//! answer to them it verified (`answers/<offer_id>.json`).
//!
//! Files are replaced whole (written beside, then renamed), so a crash leaves the old record or
//! the new one, never half of one. It holds no private key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::wire::announcement::{Level, PublicFields, Window};
use crate::wire::answer::Answer;
use crate::wire::offer::OfferTerms;
use crate::wire::{Bucket, Category, Event, IntentRef, OfferId, Region};

/// What the vendor knows of one intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentRecord {
    pub intent_ref: IntentRef,
    /// The key bound to this `intent_ref` when it was first seen; no other key is ever accepted.
    pub intent_key: String,
    /// The latest revision accepted.
    pub revision: u64,
    pub event: Event,
    /// Whether a terminal event (withdrawn, fulfilled, expired) was seen: nothing more is
    /// accepted for this intent.
    pub terminal: bool,
    pub category: Category,
    pub region: Region,
    pub window: Window,
    #[serde(default)]
    pub public: PublicFields,
    /// `announce`, `sealed` or `notify`, as its latest revision said.
    #[serde(default)]
    pub level: Level,
    /// Where offers go: `None` for a sealed or notify intent the vendor only saw end.
    #[serde(default)]
    pub bucket: Option<Bucket>,
    /// The intent's X25519 key (`age1…`), what offers are encrypted to (`None` as `bucket`).
    #[serde(default)]
    pub recipient: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {path}: {source}")]
pub struct StateError {
    pub action: &'static str,
    pub path: String,
    pub source: std::io::Error,
}

/// A vendor's state directory, with the intents it read cached in memory.
#[derive(Debug)]
pub struct State {
    dir: PathBuf,
    cache: HashMap<IntentRef, Option<IntentRecord>>,
}

impl State {
    /// Opens (creating it, mode 0700) the state directory `dir`.
    pub fn open(dir: &Path) -> Result<State, StateError> {
        for sub in ["intents", "offers", "answers"] {
            let path = dir.join(sub);
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode_private()
                .create(&path)
                .map_err(|source| StateError {
                    action: "create",
                    path: path.display().to_string(),
                    source,
                })?;
        }
        Ok(State {
            dir: dir.to_owned(),
            cache: HashMap::new(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The record of `intent_ref`, if this vendor verified it before (now or in an earlier run).
    pub fn intent(&mut self, intent_ref: &IntentRef) -> Result<Option<IntentRecord>, StateError> {
        if let Some(known) = self.cache.get(intent_ref) {
            return Ok(known.clone());
        }
        let path = self.intent_path(intent_ref);
        let record = match std::fs::read(&path) {
            // A record this tool did not write (or a damaged one) counts as unknown: the intent
            // is then judged afresh on its next announcement.
            Ok(bytes) => serde_json::from_slice(&bytes).ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(StateError {
                    action: "read",
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        self.cache.insert(intent_ref.clone(), record.clone());
        Ok(record)
    }

    /// Saves `record` (replacing the previous one).
    pub fn save_intent(&mut self, record: &IntentRecord) -> Result<(), StateError> {
        write_json(&self.intent_path(&record.intent_ref), record)?;
        self.cache
            .insert(record.intent_ref.clone(), Some(record.clone()));
        Ok(())
    }

    /// Records an offer this vendor made.
    pub fn save_offer(&self, terms: &OfferTerms) -> Result<(), StateError> {
        write_json(&self.offer_path(&terms.offer_id), terms)
    }

    /// Whether this vendor made the offer `offer_id` (`save_offer` recorded it).
    pub fn made_offer(&self, offer_id: &OfferId) -> bool {
        self.offer_path(offer_id).exists()
    }

    /// The answer recorded for `offer_id`, if one came.
    pub fn answer(&self, offer_id: &OfferId) -> Option<Answer> {
        let bytes = std::fs::read(self.answer_path(offer_id)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Records the answer to one of this vendor's offers.
    pub fn save_answer(&self, answer: &Answer) -> Result<(), StateError> {
        write_json(&self.answer_path(&answer.offer_id), answer)
    }

    fn offer_path(&self, offer_id: &OfferId) -> PathBuf {
        self.dir.join("offers").join(format!("{offer_id}.json"))
    }

    fn answer_path(&self, offer_id: &OfferId) -> PathBuf {
        self.dir.join("answers").join(format!("{offer_id}.json"))
    }

    fn intent_path(&self, intent_ref: &IntentRef) -> PathBuf {
        // An IntentRef is base64url: a safe file name.
        self.dir.join("intents").join(format!("{intent_ref}.json"))
    }
}

trait PrivateDir {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateDir for std::fs::DirBuilder {
    fn mode_private(&mut self) -> &mut Self {
        std::os::unix::fs::DirBuilderExt::mode(self, 0o700)
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StateError> {
    let err = |action, source| StateError {
        action,
        path: path.display().to_string(),
        source,
    };
    // Records of strings, numbers and dates always serialise.
    let body = serde_json::to_vec_pretty(value).expect("state JSON");
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, body).map_err(|e| err("write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| err("replace", e))
}

/// The default state directory of vendor `id`: `$XDG_STATE_HOME/carnet-vendor/<id>` (or
/// `~/.local/state/carnet-vendor/<id>`).
pub fn default_dir(id: &str) -> Option<PathBuf> {
    dirs::state_dir().map(|d| d.join("carnet-vendor").join(id))
}
