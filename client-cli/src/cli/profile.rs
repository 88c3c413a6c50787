//! `carnet profile show | set`'s arguments (DESIGN.md §8).

use carnet_schemas::{Line, Locale, TimeZoneName};
use clap::{ArgGroup, Subcommand};

use super::OrClear;

#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  carnet profile set --display-name \"Camille\" --locale fr-FR --city Lyon\n  \
carnet profile set --postal-code ''"
)]
pub enum ProfileCmd {
    /// Show your profile
    #[command(after_help = "Examples:\n  \
carnet profile show\n  \
carnet --json profile show")]
    Show,
    /// Change your profile: only the flags given change; '' clears a field
    #[command(group(ArgGroup::new("changes").required(true).multiple(true)
        .args(["display_name", "locale", "city", "postal_code", "time_zone"])))]
    #[command(after_help = "Examples:\n  \
carnet profile set --display-name \"Camille\" --locale fr-FR --city Lyon\n  \
carnet profile set --time-zone Europe/Paris\n  \
carnet profile set --postal-code ''")]
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
        /// Your time zone, an IANA name (Europe/Paris): it decides what is due today, what is
        /// late and a reminder digest's hour; '' goes back to the server's. Never shown to
        /// vendors
        #[arg(long, value_name = "IANA")]
        time_zone: Option<OrClear<TimeZoneName>>,
    },
}
