//! The streaming parse of an archive: a visitor over the top-level object that hands each
//! member, and each element of a section, to the importer as soon as it is read, with the
//! archive and record size limits counted on the bytes as they arrive.

use std::fmt;
use std::io::{self, BufReader, Read};
use std::marker::PhantomData;

use carnet_schemas::{
    ARCHIVE_VERSION, ArchiveKeys, ArchivedProfile, MAX_ARCHIVE_CHUNK_RECORD_BYTES,
    MAX_ARCHIVE_RECORD_BYTES,
};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::import::{ImportError, Importer, START};

/// Parses the whole archive from `input`, handing it to `imp` as it goes.
pub(super) fn parse(imp: &mut Importer<'_>, input: impl Read) -> Result<(), ImportError> {
    let reader = BufReader::with_capacity(
        64 * 1024,
        Metered {
            inner: input,
            total: 0,
            limit: imp.archive_limit,
            since_record: imp.since_record.clone(),
            record_limit: imp.record_limit.clone(),
        },
    );
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = ArchiveSeed { imp: &mut *imp }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(failure) = imp.failure.take() {
        return Err(failure);
    }
    parsed.map_err(|e| imp.parse_error(e))
}

/// The size limits, enforced on the bytes as they are read.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Archive,
    Record,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Archive => "archive size limit",
            Limit::Record => "record size limit",
        })
    }
}

impl std::error::Error for Limit {}

/// Counts what is read: the whole archive, and since the current record started.
struct Metered<R> {
    inner: R,
    total: u64,
    limit: u64,
    since_record: std::rc::Rc<std::cell::Cell<u64>>,
    record_limit: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        self.since_record.set(self.since_record.get() + n as u64);
        if self.total > self.limit {
            return Err(io::Error::other(Limit::Archive));
        }
        if self.since_record.get() > self.record_limit.get() {
            return Err(io::Error::other(Limit::Record));
        }
        Ok(n)
    }
}

/// Members an archive may leave out (older versions do not have them).
const OPTIONAL: [&str; 6] = [
    "access_log_checkpoint",
    "promises",
    "subscriptions",
    "market_offers",
    "documents",
    "document_chunks",
];

/// The members of an archive, in the order they must come.
const MEMBERS: [&str; 25] = [
    "format",
    "version",
    "exported_at",
    "carnet_version",
    "counts",
    "keys",
    "access_log_verification",
    "access_log_checkpoint",
    "web_password",
    "profile",
    "vendors",
    "incidents",
    "purchases",
    "interactions",
    "promises",
    "subscriptions",
    "intents",
    "offers",
    "market_offers",
    "clients",
    "grants",
    "receipts",
    "access_log",
    "documents",
    "document_chunks",
];

impl Importer<'_> {
    /// What a parse error means, and where.
    fn parse_error(&self, e: serde_json::Error) -> ImportError {
        let text = strip_position(&e.to_string());
        match e.classify() {
            serde_json::error::Category::Io => {
                let io: io::Error = e.into();
                match io.get_ref().and_then(|i| i.downcast_ref::<Limit>()) {
                    Some(Limit::Archive) => ImportError::TooLarge {
                        limit: self.archive_limit,
                    },
                    Some(Limit::Record) => ImportError::RecordTooLarge {
                        at: self.at(),
                        limit: self.record_limit.get(),
                    },
                    None => ImportError::Cut(io.to_string()),
                }
            }
            serde_json::error::Category::Eof => ImportError::Cut(format!(
                "the JSON ends inside {} (the archive was cut short)",
                self.at()
            )),
            serde_json::error::Category::Syntax => {
                ImportError::NotJson(format!("{text}, at {}", self.at()))
            }
            serde_json::error::Category::Data if self.at.0 == START => {
                ImportError::NotAnArchive(format!("{text}; an archive is a JSON object"))
            }
            serde_json::error::Category::Data => self.invalid(text),
        }
    }
}

