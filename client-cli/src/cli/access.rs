//! Vendor access arguments: connecting a vendor as an OAuth client, grants, consent receipts,
//! the access log and its verification, webhook deliveries (DESIGN.md §4, §6, §7, §8). Scopes,
//! redirect URIs and grant ids are parsed here with the wire types, and the grant's reach
//! (categories or all of them) and length are checked by clap, so a grant the server would
//! refuse is a usage error first.

use carnet_schemas::{
    Category, DEFAULT_GRANT_DAYS, GrantId, MAX_GRANT_DAYS, MAX_PAGE, RedirectUri, Scope, Text,
    WebUrl,
};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Subcommand};

use super::{LongText, VendorRef, long_text_help};
use crate::when::When;

#[derive(Debug, Args)]
pub struct VendorConnect {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// Where the consent page may send you back to the vendor: https, or http to 127.0.0.1,
    /// [::1] or localhost; matched exactly (repeat for several, up to 10)
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    pub redirect_uris: Vec<RedirectUri>,
    /// Where carnetd pushes signed webhooks to the vendor (any address you choose, your home
    /// network included); a webhook secret is then printed too
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<WebUrl>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).multiple(true)))]
pub struct VendorEditClient {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// Replaces the redirect URIs (repeat for several, up to 10)
    #[arg(long = "redirect-uri", value_name = "URI", group = "change")]
    pub redirect_uris: Vec<RedirectUri>,
    /// The webhook URL ('' removes it, with its secret); a first one comes with a webhook
    /// secret, printed once
    #[arg(long, value_name = "URL", group = "change")]
    pub webhook_url: Option<crate::cli::OrClear<WebUrl>>,
}

// ---------------------------------------------------------------------------------------------
// Grants

#[derive(Debug, Subcommand)]
#[command(
    after_help = "A vendor has at most one live grant: a new one replaces it (carnet says what \
the live one gives that the new one would not, and asks first), and the tokens of the old one \
stop working. `grant edit` adds to the live grant instead, and keeps its tokens. Every grant, \
and every edit, comes with a signed consent receipt (`carnet receipts`).\n\n\
Examples:\n  \
carnet grant create Acme --scope intents:read --scope offers:write --category home.appliances\n  \
carnet grant edit Acme --scope relationship:read --days 90\n  \
carnet grant create Acme --scope relationship:read --all-categories --days 365 \\\n      \
--purpose \"Loyalty programme\"\n  \
carnet grant list --vendor Acme\n  \
carnet grant show grt_0123456789abcdef\n  \
carnet grant revoke grt_0123456789abcdef"
)]
pub enum GrantCmd {
    /// Let a vendor do named things (scopes) in named categories for a number of days
    #[command(after_help = "Examples:\n  \
carnet grant create Acme --scope intents:read --scope offers:write --category home.appliances\n  \
carnet grant create Acme --scope relationship:read --all-categories --days 365 \\\n      \
--purpose \"Loyalty programme\"")]
    Create(GrantCreate),
    /// Widen a live grant: add scopes or categories, or make it last longer (never less);
    /// it keeps its id and tokens and gets a new consent receipt
    #[command(
        after_help = "GRANT is a grant id (grt_…), or a vendor (id or exact name) for its \
live grant. What is named is added to what the grant has; nothing is taken away. To narrow a \
grant, give a new one with `carnet grant create` (it replaces the live one).\n\n\
Examples:\n  \
carnet grant edit Acme --scope intents:read --scope offers:write\n  \
carnet grant edit grt_0123456789abcdef --category home.garden --days 90\n  \
carnet grant edit Acme --all-categories --purpose \"Loyalty programme\""
    )]
    Edit(GrantEdit),
    /// List grants, newest first: live, expired and revoked
    #[command(after_help = "Examples:\n  \
carnet grant list\n  \
carnet grant list --vendor Acme --live")]
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
        /// Only the live ones
        #[arg(long)]
        live: bool,
    },
    /// Show one grant
    #[command(after_help = "Examples:\n  \
carnet grant show grt_0123456789abcdef")]
    Show {
        /// Grant id (grt_…)
        id: GrantId,
    },
    /// Revoke a grant: its tokens stop working at once
    #[command(after_help = "Examples:\n  \
carnet grant revoke grt_0123456789abcdef")]
    Revoke {
        /// Grant id (grt_…)
        id: GrantId,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("reach").required(true).args(["categories", "all_categories"])))]
pub struct GrantCreate {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// What the vendor may do (repeat for several)
    #[arg(long = "scope", value_name = "SCOPE", required = true, value_parser = scope_parser())]
    pub scopes: Vec<Scope>,
    /// A category whose intents the vendor may see, with the ones below it (repeat for several)
    #[arg(long = "category", value_name = "CAT")]
    pub categories: Vec<Category>,
    /// Let the vendor see intents in every category
    #[arg(long)]
    pub all_categories: bool,
    /// How many days the grant lasts, 1 to 365
    #[arg(long, value_name = "N", default_value_t = DEFAULT_GRANT_DAYS, allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_GRANT_DAYS)))]
    pub days: u32,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("Why you grant it, in your words (written into the consent receipt)"))]
    pub purpose: Option<Text>,
    /// Replace the vendor's live grant without asking (what it would lose is still printed)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("widen").required(true).multiple(true)))]
