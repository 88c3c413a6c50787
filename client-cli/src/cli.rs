//! The command line, as clap types. Every value is parsed here with the wire types' own
//! `FromStr` (amounts, currencies, categories, ids, …), so a mistake is a usage error naming
//! the flag before any request is sent. The verbs and flags follow DESIGN.md §8.

use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;

use carnet_schemas::{
    Amount, Category, Channel, Currency, IncidentId, InteractionId, Line, Locale, PurchaseId,
    Satisfaction, Sentiment, Text, VendorId, WebUrl,
};
use chrono::NaiveDate;
use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::config::ServerUrl;
use crate::when::{When, parse_date};

const MAIN_HELP: &str = "\
Finding carnetd and the owner token:
  server  --server / CARNET_SERVER, else `server` in the config file, else http://127.0.0.1:8787
  token   CARNET_TOKEN, else `token` in the config file (sent to that file's server only),
          else owner.token in CARNET_DATA_DIR or $XDG_DATA_HOME/carnet (sent to this machine only)
  The config file is $XDG_CONFIG_HOME/carnet/config.toml, written by `carnet login`.

Values:
  VENDOR  a vendor id (ven_…) or the vendor's exact name
  WHEN    RFC 3339 (2026-12-15T14:30:00+01:00), a local time (2026-12-15T14:30) or a date
          (2026-12-15): a date alone is that day in your time zone, and --until DATE its end
  DATE    YYYY-MM-DD
  CH      phone, email, store, chat, web, mail or other

Exit codes:
  0  success
  1  the server refused the request (4xx), or another error
  2  the command line is wrong
  3  carnetd cannot be reached
  4  no owner token was found, or the server refused it

Examples:
  carnet vendor add \"Acme Appliances\" --website https://acme.example --category home.appliances
  carnet interaction add Acme --channel phone --summary \"Asked about the repair\" --sentiment -1
  carnet purchase add Acme --item \"Washing machine\" --amount 699.90 --currency EUR
  carnet followups --within 14
  carnet --json vendor list";

/// The consumer's command line for a Carnet vault: your memory of every relationship with every
/// vendor, kept by carnetd.
#[derive(Debug, Parser)]
#[command(name = "carnet", version, after_help = MAIN_HELP, max_term_width = 100)]
pub struct Cli {
    /// carnetd's address [env: CARNET_SERVER] [default: the config file's, else
    /// http://127.0.0.1:8787]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        help_heading = "Global options"
    )]
    pub server: Option<ServerUrl>,

    /// Print JSON on stdout: objects in full as the server returned them, listings as one
    /// array; messages go to stderr
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an owner token against a server and save both in the config file
    #[command(
        after_help = "The token is read from --token-file (\"-\" for stdin), else prompted \
for on a terminal, else read from stdin; it is never taken as an argument.\n\n\
Examples:\n  carnet login --server https://carnet.example.net\n  \
ssh vault cat .local/share/carnet/owner.token | carnet login --server https://carnet.example.net --token-file -"
    )]
    Login(LoginArgs),

    /// Vendors you deal with
    #[command(subcommand)]
    Vendor(VendorCmd),

    /// Exchanges with vendors that mattered: what you expected, said, heard and felt
    #[command(subcommand)]
    Interaction(InteractionCmd),

    /// What you bought, for how much, and until when it is under warranty
    #[command(subcommand)]
    Purchase(PurchaseCmd),

    /// Incidents and complaints, and how they were resolved
    #[command(subcommand)]
    Incident(IncidentCmd),

    /// Next steps due soon (from interactions' --next and --due)
    Followups(FollowupsArgs),

    /// What you may later choose to disclose to vendors
    #[command(subcommand)]
    Profile(ProfileCmd),

    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  carnet completions bash > ~/.local/share/bash-completion/completions/carnet\n  \
carnet completions zsh > ~/.zfunc/_carnet\n  carnet completions fish > ~/.config/fish/completions/carnet.fish"
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff) on stdout
    #[command(after_help = "Example:\n  carnet man | man -l -")]
    Man,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Read the token from this file's first line ("-" for stdin)
    #[arg(long, value_name = "F|-")]
    pub token_file: Option<PathBuf>,
}

// ---------------------------------------------------------------------------------------------
// Vendors

