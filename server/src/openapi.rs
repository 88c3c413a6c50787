//! The OpenAPI document: built from the same handlers as the router (utoipa-axum), then given
//! the error responses every operation shares, so they are documented once, here.

use carnet_schemas::{PROBLEM_JSON, Problem};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::{Modify, OpenApi as _};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Carnet",
        description = "Encrypted, self-hosted Vendor Relationship Management vault. The owner API (`/v1/…`) needs the owner token as a bearer token.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(Problem)),
    modifiers(&OwnerAuth),
    tags(
        (name = "vendors", description = "Who the owner deals with, and the loyalty facts of each relationship"),
        (name = "interactions", description = "Exchanges that mattered, and their follow-ups"),
        (name = "purchases", description = "What was bought"),
        (name = "incidents", description = "Complaints and how they were resolved"),
        (name = "profile", description = "What the owner may disclose"),
        (name = "clients", description = "Vendors connected as OAuth clients"),
        (name = "intents", description = "What the owner wants to buy, and the offers vendors answer with"),
        (name = "grants", description = "What each vendor may do, consent receipts, and the access log"),
        (name = "archive", description = "The whole vault as one archive: export, and import into an empty vault (the CLI encrypts it with age)"),
        (name = "consent", description = "Consent requests answered from the terminal, and the web password of the consent page"),
        (name = "oauth", description = "OAuth 2.0 authorization server (errors are RFC 6749 bodies)"),
        (name = "vendor", description = "The vendor API, for vendor access tokens"),
        (name = "server", description = "Health and description of this server"),
    )
)]
pub struct ApiDoc;

struct OwnerAuth;

impl Modify for OwnerAuth {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("The owner token, from `owner.token` in the data dir".into());
        components.add_security_scheme("owner", SecurityScheme::Http(bearer));
        let mut vendor = Http::new(HttpAuthScheme::Bearer);
        vendor.description = Some("A vendor access token from /oauth/token".into());
        components.add_security_scheme("vendor", SecurityScheme::Http(vendor));
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some(
            "OAuth client authentication (client_secret_basic); client_secret_post sends client_id and client_secret in the form instead".into(),
        );
        components.add_security_scheme("client_secret_basic", SecurityScheme::Http(basic));
        let mut iat = Http::new(HttpAuthScheme::Bearer);
        iat.description = Some("An initial access token from `carnet vendor invite`".into());
        components.add_security_scheme("initial_access_token", SecurityScheme::Http(iat));
    }
}

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

/// Adds the shared error responses to every operation.
pub fn finish(mut api: OpenApi) -> OpenApi {
    api.info.version = env!("CARGO_PKG_VERSION").into();
    for (path, item) in api.paths.paths.iter_mut() {
        // OAuth endpoints document their own RFC 6749 errors.
        let oauth = path.starts_with("/oauth/") || path.starts_with("/.well-known/");
        let vendor = path.starts_with("/v1/vendor/");
        let has_id = path.contains('{');
        // Handlers are named by verb (`list`, `show`); qualify them by resource so every
        // operationId is unique for client generators.
        let resource = path
            .trim_start_matches("/v1/")
            .split('/')
            .next()
            .unwrap_or("")
            .trim_start_matches('/')
            .to_owned();
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(name) = &op.operation_id
                && !resource.is_empty()
                && !name.ends_with(&resource)
            {
                op.operation_id = Some(format!("{name}_{resource}"));
            }
            if !oauth {
                add_errors(op, has_id, vendor);
            }
        }
    }
    api
}

fn add_errors(op: &mut Operation, has_id: bool, vendor: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
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
        add("415", "Body is not JSON");
        add("422", "A field is invalid; `errors` lists each");
    }
    add("500", "Internal error (details in the server log)");
}
