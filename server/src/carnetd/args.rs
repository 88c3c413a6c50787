//! carnetd's command line: the verbs and their flags. `--data-dir`, `--config` and
//! `--identity-file` are global (every verb opens the same vault); the serving flags belong to
//! `serve`, to `print-config` (which shows what serving would use), and to `carnetd` without a
//! verb, which serves.

use std::net::SocketAddr;
use std::path::PathBuf;

use carnet_server::config::LogFormat;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "carnetd",
    version,
    about = "Carnet's server: the encrypted vault of your vendor relationships",
    after_help = "Examples:\n  carnetd                                   serve on 127.0.0.1:8787, creating the vault on first start\n  carnetd --data-dir /srv/carnet --listen 0.0.0.0:8787 --public-url https://carnet.example.net\n  carnetd init --passphrase-file -           create a passphrase-protected vault (passphrase on stdin)\n  carnetd print-config                      show the effective configuration\n\nEvery key of carnetd.toml can also be set as CARNET_<KEY> (CARNET_ACCESS_TOKEN_TTL=600,\nCARNET_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8, ...); flags beat the environment, which beats the file.\nThe market relay is off unless relay_url is set (with relay_directory, relay_directory_key and\nrelay_region; relay_creds_file for a relay with authentication; relay_host names the vault host,\nelse the credentials' carnet-host tag or DATA_DIR/relay-host): see the README."
)]
pub struct Cli {
    /// Data directory [env: CARNET_DATA_DIR] [default: $XDG_DATA_HOME/carnet]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file [env: CARNET_CONFIG] [default: DATA_DIR/carnetd.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The age identity that opens the vault key [env: CARNET_IDENTITY_FILE]
    /// [default: DATA_DIR/identity.txt]
    #[arg(long, global = true, value_name = "F")]
    pub identity_file: Option<PathBuf>,
    /// Serving flags, for `carnetd` without a verb (which serves)
    #[command(flatten)]
    pub serving: Serving,
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

/// The flags that only serving (and printing the configuration serving would use) read. They
/// are not global: `carnetd init --listen …` is a usage error, not a flag silently ignored.
#[derive(clap::Args, Default)]
pub struct Serving {
    /// Address to listen on [env: CARNET_LISTEN] [default: 127.0.0.1:8787]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Public URL of this server (the OAuth issuer), exactly as vendors reach it
    /// [env: CARNET_PUBLIC_URL]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Log format [env: CARNET_LOG_FORMAT]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

impl Serving {
    /// The flags given, as typed.
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--listen", self.listen.is_some()),
            ("--public-url", self.public_url.is_some()),
            ("--log-format", self.log_format.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, set)| set.then_some(flag))
        .collect()
    }

    /// These flags given after the verb win over the same flags given before it.
    pub fn over(self, before: Serving) -> Serving {
        Serving {
            listen: self.listen.or(before.listen),
            public_url: self.public_url.or(before.public_url),
            log_format: self.log_format.or(before.log_format),
        }
    }
}

