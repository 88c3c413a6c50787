//! `/openapi.json` says what the server does, so that a generated client works: real answers
//! satisfy the schemas documented for them, the statuses handlers answer are documented,
//! every webhook event is described and real deliveries match the description, and vendors
//! are OAuth 2.0 clients with their flows and scopes. (`.ci/schemathesis` fuzzes the rest.)

use std::collections::BTreeSet;

use carnet_tests::vendor::VendorApp;
use carnet_tests::webhook::Receiver;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::{Value, json};

fn document(s: &TestServer) -> Value {
    let r = s.get("/openapi.json");
    assert_eq!(r.status, 200);
    r.json()
}

/// Checks `body` against `schema`, whose `$ref`s point into the document's components.
#[track_caller]
fn assert_matches(doc: &Value, schema: &Value, body: &Value, what: &str) {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::validator_for(&root).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its documented schema: {errors:#?}\n{body:#}"
    );
}

/// The documented JSON schema of the `status` answer of `method path`.
#[track_caller]
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no JSON {status}"
    );
    schema.clone()
}

/// The media type documented for the `status` answer of `method path`, if that status is.
fn documented(doc: &Value, method: &str, path: &str, status: u16) -> Option<Vec<String>> {
    let response = doc["paths"][path][method]["responses"].get(status.to_string())?;
    Some(
        response["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default(),
    )
}

fn vendor_post(token: &str, url: String, body: &Value) -> Resp {
    Resp::from(
        http()
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap(),
    )
}

fn active_intent(s: &TestServer, title: &str) -> String {
    let until = chrono::Utc::now() + chrono::Duration::days(7);
    let id = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": title, "valid_through": until.to_rfc3339(),
                "price_specification": {"max_price": "700", "price_currency": "EUR"}}),
    );
    let r = s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

