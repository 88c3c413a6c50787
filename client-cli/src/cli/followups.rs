//! What to follow up: next steps (`carnet followups`) and what vendors promised (`carnet
//! promise`), and the promise flags of `carnet interaction add`.

use carnet_schemas::{InteractionId, Line, PromiseId, PromiseStateFilter, Text};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};

use super::{Day, LongText, VendorRef, long_text_help};
use crate::when::When;

// ---------------------------------------------------------------------------------------------
// Follow-ups

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Steps without a due date are always listed. Late promises (open, past their \
due day) are listed with the steps (`kind: promise` in --json).\n\nExamples:\n  \
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
    #[command(after_help = "Examples:\n  \
carnet followups done int_0123456789abcdef")]
    Done {
        /// Id of the interaction that set the step (int_…)
        id: InteractionId,
    },
}

// ---------------------------------------------------------------------------------------------
// Promises

/// `interaction add`'s promise: the interaction is recorded, then the promise, linked to it.
#[derive(Debug, Args)]
pub struct TheyPromised {
    #[arg(long, value_name = "TEXT", value_parser = LongText, requires = "promise_due",
          help = long_text_help!("What they promised (recorded as a promise linked to this interaction)"))]
    pub they_promised: Option<Text>,
    /// When what they promised is due (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", requires = "they_promised")]
    pub promise_due: Option<Day>,
}

/// STATE values of `promise list`.
fn state_parser() -> impl TypedValueParser<Value = PromiseStateFilter> {
    PossibleValuesParser::new(["open", "late", "kept", "broken"]).map(|s| match s.as_str() {
        "late" => PromiseStateFilter::Late,
        "kept" => PromiseStateFilter::Kept,
        "broken" => PromiseStateFilter::Broken,
        _ => PromiseStateFilter::Open,
    })
}

#[derive(Debug, Subcommand)]
#[command(
    after_help = "A promise is open, then kept or broken; open past its due day, it is \
late (and listed by `carnet followups`).\n\nExamples:\n  \
carnet promise add Acme --what \"Refund the delivery fee\" --due 2026-12-15 --by \"Léa, support\"\n  \
carnet promise list --state late\n  \
carnet promise kept prm_0123456789abcdef --at 2026-12-14\n  \
carnet promise broken prm_0123456789abcdef --note \"No refund, no answer\"\n  \
carnet promise rm prm_0123456789abcdef --yes"
)]
pub enum PromiseCmd {
    /// Record what a vendor promised
    #[command(after_help = "Examples:\n  \
carnet promise add Acme --what \"Refund the delivery fee\" --due 2026-12-15\n  \
carnet promise add Acme --what \"Call back\" --due 2026-12-08 --by Léa --interaction int_0123456789abcdef")]
    Add {
        /// Vendor id or exact name
        vendor: VendorRef,
        #[arg(long, value_name = "TEXT", value_parser = LongText,
              help = long_text_help!("What they committed to"))]
        what: Text,
        /// The day it is due (YYYY-MM-DD); open after it, it is late
        #[arg(long, value_name = "DATE")]
        due: Day,
        /// Who made it: a person, a department
        #[arg(long, value_name = "PERSON")]
        by: Option<Line>,
        /// The interaction it was made in (same vendor)
        #[arg(long, value_name = "ID")]
        interaction: Option<InteractionId>,
    },
    /// List promises, soonest due first
    #[command(after_help = "Examples:\n  \
carnet promise list\n  \
carnet promise list --vendor Acme --state open\n  \
carnet promise list --state late")]
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
        /// Only those in this state (late: open and past their due day; open includes late)
        #[arg(long, value_name = "STATE", value_parser = state_parser())]
        state: Option<PromiseStateFilter>,
    },
    /// Show one promise
    #[command(after_help = "Examples:\n  \
carnet promise show prm_0123456789abcdef")]
    Show {
        /// Promise id (prm_…)
        id: PromiseId,
    },
    /// Mark an open promise kept
    #[command(after_help = "Examples:\n  \
carnet promise kept prm_0123456789abcdef\n  \
carnet promise kept prm_0123456789abcdef --at 2026-12-14")]
    Kept {
        /// Promise id (prm_…)
        id: PromiseId,
        /// When it was kept: RFC 3339, a local time (2026-12-15T14:30) or a date [default: now]
        #[arg(long, value_name = "WHEN")]
        at: Option<When>,
    },
    /// Mark an open promise broken
    #[command(after_help = "Examples:\n  \
carnet promise broken prm_0123456789abcdef --note \"No refund, no answer\"")]
    Broken {
        /// Promise id (prm_…)
        id: PromiseId,
        #[arg(long, value_name = "TEXT", value_parser = LongText,
              help = long_text_help!("What happened instead"))]
        note: Option<Text>,
    },
    /// Delete a promise (asks first, unless --yes); it leaves the vendor's promise record
    #[command(after_help = "Examples:\n  \
carnet promise rm prm_0123456789abcdef --yes")]
    Rm {
        /// Promise id (prm_…)
        id: PromiseId,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}
