//! The ledger verbs' arguments: vendors, interactions, purchases and incidents (DESIGN.md §8);
//! follow-ups and promises are in `followups.rs`, the profile in `profile.rs`.

use carnet_schemas::{
    Amount, Category, Channel, Currency, IncidentId, InteractionId, Line, PurchaseId, Satisfaction,
    Sentiment, Text, WebUrl,
};
use clap::builder::{NonEmptyStringValueParser, PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Subcommand};

use super::{
    Day, LongText, LongTextOrClear, OrClear, VendorConnect, VendorEditClient, VendorRef,
    channel_parser, long_text_help,
};
use crate::when::When;

// ---------------------------------------------------------------------------------------------
// Vendors

/// The order of `vendor list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VendorSort {
    Name,
    Score,
}

fn sort_parser() -> impl TypedValueParser<Value = VendorSort> {
    PossibleValuesParser::new(["name", "score"]).map(|s| match s.as_str() {
        "score" => VendorSort::Score,
        _ => VendorSort::Name,
    })
}

#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
carnet vendor add \"Acme Appliances\" --website https://acme.example --account C-1234\n  \
carnet vendor show \"Acme Appliances\"\n  \
carnet vendor edit \"Acme Appliances\" --note \"Ask for Lea\" --website ''\n  \
carnet vendor rm ven_0123456789abcdef --yes\n\n\
Vendor access (the vendor's OAuth client; then `carnet grant create`):\n  \
carnet vendor connect Acme --redirect-uri https://acme.example/oauth/callback \\\n      \
--webhook-url https://acme.example/hooks/carnet\n  \
carnet vendor invite Acme\n  \
carnet vendor client Acme\n  \
carnet vendor rotate-secret Acme\n  \
carnet vendor rotate-secret Acme --webhook\n  \
carnet vendor disconnect Acme --yes")]
pub enum VendorCmd {
    /// Add a vendor, or one of the market relay's directory (--from-directory)
    #[command(
        after_help = "With --from-directory, the vendor is added as the market directory \
this server holds describes it (its name, made unique among yours, and its website), linked to \
its directory id; adding the same directory vendor again gives the one already added. Accepting \
a market offer does the same.\n\n\
Examples:\n  \
carnet vendor add \"Acme Appliances\" --website https://acme.example --category home.appliances\n  \
carnet vendor add --from-directory acme\n  \
carnet vendor add \"Boulangerie Martin\" --account \"loyalty card 4471\" --channel store \\\n      \
--contact-policy \"no newsletters\" --note \"Closed on Mondays\""
    )]
    Add(VendorAdd),
    /// List your vendors by name, or by their local scorecard's score
    #[command(
        after_help = "The score (0-100) is the mean of what is known of promises kept, \
incidents resolved, satisfaction and sentiment (see `carnet vendor show` and the README).\n\n\
Examples:\n  \
carnet vendor list\n  \
carnet vendor list --sort score\n  \
carnet --json vendor list"
    )]
    List {
        /// Order: name (the default), or score (highest first, unknown scores last; adds a
        /// SCORE column, and each --json item gains its scorecard)
        #[arg(long, value_name = "ORDER", value_parser = sort_parser())]
        sort: Option<VendorSort>,
    },
    /// Show a vendor and the loyalty facts of your relationship
    #[command(after_help = "Examples:\n  \
carnet vendor show \"Acme Appliances\"\n  \
carnet vendor show ven_0123456789abcdef")]
    Show {
        /// Vendor id or exact name
        vendor: VendorRef,
    },
    /// Change a vendor: only the flags given change; '' clears an optional field
    #[command(after_help = "Examples:\n  \
carnet vendor edit Acme --note \"Ask for Lea\"\n  \
carnet vendor edit Acme --category home.appliances --category home.garden --website ''\n  \
carnet vendor edit ven_0123456789abcdef --name \"Acme Appliances\"")]
    Edit(VendorEdit),
    /// Remove a vendor with its interactions, purchases and incidents
    #[command(after_help = "Examples:\n  \
