//! `carnet-vendor`: a market vendor's tool over the SDK. Makes its keys, listens to the market's
//! announcements in its categories, and makes offers through the relay. It never prints a
//! private key; it offers only to intents it verified and recorded.
#![forbid(unsafe_code)]

mod answers;
mod listen;

use std::path::PathBuf;
use std::process::ExitCode;

use carnet_market::keys::{KeyError, VendorKeys};
use carnet_market::relay::{self, RelayError, RelayOptions};
use carnet_market::sdk::{self, NewOffer, SdkError, State};
use carnet_market::tool::{self, Direction, ExitKind, ToolError, parse_when};
use carnet_market::wire::{BadValue, IntentRef, VendorId};
use chrono::Utc;
use clap::{Args, Parser, Subcommand};

/// A market vendor's tool: its keys, the market's announcements, offers through the relay and
/// the answers to them.
///
/// Exit codes: 0 done, 1 failed, 2 wrong command line, 3 the relay could not be reached.
#[derive(Debug, Parser)]
#[command(name = "carnet-vendor", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make the vendor's keys: Ed25519 (signs offers) and X25519 (answers are encrypted to it).
    ///
    /// Writes them to FILE (mode 0600, never overwritten) and prints the public keys, which the
    /// market operator puts in the directory (`carnet-market directory add`).
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print {"ed25519": …, "x25519": …} instead of two lines.
        #[arg(long)]
        json: bool,
    },
    /// Listen to the market's announcements in your categories (and region).
    ///
    /// Without --since, every live intent in the categories, including those published before
    /// it started. Waits, retrying, for the relay and its streams. Records each verified intent
    /// under --state; a duplicate, an older revision, a forged announcement or a replay after a
    /// withdrawal is dropped (one line on stderr).
    Listen(listen::ListenArgs),
    /// Make an offer to an intent you heard (`listen` recorded it under --state).
    ///
    /// The offer is signed with your directory key and encrypted to the intent's own key; only
    /// the consumer's vault can read it. Example: `carnet-vendor offer --relay nats://127.0.0.1:4222
    /// --key vendor.key --id acme INTENT_REF --price 649.00 --currency EUR`
    Offer(OfferArgs),
    /// Print the vaults' answers to your offers (accepted or declined).
    ///
    /// Each answer is signed by the intent's own key and encrypted to your X25519 key; one that
    /// does not verify, answers an offer you did not make, or repeats an earlier answer is
    /// dropped (one line on stderr).
    Answers(answers::AnswersArgs),
}

/// What every command that talks to the relay takes.
#[derive(Debug, Args)]
struct RelayArgs {
    /// The relay, e.g. nats://127.0.0.1:4222.
    #[arg(long, value_name = "URL")]
    relay: String,
    /// Your NATS credentials file, from the market operator (`carnet-market vendor-user`), for
    /// a relay that asks for one.
    #[arg(long, value_name = "FILE")]
    creds: Option<PathBuf>,
    /// Your key file (from `carnet-vendor keygen`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Your id in the market directory.
    #[arg(long)]
    id: String,
    /// Where what you heard is recorded [default: $XDG_STATE_HOME/carnet-vendor/ID].
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct OfferArgs {
    #[command(flatten)]
    relay: RelayArgs,
    /// The intent's intent_ref, as `listen` printed it.
    #[arg(allow_hyphen_values = true)]
    intent_ref: String,
    /// The price, a decimal number (e.g. 649.00).
    #[arg(long, value_name = "P")]
    price: String,
    /// ISO 4217, e.g. EUR.
    #[arg(long, value_name = "C")]
    currency: String,
    #[arg(long, value_name = "T")]
    description: Option<String>,
    /// Until when the offer holds: RFC 3339 or a duration from now (3d) [default: the intent's
    /// window end]; never past the intent's window.
    #[arg(long, value_name = "WHEN")]
    valid_through: Option<String>,
    /// Print the offer as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return ToolError::failed(format!("cannot start: {e}"), "check the system's limits")
                .report("carnet-vendor");
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report("carnet-vendor"),
    }
}

async fn run(command: Command) -> Result<(), ToolError> {
    match command {
        Command::Keygen { out, json } => keygen(&out, json),
        Command::Listen(args) => listen::run(args).await,
        Command::Offer(args) => offer(args).await,
        Command::Answers(args) => answers::run(args).await,
    }
}

fn keygen(out: &std::path::Path, json: bool) -> Result<(), ToolError> {
    let keys = VendorKeys::generate();
    keys.write_new(out).map_err(key_error)?;
    let ed25519 = keys.signing.verifying_key().to_string();
    let x25519 = keys.identity.recipient().to_string();
    eprintln!(
        "carnet-vendor: wrote your keys to {} (keep it private); give the public keys to the market operator",
        out.display()
    );
    if json {
        tool::print_line(&serde_json::json!({"ed25519": ed25519, "x25519": x25519}).to_string());
    } else {
        tool::print_line(&format!("ed25519: {ed25519}\nx25519: {x25519}"));
    }
    Ok(())
}

