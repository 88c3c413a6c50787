//! Vendor access arguments: connecting a vendor as an OAuth client, grants, consent receipts and
//! the access log (DESIGN.md §4, §7, §8). Scopes, redirect URIs and grant ids are parsed here
//! with the wire types, and the grant's reach (categories or all of them) and length are
//! checked by clap, so a grant the server would refuse is a usage error first.

use carnet_schemas::{
    Category, DEFAULT_GRANT_DAYS, GrantId, MAX_GRANT_DAYS, RedirectUri, Scope, Text, WebUrl,
};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Subcommand};

use super::VendorRef;
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

// ---------------------------------------------------------------------------------------------
// Grants

#[derive(Debug, Subcommand)]
#[command(
    after_help = "A vendor has at most one live grant: a new one replaces it, and the \
tokens of the old one stop working. Every grant comes with a signed consent receipt \
(`carnet receipts`).\n\n\
Examples:\n  \
carnet grant create Acme --scope intents:read --scope offers:write --category home.appliances\n  \
carnet grant create Acme --scope relationship:read --all-categories --days 365 \\\n      \
--purpose \"Loyalty programme\"\n  \
carnet grant list --vendor Acme\n  \
carnet grant show grt_0123456789abcdef\n  \
carnet grant revoke grt_0123456789abcdef"
)]
pub enum GrantCmd {
    /// Let a vendor do named things (scopes) in named categories for a number of days
    Create(GrantCreate),
    /// List grants, newest first: live, expired and revoked
    List {
        /// Only this vendor's (id or exact name)
        #[arg(long, value_name = "VENDOR")]
        vendor: Option<VendorRef>,
        /// Only the live ones
        #[arg(long)]
        live: bool,
    },
    /// Show one grant
    Show {
        /// Grant id (grt_…)
        id: GrantId,
    },
    /// Revoke a grant: its tokens stop working at once
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
    /// Why you grant it, in your words (written into the consent receipt)
    #[arg(long, value_name = "TEXT")]
    pub purpose: Option<Text>,
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

#[derive(Debug, Args)]
#[command(
    after_help = "Every token carnetd issues to a vendor and every request a vendor \
makes is logged, with the ids of what it was given; entries stay when a vendor is removed.\n\n\
Examples:\n  carnet audit\n  carnet audit --vendor Acme --since 2026-12-01\n  \
carnet audit --since 2026-12-15T09:00\n  carnet --json audit --vendor Acme"
)]
pub struct AuditArgs {
    /// Only this vendor's accesses (id or exact name)
    #[arg(long, value_name = "VENDOR")]
    pub vendor: Option<VendorRef>,
    /// Only accesses at or after this time (a date: from the start of that day)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<When>,
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use clap::error::ErrorKind;

