//! The HTTP client of carnetd's owner API: blocking reqwest over rustls (ring), no redirects
//! followed (the bearer token must not travel to wherever a redirect points), 30 s timeout.
//! What the server answers, or its silence, becomes a `CliError` once, in `answer`: cannot
//! connect, refused token, a sealed vault, problem+json, a body carnet cannot read. The errors
//! worded here are carnet's own side: the HTTP set-up, a token no header can carry, a body that
//! cannot be encoded.

mod answer;
mod upload;

use std::sync::Once;
use std::time::Duration;

use carnet_schemas::{MAX_PAGE, Page};
use reqwest::Method;
use reqwest::blocking::{Client as Http, Response};
use reqwest::header::{self, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{ServerUrl, Token, TokenSource};
use crate::error::{BUG_HINT, CliError, CliResult, ExitKind};

use answer::unreachable_within;
pub use answer::{SEALED_TITLE, answer_error, unreachable};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Where a streamed upload goes and as what (`Client::post_stream_as`).
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub path: &'a str,
    pub query: &'a [(&'a str, String)],
    pub content_type: &'a str,
    /// What a cut upload left, said as the hint of its error.
    pub unchanged: &'a str,
}

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

    pub fn patch<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> CliResult<Doc<T>> {
        let body = self.send(Method::PATCH, path, &[], Some(self.encode(body)?))?;
        self.decode(&Method::PATCH, path, &body)
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
        answer::not_understood(&self.server, method, path, e)
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
    /// `timeout` of the start. An answer carnetd sends before it has read the whole body (a
    /// refused token, a sealed vault) is what is reported, not the upload it cut (`upload`).
    pub fn post_stream<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Box<dyn std::io::Read + Send>,
        timeout: Duration,
    ) -> CliResult<Doc<T>> {
        let upload = Upload {
            path,
            query: &[],
            content_type: "application/json",
            unchanged: "nothing was imported: the vault is unchanged",
        };
        self.post_stream_as(&upload, body, timeout)
    }

    /// `post_stream` of any body (`upload` says where, as what, and what a cut upload left).
    pub fn post_stream_as<T: DeserializeOwned>(
        &self,
        upload: &Upload<'_>,
        mut body: Box<dyn std::io::Read + Send>,
        timeout: Duration,
    ) -> CliResult<Doc<T>> {
        let Upload { path, query, .. } = *upload;
        if upload::proxied() {
            let body = reqwest::blocking::Body::new(body);
            return self.post_stream_proxied(upload, body, timeout);
        }
        let bearer = self.bearer()?;
        let mut headers = vec![
            ("Accept", "application/json, application/problem+json"),
            ("Content-Type", upload.content_type),
            ("User-Agent", concat!("carnet/", env!("CARGO_PKG_VERSION"))),
        ];
        if let Some(b) = &bearer {
            headers.push(("Authorization", b.as_str()));
        }
        match upload::post(&self.server, (path, query), &headers, &mut body, timeout) {
            Ok(a) if a.status.is_success() => self.decode(&Method::POST, path, &a.body),
            Ok(a) => Err(answer::refused_with(
                &self.server,
                self.auth.as_ref().map(|(_, source)| source),
                a.status,
                &a.headers,
                &a.body,
            )),
            Err(upload::NoAnswer::Refused) => Err(answer::cannot_reach(&self.server, None)),
            Err(upload::NoAnswer::TimedOut) => Err(answer::not_in_time(&self.server, timeout)),
            Err(upload::NoAnswer::Failed(cause)) => {
                Err(answer::cannot_reach(&self.server, Some(&cause)))
            }
            // The caller knows what failed in the body it gave (see `commands::archive`).
            Err(upload::NoAnswer::Body(e)) => {
                Err(CliError::failed(format!("the upload stopped: {e}"))
                    .with_hint(upload.unchanged))
            }
        }
    }

    /// `post_stream` through reqwest, which knows the proxy the environment names.
    fn post_stream_proxied<T: DeserializeOwned>(
        &self,
        upload: &Upload<'_>,
        body: reqwest::blocking::Body,
        timeout: Duration,
    ) -> CliResult<Doc<T>> {
        let response = self
            .request(Method::POST, upload.path, upload.query)?
            .header(header::CONTENT_TYPE, upload.content_type)
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
        self.decode(&Method::POST, upload.path, &body)
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
        if let Some(bearer) = self.bearer()? {
            let mut auth = HeaderValue::from_str(&bearer).map_err(|_| self.unusable_token())?;
            auth.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, auth);
        }
        Ok(request)
    }

    /// `Bearer <owner token>`, if there is a token; refused if no header can carry it.
    fn bearer(&self) -> CliResult<Option<String>> {
        let Some((token, _)) = &self.auth else {
            return Ok(None);
        };
        let value = format!("Bearer {}", token.expose());
        if HeaderValue::from_str(&value).is_err() || value.contains(['\r', '\n']) {
            return Err(self.unusable_token());
        }
        Ok(Some(value))
    }

    fn unusable_token(&self) -> CliError {
        let source = self
            .auth
            .as_ref()
            .map_or_else(String::new, |(_, s)| s.to_string());
        CliError::new(
            ExitKind::Auth,
            format!("the owner token in {source} is not usable"),
        )
        .with_hint("it holds characters an HTTP header cannot carry: copy owner.token again from carnetd's data directory (`carnet login --token-file F`)")
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
        answer::refused(
            &self.server,
            self.auth.as_ref().map(|(_, source)| source),
            response,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Box::new(std::io::Cursor::new(b"{}".to_vec())),
            Duration::from_secs(1),
        ) else {
            panic!("a server that never answers cannot have answered");
        };
        let told = e.render();
        assert!(told.contains("did not answer within 1 s"), "{told}");
    }
}
