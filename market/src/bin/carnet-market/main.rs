//! `carnet-market`: the market operator's tool. Makes the operator's signing key, edits the
//! market directory and signs it, writes the relay's nats-server configuration, issues the
//! relay's credentials, and prepares its streams. It never prints a private key.
#![forbid(unsafe_code)]

mod transport;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use carnet_market::directory::{self, AcceptedTerms, DirectoryError, DirectoryVendor};
use carnet_market::keys::{self, KeyError, SigningKey, VerifyingKey};
use carnet_market::relay;
use carnet_market::tool::{self, ExitKind, ToolError};
use carnet_market::wire::{Category, VendorId};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};

/// The market operator's tool: the operator's signing key, the signed market directory, the
/// relay's nats-server configuration and its credentials.
///
/// Exit codes: 0 done, 1 failed, 2 wrong command line, 3 the relay could not be reached, 4 a
/// key or signature was refused.
#[derive(Debug, Parser)]
#[command(name = "carnet-market", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the operator's Ed25519 signing key (file mode 0600, never overwritten).
    ///
    /// Prints the public key alone on stdout: the exact value carnetd's `relay_directory_key`
    /// takes. Example: `carnet-market keygen --out operator.key > operator.pub`
    Keygen {
        /// Where to write the private key; must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Edit, sign or check the market directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Print the relay's nats-server configuration: consent at the transport.
    ///
    /// One MARKET account holds the streams; each vendor and vault host connects as its own user,
    /// whose credentials say what it may read and publish (a vendor: its directory categories,
    /// offers, its answers; a vault host: announcements, answers, its own offers). Run by the
    /// operator, in the directory of operator.key and market.json. Example: `carnet-market
    /// nats-config --directory market.json --store-dir /var/lib/nats > relay.conf`,
    /// then `nats-server -c relay.conf`.
    NatsConfig(transport::NatsConfigArgs),
    /// Issue a vault host's credentials file (the operator runs it, once per vault host).
    ///
    /// The host may publish announcements and answers and read only the offers to its own
    /// buckets. Its self-hoster sets carnetd's `relay_creds_file` to the file. Example:
    /// `carnet-market vault-user --id v17 --out v17.creds`
    VaultUser(transport::VaultUserArgs),
    /// Issue a vendor's credentials file, from its entry in the signed directory (the operator
    /// runs it, once per vendor).
    ///
    /// The vendor may read only its directory categories and its answers, and publish only
    /// offers. It passes the file to `carnet-vendor --creds`. Example: `carnet-market
    /// vendor-user --id acme --out acme.creds`
    VendorUser(transport::VendorUserArgs),
    /// Issue the operator's own credentials file: every subject, for `streams` and inspection.
    ///
    /// Example: `carnet-market admin-user --out admin.creds`, then `carnet-market streams
    /// --relay nats://127.0.0.1:4222 --creds admin.creds`
    AdminUser(transport::AdminUserArgs),
    /// Create the relay's streams, or check them: INTENTS (icast.v1.>), OFFERS (offer.v1.>) and
    /// ANSWERS (answer.v1.>), on file storage.
    ///
    /// On a relay with consent at the transport, only the operator's admin may create them: run
    /// it once with `--creds admin.creds` (from `admin-user`) before any vault or vendor
    /// connects. Example: `carnet-market streams --relay nats://127.0.0.1:4222 --creds
    /// admin.creds --max-age-days 90`
    Streams {
        /// The relay, e.g. nats://127.0.0.1:4222.
        #[arg(long, value_name = "URL")]
        relay: String,
        /// A NATS credentials file, for a relay that asks for one (`admin-user`'s).
        #[arg(long, value_name = "FILE")]
        creds: Option<PathBuf>,
        /// How long the relay keeps a message: the longest intent window announced.
        #[arg(long, value_name = "DAYS", default_value_t = 90)]
        max_age_days: u32,
    },
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// Add a vendor (or replace the one with its id); creates FILE if missing.
    ///
    /// Its categories join the taxonomy. The directory is left unsigned: run `directory sign`
    /// after your edits. Example: `carnet-market directory add --directory market.json --id acme
    /// --name "ACME Appliances" --ed25519 KEY --x25519 age1… --category home.appliances`
    Add {
        #[arg(long, value_name = "FILE")]
        directory: PathBuf,
        /// The vendor's id: lower-case letters, digits and '-'.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// Its Ed25519 public key (what `carnet-vendor keygen` printed as "ed25519"); base64url
        /// may start with '-', which is taken as the key, not a flag.
        #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
        ed25519: String,
        /// Its X25519 public key, an age1… recipient ("x25519").
        #[arg(long, value_name = "KEY")]
        x25519: String,
        /// The categories it serves, two levels each (e.g. home.appliances).
        #[arg(long = "category", value_name = "CAT", num_args = 1.., required = true)]
        categories: Vec<String>,
        #[arg(long, value_name = "URL")]
        website: Option<String>,
        /// The longest retention, in days, it accepts to be asked for.
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        retention_days: u32,
        /// It accepts not to sell or pass on intents.
        #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
        no_resale: bool,
        /// It accepts not to use intents to track consumers.
        #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
        no_tracking: bool,
    },
    /// Sign the directory with the operator's key, in place.
    ///
    /// Each signature moves the directory to the next version and sets its expiry, so a vault
    /// that has this version refuses any older one.
    Sign {
        #[arg(long, value_name = "FILE")]
        directory: PathBuf,
        /// The operator's key file (from `carnet-market keygen`).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// How many days the signed directory is valid for.
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        valid_days: u32,
    },
    /// Check a signed directory as a vault does: signature, expiry, version.
    Verify {
        #[arg(long, value_name = "FILE")]
        directory: PathBuf,
        /// The operator's public key (what `keygen` printed; it may start with '-').
        #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
        operator_key: String,
        /// Refuse a directory older than this version.
        #[arg(long, value_name = "N")]
        min_version: Option<u64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report("carnet-market"),
    }
}

