//! `carnetd`: parses flags, loads configuration, sets up logging, and hands over to the
//! library. Nothing else lives here.
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use age::secrecy::SecretString;
use anyhow::{Context, Result, bail};
use carnet_core::backup;
use carnet_core::clock::{Clock, SystemClock};
use carnet_core::store::{Store, Synchronous, snapshot};
use carnet_core::vault::generation::{AfterBackup, TICKETS};
use carnet_core::vault::{self, Created, KeyMode, VaultPaths};
use carnet_server::config::{Config, LogFormat, Overrides};
use carnet_server::relay::Relay;
use carnet_server::{OpenOptions, Secret, Server, log_fields, serve};
use clap::Parser;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[path = "carnetd/args.rs"]
mod args;

use args::{Cli, OwnerTokenAction, Serving, Verb};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("carnetd: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause said once: an error that displays its
/// source (`#[error("{0}")]`) would otherwise print it twice.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line
}

fn run(cli: Cli) -> Result<()> {
    let (verb, serving) = match cli.verb {
        None => (Verb::Serve(Serving::default()), cli.serving),
        Some(Verb::Serve(after)) => (Verb::Serve(Serving::default()), after.over(cli.serving)),
        Some(Verb::PrintConfig(after)) => (
            Verb::PrintConfig(Serving::default()),
            after.over(cli.serving),
        ),
        Some(other) => {
            let given = cli.serving.given();
            if !given.is_empty() {
                bail!(
                    "{}: a serving flag that `carnetd {}` does not use; give it to `carnetd serve` (or to `carnetd` alone)",
                    given.join(", "),
                    other.name()
                );
            }
            (other, cli.serving)
        }
    };
    // The environment is read by `Config`, not clap, so every key is refused the same way.
    let config = Config::from_process(Overrides {
        data_dir: cli.data_dir,
        config: cli.config,
        identity_file: cli.identity_file,
        listen: serving.listen,
        public_url: serving.public_url,
        log_format: serving.log_format,
    })?;
    if let Some(w) = carnet_server::config::log_level_warning(&config.log_level) {
        eprintln!("carnetd: warning: {w}");
    }
    init_tracing(&config);
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let paths = VaultPaths::new(config.data_dir.clone(), config.identity_file.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match verb {
        Verb::Serve(_) => runtime.block_on(run_serve(config, paths)),
        Verb::Init { passphrase_file } => runtime.block_on(run_init(paths, passphrase_file)),
        Verb::Rekey {
            passphrase_file,
            to_identity,
            add_recovery,
            current_passphrase_file,
            recovery_key_file,
        } => rekey(
            &paths,
            Rekey {
                passphrase_file,
                to_identity,
                add_recovery,
                current_passphrase_file,
                recovery_key_file,
            },
        ),
        Verb::Backup { out, force } => run_backup(&paths, &out, force),
        Verb::Restore {
            from,
            force,
            passphrase_file,
            recovery_key_file,
        } => run_restore(
            &paths,
            &from,
            force,
            passphrase_file.as_deref(),
            recovery_key_file.as_deref(),
        ),
        Verb::PrintConfig(_) => {
            print!("{}", config.to_toml()?);
            Ok(())
        }
        Verb::OwnerToken {
            action:
                OwnerTokenAction::Rotate {
                    passphrase_file,
                    recovery_key_file,
                },
        } => runtime.block_on(rotate_owner_token(
            paths,
            passphrase_file.as_deref(),
            recovery_key_file.as_deref(),
        )),
    }
}

fn init_tracing(config: &Config) {
    // `log_level` (CARNET_LOG_LEVEL or CARNET_LOG) was checked when the config was resolved.
    let filter: Targets = config
        .log_level
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // The builder's own filter (info by default) lets everything through to `filter`.
    let builder = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match config.log_format {
        // In colour at a terminal; otherwise with carnetd's own field writers (see log_fields).
        LogFormat::Pretty if ansi => builder.finish().with(filter).init(),
        LogFormat::Pretty => builder
            .fmt_fields(log_fields::Plain)
            .finish()
            .with(filter)
            .init(),
        LogFormat::Json => builder
            .json()
            .fmt_fields(log_fields::Json)
            .finish()
            .with(filter)
            .init(),
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
    // Bind before opening (or creating) the vault: a port in use must not leave a fresh vault
    // behind, nor open the database while another carnetd serves it.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another carnetd running? choose another address with --listen",
                config.listen
            )
        })?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // The relay first: a forged directory or a relay that does not answer stops carnetd
    // before the vault is opened (or created).
    let relay = match &config.relay {
        Some(relay_config) => {
            carnet_core::fsutil::ensure_private_dir(&paths.dir).with_context(|| {
                format!("cannot create the data directory {}", paths.dir.display())
            })?;
            let relay = Relay::start(relay_config, &paths.dir, clock.as_ref()).await?;
            relay.refresh_daily(relay_config, &paths.dir, clock.clone());
            Some(relay)
        }
        None => None,
    };
    let (server, created) = Server::start(OpenOptions {
        paths: paths.clone(),
        synchronous: Synchronous::Full,
        clock: clock.clone(),
        settings: config.settings(),
        relay,
    })
    .await?;
    if let Some(c) = &created {
        report_created(c, &paths.dir);
    }
    let shutdown = shutdown_signal()?;
    tracing::info!(
        address = %listener.local_addr()?,
        data_dir = %paths.dir.display(),
        "carnetd listening"
    );
    if server.is_sealed() {
        tracing::info!(
            "sealed until unlocked: run `carnet unlock` (the passphrase, or --recovery-key-file)"
        );
    }
    serve(listener, server, shutdown).await?;
    tracing::info!("carnetd stopped; every acknowledged write is committed");
    Ok(())
}

