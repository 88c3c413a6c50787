//! `carnet consent list | approve | deny`: answering from the terminal the consent requests a
//! vendor opens on the consent page. A request's vendor name, redirect URI and (for a client
//! that registered itself) everything it claims are the vendor's words: they are printed only
//! through the sanitising output, and an unverified client's name is shown quoted, as a claim.

use carnet_schemas::{
    Category, ConsentDecision, Grant, GrantId, GrantState, PendingConsent, Scope,
};
use chrono::{DateTime, Duration, Local, Utc};

use super::{Confirm, Ctx, confirm, join};
use crate::cli::{ConsentApprove, ConsentCmd, ConsentCode};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{self, Fields, TableOut, quoted, short_time};

pub fn run(ctx: &Ctx, cmd: ConsentCmd) -> CliResult<()> {
    match cmd {
        ConsentCmd::List => list(ctx),
        ConsentCmd::Approve(args) => approve(ctx, args),
        ConsentCmd::Deny { code } => deny(ctx, &code),
    }
}

const NOT_VERIFIED: &str = "this application registered itself; Carnet cannot vouch for its name";

fn waiting(ctx: &Ctx) -> CliResult<Vec<Doc<PendingConsent>>> {
    ctx.client.get_array("/v1/consents", &[])
}

fn not_waiting(code: &ConsentCode) -> CliError {
    CliError::failed(format!("no consent request {code} is waiting for an answer"))
        .with_hint("it may have expired (a request lasts 10 minutes) or been answered already; `carnet consent list` shows those waiting")
}

/// The waiting request with this code.
fn find(ctx: &Ctx, code: &ConsentCode) -> CliResult<PendingConsent> {
    waiting(ctx)?
        .into_iter()
        .map(|d| d.value)
        .find(|p| code.matches(&p.code))
        .ok_or_else(|| not_waiting(code))
}

/// A 404 on answering: the request expired or was answered in between.
fn gone(code: &ConsentCode) -> impl FnOnce(CliError) -> CliError + '_ {
    move |e| {
        if e.status == Some(404) {
            not_waiting(code)
        } else {
            e
        }
    }
}

/// The vendor's name: as is when the owner connected the client (it is the owner's name for
/// the vendor), quoted when the client registered itself (the vendor's claim).
fn vendor_label(p: &PendingConsent) -> String {
    if p.verified {
        output::one_line(&p.vendor_name)
    } else {
        quoted(&p.vendor_name)
    }
}

/// `14:32 (in 9 min)`: a request lasts minutes, so the local time of day says enough.
fn expires(at: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = (*at - now).num_seconds();
    let when = at.with_timezone(&Local).format("%H:%M");
    if left <= 0 {
        format!("{when} (expired)")
    } else if left < 60 {
        format!("{when} (in {left} s)")
    } else {
        format!("{when} (in {} min)", (left + 30) / 60)
    }
}

fn list(ctx: &Ctx) -> CliResult<()> {
    let items = waiting(ctx)?;
    ctx.print_list(
        &items,
        "no consent request is waiting; a vendor opens one by sending you to the consent page",
        |items| {
            let mut t = TableOut::new(&[
                "code",
                "vendor",
                "verified",
                "scopes",
                "categories",
                "expires",
            ])
            .ids(&[0])
            .fixed(&[2, 5])
            .words(&[3])
            .optional(&[4]);
            for p in items {
                t.row([
                    p.code.clone(),
                    vendor_label(p),
                    match (&p.verified, &p.looks_like) {
                        (true, _) => "yes".to_owned(),
                        (false, None) => "NOT VERIFIED".to_owned(),
                        (false, Some(other)) => {
                            format!("NOT VERIFIED, LOOKS LIKE {}", quoted(other))
                        }
                    },
                    join(&p.scopes),
                    if p.requested_categories.is_empty() {
                        "none named".to_owned()
                    } else {
                        join(&p.requested_categories)
                    },
                    p.expires_at
                        .with_timezone(&Local)
                        .format("%H:%M")
                        .to_string(),
                ]);
            }
            t.print();
        },
    );
    Ok(())
}

/// What an approval grants: every category, or these (the owner's, else the requested ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    All,
    Chosen(Vec<Category>),
    AsAsked(Vec<Category>),
}

