//! Sealing and unlocking the vault (DESIGN.md §3, §4, §8): `carnet unlock` sends the passphrase
//! (or the recovery key) to a sealed carnetd, which authenticates it by opening the vault's key;
//! `carnet lock` seals it again with the owner token. Secrets are read from a prompt, a file
//! or stdin, never from the command line, where `ps` and shell history see them.

use std::path::PathBuf;

use clap::Args;

pub const UNLOCK_HELP: &str = "\
A vault created with `carnetd init --passphrase-file` starts sealed: its key is not in memory, \
and every command but this one answers \"the vault is sealed\" (exit 5) until it is unlocked. \
`carnet lock` seals any vault again.\n\
The passphrase is prompted for once on a terminal, or read from --passphrase-file's first \
line (\"-\" for stdin); it is never taken as an argument. --recovery-key-file reads the \
recovery key `carnetd init` printed (AGE-SECRET-KEY-1…; lines starting with # are ignored) \
instead; no owner token is needed or sent for these. A vault in identity mode (no \
passphrase) that was locked opens with --identity: carnetd reads its identity file again, \
and since that file is on the server, it also asks for the owner token, which --identity \
sends (found as for every other command).\n\
A vault already unlocked is left alone (exit 0, nothing sent). A wrong passphrase exits 4; \
each failed attempt makes the next one from this address wait (1, 2, 4 … 60 s), and trying \
sooner is refused with the seconds left (exit 1).\n\n\
Examples:\n  \
carnet unlock\n  \
carnet unlock --passphrase-file ~/.config/carnet/passphrase\n  \
pass show carnet/vault | carnet unlock --passphrase-file -\n  \
carnet unlock --recovery-key-file /media/usb/carnet-recovery.txt\n  \
carnet unlock --identity\n  \
CARNET_SERVER=https://carnet.example.net carnet unlock";

pub const LOCK_HELP: &str = "\
Seals the vault: carnetd drops its key from memory and, until `carnet unlock`, answers every \
command with \"the vault is sealed\" (exit 5); vendors' calls get 503 too. Locking a sealed \
vault does nothing.\n\
A passphrase vault opens again with its passphrase (or recovery key), an identity vault with \
`carnet unlock --identity`.\n\n\
Examples:\n  \
carnet lock\n  \
carnet --server https://carnet.example.net lock";

#[derive(Debug, Args)]
#[command(after_help = UNLOCK_HELP)]
pub struct UnlockArgs {
    /// Read the passphrase from this file's first line ("-" for stdin) instead of prompting
    #[arg(long, value_name = "F|-", group = "secret")]
    pub passphrase_file: Option<PathBuf>,
    /// Unlock with the recovery key in this file ("-" for stdin) instead of the passphrase
    #[arg(long, value_name = "F|-", group = "secret")]
    pub recovery_key_file: Option<PathBuf>,
    /// The vault is in identity mode: ask carnetd to open it with its identity file again
    /// (sends the owner token)
    #[arg(long, group = "secret")]
    pub identity: bool,
}

/// What `carnet unlock` sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnlockWith {
    /// Prompted for on a terminal.
    PromptedPassphrase,
    PassphraseFile(PathBuf),
    RecoveryKeyFile(PathBuf),
    Identity,
}

impl UnlockArgs {
    pub fn with(&self) -> UnlockWith {
        match (
            &self.passphrase_file,
            &self.recovery_key_file,
            self.identity,
        ) {
            (Some(f), _, _) => UnlockWith::PassphraseFile(f.clone()),
            (None, Some(f), _) => UnlockWith::RecoveryKeyFile(f.clone()),
            (None, None, true) => UnlockWith::Identity,
            (None, None, false) => UnlockWith::PromptedPassphrase,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("carnet").chain(args.iter().copied()))
    }

    fn with(args: &[&str]) -> UnlockWith {
        match parse(args)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .command
        {
            Command::Unlock(a) => a.with(),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn unlock_takes_one_way_of_giving_the_secret() {
        assert_eq!(with(&["unlock"]), UnlockWith::PromptedPassphrase);
        assert_eq!(
            with(&["unlock", "--passphrase-file", "-"]),
            UnlockWith::PassphraseFile("-".into())
        );
        assert_eq!(
            with(&["--json", "unlock", "--passphrase-file", "/run/pass"]),
            UnlockWith::PassphraseFile("/run/pass".into())
        );
        assert_eq!(
            with(&["unlock", "--recovery-key-file", "key.txt"]),
            UnlockWith::RecoveryKeyFile("key.txt".into())
        );
        assert_eq!(with(&["unlock", "--identity"]), UnlockWith::Identity);
        assert!(matches!(parse(&["lock"]).unwrap().command, Command::Lock));
    }

    #[test]
    fn the_ways_conflict_and_secrets_are_not_arguments() {
        let refused: &[(&[&str], &str)] = &[
            (
                &[
                    "unlock",
                    "--passphrase-file",
                    "p",
                    "--recovery-key-file",
                    "k",
                ],
                "--recovery-key-file",
            ),
            (
                &["unlock", "--passphrase-file", "p", "--identity"],
                "--identity",
            ),
            (
                &["unlock", "--recovery-key-file", "-", "--identity"],
                "--identity",
            ),
            (&["unlock", "--passphrase-file"], "--passphrase-file"),
            (&["unlock", "my passphrase"], "my passphrase"),
            (&["unlock", "--passphrase", "x"], "--passphrase"),
            (&["lock", "--yes"], "--yes"),
        ];
        for (line, named) in refused {
            let e = parse(line).expect_err(&format!("{line:?} should be refused"));
            assert_eq!(e.exit_code(), 2, "{line:?}: {e}");
            assert!(e.to_string().contains(named), "{line:?}: {e}");
        }
    }
}
