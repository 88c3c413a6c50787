//! The consent flow's arguments: answering from the terminal the consent requests a vendor
//! opens on the consent page, and the web password that signs the owner in on that page
//! (DESIGN.md §4, §8). A code is checked and written the way the page shows it (`K7QM-2XPA`)
//! before any request; the grant's reach and length are checked by clap as in `grant create`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use carnet_schemas::{Category, DEFAULT_GRANT_DAYS, MAX_GRANT_DAYS};
use clap::{Args, Subcommand};

// ---------------------------------------------------------------------------------------------
// Consent requests

#[derive(Debug, Subcommand)]
#[command(
    after_help = "A vendor asking for access sends your browser to carnetd's consent page. \
Sign in there with your web password (`carnet password set`), or answer here with the code \
the page shows; the page then continues by itself. A request waits 10 minutes.\n\
Approving gives the vendor a grant with the scopes it asked for (it replaces the vendor's \
live grant, if any) and a signed receipt; denying sends the browser back to the vendor with \
access_denied.\n\n\
Examples:\n  \
carnet consent list\n  \
carnet consent approve K7QM-2XPA\n  \
carnet consent approve k7qm2xpa --category home.appliances.washing-machine --days 7\n  \
carnet consent approve K7QM-2XPA --all-categories --yes\n  \
carnet consent deny K7QM-2XPA\n  \
carnet --json consent list"
)]
pub enum ConsentCmd {
    /// List the consent requests waiting for an answer, oldest first
    #[command(after_help = "Examples:\n  \
carnet consent list\n  \
carnet --json consent list")]
    List,
    /// Approve a consent request: shows what the vendor asks for, then asks [y/N]
    #[command(after_help = "Examples:\n  \
carnet consent approve K7QM-2XPA\n  \
carnet consent approve k7qm2xpa --category home.appliances.washing-machine --days 7\n  \
carnet consent approve K7QM-2XPA --all-categories --yes")]
    Approve(ConsentApprove),
    /// Deny a consent request: the consent page sends the vendor access_denied
    #[command(after_help = "Examples:\n  \
carnet consent deny K7QM-2XPA")]
    Deny {
        /// The code the consent page shows (K7QM-2XPA; case and dash do not matter)
        code: ConsentCode,
    },
}

#[derive(Debug, Args)]
pub struct ConsentApprove {
    /// The code the consent page shows (K7QM-2XPA; case and dash do not matter)
    pub code: ConsentCode,
    /// Grant this category (with the ones below it) instead of those the vendor asked for
    /// (repeat for several)
    #[arg(
        long = "category",
        value_name = "CAT",
        conflicts_with = "all_categories"
    )]
    pub categories: Vec<Category>,
    /// Grant every category, whatever the vendor asked for
    #[arg(long)]
    pub all_categories: bool,
    /// How many days the grant lasts, 1 to 365
    #[arg(long, value_name = "N", default_value_t = DEFAULT_GRANT_DAYS, allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_GRANT_DAYS)))]
    pub days: u32,
    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,
}

/// A consent request's short code, as the consent page shows it: `K7QM-2XPA`. Typed in any
/// case, with or without the dash (or a space in its place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentCode(String);

impl ConsentCode {
    /// The 8 letters and digits, upper-case, without the dash; `None` for anything else.
    fn bare(s: &str) -> Option<String> {
        let bare: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (bare.len() == 8 && bare.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(bare)
    }

    /// Whether the server's code for a request is this one.
    pub fn matches(&self, server_code: &str) -> bool {
        Self::bare(server_code).is_some_and(|b| b == self.0.replace('-', ""))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ConsentCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bare = Self::bare(s).ok_or_else(|| {
            "a consent code is 8 letters and digits, as the consent page shows it: K7QM-2XPA"
                .to_owned()
        })?;
        Ok(ConsentCode(format!("{}-{}", &bare[..4], &bare[4..])))
    }
}

impl fmt::Display for ConsentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// The web password

#[derive(Debug, Subcommand)]
#[command(
    after_help = "The web password signs you in to carnetd's web app (/app/) and on the consent \
page: the page of carnetd that opens in your browser when a vendor asks for access, where you \
approve or deny it. The owner token is never typed there. Without a web password, the web app \
is off, and you answer consent requests with `carnet consent approve CODE` instead. Setting it \
again signs out every web-app session.\n\
The password is read from --password-file's first line (\"-\" for stdin), else prompted for \
twice on a terminal; it is never taken as an argument. At least 10 characters: a few words \
make a good one.\n\n\
Examples:\n  \
carnet password set\n  \
carnet password set --password-file ~/.config/carnet/web-password\n  \
pass show carnet/web | carnet password set --password-file -"
)]
pub enum PasswordCmd {
    /// Set the password that signs you in to the web app and on the consent page (replaces the
    /// previous one)
    #[command(after_help = "Examples:\n  \
carnet password set\n  \
carnet password set --password-file ~/.config/carnet/web-password\n  \
pass show carnet/web | carnet password set --password-file -")]
    Set(PasswordSet),
}

#[derive(Debug, Args)]
pub struct PasswordSet {
    /// Read the password from this file's first line ("-" for stdin) instead of prompting
    #[arg(long, value_name = "F|-")]
    pub password_file: Option<PathBuf>,
}

#[cfg(test)]
#[path = "consent_tests.rs"]
mod tests;