carnet vendor rm Acme\n  \
carnet vendor rm ven_0123456789abcdef --yes")]
    Rm {
        /// Vendor id or exact name
        vendor: VendorRef,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
    /// Connect a vendor as an OAuth client; prints its client secret (and webhook secret) once
    #[command(after_help = "Examples:\n  \
carnet vendor connect Acme --redirect-uri https://acme.example/oauth/callback\n  \
carnet vendor connect Acme --redirect-uri https://acme.example/oauth/callback \\\n      \
--webhook-url https://acme.example/hooks/carnet > acme.creds")]
    Connect(VendorConnect),
    /// Replace the vendor's client secret (the old one and its tokens stop working), or with
    /// --webhook its webhook secret; prints the new one once
    #[command(after_help = "Examples:\n  \
carnet vendor rotate-secret Acme\n  \
carnet vendor rotate-secret Acme --webhook")]
    RotateSecret {
        /// Vendor id or exact name
        vendor: VendorRef,
        /// Replace the webhook secret instead of the client secret
        #[arg(long)]
        webhook: bool,
    },
    /// Let the vendor register its own OAuth client: prints a one-time token (24 hours) and
    /// the registration endpoint; the client shows as not verified
    #[command(after_help = "Examples:\n  \
carnet vendor invite Acme\n  \
carnet --json vendor invite Acme")]
    Invite {
        /// Vendor id or exact name
        vendor: VendorRef,
    },
    /// Change the vendor's redirect URIs or webhook URL; its secrets, grant and tokens stay
    #[command(after_help = "Examples:\n  \
carnet vendor edit-client Acme --webhook-url https://acme.example/hooks/carnet\n  \
carnet vendor edit-client Acme --redirect-uri https://acme.example/oauth/callback \\\n      \
--redirect-uri https://app.acme.example/callback\n  \
carnet vendor edit-client Acme --webhook-url ''")]
    EditClient(VendorEditClient),
    /// Show the vendor's OAuth client: its id, redirect URIs and webhook URL (no secrets)
    #[command(after_help = "Examples:\n  \
carnet vendor client Acme\n  \
carnet --json vendor client Acme")]
    Client {
        /// Vendor id or exact name
        vendor: VendorRef,
    },
    /// Disconnect a vendor: its client secret and every token it holds stop working
    #[command(after_help = "Examples:\n  \
carnet vendor disconnect Acme\n  \
carnet vendor disconnect Acme --yes")]
    Disconnect {
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
    #[arg(required_unless_present = "from_directory")]
    pub name: Option<Line>,
    /// Add the market directory's vendor ID instead (the directory carnetd holds; needs a
    /// market relay)
    #[arg(long, value_name = "ID", conflicts_with_all = ["name", "website", "categories",
          "accounts", "note", "channel", "contact_policy"])]
    pub from_directory: Option<Line>,
    /// The vendor's web site
    #[arg(long, value_name = "URL")]
    pub website: Option<WebUrl>,
    /// What you buy there, as a dotted category (repeat for several)
    #[arg(long = "category", value_name = "CAT")]
    pub categories: Vec<Category>,
    /// Your account reference there: customer number, login (repeat for several)
    #[arg(long = "account", value_name = "REF")]
    pub accounts: Vec<Line>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("A note"))]
    pub note: Option<Text>,
    /// The channel you prefer this vendor to use
    #[arg(long, value_name = "CH", value_parser = channel_parser())]
    pub channel: Option<Channel>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("How and how often this vendor may contact you"))]
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
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("The note ('' removes it)"))]
    pub note: Option<OrClear<Text>>,
    /// The preferred channel ('' removes it)
    #[arg(long, value_name = "CH")]
    pub channel: Option<OrClear<Channel>>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("The contact policy ('' removes it)"))]
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
    #[command(after_help = "Examples:\n  \
carnet interaction add Acme --channel phone --summary \"Drum noise\" --sentiment -1 \\\n      \
--with \"Lea, after-sales\" --they-said \"A technician comes Tuesday\" \\\n      \
--next \"Check he came\" --due 2026-12-02\n  \
carnet interaction add Acme --channel email --summary \"Asked for the invoice\" --at 2026-11-12T14:30\n\n\
Long text (--summary, --they-said, --note, …) from a file or stdin:\n  \
carnet interaction add Acme --channel email --summary @call-notes.txt\n  \
xclip -o | carnet interaction add Acme --channel chat --summary - --they-said @reply.txt")]
    Add(InteractionAdd),
    /// List interactions, newest first
    #[command(after_help = "Examples:\n  \
carnet interaction list\n  \
carnet interaction list --vendor Acme --since 2026-11-01 --until 2026-11-30\n  \
carnet interaction list --grep technician")]
    List(InteractionList),
    /// Show one interaction in full
    #[command(after_help = "Examples:\n  \
carnet interaction show int_0123456789abcdef\n  \
carnet --json interaction show int_0123456789abcdef")]
    Show {
        /// Interaction id (int_…)
        id: InteractionId,
    },
    /// Change an interaction: only the flags given change; '' clears an optional field
    #[command(after_help = "Examples:\n  \
