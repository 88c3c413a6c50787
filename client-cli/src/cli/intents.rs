//! Intentcasting arguments: intents (what you want to buy, schema.org `Demand`) and the offers
//! vendors answer with (DESIGN.md §5, §8). Ids, states, amounts, currencies, categories, item
//! conditions and withheld fields are parsed here with the wire types, so a bad value is a
//! usage error naming the flag before any request is sent.

use carnet_schemas::{
    Amount, Category, Currency, IntentField, IntentId, IntentState, ItemCondition, Line,
    MAX_MAX_OFFERS, MarketOfferId, OfferId, PublicField, RelayLevel, Text,
};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Subcommand};

use super::{LongText, LongTextOrClear, OrClear, long_text_help};
use crate::when::When;

/// The longest retention the server accepts (`terms.retention_days`, 1 to 3650).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// Intent states, in their life's order.
pub const STATES: [IntentState; 5] = [
    IntentState::Draft,
    IntentState::Active,
    IntentState::Fulfilled,
    IntentState::Withdrawn,
    IntentState::Expired,
];

/// Item conditions, as typed and as the wire spells them.
pub const CONDITIONS: [(&str, ItemCondition); 4] = [
    ("new", ItemCondition::New),
    ("used", ItemCondition::Used),
    ("refurbished", ItemCondition::Refurbished),
    ("damaged", ItemCondition::Damaged),
];

/// The fields an intent may withhold from vendors, as typed and as the wire spells them.
pub const WITHHOLDABLE: [(&str, IntentField); 6] = [
    ("description", IntentField::Description),
    ("price_specification", IntentField::PriceSpecification),
    ("eligible_quantity", IntentField::EligibleQuantity),
    ("area_served", IntentField::AreaServed),
    (
        "available_delivery_method",
        IntentField::AvailableDeliveryMethod,
    ),
    ("item_condition", IntentField::ItemCondition),
];

pub fn condition_name(c: ItemCondition) -> &'static str {
    CONDITIONS
        .iter()
        .find(|(_, v)| *v == c)
        .map_or("?", |(n, _)| n)
}

pub fn field_name(f: IntentField) -> &'static str {
    WITHHOLDABLE
        .iter()
        .find(|(_, v)| *v == f)
        .map_or("?", |(n, _)| n)
}

const INTENT_HELP: &str = "\
An intent is written as a draft, which no vendor sees. Once activated, vendors with a live \
grant (intents:read) for its category, or a category above it, see it inside its buying \
window (--from, default: when activated; --until, default: 30 days after it is written) \
and may answer with offers (offers:write). Fulfilled, withdrawn and expired intents are final.

Examples:
  carnet intent new --category home.appliances.washing-machine --title \"Washing machine\" \\
      --max-price 700 --currency EUR --area Lyon --delivery \"delivered, old one taken\" \\
      --until 2026-12-15 --activate
  carnet intent new --category home.appliances.fridge --title \"Fridge\" --min-price 300 \\
      --max-price 500 --currency EUR --withhold price_specification --purpose \"one quote\"
  carnet intent list --state active
  carnet intent show itt_0123456789abcdef
  carnet intent edit itt_0123456789abcdef --max-price 750 --until 2026-12-20 --area ''
  carnet intent activate itt_0123456789abcdef
  carnet intent withdraw itt_0123456789abcdef
  carnet offers --intent itt_0123456789abcdef";

#[derive(Debug, Subcommand)]
#[command(after_help = INTENT_HELP)]
pub enum IntentCmd {
    /// Write an intent (a draft; --activate publishes it at once)
    #[command(after_help = "Examples:\n  \
carnet intent new --category home.appliances.washing-machine --title \"Washing machine\" \\\n      \
--max-price 700 --currency EUR --area Lyon --until 2026-12-15 --activate\n  \
carnet intent new --category home.appliances.fridge --title \"Fridge\" --min-price 300 \\\n      \
--max-price 500 --currency EUR --withhold price_specification")]
    New(IntentNew),
    /// List your intents, newest first
    #[command(after_help = "Examples:\n  \
