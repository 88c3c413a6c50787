//! The HTTP client of carnetd's owner API: blocking reqwest over rustls (ring), no redirects
//! followed (the bearer token must not travel to wherever a redirect points), 30 s timeout.
//! Every failure becomes a `CliError` here, once: cannot connect, refused token, a sealed
//! vault, problem+json.

use std::sync::Once;
use std::time::Duration;

use carnet_schemas::{MAX_PAGE, PROBLEM_JSON, Page, Problem};
use reqwest::blocking::{Client as Http, Response};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{ServerUrl, Token, TokenSource};
use crate::error::{BUG_HINT, CliError, CliResult, ExitKind};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A response body as the server sent it (`raw`, for `--json`) and as checked by the schema
/// types (`value`, for everything else).
#[derive(Debug, Clone)]
pub struct Doc<T> {
    pub value: T,
    pub raw: serde_json::Value,
}

pub struct Client {
    http: Http,
    server: ServerUrl,
    /// The owner token and where it came from; `None` for `carnet unlock`, which the
    /// passphrase authenticates (no token is sent where none is needed).
    auth: Option<(Token, TokenSource)>,
}

static CRYPTO_PROVIDER: Once = Once::new();

impl Client {
    pub fn new(server: ServerUrl, token: Token, source: TokenSource) -> CliResult<Client> {
        Self::build(server, Some((token, source)))
    }

    /// A client that sends no token (`GET /healthz`, `POST /v1/unlock`).
    pub fn without_token(server: ServerUrl) -> CliResult<Client> {
        Self::build(server, None)
    }

