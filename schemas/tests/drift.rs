//! The checked-in JSON Schema files must match the types. After changing a wire type, run
//! `CARNET_UPDATE_SCHEMAS=1 cargo test -p carnet-schemas` and commit the files it rewrites.

use std::path::Path;

#[test]
fn json_schema_files_match_the_wire_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("json");
    let update = std::env::var_os("CARNET_UPDATE_SCHEMAS").is_some();
    let stale =
        carnet_schemas::stale_schema_files(&dir, carnet_schemas::json_schemas(), update).unwrap();
    assert!(
        stale.is_empty(),
        "JSON Schema files out of date: {stale:?}\nrun: CARNET_UPDATE_SCHEMAS=1 cargo test -p carnet-schemas"
    );
}