carnet intent list\n  \
carnet intent list --state active")]
    List {
        /// Only intents in this state
        #[arg(long, value_name = "STATE", value_parser = state_parser())]
        state: Option<IntentState>,
    },
    /// Show an intent in full: its window, its terms, how many offers it received
    #[command(after_help = "Examples:\n  \
carnet intent show itt_0123456789abcdef\n  \
carnet --json intent show itt_0123456789abcdef")]
    Show {
        /// Intent id (itt_…)
        id: IntentId,
    },
    /// Change a draft or active intent: only the flags given change; '' clears an optional field
    #[command(after_help = "Examples:\n  \
carnet intent edit itt_0123456789abcdef --max-price 750 --until 2026-12-20\n  \
carnet intent edit itt_0123456789abcdef --area '' --activate")]
    Edit(IntentEdit),
    /// Publish a draft: granted vendors see it inside its window
    #[command(after_help = "Examples:\n  \
carnet intent activate itt_0123456789abcdef")]
    Activate {
        /// Intent id (itt_…)
        id: IntentId,
    },
    /// Withdraw an intent: no vendor sees it any more, its pending offers expire
    #[command(after_help = "Examples:\n  \
carnet intent withdraw itt_0123456789abcdef")]
    Withdraw {
        /// Intent id (itt_…)
        id: IntentId,
    },
    /// Mark an active intent bought (accepting an offer does this and records the purchase)
    #[command(after_help = "Examples:\n  \
carnet intent fulfil itt_0123456789abcdef")]
    Fulfil {
        /// Intent id (itt_…)
        id: IntentId,
    },
}

#[derive(Debug, Args)]
pub struct IntentNew {
    /// What you want, as a dotted category (home.appliances.washing-machine)
    #[arg(long, value_name = "CAT")]
    pub category: Category,
    /// What you want, in a few words
    #[arg(long, value_name = "TEXT")]
    pub title: Line,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("More about it"))]
    pub description: Option<Text>,
    /// The least you expect to pay, as a decimal number (needs --currency)
    #[arg(
        long,
        value_name = "N",
        requires = "currency",
        allow_negative_numbers = true
    )]
    pub min_price: Option<Amount>,
    /// The most you would pay, as a decimal number (needs --currency)
    #[arg(
        long,
        value_name = "N",
        requires = "currency",
        allow_negative_numbers = true
    )]
    pub max_price: Option<Amount>,
    /// ISO 4217 currency code of the prices (EUR, USD, …)
    #[arg(long, value_name = "CODE")]
    pub currency: Option<Currency>,
    /// How many you want (1 or more)
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub quantity: Option<u32>,
    /// Where it must be delivered or served (Lyon, 69003)
    #[arg(long, value_name = "TEXT")]
    pub area: Option<Line>,
    /// When your buying window opens: WHEN [default: when activated]
    #[arg(long, value_name = "WHEN")]
    pub from: Option<When>,
    /// When your buying window closes: WHEN, a date meaning the end of that day
    /// [default: 30 days after it is written]
    #[arg(long, value_name = "WHEN")]
    pub until: Option<When>,
    /// How many offers it accepts, 1 to 100 [default: 10]
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_MAX_OFFERS)))]
    pub max_offers: Option<u32>,
    /// Publish it at once (otherwise it stays a draft no vendor sees)
    #[arg(long)]
    pub activate: bool,
    /// Also put it on the market relay. announce: every vendor subscribed to its category
    /// receives its category, your server's region and its window — with no grant; sealed: the
    /// whole intent (withheld fields left out), encrypted to the directory vendors you granted
    /// its category; notify: only where to read it, for the same vendors, who then pull it
    /// [default: off]
    #[arg(long, value_name = "LEVEL", value_parser = relay_parser())]
    pub relay: Option<RelayLevel>,
    /// With --relay announce, a field announced too (repeat, or separate with commas): title,
    /// description, price_band, quantity, item_condition, delivery_methods; none by default,
    /// never one you withhold
    #[arg(long, value_name = "FIELD", value_delimiter = ',', requires = "relay",
          value_parser = PossibleValuesParser::new(PublicField::ALL.map(|f| f.as_str()))
              .try_map(|s| s.parse::<PublicField>()))]
    pub public: Vec<PublicField>,
    #[command(flatten)]
    pub extra: NewExtras,
}

