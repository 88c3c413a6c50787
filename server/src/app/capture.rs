//! **Add interaction**: the quick capture, one tap from every page. Every field of `carnet
//! interaction add`, labelled like its flags, on one phone-sized form; a form with a wrong
//! field comes back with everything typed kept and the error beside the field. The rules
//! are the core's (`ledger::create`); this only reads the form.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::ledger::{self, Interactions, LedgerError, listing};
use carnet_schemas::{Channel, IncidentId, InteractionFields, Line, Sentiment, Text, VendorId};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone};
use maud::{Markup, html};
use serde::Deserialize;

use super::failed;
use super::shell::{self, Errors, Input, Nav, checkbox, csrf, field, optional};
use super::signed::{Posted, Signed, see_other};
use crate::state::AppState;

/// The vendors offered in the form's list, by name.
const VENDORS_LISTED: usize = 1000;

const SENTIMENTS: [(&str, &str); 6] = [
    ("", "—"),
    ("2", "+2 very good"),
    ("1", "+1 good"),
    ("0", "0 neutral"),
    ("-1", "−1 bad"),
    ("-2", "−2 very bad"),
];

/// What the form holds, as typed (kept as text so a wrong field comes back as it was).
#[derive(Default, Deserialize)]
pub struct Typed {
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    with: String,
    #[serde(default)]
    expected: String,
    #[serde(default)]
    i_said: String,
    #[serde(default)]
    they_said: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    sentiment: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    incident: String,
    #[serde(default)]
    shared: bool,
    /// The browser's offset from UTC in minutes (set by app.js); without it, "When" is read
    /// in carnetd's local time.
    #[serde(default)]
    tz: String,
}

impl Typed {
    fn from_posted(p: &Posted) -> Typed {
        let g = |k: &str| p.get(k).to_owned();
        Typed {
            vendor: g("vendor"),
            channel: g("channel"),
            summary: g("summary"),
            at: g("at"),
            with: g("with"),
            expected: g("expected"),
            i_said: g("i_said"),
            they_said: g("they_said"),
            outcome: g("outcome"),
            sentiment: g("sentiment"),
            next: g("next"),
            due: g("due"),
            incident: g("incident"),
            shared: !p.get("shared").is_empty(),
            tz: g("tz"),
        }
    }
}

/// "When": a `datetime-local` value (or a date), in the browser's zone when it said which.
fn when(errors: &mut Errors, typed: &Typed) -> Option<DateTime<FixedOffset>> {
    let v = typed.at.trim();
    if v.is_empty() {
        return None;
    }
    let local = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN))
        });
    let Ok(local) = local else {
        errors.add("at", "give a date and time, e.g. 2026-12-15 14:30");
        return None;
    };
    let zone = typed
        .tz
        .trim()
        .parse::<i32>()
        .ok()
        .and_then(|m| FixedOffset::east_opt(m * 60))
        .unwrap_or_else(|| {
            chrono::Local
                .offset_from_local_datetime(&local)
                .earliest()
                .map_or_else(|| chrono::Utc.fix(), |o| o.fix())
        });
    match zone.from_local_datetime(&local).earliest() {
        Some(t) => Some(t),
        None => {
            errors.add("at", "this time does not exist in your time zone");
            None
        }
    }
}