#[test]
fn real_answers_satisfy_the_schemas_documented_for_them() {
    let s = TestServer::spawn();
    let doc = document(&s);
    let v = VendorApp::connect(&s, "Acme");
    let grant = v.grant(
        &s,
        &["intents:read", "offers:write", "interactions:read"],
        None,
    );
    let interaction = s.create(
        "/v1/interactions",
        &json!({"vendor_id": v.vendor_id, "channel": "email", "summary": "Asked", "shared": true}),
    );
    let purchase = s.create(
        "/v1/purchases",
        &json!({"vendor_id": v.vendor_id, "item": "Kettle", "amount": "29.90", "currency": "EUR"}),
    );
    let incident = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v.vendor_id, "description": "Arrived broken"}),
    );
    let intent = active_intent(&s, "Washing machine");
    let token = v.token();
    let offer = vendor_post(
        &token,
        format!("{}/v1/vendor/intents/{intent}/offers", s.base),
        &json!({"price": "649.90", "price_currency": "EUR", "description": "WM-9"}),
    );
    assert_eq!(offer.status, 201, "{}", offer.text);
    assert_matches(
        &doc,
        &response_schema(&doc, "post", "/v1/vendor/intents/{id}/offers", 201),
        &offer.json(),
        "POST /v1/vendor/intents/{id}/offers",
    );
    let offer = offer.json()["id"].as_str().unwrap().to_owned();
    let vendor = &v.vendor_id;
    let owner_reads = [
        ("/v1/vendors", "/v1/vendors".to_owned()),
        ("/v1/vendors/{id}", format!("/v1/vendors/{vendor}")),
        (
            "/v1/vendors/{id}/client",
            format!("/v1/vendors/{vendor}/client"),
        ),
        ("/v1/interactions", "/v1/interactions".to_owned()),
        (
            "/v1/interactions/{id}",
            format!("/v1/interactions/{interaction}"),
        ),
        ("/v1/purchases", "/v1/purchases".to_owned()),
        ("/v1/purchases/{id}", format!("/v1/purchases/{purchase}")),
        ("/v1/incidents", "/v1/incidents".to_owned()),
        ("/v1/incidents/{id}", format!("/v1/incidents/{incident}")),
        ("/v1/intents", "/v1/intents".to_owned()),
        ("/v1/intents/{id}", format!("/v1/intents/{intent}")),
        ("/v1/offers", "/v1/offers".to_owned()),
        ("/v1/offers/{id}", format!("/v1/offers/{offer}")),
        ("/v1/grants", "/v1/grants".to_owned()),
        ("/v1/grants/{id}", format!("/v1/grants/{grant}")),
        ("/v1/receipts", "/v1/receipts".to_owned()),
        ("/v1/profile", "/v1/profile".to_owned()),
        ("/v1/clients", "/v1/clients".to_owned()),
    ];
    for (template, path) in owner_reads {
        let r = s.get(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let schema = response_schema(&doc, "get", template, 200);
        assert_matches(&doc, &schema, &r.json(), &format!("GET {path}"));
    }
    let vendor_reads = [
        ("/v1/vendor/intents", "/v1/vendor/intents".to_owned()),
        (
            "/v1/vendor/intents/{id}",
            format!("/v1/vendor/intents/{intent}"),
        ),
        (
            "/v1/vendor/interactions",
            "/v1/vendor/interactions".to_owned(),
        ),
        ("/v1/vendor/receipts", "/v1/vendor/receipts".to_owned()),
    ];
    for (template, path) in vendor_reads {
        let r = v.get(&token, &path);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let schema = response_schema(&doc, "get", template, 200);
        assert_matches(&doc, &schema, &r.json(), &format!("GET {path}"));
    }
    // And the answer to a write: an edited vendor.
    let r = s.put(
        &format!("/v1/vendors/{vendor}"),
        &json!({"name": "Acme SA"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let schema = response_schema(&doc, "put", "/v1/vendors/{id}", 200);
    assert_matches(&doc, &schema, &r.json(), "PUT /v1/vendors/{id}");
}

/// Every `allOf` in the document, with where it is.
fn all_ofs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(map) => {
            if let Some(all) = map.get("allOf") {
                out.push((at.clone(), all));
            }
            for (k, x) in map {
                all_ofs(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                all_ofs(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_schema_is_an_all_of_whose_member_refuses_the_others_fields() {
    let s = TestServer::spawn();
    let doc = document(&s);
    let mut found = Vec::new();
    all_ofs(&doc, String::new(), &mut found);
    let resolve = |member: &Value| -> Value {
        match member["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                doc["components"]["schemas"][name].clone()
            }
            None => member.clone(),
        }
    };
    let strict: Vec<&String> = found
        .iter()
        .filter(|(_, all)| {
            all.as_array()
                .unwrap()
                .iter()
                .any(|m| resolve(m)["additionalProperties"] == json!(false))
        })
        .map(|(at, _)| at)
        .collect();
    assert!(
        strict.is_empty(),
        "allOf with a member that has additionalProperties: false (nothing can satisfy it): {strict:#?}"
    );
    // The request bodies still refuse unknown fields.
    assert_eq!(
        doc["components"]["schemas"]["VendorFields"]["additionalProperties"],
        json!(false)
    );
}

#[test]
fn the_statuses_handlers_answer_are_documented() {
    let s = TestServer::spawn();
    let doc = document(&s);
    let mut answered: Vec<(&str, &str, u16, &str, Resp)> = Vec::new();

    // Withdrawn and fulfilled are final: no other state is left (the same one again is 200).
    let withdrawn = active_intent(&s, "Sofa");
    let r = s.post(&format!("/v1/intents/{withdrawn}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let fulfilled = active_intent(&s, "Lamp");
    let r = s.post(&format!("/v1/intents/{fulfilled}/fulfil"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    for (verb, id) in [
        ("activate", &withdrawn),
        ("fulfil", &withdrawn),
        ("withdraw", &fulfilled),
    ] {
        let path = format!("/v1/intents/{id}/{verb}");
        let template = match verb {
            "activate" => "/v1/intents/{id}/activate",
            "withdraw" => "/v1/intents/{id}/withdraw",
            _ => "/v1/intents/{id}/fulfil",
        };
        answered.push((
            "post",
            template,
            409,
            "application/problem+json",
            s.post(&path, &json!({})),
        ));
    }
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read", "offers:write"], None);
    let other = s.create("/v1/vendors", &json!({"name": "Bolt"}));
    answered.push((
        "post",
        "/v1/vendors/{id}/invite",
        409,
        "application/problem+json",
        s.post(&format!("/v1/vendors/{}/invite", v.vendor_id), &json!({})),
    ));
    answered.push((
        "put",
        "/v1/vendors/{id}",
        409,
        "application/problem+json",
        s.put(&format!("/v1/vendors/{other}"), &json!({"name": "Acme"})),
    ));
    answered.push((
        "post",
        "/v1/consents/{code}/deny",
        404,
        "application/problem+json",
        s.post("/v1/consents/NONE-SUCH/deny", &json!({})),
    ));
    let r = s.post(
        &format!("/v1/vendors/{other}/client"),
        &json!({"redirect_uris": ["https://bolt.example/cb"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    answered.push((
        "post",
        "/v1/vendors/{id}/client/rotate-secret",
        409,
        "application/problem+json",
        s.post(
            &format!("/v1/vendors/{other}/client/rotate-secret"),
            &json!({"webhook": true}),
        ),
    ));
    let intent = active_intent(&s, "Kettle");
    let offer = vendor_post(
        &v.token(),
        format!("{}/v1/vendor/intents/{intent}/offers", s.base),
        &json!({"price": "29.90", "price_currency": "EUR", "description": "K-1"}),
    );
    assert_eq!(offer.status, 201, "{}", offer.text);
    let offer = offer.json()["id"].as_str().unwrap().to_owned();
    let decline = format!("/v1/offers/{offer}/decline");
    assert_eq!(s.post(&decline, &json!({})).status, 200);
    answered.push((
        "post",
        "/v1/offers/{id}/decline",
        409,
        "application/problem+json",
        s.post(&decline, &json!({})),
    ));
    let no_next_step = s.create(
        "/v1/interactions",
        &json!({"vendor_id": other, "channel": "phone", "summary": "Called"}),
    );
    answered.push((
        "post",
        "/v1/followups/{id}/done",
        409,
        "application/problem+json",
        s.post(&format!("/v1/followups/{no_next_step}/done"), &json!({})),
    ));
    let page = |r: reqwest::blocking::RequestBuilder| Resp::from(r.send().unwrap());
    answered.push((
        "post",
        "/oauth/authorize",
        400,
        "text/html",
        page(http().post(s.url("/oauth/authorize")).form(&[
            ("request", "gone"),
            ("csrf", "x"),
            ("decision", "approve"),
        ])),
    ));
    answered.push((
        "get",
        "/oauth/authorize/continue",
        400,
        "text/html",
        page(http().get(s.url("/oauth/authorize/continue?request=gone"))),
    ));
    for (method, template, status, media, r) in &answered {
        assert_eq!(r.status, *status, "{method} {template}: {}", r.text);
        let content_type = r.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with(media),
            "{method} {template}: {content_type}"
        );
        let media_types = documented(&doc, method, template, *status)
            .unwrap_or_else(|| panic!("{method} {template} answers {status}, undocumented"));
        assert!(
            media_types.iter().any(|m| m == media),
            "{method} {template} {status} documented as {media_types:?}, answered {media}"
        );
    }
    // Answered meanwhile on the page: 409 from the terminal.
    for path in ["/v1/consents/{code}/approve", "/v1/consents/{code}/deny"] {
        assert!(documented(&doc, "post", path, 409).is_some(), "{path} 409");
    }
    // A token in the query string is refused on every vendor endpoint.
    let r = v.get(&v.token(), "/v1/vendor/receipts?access_token=x");
    assert_eq!(r.status, 400, "{}", r.text);
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/v1/vendor/") {
            for (method, _) in item.as_object().unwrap() {
                assert!(
                    documented(&doc, method, path, 400).is_some(),
                    "{method} {path} 400"
                );
            }
        }
    }
}

#[test]
fn operation_ids_are_unique() {
    let s = TestServer::spawn();
    let doc = document(&s);
    let mut seen = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{method} {path}: {id}"
            );
            assert!(
                seen.insert(id.clone()),
                "{method} {path}: {id} is used twice"
            );
        }
    }
}

#[test]
fn vendors_are_oauth2_clients_with_their_flows_and_every_scope() {
    let s = TestServer::spawn();
    let doc = document(&s);
    let scheme = &doc["components"]["securitySchemes"]["vendor"];
    assert_eq!(scheme["type"], "oauth2", "{scheme:#}");
    let flows = &scheme["flows"];
    assert_eq!(
        flows["authorizationCode"]["authorizationUrl"],
        "/oauth/authorize"
    );
    assert_eq!(flows["authorizationCode"]["tokenUrl"], "/oauth/token");
    assert_eq!(flows["clientCredentials"]["tokenUrl"], "/oauth/token");
    let names = |flow: &Value| -> BTreeSet<String> {
        flow["scopes"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    // DESIGN.md §4: the vendor API's scopes, and the promise record's (issue 17).
    let design: BTreeSet<String> = [
        "intents:read",
        "offers:write",
        "relationship:read",
        "interactions:read",
        "profile:read",
        "promises:read",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(names(&flows["authorizationCode"]), design);
    assert_eq!(names(&flows["clientCredentials"]), design);
    // Each vendor operation names its scope under this scheme, and the scope exists.
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/vendor/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let needs = &op["security"][0]["vendor"];
            assert!(needs.is_array(), "{method} {path}: {op:#}");
            for scope in needs.as_array().unwrap() {
                assert!(
                    design.contains(scope.as_str().unwrap()),
                    "{method} {path}: {scope}"
                );
            }
        }
    }
}

#[test]
fn every_webhook_event_is_documented_and_real_deliveries_match_it() {
    let s = TestServer::spawn();
    let doc = document(&s);
    let hooks = doc["webhooks"].as_object().expect("a webhooks section");
    // DESIGN.md §6: the event types.
    let design = [
        "intent.activated",
        "intent.updated",
        "intent.withdrawn",
        "intent.fulfilled",
        "intent.expired",
        "offer.accepted",
        "offer.declined",
        "grant.revoked",
    ];
    assert_eq!(
        hooks.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        design.into_iter().collect::<BTreeSet<_>>()
    );
    let schema_of = |event: &str| -> Value {
        let post = &hooks[event]["post"];
        let names: BTreeSet<&str> = post["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            BTreeSet::from(["webhook-id", "webhook-timestamp", "webhook-signature"]),
            "{event}"
        );
        post["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    for event in design {
        assert!(
            schema_of(event)["properties"]["data"].is_object(),
            "{event}"
        );
    }

    // Every event but intent.expired (the window closing needs the clock), for real.
    let hook = Receiver::start();
    let v = VendorApp::connect_with_webhook(&s, "Acme", &hook.url);
    let grant = v.grant(&s, &["intents:read", "offers:write"], None);
    let token = v.token();
    let offer_on = |intent: &str| -> String {
        let r = vendor_post(
            &token,
            format!("{}/v1/vendor/intents/{intent}/offers", s.base),
            &json!({"price": "649.90", "price_currency": "EUR", "description": "WM-9"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()["id"].as_str().unwrap().to_owned()
    };
    let edited = active_intent(&s, "Washing machine");
    let until = chrono::Utc::now() + chrono::Duration::days(8);
    let r = s.put(
        &format!("/v1/intents/{edited}"),
        &json!({"category": "home.appliances", "title": "Washing machine, 8 kg",
                "valid_through": until.to_rfc3339()}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let declined = offer_on(&edited);
    let r = s.post(
        &format!("/v1/offers/{declined}/decline"),
        &json!({"reason": "too far"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let withdrawn = active_intent(&s, "Dryer");
    let r = s.post(&format!("/v1/intents/{withdrawn}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let bought = active_intent(&s, "Fridge");
    let accepted = offer_on(&bought);
    let r = s.post(&format!("/v1/offers/{accepted}/accept"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.post(&format!("/v1/grants/{grant}/revoke"), &json!({}));
    assert!(r.status < 300, "{}", r.text);

    let mut kinds = BTreeSet::new();
    for d in hook.wait_accepted(9) {
        let event = d.event();
        assert_matches(
            &doc,
            &schema_of(&event),
            &d.json(),
            &format!("the {event} webhook"),
        );
        kinds.insert(event);
    }
    let expected: BTreeSet<String> = design
        .into_iter()
        .filter(|e| *e != "intent.expired")
        .map(str::to_owned)
        .collect();
    assert_eq!(kinds, expected);
}

/// Every `$ref` of the document points at a schema it holds: a generated client (and the
/// fuzzer) skips what it cannot resolve.
#[test]
fn every_reference_in_the_document_resolves() {
    let s = TestServer::spawn();
    let doc = document(&s);
    fn walk(v: &Value, doc: &Value, at: &str, missing: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let found = r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_some();
                    if !found {
                        missing.push(format!("{at}: {r}"));
                    }
                }
                for (k, x) in m {
                    walk(x, doc, &format!("{at}/{k}"), missing);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, doc, &format!("{at}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&doc, &doc, "", &mut missing);
    assert!(missing.is_empty(), "unresolved references: {missing:#?}");
}
