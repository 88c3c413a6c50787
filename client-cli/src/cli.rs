//! The command line, as clap types. Every value is parsed here with the wire types' own
//! `FromStr` (amounts, currencies, categories, ids, …), so a mistake is a usage error naming
//! the flag before any request is sent. The verbs and flags follow DESIGN.md §8: the ledger's
//! in `cli/ledger.rs`, vendor access (clients, grants, receipts, the access log, webhooks) in
//! `cli/access.rs`, intents and offers in `cli/intents.rs`, subscriptions in
//! `cli/subscriptions.rs`, consent requests and the web password in `cli/consent.rs`, unlocking
//! and locking the vault in `cli/lifecycle.rs`.

mod access;
mod archive;
mod consent;
mod documents;
mod followups;
mod import_csv;
mod intents;
mod ledger;
mod lifecycle;
mod notify;
mod profile;
mod search;
mod subscriptions;
mod text;

use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;

use carnet_schemas::{Channel, Line, VendorId};
use chrono::NaiveDate;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

pub use access::*;
pub use archive::*;
pub use consent::*;
pub use documents::*;
pub use followups::*;
pub use import_csv::*;
pub use intents::*;
pub use ledger::*;
pub use lifecycle::*;
pub use notify::*;
pub use profile::*;
pub use search::SearchArgs;
pub use subscriptions::*;
pub(crate) use text::long_text_help;
pub use text::{LongText, LongTextOrClear, quiet};

use crate::color::ColorChoice;
use crate::config::ServerUrl;
use crate::when::parse_date;

pub(crate) const MAIN_HELP: &str = "\
Finding carnetd and the owner token:
  server  --server / CARNET_SERVER, else `server` in the config file, else http://127.0.0.1:8787
  token   CARNET_TOKEN, else `token` in the config file (sent to that file's server only),
          else owner.token in CARNET_DATA_DIR or $XDG_DATA_HOME/carnet (sent to this machine only)
  The config file is $XDG_CONFIG_HOME/carnet/config.toml, written by `carnet login`.

Values:
  VENDOR  a vendor's id (ven_…) or exact name; an id is looked up first, then a name, and
          name:NAME looks up the name only (for a vendor named like an id)
  WHEN    RFC 3339 (2026-12-15T14:30:00+01:00), a local time (2026-12-15T14:30) or a date
          (2026-12-15): a date alone is that day in your time zone, and --until DATE its end
  DATE    YYYY-MM-DD
  CH      phone, email, store, chat, web, mail or other
  TEXT    free text, at most 10,000 characters: the text itself, \"-\" to read it from stdin,
          or @FILE to read it from a file (one final line break is dropped); @@… is text
          starting with @
  DECIMAL an amount, with at most as many decimals as its currency has (EUR 2, JPY 0)
  SCOPE   intents:read, offers:write, relationship:read, interactions:read, profile:read or
          promises:read
  STATE   an intent's: draft, active, fulfilled, withdrawn or expired; a promise's: open,
          late, kept or broken
  ID      itt_… an intent, ofr_… an offer, pur_… a purchase, grt_… a grant, …
  CODE    a consent request's code, as the consent page shows it (K7QM-2XPA; any case,
          dash optional)

Exit codes:
  0  success
  1  the server refused the request (4xx), or another error
  2  the command line is wrong
  3  carnetd cannot be reached
  4  no owner token was found, or the server refused it (for unlock: the passphrase)
  5  the vault is sealed: run `carnet unlock`
  6  the access log or a row deciding access failed verification (`carnet audit verify`)