pub struct GrantEdit {
    /// Grant id (grt_…), or a vendor's id or exact name for its live grant
    pub grant: GrantRef,
    /// A scope to add (repeat for several)
    #[arg(long = "scope", value_name = "SCOPE", value_parser = scope_parser(), group = "widen")]
    pub scopes: Vec<Scope>,
    /// A category to add, with the ones below it (repeat for several)
    #[arg(
        long = "category",
        value_name = "CAT",
        group = "widen",
        conflicts_with = "all_categories"
    )]
    pub categories: Vec<Category>,
    /// Let the vendor see intents in every category
    #[arg(long, group = "widen")]
    pub all_categories: bool,
    /// The grant then lasts N days from today, 1 to 365 (refused if it would end sooner)
    #[arg(long, value_name = "N", allow_negative_numbers = true, group = "widen",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_GRANT_DAYS)))]
    pub days: Option<u32>,
    /// A new purpose, in your words (written into the new consent receipt)
    #[arg(long, value_name = "TEXT", group = "widen")]
    pub purpose: Option<Text>,
}

/// A grant named on the command line: its id, or a vendor (whose live grant is meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantRef {
    Id(GrantId),
    Vendor(VendorRef),
}

impl std::str::FromStr for GrantRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if GrantId::looks_like(s) {
            return s.parse().map(GrantRef::Id).map_err(|e| format!("{e}"));
        }
        s.parse().map(GrantRef::Vendor)
    }
}

/// SCOPE values, listed in `--help` and completions.
fn scope_parser() -> impl TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(Scope::ALL.map(Scope::as_str)).try_map(|s| s.parse::<Scope>())
}

// ---------------------------------------------------------------------------------------------
// Receipts and the access log

#[derive(Debug, Args)]
#[command(
    after_help = "Each receipt is signed by carnetd with the vendor's receipt key; --json \
prints them in full, the signed form (`jws`) included, which anyone can check against \
/.well-known/carnet-receipt-keys.\n\n\
Examples:\n  carnet receipts\n  carnet receipts --vendor Acme\n  carnet --json receipts --vendor Acme"
)]
pub struct ReceiptsArgs {
    /// Only this vendor's (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
}

pub const AUDIT_HELP: &str = "\
Every token carnetd issues to a vendor and every request a vendor makes is logged, with the \
ids of what it was given; entries stay when a vendor is removed.\n\
The entries are chained with a MAC under a key derived from the vault key, and a sealed head \
keeps their count: `carnet audit verify` checks the whole log and names the first entry that \
was altered or removed, or where the log was cut. It also checks every row whose clear \
columns decide access (owner tokens, client secrets, grants, tokens, intents, shared \
interactions, outbox, …) against its MAC, and names each row changed without the vault key \
(carnetd refuses such rows wherever they would be used). It exits 6 when the log or a row \
does not check out (with --json too, after printing the result; the rows' result is under \
`rows`).\n\n\
Examples:\n  carnet audit\n  carnet audit --vendor Acme --since 2026-12-01\n  \
carnet audit --since 2026-12-15T09:00\n  carnet --json audit --vendor Acme\n  \
carnet audit verify";

/// `carnet audit [--vendor V] [--since W]` lists; `carnet audit verify` checks. The flags
/// belong to the listing: giving them with `verify` is a usage error.
#[derive(Debug, Args)]
#[command(after_help = AUDIT_HELP, args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub check: Option<AuditCmd>,
    /// Only this vendor's accesses (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
    /// Only accesses at or after this time (a date: from the start of that day)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<When>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum AuditCmd {
    /// Check that the access log is whole and unaltered, and that no row deciding access was
    /// changed without the vault key (exit 6 if not)
    #[command(
        after_help = "carnetd checks every entry's MAC against the one before it and the \
sealed head's count. A log that does not check out names its first bad entry and exits 6; \
carnetd keeps running and serving your data either way. It then checks the MAC of every row \
whose clear columns decide access and names each that fails (exit 6): carnetd refuses those \
rows wherever they would be used.\n\n\
Examples:\n  carnet audit verify\n  carnet --json audit verify"
    )]
    Verify,
}

// ---------------------------------------------------------------------------------------------
// Webhook deliveries

#[derive(Debug, Args)]
#[command(
    after_help = "Every event carnetd pushes to a connected vendor's webhook URL (`carnet \
vendor connect --webhook-url`) is one delivery: pending until the vendor answers 2xx \
(retried with back-off up to every 10 minutes), delivered, dropped when the vendor's grant \
no longer covers it or it has no webhook URL, or failed after three days of trying. TRIES \
counts the attempts, NEXT is when a pending one is tried again (today: the time alone). LAST \
is what the last attempt got: the vendor's HTTP status, or why it failed (unreachable, \
timeout, redirect: never followed) or was dropped (no grant covering it, no URL, \
disconnected).\n\n\
Examples:\n  carnet webhooks\n  carnet webhooks --vendor Acme --limit 20\n  \
carnet --json webhooks --vendor Acme"
)]
pub struct WebhooksArgs {
    /// Only deliveries to this vendor (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
    /// At most this many, newest first: 1 to 1000 [default: 200]
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PAGE)))]
    pub limit: Option<u32>,
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