/// The interaction the form describes, or what is wrong with it.
fn read(typed: &Typed) -> Result<InteractionFields, Errors> {
    let mut errors = Errors::default();
    let vendor = match typed.vendor.parse::<VendorId>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.add("vendor", "choose the vendor");
            None
        }
    };
    let channel = Channel::ALL
        .into_iter()
        .find(|c| c.as_str() == typed.channel);
    if channel.is_none() {
        errors.add("channel", "choose how it happened");
    }
    let summary = match typed.summary.trim() {
        "" => {
            errors.add("summary", "say in a few words what it was about");
            None
        }
        s => optional::<Text>(&mut errors, "summary", s),
    };
    let at = when(&mut errors, typed);
    let with = optional::<Line>(&mut errors, "with", &typed.with);
    let expected = optional::<Text>(&mut errors, "expected", &typed.expected);
    let i_said = optional::<Text>(&mut errors, "i_said", &typed.i_said);
    let they_said = optional::<Text>(&mut errors, "they_said", &typed.they_said);
    let outcome = optional::<Text>(&mut errors, "outcome", &typed.outcome);
    let sentiment = optional::<Sentiment>(&mut errors, "sentiment", &typed.sentiment);
    let next_step = optional::<Text>(&mut errors, "next", &typed.next);
    let next_due = optional::<NaiveDate>(&mut errors, "due", &typed.due);
    if next_due.is_some() && next_step.is_none() && errors.of("next").is_none() {
        errors.add("due", "a due date needs a next step: say what happens next");
    }
    let incident_id = optional::<IncidentId>(&mut errors, "incident", &typed.incident);
    match (vendor, channel, summary) {
        (Some(vendor_id), Some(channel), Some(summary)) if errors.is_empty() => {
            Ok(InteractionFields {
                vendor_id,
                at,
                channel,
                summary,
                with,
                expected,
                i_said,
                they_said,
                outcome,
                sentiment,
                next_step,
                next_due,
                next_done: false,
                incident_id,
                shared: typed.shared,
            })
        }
        _ => Err(errors),
    }
}

/// The form field a core refusal is about.
fn form_field(core_field: &str) -> &str {
    match core_field {
        "vendor_id" => "vendor",
        "next_step" => "next",
        "next_due" => "due",
        "incident_id" => "incident",
        other => other,
    }
}

fn form(
    s: &AppState,
    signed: &Signed,
    status: StatusCode,
    typed: &Typed,
    errors: &Errors,
) -> Response {
    let vendors = match listing::vendor_page(&s.store, &s.keys, &s.index, None, VENDORS_LISTED) {
        Ok(p) => p.items,
        Err(e) => return failed(e),
    };
    let mut vendor_options: Vec<(String, String)> = vec![(String::new(), "Choose…".into())];
    vendor_options.extend(
        vendors
            .iter()
            .map(|v| (v.id.to_string(), v.fields.name.as_str().to_owned())),
    );
    let vendor_choices: Vec<(&str, &str)> = vendor_options
        .iter()
        .map(|(v, l)| (v.as_str(), l.as_str()))
        .collect();
    let mut channels: Vec<(&str, &str)> = vec![("", "Choose…")];
    channels.extend(Channel::ALL.iter().map(|c| (c.as_str(), c.as_str())));
    let body: Markup = html! {
        @if vendors.is_empty() {
            div.card.warn { p { "You have no vendor yet. " a href="/app/vendors/new" { "Add a vendor" } " first." } }
        }
        (errors.summary())
        form method="post" action="/app/interactions/new" {
            (csrf(signed))
            input type="hidden" name="tz" value=(typed.tz) data-tz;
            (field("Vendor", "vendor", Input::Choice(&vendor_choices), &typed.vendor, errors, None))
            (field("Channel", "channel", Input::Choice(&channels), &typed.channel, errors, None))
            (field("Summary", "summary", Input::Area, &typed.summary, errors, Some("What it was about")))
            div.two {
                (field("When", "at", Input::DateTime, &typed.at, errors, Some("Empty: now")))
                (field("With", "with", Input::Text, &typed.with, errors, Some("A person, a department")))
            }
            (field("Expected", "expected", Input::Area, &typed.expected, errors, Some("What you expected")))
            (field("I said", "i_said", Input::Area, &typed.i_said, errors, None))
            (field("They said", "they_said", Input::Area, &typed.they_said, errors, None))
            (field("Outcome", "outcome", Input::Area, &typed.outcome, errors, Some("What came of it")))
            (field("Sentiment", "sentiment", Input::Choice(&SENTIMENTS), &typed.sentiment, errors, Some("How it felt")))
            (field("Next step", "next", Input::Area, &typed.next, errors, Some("What happens next")))
            div.two {
                (field("Due", "due", Input::Date, &typed.due, errors, Some("When the next step is due")))
                (field("Incident", "incident", Input::Text, &typed.incident, errors, Some("The incident it is about (inc_…), if any")))
            }
            (checkbox("Let this vendor read it (with the interactions:read scope)", "shared", typed.shared))
            div.actions { button type="submit" { "Save" } }
        }
    };
    shell::page_with(status, signed, Nav::Capture, "Add interaction", body)
}