#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
carnet vendor add \"Acme Appliances\" --website https://acme.example --account C-1234\n  \
carnet vendor show \"Acme Appliances\"\n  \
carnet vendor edit \"Acme Appliances\" --note \"Ask for Lea\" --website ''\n  \
carnet vendor rm ven_0123456789abcdef --yes")]
pub enum VendorCmd {
    /// Add a vendor
    Add(VendorAdd),
    /// List your vendors by name
    List,
    /// Show a vendor and the loyalty facts of your relationship
    Show {
        /// Vendor id or exact name
        vendor: VendorRef,
    },
    /// Change a vendor: only the flags given change; '' clears an optional field
    Edit(VendorEdit),
    /// Remove a vendor with its interactions, purchases and incidents
    Rm {
        /// Vendor id or exact name
        vendor: VendorRef,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct VendorAdd {
    /// The vendor's name, unique among your vendors
    pub name: Line,
    /// The vendor's web site
    #[arg(long, value_name = "URL")]
    pub website: Option<WebUrl>,
    /// What you buy there, as a dotted category (repeat for several)
    #[arg(long = "category", value_name = "CAT")]
    pub categories: Vec<Category>,
    /// Your account reference there: customer number, login (repeat for several)
    #[arg(long = "account", value_name = "REF")]
    pub accounts: Vec<Line>,
    /// A note
    #[arg(long, value_name = "TEXT")]
    pub note: Option<Text>,
    /// The channel you prefer this vendor to use
    #[arg(long, value_name = "CH", value_parser = channel_parser())]
    pub channel: Option<Channel>,
    /// How and how often this vendor may contact you
    #[arg(long, value_name = "TEXT")]
    pub contact_policy: Option<Text>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("changes").required(true).multiple(true)
    .args(["name", "website", "categories", "accounts", "note", "channel", "contact_policy"])))]
pub struct VendorEdit {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// A new name
    #[arg(long, value_name = "NEW")]
    pub name: Option<Line>,
    /// The web site ('' removes it)
    #[arg(long, value_name = "URL")]
    pub website: Option<OrClear<WebUrl>>,
    /// Replaces the categories (repeat for several; '' alone removes them all)
    #[arg(long = "category", value_name = "CAT")]
    pub categories: Option<Vec<OrClear<Category>>>,
    /// Replaces the account references (repeat for several; '' alone removes them all)
    #[arg(long = "account", value_name = "REF")]
    pub accounts: Option<Vec<OrClear<Line>>>,
    /// The note ('' removes it)
    #[arg(long, value_name = "TEXT")]
    pub note: Option<OrClear<Text>>,
    /// The preferred channel ('' removes it)
    #[arg(long, value_name = "CH")]
    pub channel: Option<OrClear<Channel>>,
    /// The contact policy ('' removes it)
    #[arg(long, value_name = "TEXT")]
    pub contact_policy: Option<OrClear<Text>>,
}

// ---------------------------------------------------------------------------------------------
// Interactions

#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
carnet interaction add Acme --channel phone --summary \"Drum noise\" --sentiment -1 \\\n      \
--they-said \"A technician comes Tuesday\" --next \"Check he came\" --due 2026-12-02\n  \
carnet interaction list --vendor Acme --since 2026-11-01 --until 2026-11-30\n  \
carnet interaction list --grep technician\n  \
carnet interaction edit int_0123456789abcdef --outcome \"Fixed\" --sentiment 2")]
pub enum InteractionCmd {
    /// Record an interaction
    Add(InteractionAdd),
    /// List interactions, newest first
    List(InteractionList),
    /// Show one interaction in full
    Show {
        /// Interaction id (int_…)
        id: InteractionId,
    },
    /// Change an interaction: only the flags given change; '' clears an optional field
    Edit(InteractionEdit),
    /// Delete an interaction
    Rm {
        /// Interaction id (int_…)
        id: InteractionId,
    },
}

