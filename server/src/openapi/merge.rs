//! Response types hold the fields a client sends (`VendorFields`, which refuse unknown
//! properties: `additionalProperties: false`) `#[serde(flatten)]`ed beside the id and times the
//! server adds. utoipa writes that as `allOf: [VendorFields, {id, …}]`, which no object can
//! satisfy: the first member refuses the id. Here every such `allOf` becomes the one object
//! it means, with the properties and required names of all its members and no
//! `additionalProperties` (a client must accept fields a later version adds). Request bodies
//! keep referring to the strict schemas.

use serde_json::{Map, Value};

/// How deep an `allOf` may refer to another before it is left alone (`VendorDetail` →
/// `Vendor` → `VendorFields` is 2).
const MAX_DEPTH: usize = 8;

/// Replaces, everywhere in `doc`, each `allOf` of plain objects by one object.
pub fn all_of(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    walk(doc, &schemas);
}

fn walk(v: &mut Value, schemas: &Value) {
    match v {
        Value::Object(map) => {
            for child in map.values_mut() {
                walk(child, schemas);
            }
            if let Some(merged) = map.get("allOf").and_then(|all| merge(all, schemas, 0)) {
                map.remove("allOf");
                // The members' properties come from the unchanged components: merge theirs too.
                let mut merged = Value::Object(merged);
                walk(&mut merged, schemas);
                let Value::Object(merged) = merged else {
                    return;
                };
                for (key, value) in merged {
                    // The outer schema's own description and the like win.
                    map.entry(key).or_insert(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| walk(x, schemas)),
        _ => {}
    }
}

/// The one object the members of `all` describe together, or `None` if a member is not a
/// plain object (then the `allOf` stays as it is).
fn merge(all: &Value, schemas: &Value, depth: usize) -> Option<Map<String, Value>> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for member in all.as_array()? {
        let member = resolve(member, schemas)?;
        let object = match member.get("allOf") {
            Some(inner) => Value::Object(merge(inner, schemas, depth + 1)?),
            None => member.clone(),
        };
        if object.get("type").and_then(Value::as_str) != Some("object") {
            return None;
        }
        if let Some(p) = object.get("properties") {
            properties.extend(p.as_object()?.clone());
        }
        for name in object
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
    }
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    out.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    Some(out)
}

/// A member itself, or the component schema its `$ref` names.
fn resolve<'a>(member: &'a Value, schemas: &'a Value) -> Option<&'a Value> {
    match member.get("$ref").and_then(Value::as_str) {
        Some(r) => schemas.get(r.strip_prefix("#/components/schemas/")?),
        None => Some(member),
    }
}
