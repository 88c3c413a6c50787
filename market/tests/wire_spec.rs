//! The wire spec in `schemas/relay/` must match the code: the JSON Schema files are generated
//! from the payload types (after changing one, run `CARNET_UPDATE_SCHEMAS=1 cargo test -p
//! carnet-market --test wire_spec` and commit what it rewrites), and the spec's README names
//! every subject, header, stream, signing context and event the code uses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use carnet_market::directory::FORMAT;
use carnet_market::relay::{ANSWERS_STREAM, DUPLICATE_WINDOW, INTENTS_STREAM, OFFERS_STREAM};
use carnet_market::wire::{
    ANNOUNCE_PREFIX, ANSWER_PREFIX, EVENT_HEADER, Event, MSG_ID_HEADER, OFFER_PREFIX, SignedKind,
};

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/relay")
}

#[test]
fn relay_json_schema_files_match_the_wire_types() {
    let update = std::env::var_os("CARNET_UPDATE_SCHEMAS").is_some();
    let stale = carnet_schemas::stale_schema_files(
        &spec_dir(),
        carnet_market::schema::json_schemas(),
        update,
    )
    .unwrap();
    assert!(
        stale.is_empty(),
        "relay JSON Schema files out of date: {stale:?}\nrun: CARNET_UPDATE_SCHEMAS=1 cargo test -p carnet-market --test wire_spec"
    );
}

#[test]
fn the_spec_names_every_subject_header_stream_kind_and_event() {
    let spec = std::fs::read_to_string(spec_dir().join("README.md")).unwrap();
    let mut names: Vec<String> = vec![
        format!("{ANNOUNCE_PREFIX}.<cat>.<subcat>.<region>"),
        format!("{OFFER_PREFIX}.<bucket>"),
        format!("{ANSWER_PREFIX}.<vendor_id>"),
        MSG_ID_HEADER.into(),
        EVENT_HEADER.into(),
        INTENTS_STREAM.into(),
        OFFERS_STREAM.into(),
        ANSWERS_STREAM.into(),
        FORMAT.into(),
        format!("{} s", DUPLICATE_WINDOW.as_secs()),
    ];
    for kind in [
        SignedKind::Announcement,
        SignedKind::Offer,
        SignedKind::SealedOffer,
        SignedKind::Answer,
        SignedKind::Directory,
    ] {
        names.push(format!("carnet-relay/1 {}\\n", kind.as_str()));
    }
    names.extend(Event::ALL.iter().map(|e| e.as_str().to_owned()));
    for (stem, _) in carnet_market::schema::json_schemas() {
        names.push(format!("{stem}.schema.json"));
    }
    let missing: Vec<_> = names
        .iter()
        .filter(|n| !spec.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "schemas/relay/README.md does not name {missing:?}"
    );
}

#[test]
fn the_signed_bytes_are_exactly_what_the_spec_says() {
    assert_eq!(
        SignedKind::Announcement.signing_input(b"{\"a\":1}"),
        b"carnet-relay/1 announcement\n{\"a\":1}".to_vec()
    );
    assert_eq!(
        SignedKind::SealedOffer.signing_input(b""),
        b"carnet-relay/1 sealed-offer\n".to_vec()
    );
}