    fn build(server: ServerUrl, auth: Option<(Token, TokenSource)>) -> CliResult<Client> {
        CRYPTO_PROVIDER.call_once(|| {
            // Err means a provider is installed already, which is all we need.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let http = Http::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("carnet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                CliError::failed(format!("cannot set up the HTTP client: {e}")).with_hint(
                    "the system's TLS or network set-up may be unusable; if it persists, report it with `carnet --version`",
                )
            })?;
        Ok(Client { http, server, auth })
    }

    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> CliResult<Doc<T>> {
        let body = self.send(Method::GET, path, query, None)?;
        self.decode(&Method::GET, path, &body)
    }

    pub fn post<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> CliResult<Doc<T>> {
        let body = self.send(Method::POST, path, &[], Some(self.encode(body)?))?;
        self.decode(&Method::POST, path, &body)
    }

    /// A POST without a body (`/v1/followups/{id}/done`).
    pub fn post_empty<T: DeserializeOwned>(&self, path: &str) -> CliResult<Doc<T>> {
        let body = self.send(Method::POST, path, &[], None)?;
        self.decode(&Method::POST, path, &body)
    }

    pub fn put<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> CliResult<Doc<T>> {
        let body = self.send(Method::PUT, path, &[], Some(self.encode(body)?))?;
        self.decode(&Method::PUT, path, &body)
    }

    /// A POST without a body answered 204 No Content (`/v1/consents/{code}/deny`).
    pub fn post_no_content(&self, path: &str) -> CliResult<()> {
        self.send(Method::POST, path, &[], None).map(drop)
    }

    /// A PUT answered 204 No Content (`/v1/password`).
    pub fn put_no_content<B: Serialize>(&self, path: &str, body: &B) -> CliResult<()> {
        self.send(Method::PUT, path, &[], Some(self.encode(body)?))
            .map(drop)
    }

    pub fn delete(&self, path: &str) -> CliResult<()> {
        self.send(Method::DELETE, path, &[], None).map(drop)
    }

    /// A listing the server answers as one JSON array (grants, receipts), item by item.
    pub fn get_array<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> CliResult<Vec<Doc<T>>> {
        let all: Doc<Vec<serde_json::Value>> = self.get(path, query)?;
        all.value
            .into_iter()
            .map(|raw| {
                let value = serde_json::from_value(raw.clone())
                    .map_err(|e| self.not_understood(&Method::GET, path, &e))?;
                Ok(Doc { value, raw })
            })
            .collect()
    }

    /// Every item of a paged listing, following `next_cursor` to the end.
    pub fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> CliResult<Vec<Doc<T>>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut q = query.to_vec();
            q.push(("limit", MAX_PAGE.to_string()));
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let page: Doc<Page<serde_json::Value>> = self.get(path, &q)?;
            for raw in page.value.items {
                let value = serde_json::from_value(raw.clone())
                    .map_err(|e| self.not_understood(&Method::GET, path, &e))?;
                items.push(Doc { value, raw });
            }
            match page.value.next_cursor {
                // A server handing out a cursor twice would loop forever.
                Some(next) if seen.insert(next.clone()) => cursor = Some(next),
                _ => return Ok(items),
            }
        }
    }

    fn encode<B: Serialize>(&self, body: &B) -> CliResult<Vec<u8>> {
        serde_json::to_vec(body).map_err(|e| {
            CliError::failed(format!("cannot encode the request: {e}")).with_hint(BUG_HINT)
        })
    }

    fn decode<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        body: &[u8],
    ) -> CliResult<Doc<T>> {
        let raw: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| self.not_understood(method, path, &e))?;
        let value = serde_json::from_value(raw.clone())
            .map_err(|e| self.not_understood(method, path, &e))?;
        Ok(Doc { value, raw })
    }

    fn not_understood(&self, method: &Method, path: &str, e: &serde_json::Error) -> CliError {
        CliError::failed(format!(
            "the answer of {} to {method} {path} is not what carnetd sends: {e}",
            self.server
        ))
        .with_hint(format!(
            "check that --server points at carnetd, and that carnet ({}) and carnetd (GET {}/healthz) are the same version",
            env!("CARGO_PKG_VERSION"),
            self.server
        ))
    }

    /// A GET whose 2xx body is read as it arrives (`GET /v1/export`): each read may wait up
    /// to the usual timeout, the whole transfer as long as it takes.
    pub fn get_stream(&self, path: &str) -> CliResult<Response> {
        let response = self
            .request(Method::GET, path, &[])?
            .send()
            .map_err(|e| unreachable(&self.server, &e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.refused(response))
        }
    }

    /// A POST whose JSON body is streamed from `body` (`POST /v1/import`), answered within
    /// `timeout` of the start.
    pub fn post_stream<T: DeserializeOwned>(
        &self,
        path: &str,
        body: reqwest::blocking::Body,
        timeout: Duration,
    ) -> CliResult<Doc<T>> {
        let response = self
            .request(Method::POST, path, &[])?
            .header(header::CONTENT_TYPE, "application/json")
            .timeout(timeout)
            .body(body)
            .send()
            .map_err(|e| unreachable_within(&self.server, &e, timeout))?;
        if !response.status().is_success() {
            return Err(self.refused(response));
        }
        let body = response
            .bytes()
            .map_err(|e| unreachable_within(&self.server, &e, timeout))?;
        self.decode(&Method::POST, path, &body)
    }

    /// A request to `path` with the owner token, if there is one.
    fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> CliResult<reqwest::blocking::RequestBuilder> {
        let mut url = self.server.endpoint(path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut request = self
            .http
            .request(method, url)
            .header(header::ACCEPT, "application/json, application/problem+json");
        if let Some((token, source)) = &self.auth {
            let mut auth =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    CliError::new(
                        ExitKind::Auth,
                        format!("the owner token in {source} is not usable"),
                    )
                    .with_hint("it holds characters an HTTP header cannot carry: copy owner.token again from carnetd's data directory (`carnet login --token-file F`)")
                })?;
            auth.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, auth);
        }
        Ok(request)
    }

    /// Sends one request; returns the body of a 2xx answer.
    fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> CliResult<Vec<u8>> {
        let mut request = self.request(method, path, query)?;
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().map_err(|e| unreachable(&self.server, &e))?;
        let status = response.status();
        if status.is_success() {
            return response
                .bytes()
                .map(|b| b.to_vec())
                .map_err(|e| unreachable(&self.server, &e));
        }
        Err(self.refused(response))
    }

    fn refused(&self, response: Response) -> CliError {
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|r| r.to_str().ok())
            .and_then(|r| r.trim().parse::<u64>().ok());
        let is_problem = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with(PROBLEM_JSON) || c.starts_with("application/json"));
        let body = response.bytes().map(|b| b.to_vec()).unwrap_or_default();
        let problem = is_problem
            .then(|| serde_json::from_slice::<Problem>(&body).ok())
            .flatten();
        let mut e = answer_error(
            &self.server,
            self.auth.as_ref().map(|(_, source)| source),
            status,
            problem,
            location.as_deref(),
        );
        e.retry_after = retry_after.filter(|_| status == StatusCode::TOO_MANY_REQUESTS);
        e
    }
}

