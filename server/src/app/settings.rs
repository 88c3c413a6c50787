//! **Settings**: the profile, the web password, the sessions signed in (end one, or sign out
//! everywhere), and locking the vault. Keys, export and import, backup, configuration and
//! client secrets are not here: they stay in the CLI and `carnetd`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use carnet_core::access::password::{self, SetError, SignIn};
use carnet_core::ledger::profile;
use carnet_core::sessions;
use carnet_schemas::values::Locale;
use carnet_schemas::{Line, ProfileFields, TimeZoneName};
use maud::{Markup, html};
use zeroize::Zeroizing;

use super::failed;
use super::shell::{self, Errors, Input, Nav, button_form, csrf, field, minute, optional};
use super::signed::{Posted, Signed, see_other};
use crate::client_ip::ClientIp;
use crate::state::AppState;

/// What the profile form holds, as typed.
#[derive(Default)]
struct Typed {
    display_name: String,
    locale: String,
    city: String,
    postal_code: String,
    time_zone: String,
}

impl From<&ProfileFields> for Typed {
    fn from(f: &ProfileFields) -> Typed {
        let text = |l: &Option<Line>| {
            l.as_ref()
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default()
        };
        Typed {
            display_name: text(&f.display_name),
            locale: f.locale.as_ref().map(|l| l.to_string()).unwrap_or_default(),
            city: text(&f.city),
            postal_code: text(&f.postal_code),
            time_zone: f
                .time_zone
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
        }
    }
}