/// Drops serde_json's " at line 1 column 42": the archive position says where.
fn strip_position(text: &str) -> String {
    match text.rsplit_once(" at line ") {
        Some((head, tail)) if tail.split(" column ").all(|n| n.parse::<u64>().is_ok()) => {
            head.to_owned()
        }
        _ => text.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// The streaming parse: a visitor over the top-level object that hands each member, and each
// element of a section, to the importer as soon as it is read.

struct ArchiveSeed<'a, 'c> {
    imp: &'a mut Importer<'c>,
}

/// Stops the parse with the importer's own error, kept in `failure`.
fn stop<E: de::Error>(imp: &mut Importer<'_>, e: ImportError) -> E {
    imp.failure = Some(e);
    E::custom("import stopped")
}

impl<'de> DeserializeSeed<'de> for ArchiveSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ArchiveSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Carnet archive (a JSON object starting with \"format\": \"carnet-archive\")")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let imp = self.imp;
        let mut next = 0;
        while let Some(key) = map.next_key::<String>()? {
            let Some(pos) = MEMBERS.iter().position(|m| *m == key) else {
                let e = if next == 0 {
                    ImportError::NotAnArchive(format!("it starts with {key:?}, not \"format\""))
                } else {
                    imp.invalid(format!("unknown member {key:?} after it"))
                };
                return Err(stop(imp, e));
            };
            // Optional members left out are skipped over.
            if pos > next && MEMBERS[next..pos].iter().all(|m| OPTIONAL.contains(m)) {
                next = pos;
            }
            if pos != next {
                let e = if next == 0 {
                    ImportError::NotAnArchive(format!("it starts with {key:?}, not \"format\""))
                } else {
                    ImportError::Invalid {
                        at: key.clone(),
                        reason: format!(
                            "out of place: the members come in the schema's order, and {:?} comes here",
                            MEMBERS[next.min(MEMBERS.len() - 1)]
                        ),
                    }
                };
                return Err(stop(imp, e));
            }
            next += 1;
            imp.at = (MEMBERS[pos], None);
            imp.since_record.set(0);
            imp.record_limit.set(if MEMBERS[pos] == "document_chunks" {
                MAX_ARCHIVE_CHUNK_RECORD_BYTES
            } else {
                MAX_ARCHIVE_RECORD_BYTES
            });
            let done = match MEMBERS[pos] {
                "format" => {
                    let format: String = map.next_value()?;
                    if format == "carnet-archive" {
                        Ok(())
                    } else {
                        Err(ImportError::NotAnArchive(format!(
                            "its format is {format:?}, not \"carnet-archive\""
                        )))
                    }
                }
                "version" => {
                    let found: u64 = map.next_value()?;
                    if (1..=u64::from(ARCHIVE_VERSION)).contains(&found) {
                        Ok(())
                    } else {
                        Err(ImportError::Version { found })
                    }
                }
                "exported_at" => {
                    imp.exported_at = Some(map.next_value()?);
                    Ok(())
                }
                "carnet_version" => {
                    imp.carnet_version = Some(map.next_value()?);
                    Ok(())
                }
                "counts" => {
                    imp.declared = Some(map.next_value()?);
                    Ok(())
                }
                "keys" => {
                    let k: ArchiveKeys = map.next_value()?;
                    imp.keys_member(k)
                }
                "access_log_verification" => {
                    imp.verification = Some(map.next_value()?);
                    Ok(())
                }
                "access_log_checkpoint" => {
                    imp.checkpoint = map.next_value()?;
                    Ok(())
                }
                "web_password" => {
                    let w: Option<String> = map.next_value()?;
                    imp.web_password_member(w)
                }
                "profile" => {
                    let p: Option<ArchivedProfile> = map.next_value()?;
                    imp.profile_member(p)
                }
                "vendors" => map.next_value_seed(Section::new(imp, Importer::vendor))?,
                "incidents" => map.next_value_seed(Section::new(imp, Importer::incident))?,
                "purchases" => map.next_value_seed(Section::new(imp, Importer::purchase))?,
                "interactions" => map.next_value_seed(Section::new(imp, Importer::interaction))?,
                "promises" => map.next_value_seed(Section::new(imp, Importer::promise))?,
                "subscriptions" => {
                    map.next_value_seed(Section::new(imp, Importer::subscription))?
                }
                "intents" => map.next_value_seed(Section::new(imp, Importer::intent))?,
                "offers" => map.next_value_seed(Section::new(imp, Importer::offer))?,
                "market_offers" => {
                    map.next_value_seed(Section::new(imp, Importer::market_offer))?
                }
                "clients" => map.next_value_seed(Section::new(imp, Importer::client))?,
                "grants" => map.next_value_seed(Section::new(imp, Importer::grant))?,
                "receipts" => map.next_value_seed(Section::new(imp, Importer::receipt))?,
                "access_log" => map.next_value_seed(Section::new(imp, Importer::access))?,
                "documents" => map.next_value_seed(Section::new(imp, Importer::document))?,
                _ => map.next_value_seed(Section::new(imp, Importer::document_chunk))?,
            };
            if let Err(e) = done {
                return Err(stop(imp, e));
            }
        }
        while MEMBERS.get(next).is_some_and(|m| OPTIONAL.contains(m)) {
            next += 1;
        }
        if let Some(missing) = MEMBERS.get(next) {
            let e = if next == 0 {
                ImportError::NotAnArchive("it is an empty object".into())
            } else {
                ImportError::Invalid {
                    at: (*missing).to_owned(),
                    reason: "missing".into(),
                }
            };
            return Err(stop(imp, e));
        }
        Ok(())
    }
}

type Each<'c, T> = fn(&mut Importer<'c>, T) -> Result<(), ImportError>;

/// One section: an array whose elements go to `each` one at a time; a refused element stops
/// the parse, its error kept in the importer's `failure`.
struct Section<'a, 'c, T> {
    imp: &'a mut Importer<'c>,
    each: Each<'c, T>,
    kind: PhantomData<fn() -> T>,
}

impl<'a, 'c, T> Section<'a, 'c, T> {
    fn new(imp: &'a mut Importer<'c>, each: Each<'c, T>) -> Self {
        Section {
            imp,
            each,
            kind: PhantomData,
        }
    }
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Section<'_, '_, T> {
    type Value = Result<(), ImportError>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Section<'_, '_, T> {
    /// Always `Ok`: a refused element stops the parse with the importer's error kept aside.
    type Value = Result<(), ImportError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let member = self.imp.at.0;
        let mut index = 0;
        loop {
            self.imp.at = (member, Some(index));
            self.imp.since_record.set(0);
            let Some(record) = seq.next_element::<T>()? else {
                break;
            };
            if let Err(e) = (self.each)(self.imp, record) {
                return Err(stop(self.imp, e));
            }
            index += 1;
        }
        self.imp.at = (member, None);
        Ok(Ok(()))
    }
}
