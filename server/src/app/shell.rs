//! The frame of every web-app page (its head, the bar with the search box and **Add
//! interaction**, the navigation, sign-out) and the pieces forms are made of: fields labelled
//! like the CLI's flags that keep what was typed and say what is wrong beside it. Markup comes
//! from maud, which escapes every value; nothing here writes inline style or script.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{DOCTYPE, Markup, html};

use super::signed::Signed;

/// The pages of the main navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Today,
    Vendors,
    Intents,
    Access,
    Search,
    Settings,
    Capture,
}

const NAV: [(Nav, &str, &str); 5] = [
    (Nav::Today, "/app/", "Today"),
    (Nav::Vendors, "/app/vendors", "Vendors"),
    (Nav::Intents, "/app/intents", "Intents"),
    (Nav::Access, "/app/access", "Access"),
    (Nav::Settings, "/app/settings", "Settings"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="theme-color" content="#1f4e79";
            title { (title) " — Carnet" }
            link rel="stylesheet" href="/app/app.css";
            link rel="manifest" href="/app/manifest.webmanifest";
            link rel="icon" href="/app/icon.svg" type="image/svg+xml";
            link rel="apple-touch-icon" href="/app/icon-192.png";
            script src="/app/app.js" defer {}
        }
    }
}

/// A page of the app for the signed-in owner.
pub fn page(signed: &Signed, nav: Nav, title: &str, body: Markup) -> Response {
    page_with(StatusCode::OK, signed, nav, title, body)
}

/// `page` with another status (a form sent back with what is wrong: 422).
pub fn page_with(
    status: StatusCode,
    signed: &Signed,
    nav: Nav,
    title: &str,
    body: Markup,
) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to the page" }
                header.bar {
                    a.brand href="/app/" { "Carnet" }
                    form.search role="search" method="get" action="/app/search" {
                        label.hidden for="q" { "Search your ledger" }
                        input id="q" type="search" name="q" placeholder="Search";
                        button type="submit" { "Search" }
                    }
                    a.capture.button href="/app/interactions/new"
                        aria-current=[(nav == Nav::Capture).then_some("page")] { "Add interaction" }
                }
                nav.main aria-label="Main" {
                    @for (n, href, label) in NAV {
                        a href=(href) aria-current=[(n == nav).then_some("page")] { (label) }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
                footer {
                    form method="post" action="/app/sign-out" {
                        (csrf(signed))
                        button.link type="submit" { "Sign out" }
                    }
                }
            }
        }
    };
    crate::html::respond(status, markup.into_string(), None)
}

/// A page without the navigation: signing in, a refusal, the sealed vault.
pub fn plain(status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.plain {
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    crate::html::respond(status, markup.into_string(), None)
}

/// A page that says what went wrong and that nothing changed.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    plain(
        status,
        title,
        html! {
            div.card.err role="alert" { p { (detail) } }
            p { a href="/app/" { "Back to Today" } }
        },
    )
}

/// The session's form token, in every form that changes something.
pub fn csrf(signed: &Signed) -> Markup {
    html! { input type="hidden" name="csrf" value=(signed.csrf()); }
}

/// A form of one button that posts to `action` (an action on a record: revoke, accept …).
pub fn button_form(signed: &Signed, action: &str, label: &str, class: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(signed))
            button class=(class) type="submit" { (label) }
        }
    }
}

/// What is wrong with a sent form, field by field (`""` for the form as a whole).
#[derive(Default)]
pub struct Errors(pub Vec<(String, String)>);

impl Errors {
    /// Says what is wrong with `field`, as a sentence.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), sentence(&message.into())));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The summary at the top of a sent-back form.
    pub fn summary(&self) -> Markup {
        html! {
            @if !self.0.is_empty() {
                div.card.err role="alert" {
                    p { "Nothing was saved yet: " (self.0.len()) @if self.0.len() == 1 { " field needs" } @else { " fields need" } " a look." }
                    ul { @for (f, m) in &self.0 {
                        li { @if f.is_empty() { (m) } @else { a href={ "#f-" (f) } { (m) } } }
                    } }
                }
            }
        }
    }
}

/// A field that may be left empty: empty is none, anything else must parse; what is wrong is
/// said beside the field.
pub fn optional<T: std::str::FromStr>(errors: &mut Errors, name: &str, value: &str) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.add(name, sentence(&e.to_string()));
            None
        }
    }
}

/// A field that must be filled; `missing` says what to put there when it is empty.
pub fn required<T: std::str::FromStr>(
    errors: &mut Errors,
    name: &str,
    missing: &str,
    value: &str,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    if value.trim().is_empty() {
        errors.add(name, sentence(missing));
        return None;
    }
    optional(errors, name, value)
}

/// A message as a sentence: a capital first, a full stop last.
pub fn sentence(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(1)
        .flat_map(char::to_uppercase)
        .chain(s.chars().skip(1))
        .collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// How a field is entered.
pub enum Input<'a> {
    Text,
    /// Several lines.
    Area,
    Date,
    /// A date and a time (`datetime-local`).
    DateTime,
    /// A decimal amount.
    Amount,
    Number,
    /// One of `(value, label)`.
    Choice(&'a [(&'a str, &'a str)]),
}

/// A labelled field that shows `value` (what was typed) and, under it, what is wrong with it.
pub fn field(
    label: &str,
    name: &str,
    input: Input<'_>,
    value: &str,
    errors: &Errors,
    hint: Option<&str>,
) -> Markup {
    let id = format!("f-{name}");
    let error = errors.of(name);
    let described = match (hint.is_some(), error.is_some()) {
        (_, true) => Some(format!("{id}-err")),
        (true, false) => Some(format!("{id}-hint")),
        _ => None,
    };
    let invalid = error.map(|_| "true");
    html! {
        div.field.bad[error.is_some()] {
            label for=(id) { (label) }
            @if let Some(h) = hint { small.hint id={ (id) "-hint" } { (h) } }
            @match input {
                Input::Area => textarea id=(id) name=(name) rows="3"
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()] { (value) },
                Input::Choice(options) => select id=(id) name=(name)
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()] {
                    @for (v, l) in options {
                        option value=(v) selected[*v == value] { (l) }
                    }
                },
                Input::Text => input id=(id) type="text" name=(name) value=(value)
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];,
                Input::Date => input id=(id) type="date" name=(name) value=(value)
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];,
                Input::DateTime => input id=(id) type="datetime-local" name=(name) value=(value)
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];,
                Input::Amount => input id=(id) type="text" inputmode="decimal" name=(name) value=(value)
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];,
                Input::Number => input id=(id) type="number" name=(name) value=(value)
                    aria-invalid=[invalid] aria-describedby=[described.as_deref()];,
            }
            @if let Some(e) = error { p.error id={ (id) "-err" } { (e) } }
        }
    }
}

/// A checkbox with its label.
pub fn checkbox(label: &str, name: &str, checked: bool) -> Markup {
    html! {
        div.check {
            input id={ "f-" (name) } type="checkbox" name=(name) value="yes" checked[checked];
            label for={ "f-" (name) } { (label) }
        }
    }
}

/// A vendor-supplied URL as a link, only when it is http(s), never sending a referrer; any
/// other text is shown as text.
pub fn vendor_link(url: &str) -> Markup {
    html! {
        @match crate::html::safe_url(url) {
            Some(u) => a href=(u.as_str()) rel="noreferrer noopener" target="_blank" { (url) },
            None => span { (url) },
        }
    }
}

/// A date as people read it in lists.
pub fn day(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A time to the minute (UTC, said so).
pub fn minute(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A line for an empty list.
pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}