/// The intent flags beyond DESIGN.md §8: delivery, condition and the terms.
#[derive(Debug, Args)]
#[command(next_help_heading = EXTRAS)]
pub struct NewExtras {
    /// How you want it delivered (home delivery, pick-up in store)
    #[arg(long, value_name = "TEXT")]
    pub delivery: Option<Line>,
    /// The condition you accept
    #[arg(long, value_name = "CONDITION", value_parser = condition_parser())]
    pub condition: Option<ItemCondition>,
    #[arg(long, value_name = "TEXT", value_parser = LongText,
          help = long_text_help!("What vendors may use the intent for, in your words"))]
    pub purpose: Option<Text>,
    /// How many days a vendor may keep what it read, 1 to 3650 [default: 30]
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RETENTION_DAYS)))]
    pub retention_days: Option<u32>,
    /// Let vendors pass the intent on (by default they may not)
    #[arg(long)]
    pub allow_resale: bool,
    /// Let vendors use the intent to track you (by default they may not)
    #[arg(long)]
    pub allow_tracking: bool,
    /// A field vendors do not see (repeat, or separate with commas); category, title and
    /// window are always shown
    #[arg(long, value_name = "FIELD", value_delimiter = ',', value_parser = withhold_parser())]
    pub withhold: Vec<IntentField>,
}

/// The help heading of the flags beyond DESIGN.md §8.
const EXTRAS: &str = "Delivery, condition and terms";

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("changes").required(true).multiple(true)
        .args(["category", "title", "description", "min_price", "max_price", "currency",
               "quantity", "area", "from", "until", "max_offers", "delivery", "condition",
               "purpose", "retention_days", "allow_resale", "forbid_resale", "allow_tracking",
               "forbid_tracking", "withhold", "relay", "public"])),
    override_usage = "carnet intent edit <ID> <CHANGE>... [--activate]"
)]
pub struct IntentEdit {
    /// Intent id (itt_…)
    pub id: IntentId,
    /// A new category
    #[arg(long, value_name = "CAT")]
    pub category: Option<Category>,
    /// A new title
    #[arg(long, value_name = "TEXT")]
    pub title: Option<Line>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("More about it ('' removes it)"))]
    pub description: Option<OrClear<Text>>,
    /// The least you expect to pay ('' removes it); needs --currency if the intent has no
    /// price yet
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub min_price: Option<OrClear<Amount>>,
    /// The most you would pay ('' removes it); needs --currency if the intent has no price yet
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_price: Option<OrClear<Amount>>,
    /// The currency of the prices
    #[arg(long, value_name = "CODE")]
    pub currency: Option<Currency>,
    /// How many you want ('' removes it)
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = quantity_or_clear)]
    pub quantity: Option<OrClear<u32>>,
    /// Where it must be delivered or served ('' removes it)
    #[arg(long, value_name = "TEXT")]
    pub area: Option<OrClear<Line>>,
    /// When the window opens ('' means when activated; kept once active)
    #[arg(long, value_name = "WHEN")]
    pub from: Option<OrClear<When>>,
    /// When the window closes, a date meaning the end of that day ('' means 30 days from now)
    #[arg(long, value_name = "WHEN")]
    pub until: Option<OrClear<When>>,
    /// How many offers it accepts, 1 to 100 ('' means 10)
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = max_offers_or_clear)]
    pub max_offers: Option<OrClear<u32>>,
    /// Publish it after the change (if it is a draft)
    #[arg(long)]
    pub activate: bool,
    /// How you want it delivered ('' removes it)
    #[arg(long, value_name = "TEXT", help_heading = EXTRAS)]
    pub delivery: Option<OrClear<Line>>,
    /// The condition you accept ('' removes it)
    #[arg(long, value_name = "CONDITION", value_parser = condition_or_clear_parser(),
          help_heading = EXTRAS)]
    pub condition: Option<OrClear<ItemCondition>>,
    #[arg(long, value_name = "TEXT", help_heading = EXTRAS, value_parser = LongTextOrClear,
          help = long_text_help!("What vendors may use the intent for ('' removes it)"))]
    pub purpose: Option<OrClear<Text>>,
    /// How many days a vendor may keep what it read, 1 to 3650
    #[arg(long, value_name = "N", allow_negative_numbers = true, help_heading = EXTRAS,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RETENTION_DAYS)))]
    pub retention_days: Option<u32>,
    /// Let vendors pass the intent on
    #[arg(long, conflicts_with = "forbid_resale", help_heading = EXTRAS)]
    pub allow_resale: bool,
    /// Forbid vendors to pass the intent on (the default)
    #[arg(long, help_heading = EXTRAS)]
    pub forbid_resale: bool,
    /// Let vendors use the intent to track you
    #[arg(long, conflicts_with = "forbid_tracking", help_heading = EXTRAS)]
    pub allow_tracking: bool,
    /// Forbid vendors to use the intent to track you (the default)
    #[arg(long, help_heading = EXTRAS)]
    pub forbid_tracking: bool,
    /// Replaces the withheld fields (repeat, or separate with commas; '' alone shows every field)
    #[arg(long, value_name = "FIELD", value_delimiter = ',',
          value_parser = withhold_or_clear_parser(), help_heading = EXTRAS)]
    pub withhold: Option<Vec<OrClear<IntentField>>>,
    /// Put it on the market relay (announce, sealed, notify), or take it off (off: the market
    /// is told it was withdrawn, and it cannot go on the relay again)
    #[arg(long, value_name = "LEVEL", value_parser = relay_parser())]
    pub relay: Option<RelayLevel>,
    /// Replaces the fields announced with --relay announce (repeat, or separate with commas;
    /// '' alone makes none public)
    #[arg(long, value_name = "FIELD", value_delimiter = ',', value_parser = public_or_clear_parser())]
    pub public: Option<Vec<OrClear<PublicField>>>,
}

