//! `carnet search`'s arguments.

use carnet_schemas::{MAX_SEARCH, RecordKind};
use clap::Args;
use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser, TypedValueParser};

use super::VendorRef;

pub const SEARCH_HELP: &str = "\
Each word of TEXT must begin a word of the record (word prefixes, not substrings: \"techn\" \
finds \"Technicien\", \"chnic\" does not), whatever the case and accents. Every text field \
counts: a vendor's name, website, categories, accounts and notes; an interaction's summary, \
who, expected, said, heard, outcome and next step; a purchase's item and receipt; an \
incident's description and resolution; a promise's text, who made it and its note; a document's \
title and file name (never its content: a hit of kind document shows its file name, and \
--json what it is attached to). Best matches \
first: more matched words, rarer words, \
and words of the title (name, summary, item, description) count more; ties go to the newest.

The index it searches lives only in carnetd's memory, rebuilt after each unlock.

Examples:
  carnet search technicien
  carnet search \"lave linge\" --kind interaction
  carnet search garantie --vendor Acme --limit 5
  carnet search facture --json
  carnet search invoice --kind document";

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The words to find
    #[arg(value_name = "TEXT", value_parser = NonEmptyStringValueParser::new())]
    pub text: String,
    /// Only records of this kind: vendor, interaction, purchase, incident, promise or document
    #[arg(long, value_name = "KIND", value_parser = kind_parser())]
    pub kind: Option<RecordKind>,
    /// Only this vendor and its records (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
    /// How many results, 1 to 200
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SEARCH)))]
    pub limit: u32,
}

fn kind_parser() -> impl TypedValueParser<Value = RecordKind> {
    PossibleValuesParser::new(RecordKind::ALL.map(RecordKind::as_str))
        .try_map(|s| s.parse::<RecordKind>())
}
