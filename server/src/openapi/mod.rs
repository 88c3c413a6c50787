//! The OpenAPI document: built from the same handlers as the router (utoipa-axum), then given
//! what utoipa cannot say from an annotation: the error responses every operation shares
//! (documented once, here), unique operation ids, the security schemes (`security.rs`), the
//! webhooks a vendor receives (`webhooks.rs`), and response objects without the `allOf` that
//! `#[serde(flatten)]` produces (`merge.rs`). Never documents a status the server cannot
//! answer, nor leaves out one it does (schemathesis checks both, `.ci/schemathesis`).

mod merge;
mod security;
mod webhooks;

use std::collections::BTreeMap;

use carnet_schemas::{
    GrantRevoked, IntentEnded, OfferAnswered, PROBLEM_JSON, Problem, VendorIntent, WebhookEvent,
};
use utoipa::OpenApi as _;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};

use security::Schemes;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Carnet",
        description = "Encrypted, self-hosted Vendor Relationship Management vault. The owner API (`/v1/…`) needs the owner token as a bearer token.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(Problem, WebhookEvent, VendorIntent, IntentEnded, OfferAnswered, GrantRevoked)),
    modifiers(&Schemes),
    tags(
        (name = "vendors", description = "Who the owner deals with, and the loyalty facts of each relationship"),
        (name = "interactions", description = "Exchanges that mattered, and their follow-ups"),
        (name = "purchases", description = "What was bought"),
        (name = "incidents", description = "Complaints and how they were resolved"),
        (name = "promises", description = "What vendors committed to, and whether they kept it"),
        (name = "subscriptions", description = "Subscriptions and contracts: payments projected, renewals and notice deadlines watched (owner only: no vendor scope reads them)"),
        (name = "documents", description = "Files attached to a vendor, a purchase, an incident or an interaction: sealed in chunks, streamed both ways, always served as attachments"),
        (name = "search", description = "Every record by the words of its text fields (word prefixes, case and accents aside), from an index held in memory only"),
        (name = "profile", description = "What the owner may disclose"),
        (name = "clients", description = "Vendors connected as OAuth clients"),
        (name = "intents", description = "What the owner wants to buy, and the offers vendors answer with"),
        (name = "grants", description = "What each vendor may do, consent receipts, and the access log"),
        (name = "notify", description = "Reminders that reach the owner: channels (a webhook, ntfy, email) and their deliveries"),
        (name = "archive", description = "The whole vault as one archive: export, and import into an empty vault (the CLI encrypts it with age)"),
        (name = "consent", description = "Consent requests answered from the terminal, and the web password of the consent page"),
        (name = "oauth", description = "OAuth 2.0 authorization server (errors are RFC 6749 bodies)"),
        (name = "vendor", description = "The vendor API, for vendor access tokens"),
        (name = "server", description = "Health and description of this server"),
    )
)]
pub struct ApiDoc;

pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Paths that answer while the vault is sealed (`sealed.rs`); every other one answers 503.
fn answers_sealed(path: &str) -> bool {
    matches!(path, "/healthz" | "/v1/unlock") || path.starts_with("/.well-known/")
}

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// The document as served: the shared error responses on every operation, unique operation
/// ids, the webhooks section, and response objects without `allOf`.
pub fn finish(mut api: OpenApi) -> serde_json::Value {
    api.info.version = env!("CARGO_PKG_VERSION").into();
    name_operations(&mut api);
    for (path, item) in api.paths.paths.iter_mut() {
        // OAuth endpoints document their own RFC 6749 errors.
        let oauth = path.starts_with("/oauth/") || path.starts_with("/.well-known/");
        let vendor = path.starts_with("/v1/vendor/");
        let has_id = path.contains('{');
        let sealed = !answers_sealed(path);
        for op in operations_mut(item) {
            if !oauth {
                add_errors(op, has_id, vendor);
            }
            if sealed {
                op.responses
                    .responses
                    .entry("503".to_owned())
                    .or_insert_with(|| {
                        problem("The vault is sealed (`carnet unlock`); Retry-After says when to try again")
                    });
            }
        }
    }
    let mut doc = serde_json::to_value(&api).unwrap_or_default();
    webhooks::add(&mut doc);
    merge::all_of(&mut doc);
    doc
}

/// Handlers are named by verb (`list`, `show`): each operation id is qualified by its
/// resource (`list_vendors`), and by its whole path where that is not enough
/// (`show_vendors_client`), so client generators get one name per operation.
fn name_operations(api: &mut OpenApi) {
    let literal = |path: &str| -> Vec<String> {
        path.trim_start_matches("/v1/")
            .split('/')
            .filter(|s| !s.is_empty() && !s.starts_with('{'))
            .map(|s| s.replace(['-', '.'], "_"))
            .collect()
    };
    let short = |path: &str, name: &str| match literal(path).first() {
        Some(resource) if !name.ends_with(resource.as_str()) => format!("{name}_{resource}"),
        _ => name.to_owned(),
    };
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for (path, item) in api.paths.paths.iter_mut() {
        for op in operations_mut(item) {
            if let Some(name) = &op.operation_id {
                *uses.entry(short(path, name)).or_default() += 1;
            }
        }
    }
    for (path, item) in api.paths.paths.iter_mut() {
        for op in operations_mut(item) {
            if let Some(name) = op.operation_id.take() {
                let qualified = short(path, &name);
                op.operation_id = Some(if uses.get(&qualified).copied().unwrap_or(0) > 1 {
                    format!("{name}_{}", literal(path).join("_"))
                } else {
                    qualified
                });
            }
        }
    }
}

fn add_errors(op: &mut Operation, has_id: bool, vendor: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    // A raw body (a document's bytes) is taken whatever its type.
    let raw_body = matches!(&op.request_body, Some(utoipa::openapi::RefOr::T(b))
        if b.content.keys().all(|t| t.as_str() == "application/octet-stream"));
    let has_query = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let r = &mut op.responses.responses;
    let mut add = |code: &str, text: &str| {
        r.entry(code.to_owned()).or_insert_with(|| problem(text));
    };
    if has_body || has_query || has_id {
        add("400", "Malformed request: bad JSON, path or query value");
    }
    if vendor {
        add(
            "400",
            "Malformed request, or an access token in the query string (`error=\"invalid_request\"`)",
        );
        add(
            "401",
            "Missing, unknown, expired or revoked access token (`WWW-Authenticate: Bearer error=\"invalid_token\"`)",
        );
        add(
            "403",
            "The token lacks this endpoint's scope (`error=\"insufficient_scope\"`)",
        );
    } else if secured {
        add("401", "Missing or invalid owner token");
    }
    if has_id {
        add("404", "No such record");
    }
    if has_body {
        add("413", "Body too large");
        add("422", "A field is invalid; `errors` lists each");
    }
    if has_body && !raw_body {
        add("415", "Body is not JSON");
    }
    add("500", "Internal error (details in the server log)");
}
