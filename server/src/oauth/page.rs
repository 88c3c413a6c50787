//! The consent pages: plain HTML that works without JavaScript and at phone width, every
//! vendor-supplied string escaped, never framed, never cached.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use carnet_schemas::{Category, Grant, Scope};
use chrono::{DateTime, Duration, Utc};

use carnet_core::consent::Pending;

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// The consent pages' stylesheet, embedded (nothing is fetched from elsewhere).
const STYLESHEET: &str = include_str!("../../assets/carnet.css");

/// Where the pages find it: under `/oauth/`, which reverse proxies already route to carnetd.
const STYLESHEET_PATH: &str = "/oauth/carnet.css";

/// The consent pages' stylesheet (the pages allow no inline style).
#[utoipa::path(get, path = "/oauth/carnet.css", tag = "oauth",
    responses((status = 200, description = "The consent pages' stylesheet", content_type = "text/css")))]
pub async fn stylesheet() -> Response {
    crate::html::asset("text/css; charset=utf-8", STYLESHEET.as_bytes())
}

/// Wraps a body in a page with the security headers every page carries (`crate::html`).
/// `form_to` is the redirect URI's origin, which a form submission may be redirected to.
pub fn page(
    status: StatusCode,
    title: &str,
    body: &str,
    form_to: Option<&str>,
    refresh: Option<u32>,
) -> Response {
    let refresh = refresh.map_or(String::new(), |s| {
        format!("<meta http-equiv=\"refresh\" content=\"{s}\">")
    });
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{refresh}\
         <title>{} — Carnet</title><link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\
         </head><body>{body}</body></html>",
        esc(title)
    );
    crate::html::respond(status, html, form_to)
}

/// A page that says what went wrong and does not redirect anywhere.
pub fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    page(
        status,
        title,
        &format!(
            "<h1>{}</h1><div class=\"card err\"><p>{}</p></div>\
             <p>Nothing was shared. You can close this page and start again from the vendor's site.</p>",
            esc(title),
            esc(detail)
        ),
        None,
        None,
    )
}

/// An error page with status 429 and `Retry-After`.
pub fn too_many(title: &str, detail: &str, retry_after: u64) -> Response {
    let mut res = error(StatusCode::TOO_MANY_REQUESTS, title, detail);
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    res
}

/// A request that expired, was evicted, or was never opened.
pub fn expired() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "This request has expired",
        "Consent requests last ten minutes. Go back to the vendor's site and start again.",
    )
}

/// What the owner had chosen, to redisplay after a failed sign-in.
#[derive(Default)]
pub struct Choices {
    /// Whether these come from a submitted form (then the ticked boxes are exactly
    /// `categories`); on the first showing, the categories the vendor asked for are ticked.
    pub submitted: bool,
    pub categories: Vec<String>,
    pub other: String,
    pub all: bool,
    pub days: u32,
}

impl Choices {
    /// The number of days chosen (30 unless the form said).
    pub fn days(&self) -> u32 {
        match self.days {
            d @ 1..=carnet_schemas::MAX_GRANT_DAYS => d,
            _ => carnet_schemas::DEFAULT_GRANT_DAYS,
        }
    }
}

/// ` --scope S… --category C…`: what a request asks for, as `carnet grant edit` flags.
fn edit_flags(scopes: &[Scope], categories: &[Category]) -> String {
    let scopes = scopes.iter().map(|s| format!(" --scope {}", s.as_str()));
    let categories = categories.iter().map(|c| format!(" --category {c}"));
    scopes.chain(categories).collect()
}

/// A scope in plain words, as a list item.
fn scope_item(s: Scope) -> String {
    format!(
        "<li>{} <small>({})</small></li>",
        esc(s.describe()),
        s.as_str()
    )
}