#[derive(Debug, Args)]
pub struct InteractionAdd {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// How it happened
    #[arg(long, value_name = "CH", value_parser = channel_parser())]
    pub channel: Channel,
    /// What it was about
    #[arg(long, value_name = "TEXT")]
    pub summary: Text,
    /// When it happened: RFC 3339, a local time (2026-12-15T14:30) or a date [default: now]
    #[arg(long, value_name = "WHEN")]
    pub at: Option<When>,
    /// With whom: a person, a department
    #[arg(long = "with", value_name = "PERSON")]
    pub with: Option<Line>,
    /// What you expected
    #[arg(long, value_name = "TEXT")]
    pub expected: Option<Text>,
    /// What you said
    #[arg(long, value_name = "TEXT")]
    pub i_said: Option<Text>,
    /// What they said
    #[arg(long, value_name = "TEXT")]
    pub they_said: Option<Text>,
    /// What came of it
    #[arg(long, value_name = "TEXT")]
    pub outcome: Option<Text>,
    /// How it felt, from -2 (very bad) to 2 (very good)
    #[arg(long, value_name = "-2..2", allow_negative_numbers = true)]
    pub sentiment: Option<Sentiment>,
    /// What happens next
    #[arg(long, value_name = "TEXT")]
    pub next: Option<Text>,
    /// When the next step is due (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", requires = "next")]
    pub due: Option<Day>,
    /// The incident this exchange is about (same vendor)
    #[arg(long, value_name = "ID")]
    pub incident: Option<IncidentId>,
    /// Let this vendor read it (once it has the interactions:read scope)
    #[arg(long)]
    pub shared: bool,
}

#[derive(Debug, Args)]
pub struct InteractionList {
    /// Only this vendor's (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
    /// Only those whose text contains this (case-insensitive)
    #[arg(long, value_name = "TEXT", value_parser = NonEmptyStringValueParser::new())]
    pub grep: Option<String>,
    /// Only those at or after this time (a date: from the start of that day)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<When>,
    /// Only those before this time (a date: up to the end of that day)
    #[arg(long, value_name = "WHEN")]
    pub until: Option<When>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("changes").required(true).multiple(true)
    .args(["channel", "summary", "at", "with", "expected", "i_said", "they_said", "outcome",
           "sentiment", "next", "due", "incident", "shared", "private"])))]
pub struct InteractionEdit {
    /// Interaction id (int_…)
    pub id: InteractionId,
    #[arg(long, value_name = "CH", value_parser = channel_parser())]
    pub channel: Option<Channel>,
    #[arg(long, value_name = "TEXT")]
    pub summary: Option<Text>,
    #[arg(long, value_name = "WHEN")]
    pub at: Option<When>,
    #[arg(long = "with", value_name = "PERSON")]
    pub with: Option<OrClear<Line>>,
    #[arg(long, value_name = "TEXT")]
    pub expected: Option<OrClear<Text>>,
    #[arg(long, value_name = "TEXT")]
    pub i_said: Option<OrClear<Text>>,
    #[arg(long, value_name = "TEXT")]
    pub they_said: Option<OrClear<Text>>,
    #[arg(long, value_name = "TEXT")]
    pub outcome: Option<OrClear<Text>>,
    #[arg(long, value_name = "-2..2", allow_negative_numbers = true)]
    pub sentiment: Option<OrClear<Sentiment>>,
    /// A new next step (it starts not done; '' removes it and its due date)
    #[arg(long, value_name = "TEXT")]
    pub next: Option<OrClear<Text>>,
    #[arg(long, value_name = "DATE")]
    pub due: Option<OrClear<Day>>,
    #[arg(long, value_name = "ID")]
    pub incident: Option<OrClear<IncidentId>>,
    /// Let this vendor read it
    #[arg(long, conflicts_with = "private")]
    pub shared: bool,
    /// Stop sharing it with this vendor
    #[arg(long)]
    pub private: bool,
}

// ---------------------------------------------------------------------------------------------
// Purchases

#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
carnet purchase add Acme --item \"Washing machine\" --amount 699.90 --currency EUR \\\n      \
--warranty-until 2028-11-12\n  \
carnet purchase list --vendor Acme")]
pub enum PurchaseCmd {
    /// Record a purchase
    Add(PurchaseAdd),
    /// List purchases, most recent first
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
    },
    /// Show one purchase
    Show {
        /// Purchase id (pur_…)
        id: PurchaseId,
    },
    /// Delete a purchase
    Rm {
        /// Purchase id (pur_…)
        id: PurchaseId,
    },
}

#[derive(Debug, Args)]
pub struct PurchaseAdd {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// What you bought
    #[arg(long, value_name = "TEXT")]
    pub item: Line,
    /// What you paid, as a decimal number (699.90)
    #[arg(long, value_name = "DECIMAL")]
    pub amount: Amount,
    /// ISO 4217 currency code (EUR, USD, …)
    #[arg(long, value_name = "CODE")]
    pub currency: Currency,
    /// The day of the purchase (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE")]
    pub at: Option<Day>,
    /// The last day under warranty (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub warranty_until: Option<Day>,
    /// Receipt or order reference
    #[arg(long, value_name = "REF")]
    pub receipt: Option<Line>,
}

