//! Consent at the transport, the operator's side: `nats-config` prints the relay's nats-server
//! configuration; `vault-user`, `vendor-user` and `admin-user` issue NATS credentials files.
//! Every NATS key is derived from the operator's key file, so none of these keeps state. They
//! never print a seed (a user's goes to its new `.creds` file only).

use std::path::{Path, PathBuf};

use carnet_market::access::Host;
use carnet_market::creds::{self, CredsError};
use carnet_market::directory::{self, Directory};
use carnet_market::keys::{self, KeyError, SigningKey};
use carnet_market::nats_config::{self, ServerSettings};
use carnet_market::tool::{self, ToolError};
use carnet_market::wire::VendorId;
use chrono::Utc;
use clap::Args;

use crate::{dir_error, key_error};

/// The operator's key file, in the operator's directory unless given.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The operator's key file (from `carnet-market keygen`).
    #[arg(long, value_name = "FILE", default_value = "operator.key")]
    key: PathBuf,
}

#[derive(Debug, Args)]
pub struct NatsConfigArgs {
    /// The signed market directory.
    #[arg(long, value_name = "FILE", default_value = "market.json")]
    directory: PathBuf,
    #[command(flatten)]
    key: KeyArg,
    /// Where nats-server listens for vaults and vendors (host:port).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:4222")]
    listen: String,
    /// JetStream's store directory on the relay's machine (nats-server keeps its streams in DIR/jetstream).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/nats")]
    store_dir: String,
}

#[derive(Debug, Args)]
pub struct VaultUserArgs {
    /// The vault host's name: lower-case letters, digits and '-', at most 32. It appears in
    /// every intent the vault announces: choose one that says nothing about the household.
    #[arg(long, value_name = "HOST")]
    id: String,
    /// Where to write the credentials file; must not exist.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    key: KeyArg,
}

#[derive(Debug, Args)]
pub struct VendorUserArgs {
    /// The vendor's id in the directory.
    #[arg(long, value_name = "ID")]
    id: String,
    /// Where to write the credentials file; must not exist.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The signed market directory the vendor is in.
    #[arg(long, value_name = "FILE", default_value = "market.json")]
    directory: PathBuf,
    #[command(flatten)]
    key: KeyArg,
}

#[derive(Debug, Args)]
pub struct AdminUserArgs {
    /// Where to write the credentials file; must not exist.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    key: KeyArg,
}

pub fn nats_config(args: NatsConfigArgs) -> Result<(), ToolError> {
    let key = operator_key(&args.key.key)?;
    let dir = signed_directory(&args.directory, &key)?;
    let settings = ServerSettings {
        listen: args.listen,
        store_dir: args.store_dir,
    };
    let text = nats_config::render(&key, &dir, &settings, Utc::now())
        .map_err(|e| ToolError::failed(e, "the operator key file may be damaged"))?;
    tool::print_line(text.trim_end());
    eprintln!(
        "carnet-market: nats-server configuration for {} vendors; start the relay with `nats-server -c FILE`",
        dir.vendors.len()
    );
    Ok(())
}

pub fn vault_user(args: VaultUserArgs) -> Result<(), ToolError> {
    let host: Host = args.id.parse().map_err(|e| {
        ToolError::usage(
            e,
            "choose a short name such as v17: it must not name the household",
        )
    })?;
    let key = operator_key(&args.key.key)?;
    creds::issue_vault(&key, &host, &args.out, Utc::now()).map_err(creds_error)?;
    eprintln!(
        "carnet-market: wrote vault host {host}'s credentials to {}; its self-hoster sets relay_creds_file to it",
        args.out.display()
    );
    Ok(())
}

pub fn vendor_user(args: VendorUserArgs) -> Result<(), ToolError> {
    let id: VendorId = args
        .id
        .parse()
        .map_err(|e| ToolError::usage(e, "give the vendor's id as in the directory"))?;
    let key = operator_key(&args.key.key)?;
    let dir = signed_directory(&args.directory, &key)?;
    let vendor = dir.vendor(&id).ok_or_else(|| {
        ToolError::failed(
            format!("vendor {id} is not in {}", args.directory.display()),
            "add it with `carnet-market directory add`, then `directory sign`",
        )
    })?;
    creds::issue_vendor(&key, vendor, &args.out, Utc::now()).map_err(creds_error)?;
    eprintln!(
        "carnet-market: wrote vendor {id}'s credentials to {}; the vendor passes it to carnet-vendor --creds",
        args.out.display()
    );
    Ok(())
}

pub fn admin_user(args: AdminUserArgs) -> Result<(), ToolError> {
    let key = operator_key(&args.key.key)?;
    creds::issue_admin(&key, &args.out, Utc::now()).map_err(creds_error)?;
    eprintln!(
        "carnet-market: wrote the admin's credentials to {} (every subject: keep it to the operator)",
        args.out.display()
    );
    Ok(())
}

fn operator_key(path: &Path) -> Result<SigningKey, ToolError> {
    if !path.exists() {
        return Err(ToolError::failed(
            format!("no operator key at {}", path.display()),
            "run this in the operator's directory, give --key FILE, or make one with `carnet-market keygen --out operator.key`",
        ));
    }
    keys::read_operator_key(path).map_err(key_error)
}

/// The directory at `path`, verified against the operator's own key.
fn signed_directory(path: &Path, key: &SigningKey) -> Result<Directory, ToolError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ToolError::failed(
            format!("cannot read the directory {}: {e}", path.display()),
            "give --directory FILE, the file `carnet-market directory sign` signed",
        )
    })?;
    directory::verify(&bytes, &key.verifying_key(), Utc::now(), None).map_err(dir_error)
}

fn creds_error(e: CredsError) -> ToolError {
    let hint = match &e {
        CredsError::Write(KeyError::Exists { .. }) => {
            "choose another --out: an issued file is never overwritten"
        }
        CredsError::Write(_) | CredsError::Io { .. } => "check the path and its permissions",
        CredsError::Jwt(_) | CredsError::Malformed { .. } => "the operator key file may be damaged",
    };
    ToolError::failed(e, hint)
}