// ---------------------------------------------------------------------------------------------
// Offers

#[derive(Debug, Args)]
#[command(
    after_help = "An offer's text comes from the vendor: it is shown with control \
characters removed. VALID UNTIL is the offer's own end, else for a pending offer its intent's: \
an offer expires with its intent.\n\n\
Offers that came through the market relay (ids mof_…) are listed too, their vendor \
marked \"(relay)\" with its name in the market directory; with --json they follow the \
others, with \"directory_vendor\" and \"vendor_name\" in place of \"vendor_id\".\n\n\
Examples:\n  carnet offers\n  carnet offers --intent itt_0123456789abcdef\n  \
carnet --json offers --intent itt_0123456789abcdef"
)]
pub struct OffersArgs {
    /// Only the offers on this intent (itt_…)
    #[arg(long, value_name = "ID")]
    pub intent: Option<IntentId>,
}

#[derive(Debug, Subcommand)]
#[command(
    after_help = "Accepting an offer records the purchase with that vendor (its \
title, the offered price, today) so it counts in `carnet vendor show`, and fulfils the intent: \
its other offers expire, unless --keep-open.\n\n\
An offer that came through the market relay (mof_…) is answered through the relay: the vendor \
hears \"accepted\" or \"declined\" (never the reason). Accepting one from a vendor you do not \
have adds it from the market directory, as `carnet vendor add --from-directory` does.\n\n\
Examples:\n  carnet offer show ofr_0123456789abcdef\n  carnet offer accept ofr_0123456789abcdef\n  \
carnet offer accept ofr_0123456789abcdef --keep-open\n  \
carnet offer decline ofr_0123456789abcdef --reason \"Too far away\"\n  \
carnet offer accept mof_0123456789abcdef"
)]
pub enum OfferCmd {
    /// Show one offer
    #[command(after_help = "Examples:\n  \
carnet offer show ofr_0123456789abcdef")]
    Show {
        /// Offer id (ofr_…, or mof_… for one through the market relay)
        id: OfferRef,
    },
    /// Accept a pending offer: records the purchase and fulfils the intent
    #[command(after_help = "Examples:\n  \
carnet offer accept ofr_0123456789abcdef\n  \
carnet offer accept ofr_0123456789abcdef --keep-open")]
    Accept {
        /// Offer id (ofr_…, or mof_… for one through the market relay)
        id: OfferRef,
        /// Keep the intent active (to buy more, or from several vendors)
        #[arg(long)]
        keep_open: bool,
    },
    /// Decline a pending offer
    #[command(after_help = "Examples:\n  \
carnet offer decline ofr_0123456789abcdef --reason \"Too far away\"")]
    Decline {
        /// Offer id (ofr_…, or mof_… for one through the market relay)
        id: OfferRef,
        #[arg(long, value_name = "TEXT", value_parser = LongText,
              help = long_text_help!("Why, for your records"))]
        reason: Option<Text>,
    },
}

