//! `/openapi.json` documents the owner API with real media types, the copy checked in under
//! `schemas/openapi.json` matches what the server serves, and the server serves every
//! operation it documents (carnetd builds the routes it serves without the document).

use carnet_tests::{Api, TestServer, http};

#[test]
fn openapi_documents_the_owner_api_with_its_media_types() {
    let s = TestServer::spawn();
    let r = http().get(s.url("/openapi.json")).send().unwrap();
    assert_eq!(r.status(), 200);
    let doc: serde_json::Value = r.json().unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/vendors",
        "/v1/vendors/{id}",
        "/v1/interactions",
        "/v1/interactions/{id}",
        "/v1/purchases",
        "/v1/incidents",
        "/v1/incidents/{id}/resolve",
        "/v1/followups",
        "/v1/profile",
        "/healthz",
    ] {
        assert!(paths.contains_key(p), "{p} undocumented");
    }
    let create = &doc["paths"]["/v1/vendors"]["post"];
    assert!(create["requestBody"]["content"]["application/json"].is_object());
    assert!(create["responses"]["201"]["content"]["application/json"].is_object());
    assert!(create["responses"]["422"]["content"]["application/problem+json"].is_object());
    assert!(create["responses"]["401"]["content"]["application/problem+json"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["owner"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["components"]["schemas"]["Amount"]["pattern"],
        "^[0-9]{1,15}(\\.[0-9]{1,4})?$"
    );
}

/// Each documented path and method reaches a handler: neither the "no endpoint" 404 nor 405.
/// (Unauthenticated, with no body: the handlers' own answers are 400, 401, 415 and the like.)
#[test]
fn every_documented_operation_is_served() {
    let s = TestServer::spawn();
    let doc: serde_json::Value = http()
        .get(s.url("/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut unserved = Vec::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "x").replace("{", "").replace("}", "");
        for method in item.as_object().unwrap().keys() {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            operations += 1;
            let r = http()
                .request(method.clone(), s.url(&concrete))
                .send()
                .unwrap();
            let status = r.status().as_u16();
            let body = r.text().unwrap_or_default();
            if status == 405 || (status == 404 && body.contains("no endpoint at")) {
                unserved.push(format!("{method} {path}: {status}"));
            }
        }
    }
    assert!(operations > 80, "only {operations} operations documented");
    assert!(unserved.is_empty(), "documented, not served: {unserved:#?}");
}

/// carnetd serves `schemas/openapi.json` as it is; that file must be the document the
/// handlers' annotations make (`routes::openapi`).
#[test]
fn the_checked_in_openapi_file_matches_the_server() {
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&carnet_server::routes::openapi()).unwrap()
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/openapi.json");
    if std::env::var_os("CARNET_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let first_difference = checked_in
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .or((checked_in.lines().count() != generated.lines().count()).then_some(0));
    assert!(
        first_difference.is_none(),
        "schemas/openapi.json is out of date (first difference at line {}): run CARNET_UPDATE_SCHEMAS=1 cargo test -p carnet-tests openapi, then rebuild carnetd (it serves that file)",
        first_difference.unwrap_or(0) + 1
    );
    let s = TestServer::spawn();
    assert_eq!(
        s.get("/openapi.json").text,
        checked_in,
        "carnetd serves the file"
    );
}

#[test]
fn openapi_documents_oauth_and_vendor_endpoints_with_their_media_types() {
    let s = TestServer::spawn();
    let doc = s.get("/openapi.json").json();
    for p in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        let op = &doc["paths"][p]["post"];
        assert!(
            op["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object(),
            "{p} takes a form"
        );
        assert!(
            op["responses"]["401"]["content"]["application/json"].is_object(),
            "{p}"
        );
    }
    for p in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/carnet-receipt-keys",
        "/v1/vendor/relationship",
        "/v1/vendor/interactions",
        "/v1/vendor/interactions/{id}",
        "/v1/vendor/profile",
        "/v1/vendor/receipts",
    ] {
        assert!(doc["paths"][p]["get"].is_object(), "{p} undocumented");
    }
    let rel = &doc["paths"]["/v1/vendor/relationship"]["get"];
    assert_eq!(rel["security"][0]["vendor"][0], "relationship:read");
    assert!(rel["responses"]["403"]["content"]["application/problem+json"].is_object());
    for p in [
        "/v1/grants",
        "/v1/vendors/{id}/client",
        "/v1/receipts",
        "/v1/access-log",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} undocumented");
    }
}