/// Resolves at SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: a SIGTERM sent just after "carnetd listening" is logged must
/// shut down cleanly, not kill the process with the default action.
fn shutdown_signal() -> Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
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
    if let Err(weak) = carnet_schemas::check_new_passphrase(line) {
        bail!(
            "the passphrase in {} {weak}; choose a longer one",
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

fn run_backup(paths: &VaultPaths, out: &Path, force: bool) -> Result<()> {
    let w = backup::backup(paths, out, force)?;
    let moved_on = match &w.generation {
        Ok(AfterBackup::Advanced(n)) => format!(
            " The vault is at generation {n} now: this file put back alone is refused; restore it with `carnetd restore`."
        ),
        _ => String::new(),
    };
    eprintln!(
        "Wrote {file} ({size}, schema {schema}): a consistent snapshot of {db}, checked with PRAGMA integrity_check.{moved_on}",
        file = w.file.display(),
        size = human_size(w.bytes),
        schema = w.schema,
        db = paths.db_file().display()
    );
    eprintln!(
        "Its records are sealed, as in carnet.db: the file is as safe as carnet.db itself, and useless without the vault key."
    );
    let files = backup::key_files(paths, w.mode);
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    match w.mode {
        KeyMode::Identity => eprintln!(
            "Keep with it: {key} (the vault key, wrapped) and a copy of the identity file {identity}, stored apart from the backup: whoever has the backup and the identity can read everything.",
            key = shown.first().map_or("", String::as_str),
            identity = shown.get(1).map_or("", String::as_str),
        ),
        KeyMode::Passphrase => eprintln!(
            "Keep with it: {} (the vault key, wrapped to your passphrase and recovery key); opening it takes the passphrase or the recovery key, nothing else.",
            shown.join(" and ")
        ),
    }
    let undetected = "until it does, this backup put back alone is not detected as a rollback";
    match &w.generation {
        Ok(AfterBackup::Advanced(_)) => {}
        Ok(AfterBackup::NoTicket) => eprintln!(
            "carnetd: warning: the vault's generation did not advance: carnetd has not opened this vault with its key since it was made (or since {TICKETS} backups); start or unlock carnetd, then back up again; {undetected}"
        ),
        Err(e) => eprintln!(
            "carnetd: warning: the vault's generation did not advance ({e}); {undetected}"
        ),
    }
    Ok(())
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

fn run_restore(
    paths: &VaultPaths,
    from: &Path,
    force: bool,
    passphrase_file: Option<&Path>,
    recovery_key_file: Option<&Path>,
) -> Result<()> {
    let secret = match (passphrase_file, recovery_key_file) {
        (None, None) => None,
        (p, r) => Some(opening_secret(KeyMode::Passphrase, p, r, "")?),
    };
    let r = backup::restore(paths, from, force, secret)?;
    let proof = if r.key_checked {
        format!("the vault key in {} opens it", paths.key_file().display())
    } else {
        format!(
            "its key is NOT checked yet: this is a passphrase vault and no passphrase was given; `carnet unlock` checks it, and refuses (409) if {} is not the one kept with this backup. To check now, run restore again with --passphrase-file F or --recovery-key-file F",
            paths.key_file().display()
        )
    };
    let generation = match r.generation {
        Some(n) => format!("generation {n}, "),
        None => String::new(),
    };
    eprintln!(
        "Restored {from} as {db} (schema {schema}, {generation}checked; {proof}). Start carnetd as usual.",
        from = from.display(),
        db = r.db.display(),
        schema = r.schema,
    );
    if r.owner_token_missing {
        eprintln!(
            "{} is missing: run `carnetd owner-token rotate` (with --passphrase-file on a passphrase vault) to make a new owner token for the CLI.",
            paths.owner_token_file().display()
        );
    } else {
        eprintln!(
            "If the CLI is refused (401), the owner token changed since the backup: run `carnetd owner-token rotate`."
        );
    }
    Ok(())
}

/// What opens the vault key for an offline command: the recovery key if given, else the
/// passphrase on a passphrase vault (`flag` names the option that gives it), else the
/// identity file.
fn opening_secret(
    mode: KeyMode,
    passphrase_file: Option<&Path>,
    recovery_key_file: Option<&Path>,
    flag: &str,
) -> Result<Secret> {
    Ok(match (mode, passphrase_file, recovery_key_file) {
        (_, _, Some(f)) => Secret::RecoveryKey(read_secret_file(f, "recovery key")?),
        (KeyMode::Passphrase, Some(f), None) => {
            Secret::Passphrase(read_secret_file(f, "current passphrase")?)
        }
        (KeyMode::Passphrase, None, None) => bail!(
            "this vault is protected by a passphrase: give it with {flag} (or the recovery key with --recovery-key-file)"
        ),
        (KeyMode::Identity, _, None) => Secret::IdentityFile,
    })
}

/// `carnetd owner-token rotate`: the new token's row is MAC'd with the vault key, so the key
/// is opened first (and proved against the database).
async fn rotate_owner_token(
    paths: VaultPaths,
    passphrase_file: Option<&Path>,
    recovery_key_file: Option<&Path>,
) -> Result<()> {
    let mode = match vault::detect(&paths)? {
        vault::Found::Vault(mode) => mode,
        vault::Found::Nothing => bail!(
            "there is no vault in {}; start carnetd or run `carnetd init` first",
            paths.dir.display()
        ),
    };
    let secret = opening_secret(
        mode,
        passphrase_file,
        recovery_key_file,
        "--passphrase-file",
    )?;
    let key = vault::unwrap_with(&paths, mode, secret)
        .context("the vault key could not be opened with what was given")?;
    let store = Store::open(&paths.db_file(), Synchronous::Full)?;
    let now = SystemClock.now();
    let minted = async {
        vault::prove_key(&paths, &store, key, now).await?;
        vault::mint_owner_token(&paths, &store, now).await
    }
    .await;
    store.close();
    minted?;
    eprintln!(
        "New owner token written to {}; the old one no longer works.",
        paths.owner_token_file().display()
    );
    Ok(())
}

struct Rekey {
    passphrase_file: Option<PathBuf>,
    to_identity: bool,
    add_recovery: bool,
    current_passphrase_file: Option<PathBuf>,
    recovery_key_file: Option<PathBuf>,
}

fn read_secret_file(path: &Path, what: &str) -> Result<SecretString> {
    let mut text = zeroize::Zeroizing::new(String::new());
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read the {what} from stdin"))?;
    } else {
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("cannot read the {what} from {}", path.display()))?;
    }
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    Ok(SecretString::from(line.to_owned()))
}

/// `carnetd rekey`: unwraps the key the current way, wraps it the new way. Records are never
/// re-encrypted. Refused while a carnetd has the vault open: it keeps the mode it started
/// with, and could not be unlocked the new way until restarted.
fn rekey(paths: &VaultPaths, r: Rekey) -> Result<()> {
    if r.passphrase_file.is_none() && !r.to_identity && !r.add_recovery {
        bail!("say what to change: --passphrase-file NEW, --to-identity, or --add-recovery");
    }
    let mode = vault::mode(paths)?;
    match snapshot::in_use(&paths.db_file()) {
        Ok(true) => bail!(
            "a carnetd has {} open; stop it first (systemctl stop carnetd, docker stop …), then run rekey again: a running carnetd could not be unlocked the new way",
            paths.db_file().display()
        ),
        Ok(false) => {}
        // A database that does not open is no running carnetd's: the envelope can still change.
        Err(e) => tracing::warn!(error = %e, "cannot tell whether a carnetd has the database open"),
    }
    let secret = opening_secret(
        mode,
        r.current_passphrase_file.as_deref(),
        r.recovery_key_file.as_deref(),
        "--current-passphrase-file",
    )?;
    let key = vault::unwrap_with(paths, mode, secret)
        .context("the vault key could not be opened with what was given")?;
    let mut recovery_shown = false;
    if let Some(f) = &r.passphrase_file {
        let passphrase = read_passphrase(f)?;
        if let Some(recovery) =
            vault::rewrap_to_passphrase(paths, &key, passphrase, vault::DEFAULT_SCRYPT_LOG_N)?
        {
            eprintln!("\nRecovery key (shown this once; write it down and keep it offline):\n");
            println!("{}", vault::recovery_key_text(&recovery));
            recovery_shown = true;
        }
        eprintln!(
            "The vault key is now protected by the new passphrase; carnetd will start sealed."
        );
    }
    if r.to_identity {
        let had_recovery = vault::rewrap_to_identity(paths, &key, SystemClock.now())?;
        eprintln!(
            "The vault key is now wrapped to the new identity file {}; carnetd will start unattended.\nWhoever has the data dir AND this file can read everything: keep a copy apart from the data dir.",
            paths.identity.display()
        );
        if had_recovery {
            eprintln!(
                "The recovery envelope {} was removed: the old recovery key no longer opens the vault (--add-recovery makes a new one).",
                paths.recovery_file().display()
            );
        }
    }
    if r.add_recovery && !recovery_shown {
        let recovery = vault::add_recovery(paths, &key)?;
        eprintln!("\nNew recovery key (shown this once; any earlier one no longer works):\n");
        println!("{}", vault::recovery_key_text(&recovery));
    }
    Ok(())
}
