//! Export and import (DESIGN.md §1, §8): the whole vault as one age-encrypted archive, and an
//! archive restored into an empty vault. Encryption happens here, on the owner's machine:
//! passphrases and identities never reach carnetd. Secrets are prompted, or read from a file
//! or stdin, never taken as an argument.

use std::path::PathBuf;

use clap::Args;

pub const EXPORT_HELP: &str = "\
Writes everything in the vault to FILE as one age-encrypted archive: vendors, interactions, \
purchases, incidents, the profile, intents, offers (market offers too), clients, grants, \
consent receipts, the access log, documents, and the keys behind each vendor's customer_ref \
and receipt signatures, so an import elsewhere keeps every id, every customer_ref, and \
receipts that still verify. Nothing that only works on this server goes in: the owner token, access and refresh tokens, pending \
consent requests, invitations, webhook deliveries, reminder channels, the market relay's \
intent keys and outbox (after an import, a market offer made before is answered in the vault \
alone: the vendor is not told).\n\
The archive is as sensitive as the vault: it is encrypted to each --recipient (age X25519 \
public keys, age1…; any of their identities decrypts it), or else to a passphrase (scrypt): \
--passphrase-file reads its first line (\"-\" for stdin); without either, it is asked for \
twice on the terminal. Any age tool decrypts it: `age -d -i key.txt FILE` or `age -d FILE`; \
inside is JSON described by schemas/json/archive.schema.json.\n\
FILE is written atomically (a temporary file beside it, synced, then renamed; an existing \
file is replaced), readable by you only (mode 0600), and never through a symbolic link.\n\n\
Examples:\n  \
age-keygen -o ~/carnet-key.txt    # once; keep it apart from the archives\n  \
carnet export --out carnet-2026-12-01.age --recipient \"$(age-keygen -y ~/carnet-key.txt)\"\n  \
carnet export --out /media/usb/carnet.age\n  \
pass show carnet/export | carnet export --out carnet.age --passphrase-file -\n  \
age -d -i ~/carnet-key.txt carnet-2026-12-01.age | head -c 400";

pub const IMPORT_HELP: &str = "\
Restores an archive written by `carnet export` into the vault of this server, which must be \
empty (a new carnetd data directory): every id, customer_ref and receipt key is kept, and the \
access log is chained anew under this vault's key. On a vault that holds anything, nothing \
is written: the error names the ids the archive shares with it. A refused archive (wrong \
key, cut short, altered, not an archive, another format version, over 1 GiB) changes \
nothing: the import is one transaction.\n\
An archive encrypted to a passphrase asks for it on the terminal, or reads --passphrase-file's \
first line (\"-\" for stdin); one encrypted to age recipients needs --identity, an age \
identity file (AGE-SECRET-KEY-1… lines, # comments). Passphrase archives whose scrypt work \
factor is above 2^20 are refused unread.\n\
Vendors keep their client_id, client secret, webhook secret, grants and customer_ref; once \
they point at the new server's address they get a new access token (tokens are not moved).\n\n\
Examples:\n  \
carnet import carnet-2026-12-01.age --identity ~/carnet-key.txt\n  \
carnet import /media/usb/carnet.age\n  \
CARNET_SERVER=https://new.example.net carnet import carnet.age --passphrase-file -";

#[derive(Debug, Args)]
#[command(after_help = EXPORT_HELP)]
pub struct ExportArgs {
    /// Write the encrypted archive here
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Encrypt to this age X25519 public key (age1…); repeat for several
    #[arg(long = "recipient", value_name = "AGE_PUBKEY", value_parser = parse_recipient)]
    pub recipients: Vec<age::x25519::Recipient>,
    /// Encrypt to the passphrase on this file's first line ("-" for stdin)
    #[arg(long, value_name = "F|-", conflicts_with = "recipients")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = IMPORT_HELP)]
pub struct ImportArgs {
    /// The archive `carnet export` wrote
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Decrypt with this age identity file (for an archive encrypted to recipients)
    #[arg(long, value_name = "F", group = "key")]
    pub identity: Option<PathBuf>,
    /// Decrypt with the passphrase on this file's first line ("-" for stdin)
    #[arg(long, value_name = "F|-", group = "key")]
    pub passphrase_file: Option<PathBuf>,
}

fn parse_recipient(s: &str) -> Result<age::x25519::Recipient, String> {
    s.parse().map_err(|_| {
        format!("{s:?} is not an age X25519 public key (age1… as `age-keygen -y` prints it)")
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("carnet").chain(args.iter().copied()))
    }

    const KEY: &str = "age1qxp0nsfanm06t5zm9zsjgucrqelv0mcr9nkqpvye2wsmtc4r636qua73nc";

    #[test]
    fn export_and_import_parse_as_the_design_says() {
        let Command::Export(a) = parse(&["export", "--out", "x.age", "--recipient", KEY])
            .unwrap()
            .command
        else {
            panic!("not export")
        };
        assert_eq!(a.recipients.len(), 1);
        assert!(parse(&["export", "--out", "x.age", "--passphrase-file", "-"]).is_ok());
        assert!(parse(&["export", "--out", "x.age"]).is_ok());
        assert!(parse(&["import", "x.age"]).is_ok());
        assert!(parse(&["import", "x.age", "--identity", "key.txt"]).is_ok());
        assert!(parse(&["import", "x.age", "--passphrase-file", "-"]).is_ok());
    }

    #[test]
    fn bad_keys_and_mixed_secrets_are_usage_errors() {
        let refused: &[(&[&str], &str)] = &[
            (
                &["export", "--out", "x", "--recipient", "age1nope"],
                "--recipient",
            ),
            (
                &[
                    "export",
                    "--out",
                    "x",
                    "--recipient",
                    KEY,
                    "--passphrase-file",
                    "p",
                ],
                "--passphrase-file",
            ),
            (&["export"], "--out"),
            (
                &["export", "--out", "x", "--passphrase", "hunter2"],
                "--passphrase",
            ),
            (
                &["import", "x", "--identity", "k", "--passphrase-file", "p"],
                "--passphrase-file",
            ),
            (&["import"], "FILE"),
        ];
        for (line, named) in refused {
            let e = parse(line).expect_err(&format!("{line:?} should be refused"));
            assert_eq!(e.exit_code(), 2, "{line:?}: {e}");
            assert!(e.to_string().contains(named), "{line:?}: {e}");
        }
    }
}
