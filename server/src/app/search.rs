//! **Search**: the box on every page, answered by the ledger's search (`listing::search`, the
//! same ranking as `carnet search`). Each hit links to where it lives: a vendor to its page,
//! a record to its place in its vendor's timeline, a document to its vendor's documents.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::ledger::listing::{self, SearchError};
use carnet_schemas::{RecordKind, SearchHit};
use maud::{Markup, html};

use super::failed;
use super::shell::{self, Nav, empty};
use super::signed::Signed;
use crate::state::AppState;

/// Hits shown (the best first).
const SHOWN: usize = 50;

const KINDS: [(&str, &str); 6] = [
    ("", "Everything"),
    ("vendor", "Vendors"),
    ("interaction", "Interactions"),
    ("purchase", "Purchases"),
    ("incident", "Incidents"),
    ("document", "Documents"),
];

/// Where a hit is shown.
fn href(hit: &SearchHit) -> String {
    match (&hit.kind, &hit.vendor_id) {
        (RecordKind::Vendor, _) => format!("/app/vendors/{}", hit.id),
        (_, Some(v)) => format!("/app/vendors/{v}#{}", hit.id),
        (_, None) => "/app/vendors".into(),
    }
}

fn form(q: &str, kind: &str) -> Markup {
    html! {
        form.card method="get" action="/app/search" role="search" {
            div.field {
                label for="f-q" { "Words" }
                small.hint id="f-q-hint" { "Each word must begin a word of the record (case and accents aside)." }
                input id="f-q" type="search" name="q" value=(q) aria-describedby="f-q-hint";
            }
            div.field {
                label for="f-kind" { "Only" }
                select id="f-kind" name="kind" {
                    @for (v, l) in KINDS { option value=(v) selected[v == kind] { (l) } }
                }
            }
            button type="submit" { "Search" }
        }
    }
}

/// `GET /app/search?q=…&kind=…`.
pub async fn show(signed: Signed, State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let mut q = String::new();
    let mut kind = String::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match &*k {
            "q" => q = v.into_owned(),
            "kind" => kind = v.into_owned(),
            _ => {}
        }
    }
    let record_kind = RecordKind::ALL.into_iter().find(|k| k.as_str() == kind);
    let text = q.clone();
    let found = s
        .blocking(move |s| {
            Ok(listing::search(
                &s.store,
                &s.keys,
                &s.index,
                &text,
                record_kind,
                None,
                SHOWN,
            ))
        })
        .await;
    let (status, results) = match found {
        Ok(Ok(hits)) => (
            StatusCode::OK,
            html! {
                @if hits.is_empty() { (empty("Nothing matches these words.")) }
                ol.items {
                    @for h in &hits {
                        li {
                            span.tag { (h.kind.as_str()) } " "
                            a href=(href(h)) { (h.title) }
                            @if let Some(f) = &h.file_name { div.meta { (f) } }
                        }
                    }
                }
            },
        ),
        Ok(Err(SearchError::NoWords)) => (
            if q.trim().is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            },
            html! { @if !q.trim().is_empty() { div.card.err role="alert" { p { "These are not words Carnet can search for: use letters or digits." } } } },
        ),
        Ok(Err(SearchError::TooManyWords)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! { div.card.err role="alert" { p { "That is too many words: search for a few." } } },
        ),
        Ok(Err(SearchError::Ledger(e))) => return failed(e),
        Err(e) => return failed(e),
    };
    shell::page_with(
        status,
        &signed,
        Nav::Search,
        "Search",
        html! { (form(&q, &kind)) (results) },
    )
}