/// The vendor's id, keys and state, as the relay commands open them.
struct Opened {
    id: VendorId,
    keys: VendorKeys,
    state: State,
}

fn open(args: &RelayArgs) -> Result<Opened, ToolError> {
    let id: VendorId = args.id.parse().map_err(bad_value)?;
    let keys = VendorKeys::read(&args.key).map_err(key_error)?;
    let dir = match &args.state {
        Some(d) => d.clone(),
        None => sdk::state::default_dir(id.as_str()).ok_or_else(|| {
            ToolError::usage(
                "no state directory: $HOME is not set",
                "give one with --state DIR",
            )
        })?,
    };
    let state =
        State::open(&dir).map_err(|e| ToolError::failed(e, "give a writable --state DIR"))?;
    Ok(Opened { id, keys, state })
}

fn relay_options(args: &RelayArgs, id: &VendorId, wait_for_relay: bool) -> RelayOptions {
    RelayOptions {
        url: args.relay.clone(),
        creds: args.creds.clone(),
        name: format!("carnet-vendor {id}"),
        wait_for_relay,
        inbox_prefix: None,
    }
}

async fn offer(args: OfferArgs) -> Result<(), ToolError> {
    let Opened {
        id,
        keys,
        mut state,
    } = open(&args.relay)?;
    let now = Utc::now();
    let new = NewOffer {
        intent_ref: args.intent_ref.parse::<IntentRef>().map_err(bad_value)?,
        price: args.price.parse().map_err(bad_value)?,
        currency: args.currency.parse().map_err(bad_value)?,
        description: args.description,
        valid_through: args
            .valid_through
            .map(|w| parse_when(&w, now, Direction::Future))
            .transpose()?,
        offer_id: None,
    };
    let prepared = sdk::prepare_offer(&mut state, &id, &keys, new, now).map_err(sdk_error)?;
    let client = relay::connect(&relay_options(&args.relay, &id, false))
        .await
        .map_err(relay_error)?;
    let js = async_nats::jetstream::new(client);
    let made = sdk::publish_offer(&js, &state, prepared)
        .await
        .map_err(sdk_error)?;
    if args.json {
        let t = &made.terms;
        let line = serde_json::json!({
            "offer_id": t.offer_id, "intent_ref": t.intent_ref, "revision": t.revision,
            "price": t.price, "currency": t.currency, "valid_through": t.valid_through,
            "subject": made.subject, "stream_sequence": made.stream_sequence,
        });
        tool::print_line(&line.to_string());
    } else {
        tool::print_line(&format!(
            "offer {} to intent {}: {} {} until {}",
            made.terms.offer_id,
            made.terms.intent_ref,
            made.terms.price,
            made.terms.currency,
            made.terms
                .valid_through
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    Ok(())
}

fn bad_value(e: BadValue) -> ToolError {
    ToolError::usage(
        e,
        "`carnet-vendor COMMAND --help` says what each value takes",
    )
}

fn key_error(e: KeyError) -> ToolError {
    tool::key_error(e, "carnet-vendor keygen")
}

fn relay_error(e: RelayError) -> ToolError {
    match &e {
        RelayError::BadUrl(_) => ToolError::usage(e, "give --relay as nats://HOST:PORT"),
        RelayError::Creds { .. } => {
            ToolError::failed(e, "give the credentials file the operator issued you")
        }
        RelayError::Connect(_) | RelayError::Publish(_) => ToolError::new(
            ExitKind::Unreachable,
            e,
            "is the relay at --relay running, with JetStream (-js) and its streams?",
        ),
        RelayError::StreamMismatch { .. } | RelayError::JetStream(_) => ToolError::new(
            ExitKind::Unreachable,
            e,
            "the relay's operator can say what changed",
        ),
        RelayError::Suppressed(_) => {
            ToolError::failed(e, "run the command again: a new offer gets a new id")
        }
    }
}

fn sdk_error(e: SdkError) -> ToolError {
    match e {
        SdkError::Relay(e) => relay_error(e),
        SdkError::State(e) => ToolError::failed(e, "give a writable --state DIR"),
        SdkError::BadValue(e) => bad_value(e),
        e @ (SdkError::Consumer(_) | SdkError::Messages(_)) => ToolError::new(
            ExitKind::Unreachable,
            e,
            "run the command again; the relay keeps what it has",
        ),
        e @ SdkError::UnknownIntent(_) => ToolError::failed(
            e,
            "run `carnet-vendor listen` with the same --state until it prints that intent_ref",
        ),
        e @ (SdkError::IntentEnded(..) | SdkError::IntentExpired(..) | SdkError::NoReply(_)) => {
            ToolError::failed(
                e,
                "offer to a live intent: `carnet-vendor listen` shows them",
            )
        }
        e @ SdkError::PastWindow(..) => {
            ToolError::usage(e, "give an earlier --valid-through, or leave it out")
        }
        e @ SdkError::BadRecord(_) => {
            ToolError::failed(e, "remove that file under --state/intents and listen again")
        }
    }
}
