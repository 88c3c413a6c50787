//! What carnetd's answers, and their absence, mean to the person at the terminal: the one
//! `CliError` for a request that got no answer, a redirect, a refusal (problem+json or not), a
//! sealed vault or a body carnet cannot read. Every message and hint names what to do next;
//! nothing the server sent is trusted to be one line (`CliError::render` makes it so).

use std::time::Duration;

use carnet_schemas::{PROBLEM_JSON, Problem};
use reqwest::blocking::Response;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};

use super::TIMEOUT;
use crate::config::{ServerUrl, TokenSource};
use crate::error::{CliError, ExitKind};

/// The error for a non-2xx `response`, read from its headers and body. `source` is where the
/// token came from (`None` when no token was sent).
pub(super) fn refused(
    server: &ServerUrl,
    source: Option<&TokenSource>,
    response: Response,
) -> CliError {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().map(|b| b.to_vec()).unwrap_or_default();
    refused_with(server, source, status, &headers, &body)
}

/// `refused`, from an answer's parts.
pub(super) fn refused_with(
    server: &ServerUrl,
    source: Option<&TokenSource>,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> CliError {
    let location = headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let retry_after = headers
        .get(header::RETRY_AFTER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.trim().parse::<u64>().ok());
    let is_problem = headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with(PROBLEM_JSON) || c.starts_with("application/json"));
    let problem = is_problem
        .then(|| serde_json::from_slice::<Problem>(body).ok())
        .flatten();
    let mut e = answer_error(server, source, status, problem, location.as_deref());
    e.retry_after = retry_after.filter(|_| status == StatusCode::TOO_MANY_REQUESTS);
    e
}

/// The error for a 2xx body that is not what carnetd sends for `method path`.
pub(super) fn not_understood(
    server: &ServerUrl,
    method: &Method,
    path: &str,
    e: &serde_json::Error,
) -> CliError {
    CliError::failed(format!(
        "the answer of {server} to {method} {path} is not what carnetd sends: {e}"
    ))
    .with_hint(format!(
        "check that --server points at carnetd, and that carnet ({}) and carnetd (GET {server}/healthz) are the same version",
        env!("CARGO_PKG_VERSION"),
    ))
}

/// The error for a request that got no answer.
pub fn unreachable(server: &ServerUrl, e: &reqwest::Error) -> CliError {
    unreachable_within(server, e, TIMEOUT)
}

/// The error for a request that got no answer, `limit` being how long it was given.
pub(super) fn unreachable_within(
    server: &ServerUrl,
    e: &reqwest::Error,
    limit: Duration,
) -> CliError {
    if e.is_timeout() {
        return not_in_time(server, limit);
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
    cannot_reach(server, (!refused).then_some(cause.as_str()))
}

/// The error for a request carnetd did not answer within `limit`.
pub(super) fn not_in_time(server: &ServerUrl, limit: Duration) -> CliError {
    CliError::new(
        ExitKind::Unreachable,
        format!(
            "carnetd at {server} did not answer within {} s",
            limit.as_secs()
        ),
    )
    .with_hint("check that it is running and not stuck; its log says what it is doing")
}

/// The error for a server that cannot be reached: nothing listens (no `cause`), or the
/// cause (DNS, TLS, a reset connection) says why.
pub(super) fn cannot_reach(server: &ServerUrl, cause: Option<&str>) -> CliError {
    let message = match cause {
        None => format!("cannot reach carnetd at {server}"),
        Some(cause) => format!("cannot reach carnetd at {server}: {cause}"),
    };
    CliError::new(ExitKind::Unreachable, message)
        .with_hint("start it with `carnetd`, or point --server / CARNET_SERVER at it")
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