#[derive(Subcommand)]
pub enum Verb {
    /// Serve the API (the default)
    Serve(Serving),
    /// Create a vault without serving: identity mode, or passphrase mode with --passphrase-file
    Init {
        /// Read the passphrase from this file's first line ("-" for stdin) and create a
        /// passphrase-protected vault
        #[arg(long, value_name = "F")]
        passphrase_file: Option<PathBuf>,
    },
    /// Change how the vault key is protected, without re-encrypting any record: a new
    /// passphrase, a switch to identity mode, or a (new) recovery key
    #[command(
        after_help = "Examples:\n  carnetd rekey --current-passphrase-file old.txt --passphrase-file new.txt\n  carnetd rekey --passphrase-file -            identity vault → passphrase vault (prints a recovery key)\n  carnetd rekey --current-passphrase-file - --to-identity\n  carnetd rekey --recovery-key-file key.txt --passphrase-file new.txt   (passphrase forgotten)\n  carnetd rekey --current-passphrase-file - --add-recovery"
    )]
    Rekey {
        /// New passphrase: first line of this file ("-" for stdin)
        #[arg(long, value_name = "F", conflicts_with = "to_identity")]
        passphrase_file: Option<PathBuf>,
        /// Switch to identity mode: a new identity file at --identity-file (default DATA_DIR/identity.txt)
        #[arg(long)]
        to_identity: bool,
        /// Write a new recovery envelope and print its key once
        #[arg(long)]
        add_recovery: bool,
        /// The current passphrase (passphrase vaults): first line of this file ("-" for stdin)
        #[arg(long, value_name = "F", conflicts_with = "recovery_key_file")]
        current_passphrase_file: Option<PathBuf>,
        /// Open with the recovery key instead (passphrase vaults): a file holding AGE-SECRET-KEY-1…
        #[arg(long, value_name = "F")]
        recovery_key_file: Option<PathBuf>,
    },
    /// Write a consistent, checked snapshot of the vault's database to FILE, while carnetd
    /// serves or not
    #[command(
        after_help = "Examples:\n  carnetd backup --out /mnt/backup/carnet-$(date +%F).db\n  carnetd --data-dir /var/lib/carnet backup --out /mnt/backup/carnet.db --force\n\nThe file holds sealed records only; it prints which key files to keep with it.\nRestore with `carnetd restore --from FILE` (carnetd stopped)."
    )]
    Backup {
        /// Where to write it (mode 0600), outside the data directory; its directory must exist
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace FILE if it exists (the older backup in it is lost)
        #[arg(long)]
        force: bool,
    },
    /// Put a backup made by `carnetd backup` in place as DATA_DIR/carnet.db (stop carnetd
    /// first; the key files kept with the backup must already be in the data directory)
    #[command(
        after_help = "Example:\n  systemctl stop carnetd\n  cp /mnt/backup/vault.key.age /var/lib/carnet/      (and the identity file, or vault.recovery.age)\n  carnetd --data-dir /var/lib/carnet restore --from /mnt/backup/carnet.db --force\n  systemctl start carnetd"
    )]
    Restore {
        /// The backup file
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace the data directory's existing carnet.db (what it holds now is lost)
        #[arg(long)]
        force: bool,
        /// Passphrase vaults: check now that the key files open the backup, with the
        /// passphrase (first line of this file, "-" for stdin); without it `carnet unlock` checks
        #[arg(long, value_name = "F", conflicts_with = "recovery_key_file")]
        passphrase_file: Option<PathBuf>,
        /// Passphrase vaults: check with the recovery key instead (a file holding AGE-SECRET-KEY-1…)
        #[arg(long, value_name = "F")]
        recovery_key_file: Option<PathBuf>,
    },
    /// Print the effective configuration
    PrintConfig(Serving),
    /// Manage the owner token
    OwnerToken {
        #[command(subcommand)]
        action: OwnerTokenAction,
    },
}

impl Verb {
    /// The verb as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Serve(_) => "serve",
            Verb::Init { .. } => "init",
            Verb::Rekey { .. } => "rekey",
            Verb::Backup { .. } => "backup",
            Verb::Restore { .. } => "restore",
            Verb::PrintConfig(_) => "print-config",
            Verb::OwnerToken { .. } => "owner-token",
        }
    }
}

#[derive(Subcommand)]
pub enum OwnerTokenAction {
    /// Replace the owner token (the old one stops working at once) and rewrite owner.token.
    /// The token's row is MAC'd with the vault key, so this opens the key: the identity file,
    /// or on a passphrase vault --passphrase-file or --recovery-key-file
    #[command(
        after_help = "Examples:\n  carnetd owner-token rotate                            (identity vault)\n  carnetd owner-token rotate --passphrase-file -        (passphrase on stdin)\n  carnetd owner-token rotate --recovery-key-file key.txt"
    )]
    Rotate {
        /// The vault's passphrase (passphrase vaults): first line of this file ("-" for stdin)
        #[arg(long, value_name = "F", conflicts_with = "recovery_key_file")]
        passphrase_file: Option<PathBuf>,
        /// Open with the recovery key instead (passphrase vaults): a file holding AGE-SECRET-KEY-1…
        #[arg(long, value_name = "F")]
        recovery_key_file: Option<PathBuf>,
    },
}