carnet interaction edit int_0123456789abcdef --outcome \"Fixed\" --sentiment 2\n  \
carnet interaction edit int_0123456789abcdef --next ''\n  \
carnet interaction edit int_0123456789abcdef --shared")]
    Edit(InteractionEdit),
    /// Delete an interaction (asks first, unless --yes)
    #[command(after_help = "Examples:\n  \
carnet interaction rm int_0123456789abcdef\n  \
carnet interaction rm int_0123456789abcdef --yes")]
    Rm {
        /// Interaction id (int_…)
        id: InteractionId,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct InteractionAdd {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// How it happened
    #[arg(long, value_name = "CH", value_parser = channel_parser())]
    pub channel: Channel,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What it was about"))]
    pub summary: Text,
    /// When it happened: RFC 3339, a local time (2026-12-15T14:30) or a date [default: now]
    #[arg(long, value_name = "WHEN")]
    pub at: Option<When>,
    /// With whom: a person, a department
    #[arg(long = "with", value_name = "PERSON")]
    pub with: Option<Line>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What you expected"))]
    pub expected: Option<Text>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What you said"))]
    pub i_said: Option<Text>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What they said"))]
    pub they_said: Option<Text>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What came of it"))]
    pub outcome: Option<Text>,
    /// How it felt, from -2 (very bad) to 2 (very good)
    #[arg(long, value_name = "-2..2", allow_negative_numbers = true)]
    pub sentiment: Option<Sentiment>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What happens next"))]
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
    #[command(flatten)]
    pub promised: super::TheyPromised,
}

#[derive(Debug, Args)]
pub struct InteractionList {
    /// Only this vendor's (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
    /// Only those with words starting with each of these (not substrings; case, accents aside)
    #[arg(long, value_name = "WORDS", value_parser = NonEmptyStringValueParser::new())]
    pub grep: Option<String>,
    /// Only those over this channel
    #[arg(long, value_name = "CH", value_parser = channel_parser())]
    pub channel: Option<Channel>,
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
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What it was about"))]
    pub summary: Option<Text>,
    #[arg(long, value_name = "WHEN")]
    pub at: Option<When>,
    #[arg(long = "with", value_name = "PERSON")]
    pub with: Option<OrClear<Line>>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("What you expected ('' removes it)"))]
    pub expected: Option<OrClear<Text>>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("What you said ('' removes it)"))]
    pub i_said: Option<OrClear<Text>>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("What they said ('' removes it)"))]
    pub they_said: Option<OrClear<Text>>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("What came of it ('' removes it)"))]
    pub outcome: Option<OrClear<Text>>,
    #[arg(long, value_name = "-2..2", allow_negative_numbers = true)]
    pub sentiment: Option<OrClear<Sentiment>>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("A new next step (it starts not done; '' removes it and its due date)"))]
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
    #[command(after_help = "Examples:\n  \
carnet purchase add Acme --item \"Washing machine\" --amount 699.90 --currency EUR \\\n      \
--warranty-until 2028-11-12 --receipt ORD-5521\n  \
carnet purchase add \"Boulangerie Martin\" --item Bread --amount 4.20 --currency EUR --at 2026-11-30")]
    Add(PurchaseAdd),
    /// List purchases, most recent first
    #[command(after_help = "Examples:\n  \
carnet purchase list\n  \
carnet purchase list --vendor Acme")]
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
    },
    /// Show one purchase
    #[command(after_help = "Examples:\n  \
carnet purchase show pur_0123456789abcdef")]
    Show {
        /// Purchase id (pur_…)
        id: PurchaseId,
    },
    /// Change a purchase: only the flags given change; '' clears an optional field
    #[command(after_help = "Examples:\n  \
carnet purchase edit pur_0123456789abcdef --amount 649.90\n  \
carnet purchase edit pur_0123456789abcdef --warranty-until 2029-11-12 --receipt ''")]
    Edit(PurchaseEdit),
    /// Delete a purchase (asks first, unless --yes)
    #[command(after_help = "Examples:\n  \
carnet purchase rm pur_0123456789abcdef\n  \
carnet purchase rm pur_0123456789abcdef --yes")]
    Rm {
        /// Purchase id (pur_…)
        id: PurchaseId,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct PurchaseAdd {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// What you bought
    #[arg(long, value_name = "TEXT")]
    pub item: Line,
    /// What you paid, as a decimal number with at most the currency's decimals (699.90)
    #[arg(long, value_name = "DECIMAL", allow_negative_numbers = true)]
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

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("changes").required(true).multiple(true)
    .args(["item", "amount", "currency", "at", "warranty_until", "receipt"])))]
