//! The relay's payloads as JSON Schemas, generated from the types that read and write them; the
//! checked-in copies in `schemas/relay/` are compared with these by a test
//! (`CARNET_UPDATE_SCHEMAS=1 cargo test -p carnet-market --test wire_spec` rewrites them).

use crate::directory::{Directory, DirectoryFile};
use crate::wire::Signed;
use crate::wire::announcement::Announcement;
use crate::wire::answer::{Answer, SealedAnswer};
use crate::wire::offer::{OfferTerms, SealedOffer};

/// Each payload's file stem and JSON Schema, in the order the spec presents them.
pub fn json_schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn one<T: schemars::JsonSchema>() -> serde_json::Value {
        schemars::schema_for!(T).to_value()
    }
    vec![
        ("envelope", one::<Signed>()),
        ("announcement", one::<Announcement>()),
        ("sealed-offer", one::<SealedOffer>()),
        ("offer", one::<OfferTerms>()),
        ("sealed-answer", one::<SealedAnswer>()),
        ("answer", one::<Answer>()),
        ("directory-file", one::<DirectoryFile>()),
        ("directory", one::<Directory>()),
    ]
}