Examples:
  carnet unlock
  carnet vendor add \"Acme Appliances\" --website https://acme.example --category home.appliances
  carnet interaction add Acme --channel phone --summary \"Asked about the repair\" --sentiment -1
  carnet purchase add Acme --item \"Washing machine\" --amount 699.90 --currency EUR
  carnet followups --within 14
  carnet vendor connect Acme --redirect-uri https://acme.example/oauth/callback
  carnet grant create Acme --scope intents:read --scope offers:write --category home.appliances
  carnet consent list
  carnet consent approve K7QM-2XPA --days 90
  carnet password set
  carnet intent new --category home.appliances.washing-machine --title \"Washing machine\" \\
      --max-price 700 --currency EUR --area Lyon --until 2026-12-15 --activate
  carnet offers
  carnet offer accept ofr_0123456789abcdef
  carnet audit --vendor Acme --since 2026-12-01
  carnet audit verify
  carnet webhooks --vendor Acme
  carnet notify add ntfy https://ntfy.example.net/carnet-7Hq2 --token-file ntfy.token --digest 8
  carnet export --out carnet.age
  carnet import carnet.age
  carnet import-csv purchases releve.csv --currency EUR --dry-run
  carnet --json vendor list
  carnet --csv purchase list > purchases.csv";

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

    /// Print listings as CSV (the table's columns, all of them, nothing cut; a cell that
    /// starts with = + - @ gets a leading ' so spreadsheets do not run it)
    #[arg(
        long,
        global = true,
        conflicts_with = "json",
        help_heading = "Global options"
    )]
    pub csv: bool,

    /// Colour errors, warnings and hints on stderr: auto (on a terminal, unless NO_COLOR is
    /// set), always or never
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        value_enum,
        default_value_t = ColorChoice::Auto,
        hide_possible_values = true,
        hide_default_value = true,
        help_heading = "Global options"
    )]
    pub color: ColorChoice,

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

    /// Unlock a sealed vault with its passphrase or recovery key (no owner token needed)
    Unlock(UnlockArgs),

    /// Seal the vault: its key leaves carnetd's memory until `carnet unlock`
    #[command(after_help = LOCK_HELP)]
    Lock,

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

    /// Next steps due soon (from interactions' --next and --due), and late promises
    Followups(FollowupsArgs),

    /// What vendors promised you, and whether they kept it
    #[command(subcommand)]
    Promise(PromiseCmd),

    /// Subscriptions and contracts: payments projected, renewals and notice deadlines watched
    #[command(subcommand)]
    Subscription(SubscriptionCmd),

    /// Documents (invoices, contracts, photos) attached to vendors and their records
    #[command(subcommand)]
    Doc(DocCmd),

    /// Find vendors, interactions, purchases and incidents by the words they hold
    #[command(after_help = search::SEARCH_HELP)]
    Search(SearchArgs),

    /// What you may later choose to disclose to vendors
    #[command(subcommand)]
    Profile(ProfileCmd),

    /// What you want to buy, told to granted vendors while you are looking (intentcasting)
    #[command(subcommand)]
    Intent(IntentCmd),

    /// Offers vendors made on your intents, newest first
    Offers(OffersArgs),

    /// Show, accept or decline one offer
    #[command(subcommand)]
    Offer(OfferCmd),

    /// What a connected vendor may see and do, in which categories, until when
    #[command(subcommand)]
    Grant(GrantCmd),

    /// Consent requests vendors opened on the consent page: list, approve or deny them here
    #[command(subcommand)]
    Consent(ConsentCmd),

    /// The web password, which signs you in to the web app and on the consent page in your
    /// browser
    #[command(subcommand)]
    Password(PasswordCmd),

    /// Signed consent receipts, one per grant, newest first
    Receipts(ReceiptsArgs),

    /// Every access a vendor made, newest first; `audit verify` checks the log is unaltered
    Audit(AuditArgs),

    /// Webhook deliveries to vendors, newest first, and where each one stands
    Webhooks(WebhooksArgs),

    /// Reminders that reach you: channels (a webhook, ntfy, email) and their deliveries
    #[command(subcommand)]
    Notify(NotifyCmd),

    /// Write the whole vault to one age-encrypted archive file
    Export(ExportArgs),

    /// Restore an archive from `carnet export` into this server's empty vault
    Import(ImportArgs),

    /// Bring your history in from a bank's or a merchant's CSV export
    #[command(subcommand, name = "import-csv")]
    ImportCsv(ImportCsvCmd),

    /// Print a shell completion script on stdout
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell
        #[arg(value_name = "SHELL", hide_possible_values = true)]
        shell: clap_complete::Shell,
    },

    /// Print the man page carnet(1) on stdout, or write every page into a directory
    #[command(after_help = MAN_HELP)]
    Man(ManArgs),
}

const COMPLETIONS_HELP: &str = "\
The script completes commands, flags and the values carnet knows (channels, scopes, states, \
shells). Save it where your shell looks, then open a new shell:
  bash  ~/.local/share/bash-completion/completions/carnet (needs the bash-completion
        package; system-wide: /usr/share/bash-completion/completions/carnet)
  zsh   a directory in $fpath, as _carnet: ~/.zfunc/_carnet with
        `fpath=(~/.zfunc $fpath); autoload -Uz compinit; compinit` in ~/.zshrc
        (system-wide: /usr/share/zsh/site-functions/_carnet)
  fish  ~/.config/fish/completions/carnet.fish
        (system-wide: /usr/share/fish/vendor_completions.d/carnet.fish)
The man page is printed by `carnet man` (`carnet man | man -l -` reads it).

Examples:
  carnet completions bash > ~/.local/share/bash-completion/completions/carnet
  carnet completions zsh > ~/.zfunc/_carnet
  carnet completions fish > ~/.config/fish/completions/carnet.fish
  source <(carnet completions bash)";

const MAN_HELP: &str = "\
Prints carnet(1), made from the same definitions as --help: the global options, every command \
with its usage, the values, the exit codes and examples. With --dir, writes carnet.1 and a page \
per command (carnet-vendor-add.1, …) into DIR instead, as a package installs them; `carnet \
COMMAND --help` says the same as each page.

Examples:
  carnet man | man -l -
  carnet man > ~/.local/share/man/man1/carnet.1
  carnet man --dir pkg/usr/share/man/man1 && gzip -9n pkg/usr/share/man/man1/*.1";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write carnet.1 and one page per command into this directory (created if missing)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Read the token from this file's first line ("-" for stdin)
    #[arg(long, value_name = "F|-")]
    pub token_file: Option<PathBuf>,
}

// ---------------------------------------------------------------------------------------------
// Argument value types

/// A vendor named on the command line: its id, or else its exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorRef {
    /// Has the shape of an id: the vendor with this id, else the one named so (a name may
    /// look like an id).
    Id(VendorId),
    /// The vendor with this exact name (`name:NAME` says so explicitly).
    Name(Line),
}

/// Written before a vendor's name to look up the name only.
pub const NAME_PREFIX: &str = "name:";

impl FromStr for VendorRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(name) = s.strip_prefix(NAME_PREFIX) {
            return name
                .parse()
                .map(VendorRef::Name)
                .map_err(|e| format!("not a vendor name: {e}"));
        }
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

    /// Applies an optional flag to an optional field: absent keeps it, '' clears it.
    pub fn set(field: &mut Option<T>, flag: Option<Self>) {
        if let Some(v) = flag {
            *field = v.into_option();
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