// ---------------------------------------------------------------------------------------------
// Incidents

#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
carnet incident open Acme --description \"Drum broken after 3 weeks\" --at 2026-11-20\n  \
carnet incident list --open\n  \
carnet incident resolve inc_0123456789abcdef --resolution \"Drum replaced\" --satisfaction 8")]
pub enum IncidentCmd {
    /// Open an incident
    Open {
        /// Vendor id or exact name
        vendor: VendorRef,
        /// What went wrong
        #[arg(long, value_name = "TEXT")]
        description: Text,
        /// When it started: RFC 3339, a local time (2026-12-15T14:30) or a date [default: now]
        #[arg(long, value_name = "WHEN")]
        at: Option<When>,
    },
    /// List incidents, most recently opened first
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
        /// Only those not resolved yet
        #[arg(long)]
        open: bool,
    },
    /// Show one incident
    Show {
        /// Incident id (inc_…)
        id: IncidentId,
    },
    /// Resolve an incident (again, to correct the resolution)
    Resolve {
        /// Incident id (inc_…)
        id: IncidentId,
        /// How it was resolved
        #[arg(long, value_name = "TEXT")]
        resolution: Text,
        /// How satisfied you are with the resolution, 0 to 10
        #[arg(long, value_name = "0..10")]
        satisfaction: Option<Satisfaction>,
    },
}

// ---------------------------------------------------------------------------------------------
// Follow-ups and profile

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Steps without a due date are always listed.\n\nExamples:\n  \
carnet followups\n  carnet followups --within 30\n  carnet followups done int_0123456789abcdef"
)]
pub struct FollowupsArgs {
    #[command(subcommand)]
    pub action: Option<FollowupsCmd>,
    /// List steps due within this many days from today (overdue ones included)
    #[arg(long, value_name = "DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub within: u32,
    /// List every step not done, whenever it is due
    #[arg(long, conflicts_with = "within")]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum FollowupsCmd {
    /// Mark the next step of an interaction as done
    Done {
        /// Id of the interaction that set the step (int_…)
        id: InteractionId,
    },
}

#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  carnet profile set --display-name \"Camille\" --locale fr-FR --city Lyon\n  \
carnet profile set --postal-code ''"
)]
pub enum ProfileCmd {
    /// Show your profile
    Show,
    /// Change your profile: only the flags given change; '' clears a field
    #[command(group(ArgGroup::new("changes").required(true).multiple(true)
        .args(["display_name", "locale", "city", "postal_code"])))]
    Set {
        /// The name vendors may see
        #[arg(long, value_name = "T")]
        display_name: Option<OrClear<Line>>,
        /// Your language, as a BCP 47 tag (fr-FR, en)
        #[arg(long, value_name = "L")]
        locale: Option<OrClear<Locale>>,
        #[arg(long, value_name = "T")]
        city: Option<OrClear<Line>>,
        #[arg(long, value_name = "T")]
        postal_code: Option<OrClear<Line>>,
    },
}

// ---------------------------------------------------------------------------------------------
// Argument value types

/// A vendor named on the command line: its id, or else its exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorRef {
    Id(VendorId),
    Name(Line),
}

impl FromStr for VendorRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if VendorId::looks_like(s) {
            return s.parse().map(VendorRef::Id).map_err(|e| format!("{e}"));
        }
        s.parse()
            .map(VendorRef::Name)
            .map_err(|e| format!("not a vendor id or name: {e}"))
    }
}

/// A flag value that may be '' to clear the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrClear<T> {
    Clear,
    Set(T),
}

impl<T: FromStr> FromStr for OrClear<T>
where
    T::Err: Display,
{
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            Ok(OrClear::Clear)
        } else {
            s.parse()
                .map(OrClear::Set)
                .map_err(|e: T::Err| e.to_string())
        }
    }
}

impl<T> OrClear<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> OrClear<U> {
        match self {
            OrClear::Clear => OrClear::Clear,
            OrClear::Set(v) => OrClear::Set(f(v)),
        }
    }

    pub fn into_option(self) -> Option<T> {
        match self {
            OrClear::Clear => None,
            OrClear::Set(v) => Some(v),
        }
    }
}

/// A DATE argument (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl FromStr for Day {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_date(s).map(Day)
    }
}

/// CH values, listed in `--help` and completions.
fn channel_parser() -> impl TypedValueParser<Value = Channel> {
    PossibleValuesParser::new(Channel::ALL.map(Channel::as_str)).try_map(|s| s.parse::<Channel>())
}