fn run(command: Command) -> Result<(), ToolError> {
    match command {
        Command::Keygen { out } => {
            let key = SigningKey::generate();
            keys::write_operator_key(&key, &out).map_err(key_error)?;
            eprintln!(
                "carnet-market: wrote the operator's signing key to {} (keep it private); its public key follows",
                out.display()
            );
            tool::print_line(&key.verifying_key().to_string());
            Ok(())
        }
        Command::Directory(d) => directory_command(d),
        Command::NatsConfig(args) => transport::nats_config(args),
        Command::VaultUser(args) => transport::vault_user(args),
        Command::VendorUser(args) => transport::vendor_user(args),
        Command::AdminUser(args) => transport::admin_user(args),
        Command::Streams {
            relay,
            creds,
            max_age_days,
        } => streams(relay, creds, max_age_days),
    }
}

fn streams(url: String, creds: Option<PathBuf>, max_age_days: u32) -> Result<(), ToolError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            ToolError::failed(format!("cannot start: {e}"), "check the system's limits")
        })?;
    let unreachable = |e: relay::RelayError| {
        ToolError::new(
            ExitKind::Unreachable,
            e,
            "is the relay at --relay running, with JetStream (nats-server -js)?",
        )
    };
    runtime.block_on(async {
        let options = relay::RelayOptions {
            url,
            creds,
            name: "carnet-market streams".into(),
            wait_for_relay: false,
            inbox_prefix: None,
        };
        let client = relay::connect(&options).await.map_err(unreachable)?;
        let js = async_nats::jetstream::new(client);
        let max_age = std::time::Duration::from_secs(u64::from(max_age_days.max(1)) * 86_400);
        relay::ensure_streams(&js, relay::StreamSettings::for_longest_window(max_age))
            .await
            .map_err(unreachable)
    })?;
    eprintln!(
        "carnet-market: streams {}, {} and {} are ready",
        relay::INTENTS_STREAM,
        relay::OFFERS_STREAM,
        relay::ANSWERS_STREAM
    );
    Ok(())
}