/// The vendor's live grant, which approving replaces, and what it gives that the grant as
/// chosen on the page would not.
fn replaces(p: &Pending, live: Option<&Grant>, choices: &Choices, now: DateTime<Utc>) -> String {
    let Some(live) = live else {
        return String::new();
    };
    let who = esc(&p.asked.vendor_name);
    let day = |t: &DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let chosen: Vec<Category> = if choices.submitted {
        choices
            .categories
            .iter()
            .map(String::as_str)
            .chain(choices.other.split(' '))
            .filter_map(|c| c.parse().ok())
            .collect()
    } else {
        p.asked.requested_categories.clone()
    };
    let scopes: Vec<Scope> = p.asked.scopes.iter().collect();
    let ends = now + Duration::days(i64::from(choices.days()));
    let lost = live.lost_to(&scopes, &chosen, choices.all, ends);
    let f = &live.fields;
    let reach = if f.all_categories {
        "all categories".to_owned()
    } else {
        f.categories
            .iter()
            .map(|c| esc(c.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut items: Vec<String> = lost.scopes.iter().copied().map(scope_item).collect();
    if lost.all_categories {
        items.push("<li>intents in every category</li>".to_owned());
    }
    items.extend(
        lost.categories
            .iter()
            .map(|c| format!("<li>the category {}</li>", esc(c.as_str()))),
    );
    if let Some(end) = &lost.later_end {
        items.push(format!(
            "<li>access until {} (the new grant ends on {})</li>",
            day(end),
            day(&ends)
        ));
    }
    let loss = if items.is_empty() {
        "<p>The new grant keeps everything the current one allows.</p>".to_owned()
    } else {
        format!(
            "<p>{who} would lose:</p><ul>{}</ul>\
             <p>To keep them, deny this and add what {who} asks for to the current grant, \
             from your terminal: <code>carnet grant edit {}{}</code>.</p>",
            items.concat(),
            esc(live.id.as_str()),
            esc(&edit_flags(&scopes, &p.asked.requested_categories))
        )
    };
    format!(
        "<div class=\"card warn\" id=\"replaces\" role=\"alert\"><strong>This replaces the access {who} has now.</strong> \
         {who} has a live grant ({id}: {scopes}; {reach}; until {until}). Allowing ends it, and the tokens issued under it stop working.{loss}</div>",
        id = esc(live.id.as_str()),
        scopes = f
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        until = day(&live.expires_at),
    )
}

/// What the consent page shows besides the request: the categories the owner knows this
/// vendor by, the vendor's live grant (which approving replaces) and the time.
pub struct Context<'a> {
    pub known_categories: &'a [Category],
    pub live: Option<&'a Grant>,
    pub now: DateTime<Utc>,
}

/// The consent page itself.
pub fn consent(
    p: &Pending,
    cx: &Context<'_>,
    choices: &Choices,
    message: Option<&str>,
    origin: &str,
) -> Response {
    let who = esc(&p.asked.vendor_name);
    let trust = if p.asked.verified {
        "<div class=\"card ok\">You connected this vendor yourself.</div>".to_owned()
    } else {
        "<div class=\"card warn\"><strong>Not verified.</strong> This application registered \
         itself: Carnet cannot vouch for its name. Approve only if you started this from a site you trust.</div>"
            .to_owned()
    };
    let lookalike = p.asked.looks_like.as_deref().map_or(String::new(), |other| {
        format!(
            "<div class=\"card err\" role=\"alert\"><strong>Looks like a vendor you know.</strong> \
             The name {who} looks like that of your vendor “{}”, but this is another application \
             that named itself. Deny unless you know this is really them.</div>",
            esc(other)
        )
    });
    let contact = p
        .asked
        .vendor_website
        .as_deref()
        .map_or(String::new(), |w| format!("<p>Contact: {}</p>", esc(w)));
    let scopes: String = p.asked.scopes.iter().map(scope_item).collect();
    // Every box the owner ticked comes back ticked, whichever list it came from.
    let mut offered: Vec<String> = p
        .asked
        .requested_categories
        .iter()
        .chain(cx.known_categories)
        .map(|c| c.to_string())
        .chain(choices.categories.iter().cloned())
        .collect();
    offered.sort();
    offered.dedup();
    let checked = |c: &str| {
        let ticked = if choices.submitted {
            choices.categories.iter().any(|x| x == c)
        } else {
            p.asked.requested_categories.iter().any(|r| r.as_str() == c)
        };
        if ticked { " checked" } else { "" }
    };
    let boxes: String = offered
        .iter()
        .map(|c| {
            format!(
                "<label><input type=\"checkbox\" name=\"category\" value=\"{0}\"{1}> {0}</label>",
                esc(c),
                checked(c)
            )
        })
        .collect();
    let days = choices.days();
    let mut lengths = vec![7, 30, 90, 365];
    if !lengths.contains(&days) {
        lengths.push(days);
        lengths.sort_unstable();
    }
    let options: String = lengths
        .iter()
        .map(|d| {
            format!(
                "<option value=\"{d}\"{}>{d} days</option>",
                if *d == days { " selected" } else { "" }
            )
        })
        .collect();
    let message = message.map_or(String::new(), |m| {
        format!("<div class=\"card err\" role=\"alert\">{}</div>", esc(m))
    });
    let replaces = replaces(p, cx.live, choices, cx.now);
    let body = format!(
        "<h1>{who} asks to access your Carnet</h1>{trust}{lookalike}{contact}\
         <div class=\"card\"><p>If you allow it, {who} can:</p><ul>{scopes}</ul></div>\
         {replaces}{message}\
         <form method=\"post\" action=\"/oauth/authorize\">\
         <input type=\"hidden\" name=\"request\" value=\"{id}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"card\"><p><strong>Only in these categories</strong> (a category includes the ones below it):</p>{boxes}\
         <label>Other categories, separated by spaces: <input type=\"text\" name=\"other_categories\" value=\"{other}\" placeholder=\"home.appliances\"></label>\
         <label><input type=\"checkbox\" name=\"all_categories\" value=\"yes\"{all}> All categories</label></div>\
         <div class=\"card\"><label>For <select name=\"days\">{options}</select></label>\
         <p>You can revoke it at any time with <code>carnet grant revoke</code>.</p></div>\
         <div class=\"card\"><label>Your Carnet password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div>\
         </form>\
         <div class=\"card\"><p>Or answer from your terminal:</p><p><code>carnet consent approve {code}</code></p>\
         <p>then <a href=\"/oauth/authorize/continue?request={id}\">continue here</a>.</p></div>",
        id = esc(&p.id),
        csrf = esc(&p.csrf),
        other = esc(&choices.other),
        all = if choices.all { " checked" } else { "" },
        code = esc(&p.short_code),
    );
    page(
        if message.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        },
        &format!("{} asks for access", p.asked.vendor_name),
        &body,
        Some(origin),
        None,
    )
}

/// Shown while the owner has not answered from the terminal yet; reloads itself.
pub fn waiting(p: &Pending) -> Response {
    page(
        StatusCode::OK,
        "Waiting for your answer",
        &format!(
            "<h1>Waiting for your answer</h1><div class=\"card\"><p>Run <code>carnet consent approve {}</code> \
             (or <code>deny</code>) in your terminal. This page continues by itself.</p></div>",
            esc(&p.short_code)
        ),
        None,
        Some(3),
    )
}