#[derive(Deserialize)]
pub struct Preset {
    #[serde(default)]
    vendor: Option<String>,
}

/// `GET /app/interactions/new` (`?vendor=ID` chooses the vendor).
pub async fn show(signed: Signed, State(s): State<AppState>, Query(q): Query<Preset>) -> Response {
    let typed = Typed {
        vendor: q.vendor.unwrap_or_default(),
        ..Typed::default()
    };
    form(&s, &signed, StatusCode::OK, &typed, &Errors::default())
}

/// `POST /app/interactions/new`: saved, then the vendor's page; or the form again, kept.
pub async fn submit(State(s): State<AppState>, p: Posted) -> Response {
    let typed = Typed::from_posted(&p);
    let fields = match read(&typed) {
        Ok(f) => f,
        Err(errors) => {
            return form(
                &s,
                &p.signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                &typed,
                &errors,
            );
        }
    };
    let vendor = fields.vendor_id.clone();
    match ledger::create::<Interactions>(&s.store, &s.keys, &s.index, fields, s.now()).await {
        Ok(created) => see_other(&format!("/app/vendors/{vendor}#{}", created.id)),
        Err(LedgerError::Invalid { field, message }) => {
            let mut errors = Errors::default();
            errors.add(form_field(field), message);
            form(
                &s,
                &p.signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                &typed,
                &errors,
            )
        }
        Err(LedgerError::NotFound { noun, .. }) => {
            let mut errors = Errors::default();
            let field = if noun == "vendor" {
                "vendor"
            } else {
                "incident"
            };
            errors.add(field, format!("there is no such {noun}"));
            form(
                &s,
                &p.signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                &typed,
                &errors,
            )
        }
        Err(e) => failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed() -> Typed {
        Typed {
            vendor: "ven_0123456789abcdef".into(),
            channel: "phone".into(),
            summary: "Washer leaks".into(),
            ..Typed::default()
        }
    }

    #[test]
    fn a_complete_form_reads_as_the_cli_would_send_it() {
        let mut t = typed();
        t.at = "2026-12-15T14:30".into();
        t.tz = "60".into();
        t.sentiment = "-1".into();
        t.next = "Call back".into();
        t.due = "2026-12-20".into();
        t.shared = true;
        let f = read(&t).unwrap_or_else(|_| panic!("the form reads"));
        assert_eq!(
            f.at.map(|a| a.to_rfc3339()),
            Some("2026-12-15T14:30:00+01:00".into())
        );
        assert_eq!(f.sentiment.map(Sentiment::get), Some(-1));
        assert_eq!(f.next_due.map(|d| d.to_string()), Some("2026-12-20".into()));
        assert!(f.shared);
    }

    #[test]
    fn every_wrong_field_is_said_at_once() {
        let mut t = typed();
        t.vendor = String::new();
        t.channel = "pigeon".into();
        t.summary = "  ".into();
        t.sentiment = "7".into();
        t.due = "2026-13-40".into();
        t.at = "yesterday".into();
        let Err(errors) = read(&t) else {
            panic!("refused")
        };
        for f in ["vendor", "channel", "summary", "sentiment", "due", "at"] {
            assert!(errors.of(f).is_some(), "{f} is not said to be wrong");
        }
        // A due date without a next step is said too.
        let mut t = typed();
        t.due = "2026-12-20".into();
        let Err(errors) = read(&t) else {
            panic!("refused")
        };
        assert!(errors.of("due").is_some());
    }
}