/// Messages shown above the page after an action.
enum Said<'a> {
    Nothing,
    Done(&'a str),
    Wrong(&'a str),
}

fn render(
    s: &AppState,
    signed: &Signed,
    status: StatusCode,
    typed: &Typed,
    errors: &Errors,
    said: Said<'_>,
) -> Response {
    let now = s.now();
    let listed = s.sessions.list(now);
    let idle_hours = s.sessions.idle().num_minutes() as f64 / 60.0;
    let body: Markup = html! {
        @match said {
            Said::Nothing => {},
            Said::Done(m) => div.card.ok role="status" { p { (m) } },
            Said::Wrong(m) => div.card.err role="alert" { p { (m) } },
        }
        section aria-labelledby="profile" {
            h2 #profile { "Profile" }
            (errors.summary())
            form method="post" action="/app/settings/profile" {
                (csrf(signed))
                (field("Display name", "display_name", Input::Text, &typed.display_name, errors, None))
                (field("Locale", "locale", Input::Text, &typed.locale, errors, Some("A language tag such as fr-FR")))
                div.two {
                    (field("City", "city", Input::Text, &typed.city, errors, None))
                    (field("Postal code", "postal_code", Input::Text, &typed.postal_code, errors, None))
                }
                (field("Time zone", "time_zone", Input::Text, &typed.time_zone, errors, Some("An IANA name such as Europe/Paris; empty: the server's. It decides what is due today, what is late, and a reminder digest's hour.")))
                div.actions { button type="submit" { "Save the profile" } }
            }
        }
        section aria-labelledby="password" {
            h2 #password { "Web password" }
            p.hint { "It signs you in here and on the consent page. Changing it signs out every other session." }
            form method="post" action="/app/settings/password" {
                (csrf(signed))
                div.field {
                    label for="f-current" { "Current password" }
                    input id="f-current" type="password" name="current" autocomplete="current-password" required;
                }
                div.field {
                    label for="f-new" { "New password" }
                    small.hint id="f-new-hint" { "At least " (password::MIN_CHARS) " characters; a few words make a good one." }
                    input id="f-new" type="password" name="new" autocomplete="new-password" aria-describedby="f-new-hint" required;
                }
                div.field {
                    label for="f-again" { "New password again" }
                    input id="f-again" type="password" name="again" autocomplete="new-password" required;
                }
                div.actions { button type="submit" { "Change the password" } }
            }
        }
        section aria-labelledby="sessions" {
            h2 #sessions { "Sessions" }
            p.hint { "A session ends after " (format!("{idle_hours:.0}")) " hours unused, when the vault is locked, and when the web password or the owner token changes." }
            ul.items {
                @for x in &listed {
                    li {
                        strong { (x.device) }
                        @if x.handle == signed.0.handle { " " span.tag.good { "this one" } }
                        div.meta { "Signed in " (minute(&x.started)) " · last seen " (minute(&x.last_seen)) }
                        @if x.handle != signed.0.handle {
                            (button_form(signed, &format!("/app/sessions/{}/end", x.handle), "End this session", "secondary"))
                        }
                    }
                }
            }
            form method="post" action="/app/sign-out-everywhere" {
                (csrf(signed))
                button.danger type="submit" data-confirm="Sign out on every device, this one too?" { "Sign out everywhere" }
            }
        }
        section aria-labelledby="lock" {
            h2 #lock { "Lock the vault" }
            p.hint { "Locking takes the key out of memory: nothing can be read, by you or by vendors, until you unlock it with " code { "carnet unlock" } ". Every session ends." }
            form method="post" action="/app/settings/lock" {
                (csrf(signed))
                button.danger type="submit" data-confirm="Lock the vault now? Unlocking needs your terminal." { "Lock the vault" }
            }
        }
        p.hint { "Keys, export and import, backups and configuration stay in the " code { "carnet" } " and " code { "carnetd" } " commands." }
    };
    shell::page_with(status, signed, Nav::Settings, "Settings", body)
}

fn current(s: &AppState) -> Result<Typed, carnet_core::ledger::LedgerError> {
    profile::show(&s.store, &s.keys).map(|p| Typed::from(&p.fields))
}

/// `GET /app/settings`.
pub async fn show(signed: Signed, State(s): State<AppState>) -> Response {
    match current(&s) {
        Ok(typed) => render(
            &s,
            &signed,
            StatusCode::OK,
            &typed,
            &Errors::default(),
            Said::Nothing,
        ),
        Err(e) => failed(e),
    }
}

/// `POST /app/settings/profile`.
pub async fn profile(State(s): State<AppState>, p: Posted) -> Response {
    let typed = Typed {
        display_name: p.get("display_name").to_owned(),
        locale: p.get("locale").to_owned(),
        city: p.get("city").to_owned(),
        postal_code: p.get("postal_code").to_owned(),
        time_zone: p.get("time_zone").to_owned(),
    };
    let mut errors = Errors::default();
    let fields = ProfileFields {
        display_name: optional::<Line>(&mut errors, "display_name", &typed.display_name),
        locale: optional::<Locale>(&mut errors, "locale", &typed.locale),
        city: optional::<Line>(&mut errors, "city", &typed.city),
        postal_code: optional::<Line>(&mut errors, "postal_code", &typed.postal_code),
        time_zone: optional::<TimeZoneName>(&mut errors, "time_zone", &typed.time_zone),
    };
    if let Some(name) = &fields.time_zone
        && profile::zone(name).is_none()
    {
        errors.add(
            "time_zone",
            format!("{name} is not a time zone this server knows: an IANA name like Europe/Paris"),
        );
    }
    if !errors.is_empty() {
        return render(
            &s,
            &p.signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            &typed,
            &errors,
            Said::Nothing,
        );
    }
    match profile::replace(&s.store, &s.keys, fields, s.now()).await {
        Ok(_) => see_other("/app/settings#profile"),
        Err(e) => failed(e),
    }
}

/// `POST /app/settings/password`: the current password first (through the sign-in limiter),
/// then the new one; this session goes on, every other ends.
pub async fn password(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    p: Posted,
) -> Response {
    let typed = match current(&s) {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let wrong = |status, m: &str| {
        render(
            &s,
            &p.signed,
            status,
            &typed,
            &Errors::default(),
            Said::Wrong(m),
        )
    };
    let new = Zeroizing::new(p.get("new").to_owned());
    if *new != p.get("again") {
        return wrong(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The new password and its repetition differ. Nothing was changed.",
        );
    }
    let current_password = Zeroizing::new(p.get("current").to_owned());
    let checked = password::sign_in(
        &s.store,
        &s.sign_in_attempts,
        &s.slow_hashes,
        client,
        s.now(),
        current_password,
    );
    match checked.await {
        SignIn::Yes => {}
        SignIn::No | SignIn::MustBeSetAgain => {
            return wrong(
                StatusCode::UNAUTHORIZED,
                "The current password is not right. Nothing was changed.",
            );
        }
        SignIn::TooManyAttempts(wait) | SignIn::Busy(wait) => {
            let mut res = wrong(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many attempts: wait {wait} seconds. Nothing was changed."),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return res;
        }
    }
    match password::set(&s.store, &s.slow_hashes, new).await {
        Ok(()) => {}
        Err(e @ (SetError::ControlCharacter | SetError::TooShort)) => {
            return wrong(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("The new password was not set: {e}."),
            );
        }
        Err(SetError::Busy { retry_after }) => {
            let mut res = wrong(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Carnet is busy: wait {retry_after} seconds. Nothing was changed."),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return res;
        }
        Err(SetError::Failed(e)) => return failed(crate::error::ApiError::Internal(e)),
        Err(SetError::Store(e)) => return failed(e),
    }
    match sessions::stamp(&s.store) {
        Ok(stamp) => s.sessions.restamp(&p.signed.0, stamp),
        Err(e) => return failed(e),
    }
    render(
        &s,
        &p.signed,
        StatusCode::OK,
        &typed,
        &Errors::default(),
        Said::Done("The web password is changed. Every other session is signed out."),
    )
}

/// `POST /app/sessions/{handle}/end`.
pub async fn end_session(
    State(s): State<AppState>,
    Path(handle): Path<String>,
    _: Posted,
) -> Response {
    s.sessions.end_handle(&handle);
    see_other("/app/settings#sessions")
}

/// `POST /app/settings/lock`: seals the vault (every session ends with it).
pub async fn lock(State(s): State<AppState>, _: Posted) -> Response {
    s.lifecycle.seal().await;
    see_other("/app/")
}
