//! `carnet`, the consumer's command line for a Carnet vault: an HTTP client of carnetd's owner
//! API. It never opens the database; everything goes through the server.
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod color;
pub mod commands;
pub mod config;
pub mod csv_import;
pub mod error;
pub mod manpage;
pub mod output;
pub mod when;

pub use error::{CliError, CliResult, ExitKind};

/// Runs a parsed command line.
pub fn run(cli: cli::Cli) -> CliResult<()> {
    commands::run(cli)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use crate::cli::{Cli, Command, InteractionCmd, VendorCmd};

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every command a user can call ends its --help with examples of itself, in one style:
    /// an `Examples:` paragraph of lines indented by two spaces (four more for a
    /// continuation).
    #[test]
    fn every_command_has_examples_in_its_help() {
        fn walk(cmd: &clap::Command, path: &str, wrong: &mut Vec<String>) {
            let visible = cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help");
            for sub in visible {
                let path = format!("{path} {}", sub.get_name());
                let help = sub
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                let examples = help
                    .strip_prefix("Examples:\n")
                    .or_else(|| help.split_once("\n\nExamples:\n").map(|(_, e)| e));
                match examples {
                    None => wrong.push(format!("{path}: no examples")),
                    Some(examples) => {
                        let lines: Vec<&str> = examples.lines().collect();
                        // A line of its own ending with a colon may head a group of them.
                        let well_formed = lines.iter().all(|l| {
                            (l.starts_with("  ") && !l.starts_with("   "))
                                || l.starts_with("      ")
                                || l.is_empty()
                                || (!l.starts_with(' ') && l.ends_with(':'))
                        });
                        if !well_formed {
                            wrong.push(format!("{path}: examples not indented by 2:\n{examples}"));
                        }
                        if !lines
                            .iter()
                            .any(|l| l.contains(&format!("{path} ")) || l.ends_with(&path))
                        {
                            wrong.push(format!("{path}: no example runs it"));
                        }
                    }
                }
                walk(sub, &path, wrong);
            }
        }
        let mut wrong = Vec::new();
        walk(&Cli::command(), "carnet", &mut wrong);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Every example in every --help is a command line that parses.
    #[test]
    fn every_example_parses() {
        fn walk(cmd: &clap::Command, examples: &mut Vec<String>) {
            for sub in cmd.get_subcommands() {
                walk(sub, examples);
            }
            let help = cmd
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let Some((_, text)) = help.split_once("Examples:\n") else {
                return;
            };
            // Continuation lines join the line they continue.
            let text = text.replace(" \\\n      ", " ");
            examples.extend(text.lines().map(|l| l.trim().to_owned()));
        }
        let mut examples = Vec::new();
        walk(&Cli::command(), &mut examples);
        assert!(examples.len() > 100, "{}", examples.len());
        let mut checked = 0;
        for example in &examples {
            // The carnet part of a pipeline or a list; `$(…)` is left to the shell.
            for part in example.split(" | ").flat_map(|p| p.split(" && ")) {
                let part = part.split(" > ").next().unwrap_or_default();
                let words = shell_words(part);
                let words: Vec<&str> = words
                    .iter()
                    .map(String::as_str)
                    .skip_while(|w| w.contains('=') && !w.starts_with('-'))
                    .collect();
                if words.first() != Some(&"carnet") || part.contains("$(") {
                    continue;
                }
                // Long text from a file or stdin is read as the line is parsed.
                let reads_text = words.windows(2).any(|w| {
                    w[1].starts_with('@')
                        || (w[1] == "-"
                            && !matches!(
                                w[0],
                                "--token-file" | "--passphrase-file" | "--recovery-key-file"
                            ))
                });
                if reads_text {
                    continue;
                }
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("{example}: {e}");
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// A command line's words, as a POSIX shell splits them (quotes, backslashes).
    fn shell_words(line: &str) -> Vec<String> {
        let (mut words, mut word, mut in_word) = (Vec::new(), String::new(), false);
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                    }
                    in_word = false;
                }
                '\'' => {
                    in_word = true;
                    word.extend(chars.by_ref().take_while(|&c| c != '\''));
                }
                '"' => {
                    in_word = true;
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => break,
                            '\\' => word.extend(chars.next()),
                            c => word.push(c),
                        }
                    }
                }
                '\\' => {
                    in_word = true;
                    word.extend(chars.next());
                }
                c => {
                    in_word = true;
                    word.push(c);
                }
            }
        }
        if in_word {
            words.push(word);
        }
        words
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("carnet").chain(args.iter().copied()))
    }

    #[test]
    fn every_verb_of_the_design_parses() {
        let ven = "ven_0123456789abcdef";
        let int = "int_0123456789abcdef";
        let inc = "inc_0123456789abcdef";
        let pur = "pur_0123456789abcdef";
        let lines: Vec<Vec<&str>> = vec![
            vec![
                "login",
                "--server",
                "https://carnet.example.net",
                "--token-file",
                "-",
            ],
            vec![
                "vendor",
                "add",
                "Acme",
                "--website",
                "https://acme.example",
                "--category",
                "home.appliances",
                "--category",
                "home",
                "--account",
                "C-1",
                "--account",
                "C-2",
                "--note",
                "n",
                "--channel",
                "email",
                "--contact-policy",
                "monthly at most",
            ],
            vec!["vendor", "list"],
            vec!["vendor", "show", "Acme"],
            vec![
                "vendor",
                "edit",
                ven,
                "--name",
                "Acme 2",
                "--website",
                "",
                "--category",
                "",
            ],
            vec!["vendor", "rm", "Acme", "--yes"],
            vec![
                "interaction",
                "add",
                "Acme",
                "--channel",
                "phone",
                "--summary",
                "s",
                "--at",
                "2026-11-12",
                "--with",
                "Lea",
                "--expected",
                "e",
                "--i-said",
                "i",
                "--they-said",
                "t",
                "--outcome",
                "o",
                "--sentiment",
                "-2",
                "--next",
                "n",
                "--due",
                "2026-12-01",
                "--incident",
                inc,
                "--shared",
            ],
            vec![
                "interaction",
                "list",
                "--vendor",
                "Acme",
                "--grep",
                "x",
                "--since",
                "2026-11-01",
                "--until",
                "2026-11-30",
            ],
            vec!["interaction", "show", int],
            vec!["interaction", "edit", int, "--sentiment", "-1", "--due", ""],
            vec!["interaction", "rm", int],
            vec!["interaction", "rm", int, "--yes"],
            vec![
                "purchase",
                "add",
                "Acme",
                "--item",
                "WM",
                "--amount",
                "699.90",
                "--currency",
                "EUR",
                "--at",
                "2026-11-12",
                "--warranty-until",
                "2028-11-12",
                "--receipt",
                "R-1",
            ],
            vec!["purchase", "list", "--vendor", ven],
            vec!["purchase", "show", pur],
            vec!["purchase", "rm", pur],
            vec!["purchase", "rm", pur, "-y"],
            vec![
                "purchase",
                "edit",
                pur,
                "--amount",
                "649.90",
                "--currency",
                "EUR",
                "--warranty-until",
                "",
                "--receipt",
                "",
            ],
            vec![
                "incident",
                "edit",
                inc,
                "--description",
                "d",
                "--at",
                "2026-11-12",
            ],
            vec![
                "incident",
                "edit",
                inc,
                "--resolution",
                "r",
                "--satisfaction",
                "",
            ],
            vec!["incident", "edit", inc, "--reopen"],
            vec!["incident", "rm", inc, "--yes"],
            vec!["vendor", "show", "name:ven_0123456789abcdef"],
            vec![
                "incident",
                "open",
                "Acme",
                "--description",
                "d",
                "--at",
                "2026-11-12T10:00:00+01:00",
            ],
            vec!["incident", "list", "--vendor", "Acme", "--open"],
            vec!["incident", "show", inc],
            vec![
                "incident",
                "resolve",
                inc,
                "--resolution",
                "r",
                "--satisfaction",
                "8",
            ],
            vec!["followups"],
            vec!["followups", "--within", "30"],
            vec!["followups", "--all"],
            vec!["followups", "done", int],
            vec!["profile", "show"],
            vec![
                "profile",
                "set",
                "--display-name",
                "C",
                "--locale",
                "fr-FR",
                "--city",
                "Lyon",
                "--postal-code",
                "",
            ],
            vec!["unlock"],
            vec!["unlock", "--passphrase-file", "/run/carnet/passphrase"],
            vec!["lock"],
            vec!["completions", "bash"],
            vec!["completions", "zsh"],
            vec!["completions", "fish"],
            vec!["man"],
            vec!["man", "--dir", "target/man"],
            vec!["--json", "vendor", "list"],
            vec!["vendor", "list", "--json", "--server", "http://127.0.0.1:1"],
        ];
        for line in lines {
            if let Err(e) = parse(&line) {
                panic!("{line:?}: {e}");
            }
        }
    }

    #[test]
    fn negative_sentiment_is_a_value_not_a_flag() {
        let cli = parse(&[
            "interaction",
            "add",
            "Acme",
            "--channel",
            "chat",
            "--summary",
            "s",
            "--sentiment",
            "-2",
        ])
        .unwrap();
        let Command::Interaction(InteractionCmd::Add(a)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(a.sentiment.map(|s| s.get()), Some(-2));
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (
                &[
                    "purchase",
                    "add",
                    "Acme",
                    "--item",
                    "x",
                    "--amount",
                    "12,50",
                    "--currency",
                    "EUR",
                ],
                "--amount",
            ),
            (
                &[
                    "purchase",
                    "add",
                    "Acme",
                    "--item",
                    "x",
                    "--amount",
                    "1",
                    "--currency",
                    "eur",
                ],
                "--currency",
            ),
            (
                &["vendor", "add", "Acme", "--category", "Home Stuff"],
                "--category",
            ),
            (
                &["vendor", "add", "Acme", "--website", "acme.example"],
                "--website",
            ),
            (&["vendor", "add", "Acme", "--channel", "fax"], "--channel"),
            (
                &[
                    "interaction",
                    "add",
                    "Acme",
                    "--channel",
                    "chat",
                    "--summary",
                    "s",
                    "--sentiment",
                    "3",
                ],
                "--sentiment",
            ),
            (
                &[
                    "interaction",
                    "add",
                    "Acme",
                    "--channel",
                    "chat",
                    "--summary",
                    "s",
                    "--due",
                    "2026-12-01",
                ],
                "--next",
            ),
            (&["interaction", "show", "ven_0123456789abcdef"], "<ID>"),
            (
                &["incident", "resolve", "inc_x", "--resolution", "r"],
                "<ID>",
            ),
            (
                &[
                    "incident",
                    "resolve",
                    "inc_0123456789abcdef",
                    "--resolution",
                    "r",
                    "--satisfaction",
                    "11",
                ],
                "--satisfaction",
            ),
            (&["interaction", "list", "--since", "last week"], "--since"),
            (&["profile", "set", "--locale", "French"], "--locale"),
            (&["followups", "--all", "--within", "3"], "--within"),
            (&["vendor", "edit", "Acme"], "--name"),
            (
                &["vendor", "list", "--server", "127.0.0.1:8787"],
                "--server",
            ),
        ];
        for (line, flag) in cases {
            let e = parse(line).expect_err(&format!("{line:?} should fail"));
            assert_eq!(e.exit_code(), 2, "{line:?}");
            let text = e.to_string();
            assert!(text.contains(flag), "{line:?}: {text}");
        }
    }

    #[test]
    fn vendors_are_named_by_id_or_name() {
        use crate::cli::VendorRef;
        let cli = parse(&["vendor", "show", "ven_0123456789abcdef"]).unwrap();
        let Command::Vendor(VendorCmd::Show { vendor }) = cli.command else {
            panic!("wrong command")
        };
        assert!(matches!(vendor, VendorRef::Id(_)));
        let cli = parse(&["vendor", "show", "Acme Appliances"]).unwrap();
        let Command::Vendor(VendorCmd::Show { vendor }) = cli.command else {
            panic!("wrong command")
        };
        assert!(matches!(vendor, VendorRef::Name(n) if n.as_str() == "Acme Appliances"));
        // name: says it is a name, even one shaped like an id.
        let cli = parse(&["vendor", "show", "name:ven_0123456789abcdef"]).unwrap();
        let Command::Vendor(VendorCmd::Show { vendor }) = cli.command else {
            panic!("wrong command")
        };
        assert!(matches!(vendor, VendorRef::Name(n) if n.as_str() == "ven_0123456789abcdef"));
    }

    /// `--amount -10` is the amount -10 (refused for being negative, naming the flag), as
    /// `--amount=-10` is, not an unknown flag `-1`.
    #[test]
    fn a_negative_amount_is_a_value_either_way() {
        let base = [
            "purchase",
            "add",
            "Acme",
            "--item",
            "x",
            "--currency",
            "EUR",
        ];
        for amount in [&["--amount", "-10"][..], &["--amount=-10"]] {
            let line: Vec<&str> = base.iter().chain(amount).copied().collect();
            let e = parse(&line).expect_err("negative");
            let text = e.to_string();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{line:?}: {text}"
            );
            assert!(
                text.contains("--amount") && text.contains("negative"),
                "{text}"
            );
        }
    }
}