/// The error for a request that got no answer.
pub fn unreachable(server: &ServerUrl, e: &reqwest::Error) -> CliError {
    unreachable_within(server, e, TIMEOUT)
}

/// The error for a request that got no answer, `limit` being how long it was given.
fn unreachable_within(server: &ServerUrl, e: &reqwest::Error, limit: Duration) -> CliError {
    let hint = "start it with `carnetd`, or point --server / CARNET_SERVER at it";
    if e.is_timeout() {
        return CliError::new(
            ExitKind::Unreachable,
            format!(
                "carnetd at {server} did not answer within {} s",
                limit.as_secs()
            ),
        )
        .with_hint("check that it is running and not stuck; its log says what it is doing");
    }
    // The outer reqwest message only names the URL; the cause is further down.
    let mut cause = e.to_string();
    let mut refused = false;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        refused |= s
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        source = s.source();
    }
    let message = if refused {
        format!("cannot reach carnetd at {server}")
    } else {
        // DNS, TLS, a reset connection: the cause says which.
        format!("cannot reach carnetd at {server}: {cause}")
    };
    CliError::new(ExitKind::Unreachable, message).with_hint(hint)
}

/// The title of the 503 problem carnetd answers to everything but unlocking while sealed.
pub const SEALED_TITLE: &str = "vault sealed";

