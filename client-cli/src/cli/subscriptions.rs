//! `carnet subscription …`'s arguments: subscriptions and contracts, their payments and the
//! renewal watch (DESIGN.md §8 as extended by issue 17).

use carnet_schemas::{
    Amount, Category, Currency, Line, Period, SubscriptionId, SubscriptionState, Text,
};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Subcommand};

use super::{Day, LongText, LongTextOrClear, OrClear, VendorRef, long_text_help};

fn period_parser() -> impl TypedValueParser<Value = Period> {
    PossibleValuesParser::new(["week", "month", "quarter", "year"]).map(|s| match s.as_str() {
        "week" => Period::Week,
        "quarter" => Period::Quarter,
        "year" => Period::Year,
        _ => Period::Month,
    })
}

fn state_parser() -> impl TypedValueParser<Value = SubscriptionState> {
    PossibleValuesParser::new(["active", "cancelled", "ended"]).map(|s| match s.as_str() {
        "cancelled" => SubscriptionState::Cancelled,
        "ended" => SubscriptionState::Ended,
        _ => SubscriptionState::Active,
    })
}

#[derive(Debug, Subcommand)]
#[command(
    after_help = "Payments fall on --next plus whole periods (31 January monthly: 28/29 \
February, then 31 March). The renewal is --ends while it has not passed, else the next \
payment; the notice deadline is the renewal minus --notice-days. A term that ends without a \
cancellation renews tacitly: payments go on. Cancelled: no payment after the cancellation's \
day; ended: cancelled, and --ends has passed.\n\nExamples:\n  \
carnet subscription add Acme --item \"Fibre 1 Gb/s\" --amount 29.99 \\\n      \
--currency EUR --every month --next 2026-12-31 --notice-days 30 \\\n      \
--ends 2027-06-30 --category telecom.internet\n  \
carnet subscription list --state active\n  \
carnet subscription payments\n  \
carnet subscription shop sub_0123456789abcdef\n  \
carnet subscription cancel sub_0123456789abcdef --at 2027-06-30\n  \
carnet subscription rm sub_0123456789abcdef --yes"
)]
pub enum SubscriptionCmd {
    /// Record a subscription or a contract
    #[command(after_help = "Examples:\n  \
carnet subscription add Acme --item \"Fibre 1 Gb/s\" --amount 29.99 \\\n      \
--currency EUR --every month --next 2026-12-31\n  \
carnet subscription add \"Mutuelle Sud\" --item \"Home insurance\" --amount 240 \\\n      \
--currency EUR --every year --next 2027-03-01 --ends 2027-02-28 \\\n      \
--notice-days 60 --category insurance.home")]
    Add(SubscriptionAdd),
    /// List subscriptions (soonest next payment first), then the projected totals per currency
    #[command(
        after_help = "The totals (the next 12 months, and per month) cover the \
subscriptions listed, cancelled ones up to their cancellation's day; with --state they are \
left out (see `carnet subscription payments`).\n\nExamples:\n  \
carnet subscription list\n  \
carnet subscription list --vendor Acme\n  \
carnet subscription list --state cancelled"
    )]
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
        /// Only those in this state today
        #[arg(long, value_name = "STATE", value_parser = state_parser())]
        state: Option<SubscriptionState>,
    },
    /// Each payment of the next 12 months, and the totals per month and for the 12 months, per
    /// currency (never added across currencies)
    #[command(after_help = "Examples:\n  \
carnet subscription payments\n  \
carnet subscription payments --vendor Acme --json")]
    Payments {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
    },
    /// Show one subscription: its next payments, its renewal and its notice deadline
    #[command(after_help = "Examples:\n  \
carnet subscription show sub_0123456789abcdef")]
    Show {
        /// Subscription id (sub_…)
        id: SubscriptionId,
    },
    /// Change a subscription (the flags of add; '' removes an optional one)
    #[command(after_help = "Examples:\n  \
carnet subscription edit sub_0123456789abcdef --amount 34.99\n  \
carnet subscription edit sub_0123456789abcdef \\\n      --ends 2028-06-30 --notice-days 30\n  \
carnet subscription edit sub_0123456789abcdef --category ''")]
    Edit(SubscriptionEdit),
    /// Cancel a subscription: no payment after --at (a cancellation is recorded once)
    #[command(after_help = "Examples:\n  \