    use crate::cli::{Cli, Command, GrantCmd, VendorCmd};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("carnet").chain(args.iter().copied()))
    }

    fn usage_error(args: &[&str]) -> clap::Error {
        let e = parse(args).expect_err(&format!("{args:?} should be refused"));
        assert_eq!(e.exit_code(), 2, "{args:?}: {e}");
        e
    }

    #[test]
    fn every_access_verb_parses() {
        let grt = "grt_0123456789abcdef";
        let lines: &[&[&str]] = &[
            &[
                "vendor",
                "connect",
                "Acme",
                "--redirect-uri",
                "https://acme.example/cb",
                "--redirect-uri",
                "http://127.0.0.1:9000/cb",
                "--webhook-url",
                "http://192.168.1.20/hook",
            ],
            &["vendor", "rotate-secret", "Acme"],
            &[
                "vendor",
                "rotate-secret",
                "ven_0123456789abcdef",
                "--webhook",
            ],
            &["vendor", "client", "Acme"],
            &["vendor", "disconnect", "Acme", "--yes"],
            &[
                "grant",
                "create",
                "Acme",
                "--scope",
                "intents:read",
                "--scope",
                "offers:write",
                "--category",
                "home.appliances",
                "--category",
                "garden",
                "--days",
                "365",
                "--purpose",
                "washing machine",
            ],
            &[
                "grant",
                "create",
                "Acme",
                "--scope",
                "profile:read",
                "--all-categories",
            ],
            &["grant", "list"],
            &["grant", "list", "--vendor", "Acme", "--live"],
            &["grant", "show", grt],
            &["grant", "revoke", grt],
            &["receipts"],
            &["receipts", "--vendor", "Acme"],
            &["audit"],
            &["audit", "--vendor", "Acme", "--since", "2026-12-01"],
            &["audit", "--since", "2026-12-01T10:00:00+01:00"],
        ];
        for line in lines {
            if let Err(e) = parse(line) {
                panic!("{line:?}: {e}");
            }
        }
    }

    #[test]
    fn a_grant_names_its_categories_or_all_of_them_not_both() {
        let neither = usage_error(&["grant", "create", "Acme", "--scope", "intents:read"]);
        assert_eq!(neither.kind(), ErrorKind::MissingRequiredArgument);
        let text = neither.to_string();
        assert!(
            text.contains("--category") && text.contains("--all-categories"),
            "{text}"
        );
        let both = usage_error(&[
            "grant",
            "create",
            "Acme",
            "--scope",
            "intents:read",
            "--category",
            "home",
            "--all-categories",
        ]);
        assert_eq!(both.kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn a_grant_needs_a_known_scope() {
        let e = usage_error(&[
            "grant",
            "create",
            "Acme",
            "--scope",
            "intents:write",
            "--all-categories",
        ]);
        let text = e.to_string();
        assert!(
            text.contains("--scope") && text.contains("intents:read"),
            "{text}"
        );
        let none = usage_error(&["grant", "create", "Acme", "--all-categories"]);
        assert!(none.to_string().contains("--scope"), "{none}");
    }

    #[test]
    fn a_grant_lasts_1_to_365_days_30_by_default() {
        for days in ["0", "366", "-1", "thirty"] {
            let e = usage_error(&[
                "grant",
                "create",
                "Acme",
                "--scope",
                "intents:read",
                "--all-categories",
                "--days",
                days,
            ]);
            assert!(e.to_string().contains("--days"), "{days}: {e}");
        }
        for (given, want) in [(None, 30), (Some("1"), 1), (Some("365"), 365)] {
            let mut line = vec![
                "grant",
                "create",
                "Acme",
                "--scope",
                "intents:read",
                "--all-categories",
            ];
            if let Some(d) = given {
                line.extend(["--days", d]);
            }
            let Command::Grant(GrantCmd::Create(g)) = parse(&line).unwrap().command else {
                panic!("wrong command")
            };
            assert_eq!(g.days, want);
            assert!(g.all_categories && g.categories.is_empty());
        }
    }

    #[test]
    fn ids_and_uris_are_checked_before_any_request() {
        let cases: &[(&[&str], &str)] = &[
            (&["grant", "revoke", "grt_nope"], "<ID>"),
            (&["grant", "show", "ven_0123456789abcdef"], "<ID>"),
            (
                &[
                    "vendor",
                    "connect",
                    "Acme",
                    "--redirect-uri",
                    "http://acme.example/cb",
                ],
                "--redirect-uri",
            ),
            (
                &[
                    "vendor",
                    "connect",
                    "Acme",
                    "--redirect-uri",
                    "https://acme.example/cb#x",
                ],
                "--redirect-uri",
            ),
            (&["vendor", "connect", "Acme"], "--redirect-uri"),
            (
                &[
                    "vendor",
                    "connect",
                    "Acme",
                    "--redirect-uri",
                    "https://acme.example/cb",
                    "--webhook-url",
                    "acme.example/hook",
                ],
                "--webhook-url",
            ),
            (&["audit", "--since", "yesterday"], "--since"),
            (
                &[
                    "grant",
                    "create",
                    "Acme",
                    "--scope",
                    "intents:read",
                    "--category",
                    "Home Stuff",
                ],
                "--category",
            ),
        ];
        for (line, flag) in cases {
            let text = usage_error(line).to_string();
            assert!(text.contains(flag), "{line:?}: {text}");
        }
    }

    #[test]
    fn connect_keeps_every_redirect_uri_in_order() {
        let cli = parse(&[
            "vendor",
            "connect",
            "Acme",
            "--redirect-uri",
            "https://acme.example/b",
            "--redirect-uri",
            "https://acme.example/a",
        ])
        .unwrap();
        let Command::Vendor(VendorCmd::Connect(c)) = cli.command else {
            panic!("wrong command")
        };
        let uris: Vec<&str> = c.redirect_uris.iter().map(|u| u.as_str()).collect();
        assert_eq!(uris, ["https://acme.example/b", "https://acme.example/a"]);
        assert!(c.webhook_url.is_none());
    }
}