pub struct PurchaseEdit {
    /// Purchase id (pur_…)
    pub id: PurchaseId,
    /// What you bought
    #[arg(long, value_name = "TEXT")]
    pub item: Option<Line>,
    /// What you paid, as a decimal number with at most the currency's decimals
    #[arg(long, value_name = "DECIMAL", allow_negative_numbers = true)]
    pub amount: Option<Amount>,
    /// ISO 4217 currency code
    #[arg(long, value_name = "CODE")]
    pub currency: Option<Currency>,
    /// The day of the purchase (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub at: Option<Day>,
    /// The last day under warranty ('' removes it)
    #[arg(long, value_name = "DATE")]
    pub warranty_until: Option<OrClear<Day>>,
    /// Receipt or order reference ('' removes it)
    #[arg(long, value_name = "REF")]
    pub receipt: Option<OrClear<Line>>,
}

// ---------------------------------------------------------------------------------------------
// Incidents

#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:\n  \
carnet incident open Acme --description \"Drum broken after 3 weeks\" --at 2026-11-20\n  \
carnet incident list --open\n  \
carnet incident resolve inc_0123456789abcdef --resolution \"Drum replaced\" --satisfaction 8\n  \
carnet incident edit inc_0123456789abcdef --description @drum.txt\n  \
carnet incident rm inc_0123456789abcdef --yes")]
pub enum IncidentCmd {
    /// Open an incident
    #[command(after_help = "Examples:\n  \
carnet incident open Acme --description \"Drum broken after 3 weeks\" --at 2026-11-20")]
    Open {
        /// Vendor id or exact name
        vendor: VendorRef,
        #[arg(long, value_name = "TEXT", value_parser = LongText,
              help = long_text_help!("What went wrong"))]
        description: Text,
        /// When it started: RFC 3339, a local time (2026-12-15T14:30) or a date [default: now]
        #[arg(long, value_name = "WHEN")]
        at: Option<When>,
    },
    /// List incidents, most recently opened first
    #[command(after_help = "Examples:\n  \
carnet incident list\n  \
carnet incident list --vendor Acme --open")]
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
        /// Only those not resolved yet
        #[arg(long)]
        open: bool,
    },
    /// Show one incident
    #[command(after_help = "Examples:\n  \
carnet incident show inc_0123456789abcdef")]
    Show {
        /// Incident id (inc_…)
        id: IncidentId,
    },
    /// Resolve an incident (again, to correct the resolution)
    #[command(after_help = "Examples:\n  \
carnet incident resolve inc_0123456789abcdef --resolution \"Drum replaced\" --satisfaction 8")]
    Resolve {
        /// Incident id (inc_…)
        id: IncidentId,
        #[arg(long, value_name = "TEXT", value_parser = LongText,
              help = long_text_help!("How it was resolved"))]
        resolution: Text,
        /// How satisfied you are with the resolution, 0 to 10
        #[arg(long, value_name = "0..10")]
        satisfaction: Option<Satisfaction>,
    },
    /// Change an incident: only the flags given change; '' clears an optional field
    #[command(after_help = "Examples:\n  \
carnet incident edit inc_0123456789abcdef --description \"Drum broken after 2 weeks\"\n  \
carnet incident edit inc_0123456789abcdef --at 2026-11-18 --satisfaction ''\n  \
carnet incident edit inc_0123456789abcdef --reopen")]
    Edit(IncidentEdit),
    /// Delete an incident (asks first, unless --yes); interactions about it keep their text
    #[command(after_help = "Examples:\n  \
carnet incident rm inc_0123456789abcdef\n  \
carnet incident rm inc_0123456789abcdef --yes")]
    Rm {
        /// Incident id (inc_…)
        id: IncidentId,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("changes").required(true).multiple(true)
    .args(["description", "at", "resolution", "satisfaction", "reopen"])))]
pub struct IncidentEdit {
    /// Incident id (inc_…)
    pub id: IncidentId,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What went wrong"))]
    pub description: Option<Text>,
    /// When it started: RFC 3339, a local time (2026-12-15T14:30) or a date
    #[arg(long, value_name = "WHEN")]
    pub at: Option<When>,
    #[arg(long, value_name = "TEXT", value_parser = LongText, conflicts_with = "reopen",
          help = long_text_help!("How it was resolved (resolves it if open)"))]
    pub resolution: Option<Text>,
    /// How satisfied you are with the resolution, 0 to 10 ('' removes it)
    #[arg(long, value_name = "0..10", conflicts_with = "reopen")]
    pub satisfaction: Option<OrClear<Satisfaction>>,
    /// Open it again: its resolution and satisfaction are removed
    #[arg(long)]
    pub reopen: bool,
}
