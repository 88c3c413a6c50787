//! The checked-in JSON Schema files must match the types. After changing a wire type, run
//! `CARNET_UPDATE_SCHEMAS=1 cargo test -p carnet-schemas` and commit the files it rewrites.

use std::path::Path;

#[test]
fn json_schema_files_match_the_wire_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("json");
    let update = std::env::var_os("CARNET_UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (stem, schema) in carnet_schemas::json_schemas() {
        let path = dir.join(format!("{stem}.schema.json"));
        let want = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            if update {
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "JSON Schema files out of date: {stale:?}\nrun: CARNET_UPDATE_SCHEMAS=1 cargo test -p carnet-schemas"
    );
}