/// The categories to grant; `None` when the vendor named none and the owner chose none.
pub fn reach(a: &ConsentApprove, requested: &[Category]) -> Option<Reach> {
    if a.all_categories {
        Some(Reach::All)
    } else if !a.categories.is_empty() {
        Some(Reach::Chosen(a.categories.clone()))
    } else if !requested.is_empty() {
        Some(Reach::AsAsked(requested.to_vec()))
    } else {
        None
    }
}

impl Reach {
    fn describe(&self, requested: &[Category]) -> String {
        match self {
            Reach::All => "all categories".to_owned(),
            Reach::AsAsked(c) => format!("{} (as asked)", join(c)),
            Reach::Chosen(c) if requested.is_empty() => {
                format!("{} (the vendor named none)", join(c))
            }
            Reach::Chosen(c) => format!("{} (it asked for {})", join(c), join(requested)),
        }
    }

    fn decision(self, days: u32) -> ConsentDecision {
        let (categories, all_categories) = match self {
            Reach::All => (vec![], true),
            Reach::Chosen(c) | Reach::AsAsked(c) => (c, false),
        };
        ConsentDecision {
            categories,
            all_categories,
            days: Some(days),
        }
    }
}

/// The scopes in plain words, one a line.
fn scopes_described(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| format!("{} ({s})", s.describe()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The same command with `--yes`, for the hint when there is no terminal.
fn with_yes(a: &ConsentApprove) -> String {
    format!(
        "carnet consent approve {}{} --yes",
        a.code,
        reach_flags(&a.categories, a.all_categories, a.days)
    )
}

/// ` --category C… | --all-categories [--days N]`, as a grant's reach was given.
pub(super) fn reach_flags(categories: &[Category], all: bool, days: u32) -> String {
    let mut flags: String = categories
        .iter()
        .map(|c| format!(" --category {c}"))
        .collect();
    if all {
        flags.push_str(" --all-categories");
    }
    if days != carnet_schemas::DEFAULT_GRANT_DAYS {
        flags.push_str(&format!(" --days {days}"));
    }
    flags
}

fn approve(ctx: &Ctx, a: ConsentApprove) -> CliResult<()> {
    let p = find(ctx, &a.code)?;
    let code: ConsentCode = p.code.parse().unwrap_or_else(|_| a.code.clone());
    let reach = reach(&a, &p.requested_categories).ok_or_else(|| {
        CliError::usage(format!(
            "{} named no categories: choose the ones to grant",
            vendor_label(&p)
        ))
        .with_hint(format!(
            "carnet consent approve {code} --category CAT (or --all-categories)"
        ))
    })?;
    // Asked first, to say which grant the new one replaces (the server revokes it).
    let live_grants: Vec<Grant> = ctx
        .client
        .get_array::<Grant>("/v1/grants", &[("vendor", p.vendor_id.to_string())])?
        .into_iter()
        .filter(|g| g.value.state == GrantState::Live)
        .map(|g| g.value)
        .collect();
    let live: Vec<GrantId> = live_grants.iter().map(|g| g.id.clone()).collect();

    let now = Utc::now();
    output::message(&format!(
        "consent request {code}, waiting until {}:",
        expires(&p.expires_at, now)
    ));
    let mut out = Fields::new();
    out.add("vendor", format!("{} ({})", vendor_label(&p), p.vendor_id))
        .add("client", &p.client_id)
        .add(
            "verified",
            if p.verified {
                "yes: you connected this client (`carnet vendor connect`)".to_owned()
            } else {
                format!("NOT VERIFIED: {NOT_VERIFIED}")
            },
        )
        .add("returns to", &p.redirect_uri)
        .add("it may", scopes_described(&p.scopes))
        .add("categories", reach.describe(&p.requested_categories))
        .add(
            "for",
            format!(
                "{} day{}, until about {}",
                a.days,
                if a.days == 1 { "" } else { "s" },
                short_time(&(now + Duration::days(i64::from(a.days))))
            ),
        );
    if !live.is_empty() {
        out.add(
            "replaces",
            format!("live grant {} (revoked with its tokens)", join(&live)),
        );
        let ends = now + Duration::days(i64::from(a.days));
        let (categories, all) = match &reach {
            Reach::All => (vec![], true),
            Reach::Chosen(c) | Reach::AsAsked(c) => (c.clone(), false),
        };
        for g in &live_grants {
            let lost = g.lost_to(&p.scopes, &categories, all, ends);
            out.add(
                "it would lose",
                if lost.is_empty() {
                    "nothing: the new grant keeps all it gives".to_owned()
                } else {
                    super::grant::loss_words(&lost, &ends)
                },
            );
        }
    }
    for line in out.render().lines() {
        output::message(&format!("  {line}"));
    }
    if let Some(other) = &p.looks_like {
        output::message(&format!(
            "carnet: warning: LOOKS LIKE YOUR VENDOR {}: this client named itself {}, a name that reads like an existing vendor's; deny unless you know it is really them",
            quoted(other),
            quoted(&p.vendor_name)
        ));
    }
    if !p.verified {
        output::message(&format!(
            "carnet: warning: NOT VERIFIED: {NOT_VERIFIED}; approve only if you started this on the vendor's own site and {} is an address of theirs",
            output::one_line(&p.redirect_uri)
        ));
    }
    if !a.yes {
        confirm(&Confirm {
            verb: ["approve", "approving", "approved"],
            what: &format!("consent request {code} of {}", quoted(&p.vendor_name)),
            with_yes: with_yes(&a),
            declined_hint: Some(format!(
                "nothing was granted; the request still waits: `carnet consent deny {code}` sends the vendor away"
            )),
        })?;
    }
    let path = format!("/v1/consents/{code}/approve");
    let grant: Doc<Grant> = ctx
        .client
        .post(&path, &reach.decision(a.days))
        .map_err(gone(&code))?;
    let line = format!(
        "approved: the consent page continues to {} (grant {} until {})",
        quoted(&p.vendor_name),
        grant.value.id,
        short_time(&grant.value.expires_at)
    );
    ctx.print(&grant, |_| ctx.done(&line));
    if ctx.json {
        output::message(&line);
    }
    if !live.is_empty() {
        output::message(&format!(
            "it replaced the live grant {}, revoked now with its tokens",
            join(&live)
        ));
    }
    Ok(())
}

fn deny(ctx: &Ctx, code: &ConsentCode) -> CliResult<()> {
    let p = find(ctx, code)?;
    let code: ConsentCode = p.code.parse().unwrap_or_else(|_| code.clone());
    ctx.client
        .post_no_content(&format!("/v1/consents/{code}/deny"))
        .map_err(gone(&code))?;
    ctx.done(&format!(
        "denied consent request {code} of {}: the consent page sends the vendor access_denied",
        quoted(&p.vendor_name)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn approve_args(extra: &[&str]) -> ConsentApprove {
        let line = ["carnet", "consent", "approve", "K7QM-2XPA"]
            .into_iter()
            .chain(extra.iter().copied());
        let Command::Consent(ConsentCmd::Approve(a)) = Cli::try_parse_from(line).unwrap().command
        else {
            panic!("wrong command")
        };
        a
    }

    fn cats(c: &[&str]) -> Vec<Category> {
        c.iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn the_reach_is_the_owners_choice_else_what_was_asked() {
        let asked = cats(&["home.appliances"]);
        assert_eq!(
            reach(&approve_args(&[]), &asked),
            Some(Reach::AsAsked(asked.clone()))
        );
        assert_eq!(reach(&approve_args(&[]), &[]), None);
        assert_eq!(
            reach(&approve_args(&["--category", "garden"]), &asked),
            Some(Reach::Chosen(cats(&["garden"])))
        );
        assert_eq!(
            reach(&approve_args(&["--all-categories"]), &[]),
            Some(Reach::All)
        );
        let d = Reach::All.decision(7);
        assert!(d.all_categories && d.categories.is_empty());
        assert_eq!(d.days, Some(7));
        let d = Reach::AsAsked(asked.clone()).decision(30);
        assert_eq!((d.categories, d.all_categories), (asked, false));
    }

    #[test]
    fn the_yes_hint_repeats_the_flags_given() {
        assert_eq!(
            with_yes(&approve_args(&[
                "--category",
                "garden",
                "--category",
                "home",
                "--days",
                "7"
            ])),
            "carnet consent approve K7QM-2XPA --category garden --category home --days 7 --yes"
        );
        assert_eq!(
            with_yes(&approve_args(&["--all-categories"])),
            "carnet consent approve K7QM-2XPA --all-categories --yes"
        );
    }

    #[test]
    fn expiry_is_a_time_of_day_and_what_is_left() {
        let now = Utc::now();
        assert!(expires(&(now + Duration::seconds(540)), now).ends_with("(in 9 min)"));
        assert!(expires(&(now + Duration::seconds(20)), now).ends_with("(in 20 s)"));
        assert!(expires(&(now - Duration::seconds(1)), now).ends_with("(expired)"));
    }
}