fn directory_command(command: DirectoryCommand) -> Result<(), ToolError> {
    match command {
        DirectoryCommand::Add {
            directory,
            id,
            name,
            ed25519,
            x25519,
            categories,
            website,
            retention_days,
            no_resale,
            no_tracking,
        } => {
            let usage = |e: &dyn std::fmt::Display| {
                ToolError::usage(
                    e,
                    "`carnet-market directory add --help` says what each flag takes",
                )
            };
            let id: VendorId = id.parse().map_err(|e| usage(&e))?;
            let categories = categories
                .iter()
                .map(|c| c.parse::<Category>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| usage(&e))?;
            let mut dir = directory::load_for_edit(&directory, Utc::now()).map_err(dir_error)?;
            dir.add_vendor(DirectoryVendor {
                id: id.clone(),
                name,
                website,
                ed25519,
                x25519,
                categories,
                terms: AcceptedTerms {
                    retention_days,
                    no_resale,
                    no_tracking,
                },
            })
            .map_err(dir_error)?;
            dir.unsigned_file().write(&directory).map_err(dir_error)?;
            eprintln!(
                "carnet-market: vendor {id} is in {} ({} vendors); sign it with `carnet-market directory sign`",
                directory.display(),
                dir.vendors.len()
            );
            Ok(())
        }
        DirectoryCommand::Sign {
            directory,
            key,
            valid_days,
        } => {
            let key = keys::read_operator_key(&key).map_err(key_error)?;
            let mut dir = read_existing(&directory)?;
            if dir.vendors.is_empty() {
                return Err(ToolError::failed(
                    "the directory has no vendor",
                    "add one with `carnet-market directory add` first",
                ));
            }
            let file = dir.sign(&key, Utc::now(), Duration::days(i64::from(valid_days)));
            file.write(&directory).map_err(dir_error)?;
            eprintln!(
                "carnet-market: signed {} as version {}, valid until {}",
                directory.display(),
                dir.version,
                dir.expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            Ok(())
        }
        DirectoryCommand::Verify {
            directory,
            operator_key,
            min_version,
        } => {
            let key: VerifyingKey = operator_key.parse().map_err(|e: KeyError| {
                ToolError::usage(e, "give the public key `carnet-market keygen` printed")
            })?;
            let bytes = std::fs::read(&directory).map_err(|e| {
                ToolError::failed(
                    format!("cannot read {}: {e}", directory.display()),
                    "check the path",
                )
            })?;
            let dir =
                directory::verify(&bytes, &key, Utc::now(), min_version).map_err(dir_error)?;
            tool::print_line(&format!(
                "version {} valid until {}: {} vendors, {} categories",
                dir.version,
                dir.expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                dir.vendors.len(),
                dir.taxonomy.values().map(Vec::len).sum::<usize>()
            ));
            Ok(())
        }
    }
}

fn read_existing(path: &Path) -> Result<directory::Directory, ToolError> {
    if !path.exists() {
        return Err(ToolError::failed(
            format!("{} does not exist", path.display()),
            "create it with `carnet-market directory add`",
        ));
    }
    directory::load_for_edit(path, Utc::now()).map_err(dir_error)
}

pub(crate) fn key_error(e: KeyError) -> ToolError {
    tool::key_error(e, "carnet-market keygen")
}

pub(crate) fn dir_error(e: DirectoryError) -> ToolError {
    match &e {
        DirectoryError::Malformed(_) => ToolError::failed(
            e,
            "give a file `carnet-market directory add` or `sign` wrote",
        ),
        DirectoryError::Unsigned => ToolError::new(
            ExitKind::Refused,
            e,
            "sign it with `carnet-market directory sign`",
        ),
        DirectoryError::BadSignature => ToolError::new(
            ExitKind::Refused,
            e,
            "check --operator-key: a directory changed after signing, or signed by another key, is refused",
        ),
        DirectoryError::Expired(_) => ToolError::new(
            ExitKind::Refused,
            e,
            "the operator signs it again with `carnet-market directory sign`",
        ),
        DirectoryError::Older { .. } => ToolError::new(
            ExitKind::Refused,
            e,
            "fetch the operator's current directory",
        ),
        DirectoryError::BadVendor(_) => ToolError::usage(
            e,
            "copy the keys exactly as `carnet-vendor keygen` printed them",
        ),
        DirectoryError::Io { .. } => ToolError::failed(e, "check the path and its permissions"),
    }
}
