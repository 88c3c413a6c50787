//! `carnetd`: parses flags, loads configuration, sets up logging, and hands over to the
//! library. Nothing else lives here.
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use age::secrecy::SecretString;
use anyhow::{Context, Result, bail};
use carnet_server::clock::{Clock, SystemClock};
use carnet_server::config::{Config, LogFormat, Overrides};
use carnet_server::store::{Store, Synchronous};
use carnet_server::vault::{self, Created, KeyMode, VaultPaths};
use carnet_server::{OpenOptions, open_vault, serve};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "carnetd",
    version,
    about = "Carnet's server: the encrypted vault of your vendor relationships",
    after_help = "Examples:\n  carnetd                                   serve on 127.0.0.1:8787, creating the vault on first start\n  carnetd --data-dir /srv/carnet --listen 0.0.0.0:8787 --public-url https://carnet.example.net\n  carnetd init --passphrase-file -           create a passphrase-protected vault (passphrase on stdin)\n  carnetd print-config                      show the effective configuration\n\nEvery key of carnetd.toml can also be set as CARNET_<KEY> (CARNET_ACCESS_TOKEN_TTL=600,\nCARNET_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8, ...); flags beat the environment, which beats the file."
)]
struct Cli {
    /// Data directory [env: CARNET_DATA_DIR] [default: $XDG_DATA_HOME/carnet]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Configuration file [env: CARNET_CONFIG] [default: DATA_DIR/carnetd.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The age identity that opens the vault key [env: CARNET_IDENTITY_FILE]
    /// [default: DATA_DIR/identity.txt]
    #[arg(long, global = true, value_name = "F")]
    identity_file: Option<PathBuf>,
    /// Address to listen on [env: CARNET_LISTEN] [default: 127.0.0.1:8787]
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Public URL of this server (the OAuth issuer), exactly as vendors reach it
    /// [env: CARNET_PUBLIC_URL]
    #[arg(long, global = true, value_name = "URL")]
    public_url: Option<String>,
    /// Log format [env: CARNET_LOG_FORMAT]
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    verb: Option<Verb>,
}

#[derive(Subcommand)]
enum Verb {
    /// Serve the API (the default)
    Serve,
    /// Create a vault without serving: identity mode, or passphrase mode with --passphrase-file
    Init {
        /// Read the passphrase from this file's first line ("-" for stdin) and create a
        /// passphrase-protected vault
        #[arg(long, value_name = "F")]
        passphrase_file: Option<PathBuf>,
    },
    /// Print the effective configuration
    PrintConfig,
    /// Manage the owner token
    OwnerToken {
        #[command(subcommand)]
        action: OwnerTokenAction,
    },
}

#[derive(Subcommand)]
enum OwnerTokenAction {
    /// Replace the owner token (the old one stops working at once) and rewrite owner.token
    Rotate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("carnetd: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    // The environment is read by `Config`, not clap, so every key is refused the same way.
    let config = Config::from_process(Overrides {
        data_dir: cli.data_dir,
        config: cli.config,
        identity_file: cli.identity_file,
        listen: cli.listen,
        public_url: cli.public_url,
        log_format: cli.log_format,
    })?;
    init_tracing(&config);
    let paths = VaultPaths::new(config.data_dir.clone(), config.identity_file.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cli.verb.unwrap_or(Verb::Serve) {
        Verb::Serve => runtime.block_on(run_serve(config, paths)),
        Verb::Init { passphrase_file } => runtime.block_on(run_init(paths, passphrase_file)),
        Verb::PrintConfig => {
            print!("{}", config.to_toml()?);
            Ok(())
        }
        Verb::OwnerToken {
            action: OwnerTokenAction::Rotate,
        } => runtime.block_on(rotate_owner_token(paths)),
    }
}

fn init_tracing(config: &Config) {
    // `log_level` (CARNET_LOG_LEVEL or CARNET_LOG) was checked when the config was resolved.
    let filter = EnvFilter::new(&config.log_level);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn report_created(c: &Created, dir: &Path) {
    match c.mode {
        KeyMode::Identity => {
            let identity = c.identity.as_deref().unwrap_or(dir);
            eprintln!(
                "Created a new Carnet vault in {dir}\n  identity file: {identity}  (whoever has the data dir AND this file can read everything: keep a copy somewhere safe, apart from the data dir)\n  owner token:   {token}  (the carnet CLI reads it; keep it private)",
                dir = dir.display(),
                identity = identity.display(),
                token = c.owner_token.display()
            );
        }
        KeyMode::Passphrase => {
            eprintln!(
                "Created a passphrase-protected Carnet vault in {dir}\n  owner token: {token}",
                dir = dir.display(),
                token = c.owner_token.display()
            );
            if let Some(key) = &c.recovery_key {
                eprintln!(
                    "\nRecovery key (shown this once; write it down and keep it offline — it opens the vault if the passphrase is lost):\n"
                );
                println!("{}", vault::recovery_key_text(key));
            }
        }
    }
}

async fn run_serve(config: Config, paths: VaultPaths) -> Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (state, created) = open_vault(OpenOptions {
        paths: paths.clone(),
        synchronous: Synchronous::Full,
        clock,
        settings: config.settings(),
    })
    .await?;
    if let Some(c) = &created {
        report_created(c, &paths.dir);
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another carnetd running? choose another address with --listen",
                config.listen
            )
        })?;
    tracing::info!(
        address = %listener.local_addr()?,
        data_dir = %paths.dir.display(),
        "carnetd listening"
    );
    serve(listener, state, shutdown_signal()).await?;
    tracing::info!("carnetd stopped; every acknowledged write is committed");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn read_passphrase(path: &Path) -> Result<SecretString> {
    let mut text = zeroize::Zeroizing::new(String::new());
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the passphrase from stdin")?;
    } else {
        let mut f = std::fs::File::open(path)
            .with_context(|| format!("cannot read passphrase file {}", path.display()))?;
        f.read_to_string(&mut text)
            .with_context(|| format!("cannot read passphrase file {}", path.display()))?;
    }
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() < 8 {
        bail!(
            "the passphrase in {} is shorter than 8 characters; choose a longer one",
            path.display()
        );
    }
    Ok(SecretString::from(line.to_owned()))
}

async fn run_init(paths: VaultPaths, passphrase_file: Option<PathBuf>) -> Result<()> {
    let now = SystemClock.now();
    let created = match passphrase_file {
        None => vault::init_identity(&paths, now).await?,
        Some(f) => {
            let passphrase = read_passphrase(&f)?;
            vault::init_passphrase(&paths, passphrase, vault::DEFAULT_SCRYPT_LOG_N, now).await?
        }
    };
    report_created(&created, &paths.dir);
    Ok(())
}

async fn rotate_owner_token(paths: VaultPaths) -> Result<()> {
    if vault::detect(&paths)? == vault::Found::Nothing {
        bail!(
            "there is no vault in {}; start carnetd or run `carnetd init` first",
            paths.dir.display()
        );
    }
    let store = Store::open(&paths.db_file(), Synchronous::Full)?;
    vault::mint_owner_token(&paths, &store, SystemClock.now()).await?;
    store.close();
    eprintln!(
        "New owner token written to {}; the old one no longer works.",
        paths.owner_token_file().display()
    );
    Ok(())
}