/// The error for a non-2xx answer, from its status and problem+json body when there is one.
/// `source` is where the token came from (`None` when no token was sent).
pub fn answer_error(
    server: &ServerUrl,
    source: Option<&TokenSource>,
    status: StatusCode,
    problem: Option<Problem>,
    location: Option<&str>,
) -> CliError {
    if status.is_redirection() {
        return CliError::failed(format!(
            "{server} answered with a redirect ({status}) to {}",
            location.unwrap_or("nowhere")
        ))
        .with_hint("carnet does not follow redirects (they would carry the token along): point --server at carnetd's own address");
    }
    let kind = if status == StatusCode::UNAUTHORIZED {
        ExitKind::Auth
    } else {
        ExitKind::Failed
    };
    let Some(p) = problem else {
        let reason = status.canonical_reason().unwrap_or("");
        if matches!(status.as_u16(), 502..=504) {
            return CliError::new(
                ExitKind::Unreachable,
                format!("cannot reach carnetd at {server}: the proxy in front of it answered {} {reason}", status.as_u16()),
            )
            .with_hint("start carnetd behind the proxy, or point --server / CARNET_SERVER at it");
        }
        return CliError::new(
            kind,
            format!("{server} answered {} {reason}", status.as_u16()),
        )
        .with_hint(format!(
            "is it carnetd? `curl {server}/healthz` should answer {{\"status\":\"ok\",…}}"
        ));
    };
    if status == StatusCode::SERVICE_UNAVAILABLE && p.title == SEALED_TITLE {
        return CliError {
            status: Some(status.as_u16()),
            ..CliError::new(
                ExitKind::Sealed,
                format!("the vault at {server} is sealed: its key is not in memory, so nothing in it can be read or written"),
            )
            .with_hint("run `carnet unlock` (the passphrase; --recovery-key-file F for the recovery key, --identity for a vault without a passphrase)")
        };
    }
    let message = if p.errors.is_empty() {
        p.detail
    } else {
        p.errors
            .iter()
            .map(|e| format!("{}: {}", flag_of(&e.field), e.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let hint = if let (StatusCode::UNAUTHORIZED, Some(source)) = (status, source) {
        Some(refused_token_hint(server, source))
    } else if !p.errors.is_empty() {
        // The server's hint speaks of the body's `errors` array, which a CLI user never sees.
        Some("correct the value named above and run the command again".to_owned())
    } else {
        p.hint
    };
    CliError {
        message,
        hint,
        kind,
        status: Some(status.as_u16()),
        retry_after: None,
    }
}

/// The command-line name of a request field the server refused, so the message names what the
/// owner typed (`--due`, not `next_due`); fields without a flag keep their name.
fn flag_of(field: &str) -> &str {
    match field {
        "vendor_id" => "VENDOR",
        "name" => "NAME",
        "at" | "opened_at" | "date" => "--at",
        "next_step" => "--next",
        "next_due" => "--due",
        "incident_id" => "--incident",
        "warranty_until" => "--warranty-until",
        "contact_policy" => "--contact-policy",
        "display_name" => "--display-name",
        "postal_code" => "--postal-code",
        "i_said" => "--i-said",
        "they_said" => "--they-said",
        "website" => "--website",
        "categories" => "--category",
        "accounts" => "--account",
        "note" => "--note",
        "channel" => "--channel",
        "summary" => "--summary",
        "with" => "--with",
        "expected" => "--expected",
        "outcome" => "--outcome",
        "sentiment" => "--sentiment",
        "item" => "--item",
        "amount" => "--amount",
        "currency" => "--currency",
        "receipt" => "--receipt",
        "description" => "--description",
        "resolution" => "--resolution",
        "satisfaction" => "--satisfaction",
        "locale" => "--locale",
        "city" => "--city",
        "redirect_uris" => "--redirect-uri",
        "webhook_url" => "--webhook-url",
        "scopes" => "--scope",
        "all_categories" => "--all-categories",
        "days" => "--days",
        "purpose" | "terms.purpose" => "--purpose",
        "title" => "--title",
        "category" => "--category",
        "price_specification.min_price" => "--min-price",
        "price_specification.max_price" => "--max-price",
        "price_specification.price_currency" => "--currency",
        "eligible_quantity" => "--quantity",
        "area_served" => "--area",
        "available_delivery_method" => "--delivery",
        "item_condition" => "--condition",
        "valid_from" => "--from",
        "valid_through" => "--until",
        "max_offers" => "--max-offers",
        "terms.retention_days" => "--retention-days",
        "terms.withhold" => "--withhold",
        "reason" => "--reason",
        "keep_open" => "--keep-open",
        other => other,
    }
}

fn refused_token_hint(server: &ServerUrl, source: &TokenSource) -> String {
    match source {
        TokenSource::Env => format!(
            "the token in CARNET_TOKEN is not {server}'s owner token: check it, or unset it to use the saved one"
        ),
        TokenSource::ConfigFile(p) => format!(
            "the token saved in {} was refused (rotated?): run `carnet login --server {server}` with the current one",
            p.display()
        ),
        TokenSource::Given(what) => format!(
            "the token from {what} is not {server}'s owner token: carnetd writes it to owner.token in its data dir"
        ),
        TokenSource::OwnerTokenFile(p) => format!(
            "the token in {} was refused: is {server} the carnetd that owns that data dir? Set CARNET_DATA_DIR, CARNET_TOKEN or `carnet login` for another",
            p.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use carnet_schemas::FieldError;

    use super::*;

    fn server() -> ServerUrl {
        "http://127.0.0.1:8787".parse().unwrap()
    }

    #[test]
    fn a_timeout_names_the_limit_the_request_was_given() {
        // A listener that never answers: the import waits for its whole limit.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url: ServerUrl = format!("http://{}", silent.local_addr().unwrap())
            .parse()
            .unwrap();
        let client = Client::without_token(url).unwrap();
        let Err(e) = client.post_stream::<serde_json::Value>(
            "/v1/import",
            reqwest::blocking::Body::from("{}"),
            Duration::from_secs(1),
        ) else {
            panic!("a server that never answers cannot have answered");
        };
        let told = e.render();
        assert!(told.contains("did not answer within 1 s"), "{told}");
    }

    fn problem(status: u16, detail: &str, hint: Option<&str>, errors: &[(&str, &str)]) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: "t".into(),
            status,
            detail: detail.into(),
            hint: hint.map(Into::into),
            errors: errors
                .iter()
                .map(|(f, m)| FieldError {
                    field: (*f).into(),
                    message: (*m).into(),
                })
                .collect(),
        }
    }

    fn render(status: u16, p: Option<Problem>) -> (String, u8) {
        let e = answer_error(
            &server(),
            Some(&TokenSource::Env),
            StatusCode::from_u16(status).unwrap(),
            p,
            Some("https://elsewhere/"),
        );
        (e.render(), e.kind.code())
    }

    #[test]
    fn a_problem_becomes_its_detail_and_hint() {
        let p = problem(
            404,
            "there is no vendor ven_0123456789abcdef",
            Some("list them (`carnet vendor list`)"),
            &[],
        );
        assert_eq!(
            render(404, Some(p)),
            (
                "carnet: error: there is no vendor ven_0123456789abcdef\n  hint: list them (`carnet vendor list`)\n".into(),
                1
            )
        );
    }

    #[test]
    fn field_errors_name_the_flags_and_are_joined() {
        let p = problem(
            422,
            "2 fields are invalid",
            Some("correct the fields listed in `errors`"),
            &[("amount", "not a number"), ("currency", "not ISO 4217")],
        );
        let (text, code) = render(422, Some(p));
        assert_eq!(code, 1);
        assert!(
            text.starts_with("carnet: error: --amount: not a number; --currency: not ISO 4217\n"),
            "{text}"
        );
        assert!(!text.contains("`errors`"), "{text}");
        let one = problem(
            422,
            "next_due: needs a next_step",
            None,
            &[("next_due", "needs a next_step")],
        );
        let (text, _) = render(422, Some(one));
        assert!(
            text.starts_with("carnet: error: --due: needs a next_step\n"),
            "{text}"
        );
        let body = problem(422, "body: x", None, &[("body", "missing field `x`")]);
        let (text, _) = render(422, Some(body));
        assert!(
            text.starts_with("carnet: error: body: missing field `x`\n"),
            "{text}"
        );
    }

    #[test]
    fn refused_tokens_exit_4_and_name_their_source() {
        let p = problem(
            401,
            "the owner token is not this vault's",
            Some("send the owner token"),
            &[],
        );
        let (text, code) = render(401, Some(p));
        assert_eq!(code, 4);
        assert!(text.contains("CARNET_TOKEN"), "{text}");
    }

    #[test]
    fn answers_without_a_problem_still_say_something() {
        let (text, code) = render(502, None);
        assert_eq!(code, 3);
        assert!(
            text.starts_with("carnet: error: cannot reach carnetd at http://127.0.0.1:8787"),
            "{text}"
        );
        let (text, code) = render(404, None);
        assert_eq!(code, 1);
        assert!(text.contains("answered 404 Not Found"), "{text}");
        let (text, _) = render(301, None);
        assert!(
            text.contains("redirect (301 Moved Permanently) to https://elsewhere/"),
            "{text}"
        );
    }

    #[test]
    fn a_sealed_vault_exits_5_and_says_to_unlock() {
        let mut p = problem(503, "the vault is sealed", Some("unlock it"), &[]);
        p.title = SEALED_TITLE.into();
        let (text, code) = render(503, Some(p));
        assert_eq!(code, 5);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("  hint: run `carnet unlock`"), "{text}");
        let (_, code) = render(503, Some(problem(503, "busy", None, &[])));
        assert_eq!(code, 1, "another 503 problem is not a sealed vault");
    }

    #[test]
    fn server_text_cannot_paint_the_terminal() {
        let p = problem(
            409,
            "a vendor named \"\u{1b}[31mAcme\" already exists",
            None,
            &[],
        );
        let (text, _) = render(409, Some(p));
        assert_eq!(
            text,
            "carnet: error: a vendor named \"[31mAcme\" already exists\n  \
             hint: it changed meanwhile, or exists already: look at it again, then retry\n"
        );
    }
}