carnet subscription cancel sub_0123456789abcdef\n  \
carnet subscription cancel sub_0123456789abcdef --at 2027-06-30")]
    Cancel {
        /// Subscription id (sub_…)
        id: SubscriptionId,
        /// The last day a payment may fall on (YYYY-MM-DD) [default: today]
        #[arg(long, value_name = "DATE")]
        at: Option<Day>,
    },
    /// Delete a subscription (asks first, unless --yes)
    #[command(after_help = "Examples:\n  \
carnet subscription rm sub_0123456789abcdef --yes")]
    Rm {
        /// Subscription id (sub_…)
        id: SubscriptionId,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
    /// Draft an intent to ask the market before the renewal: in the subscription's category,
    /// the current price as the maximum, a window closing at the notice deadline
    #[command(
        after_help = "The intent stays a draft: no vendor sees it until you activate \
it (`carnet intent activate ID`). It needs a category (--category) and a notice deadline \
(--notice-days) that has not passed.\n\nExamples:\n  \
carnet subscription shop sub_0123456789abcdef"
    )]
    Shop {
        /// Subscription id (sub_…)
        id: SubscriptionId,
    },
}

#[derive(Debug, Args)]
pub struct SubscriptionAdd {
    /// Vendor id or exact name
    pub vendor: VendorRef,
    /// What is paid for
    #[arg(long, value_name = "TEXT")]
    pub item: Line,
    /// What one payment costs, with at most the currency's decimals (29.99)
    #[arg(long, value_name = "DECIMAL", allow_negative_numbers = true)]
    pub amount: Amount,
    /// ISO 4217 currency code (EUR, USD, …)
    #[arg(long, value_name = "CODE")]
    pub currency: Currency,
    /// How often it is paid
    #[arg(long, value_name = "PERIOD", value_parser = period_parser())]
    pub every: Period,
    /// The day of the next payment (YYYY-MM-DD); later ones fall on it plus whole periods
    #[arg(long, value_name = "DATE")]
    pub next: Day,
    /// Days of notice the contract asks before its renewal
    #[arg(long, value_name = "N")]
    pub notice_days: Option<u32>,
    /// The last day of the current term (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub ends: Option<Day>,
    /// The category to ask the market in (`subscription shop`), e.g. telecom.internet
    #[arg(long, value_name = "CAT")]
    pub category: Option<Category>,
    #[arg(long, value_name = "TEXT", value_parser = LongText, help = long_text_help!("A note"))]
    pub note: Option<Text>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("changes").required(true).multiple(true)
    .args(["item", "amount", "currency", "every", "next", "notice_days", "ends", "category", "note"])))]
pub struct SubscriptionEdit {
    /// Subscription id (sub_…)
    pub id: SubscriptionId,
    /// What is paid for
    #[arg(long, value_name = "TEXT")]
    pub item: Option<Line>,
    /// What one payment costs
    #[arg(long, value_name = "DECIMAL", allow_negative_numbers = true)]
    pub amount: Option<Amount>,
    /// ISO 4217 currency code
    #[arg(long, value_name = "CODE")]
    pub currency: Option<Currency>,
    /// How often it is paid
    #[arg(long, value_name = "PERIOD", value_parser = period_parser())]
    pub every: Option<Period>,
    /// The day of a payment (YYYY-MM-DD), the schedule's new anchor
    #[arg(long, value_name = "DATE")]
    pub next: Option<Day>,
    /// Days of notice ('' removes them)
    #[arg(long, value_name = "N")]
    pub notice_days: Option<OrClear<u32>>,
    /// The last day of the current term ('' removes it)
    #[arg(long, value_name = "DATE")]
    pub ends: Option<OrClear<Day>>,
    /// The category ('' removes it)
    #[arg(long, value_name = "CAT")]
    pub category: Option<OrClear<Category>>,
    #[arg(long, value_name = "TEXT", value_parser = LongTextOrClear,
          help = long_text_help!("The note ('' removes it)"))]
    pub note: Option<OrClear<Text>>,
}