/// An offer's id: a vendor's of the vault (`ofr_…`) or one that came through the market relay
/// (`mof_…`); the verbs route by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferRef {
    Vendor(OfferId),
    Market(MarketOfferId),
}

impl std::str::FromStr for OfferRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(id) = s.parse::<MarketOfferId>() {
            return Ok(OfferRef::Market(id));
        }
        s.parse::<OfferId>().map(OfferRef::Vendor).map_err(|_| {
            format!("{s:?} is not an offer id (ofr_… or mof_…, as `carnet offers` lists them)")
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Value parsers

fn state_parser() -> impl TypedValueParser<Value = IntentState> {
    PossibleValuesParser::new(STATES.map(IntentState::as_str)).try_map(|s| s.parse::<IntentState>())
}

fn lookup<T: Copy>(table: &[(&str, T)], s: &str) -> Result<T, String> {
    table
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("{s:?} is not a known value"))
}

fn condition_parser() -> impl TypedValueParser<Value = ItemCondition> {
    PossibleValuesParser::new(CONDITIONS.map(|(n, _)| n)).try_map(|s| s.parse::<ItemCondition>())
}

fn relay_parser() -> impl TypedValueParser<Value = RelayLevel> {
    PossibleValuesParser::new(RelayLevel::ALL.map(RelayLevel::as_str))
        .try_map(|s| s.parse::<RelayLevel>())
}

fn public_or_clear_parser() -> impl TypedValueParser<Value = OrClear<PublicField>> {
    or_clear_values(PublicField::ALL.map(|f| f.as_str()))
        .try_map(|s| s.parse::<OrClear<PublicField>>())
}

fn withhold_parser() -> impl TypedValueParser<Value = IntentField> {
    PossibleValuesParser::new(WITHHOLDABLE.map(|(n, _)| n)).try_map(|s| lookup(&WITHHOLDABLE, &s))
}

/// The names, plus a hidden '' that clears.
fn or_clear_values(names: impl IntoIterator<Item = &'static str>) -> PossibleValuesParser {
    PossibleValuesParser::new(
        names
            .into_iter()
            .map(PossibleValue::new)
            .chain([PossibleValue::new("").hide(true)]),
    )
}

fn condition_or_clear_parser() -> impl TypedValueParser<Value = OrClear<ItemCondition>> {
    or_clear_values(CONDITIONS.map(|(n, _)| n)).try_map(|s| s.parse::<OrClear<ItemCondition>>())
}

fn withhold_or_clear_parser() -> impl TypedValueParser<Value = OrClear<IntentField>> {
    or_clear_values(WITHHOLDABLE.map(|(n, _)| n)).try_map(|s| {
        if s.is_empty() {
            Ok(OrClear::Clear)
        } else {
            lookup(&WITHHOLDABLE, &s).map(OrClear::Set)
        }
    })
}

fn count_or_clear(s: &str, max: u32) -> Result<OrClear<u32>, String> {
    if s.is_empty() {
        return Ok(OrClear::Clear);
    }
    match s.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(OrClear::Set(n)),
        _ => Err(format!(
            "{s:?} is not a whole number from 1 to {max}, or ''"
        )),
    }
}

fn quantity_or_clear(s: &str) -> Result<OrClear<u32>, String> {
    count_or_clear(s, u32::MAX)
}

fn max_offers_or_clear(s: &str) -> Result<OrClear<u32>, String> {
    count_or_clear(s, MAX_MAX_OFFERS)
}

#[cfg(test)]
#[path = "intents_tests.rs"]
mod tests;
