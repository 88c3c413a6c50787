//! `carnet export --out FILE [--recipient AGE_PUBKEY]... [--passphrase-file F|-]` and
//! `carnet import FILE [--identity F | --passphrase-file F|-]`. The archive's JSON streams
//! from carnetd through age into a temporary file beside FILE (mode 0600, synced, then renamed
//! over FILE), and back from FILE through age into carnetd: the plaintext never touches the
//! disk, passphrases and identities never leave this machine, and memory stays flat whatever
//! the size of the vault. Progress bars go to stderr, on a terminal only.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use age::secrecy::SecretString;
use carnet_schemas::{ImportReport, MAX_DOCUMENT_QUOTA_MIB, max_archive_bytes};

/// The largest archive any carnetd imports: 1 GiB plus the largest document quota one can be
/// configured with. The server holds an upload to its own quota and says so (413).
fn largest_archive() -> u64 {
    max_archive_bytes(u64::from(MAX_DOCUMENT_QUOTA_MIB) << 20)
}
use indicatif::{ProgressBar, ProgressStyle};
use zeroize::Zeroizing;

use super::Ctx;
use super::lifecycle::{passphrase_from, read_secret};
use crate::cli::{ExportArgs, ImportArgs};
use crate::error::{CliError, CliResult, io_error};
use crate::output;

/// The scrypt work factor of passphrase archives: 2^18 (256 MiB, about half a second here),
/// what `age -p` uses too.
const SCRYPT_LOG_N: u8 = 18;
/// The most a passphrase archive may demand: 2^20 (1 GiB of memory, a few seconds). A file
/// asking for more is refused before any work is done.
pub const MAX_SCRYPT_LOG_N: u8 = 20;
/// How long an import may take, upload and commit included.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(3600);
/// How every archive the server writes ends.
const ARCHIVE_END: &[u8; 3] = b"\n}\n";

// ---------------------------------------------------------------------------------------------
// Export

/// What the archive is encrypted to.
enum EncryptTo {
    Recipients(Vec<age::x25519::Recipient>),
    Passphrase(SecretString),
}

pub fn export(ctx: &Ctx, a: ExportArgs) -> CliResult<()> {
    let dir = writable_target(&a.out)?;
    let to = if a.recipients.is_empty() {
        EncryptTo::Passphrase(export_passphrase(a.passphrase_file.as_deref())?)
    } else {
        EncryptTo::Recipients(a.recipients)
    };
    let encryptor = match &to {
        EncryptTo::Recipients(r) => {
            age::Encryptor::with_recipients(r.iter().map(|r| r as &dyn age::Recipient))
        }
        EncryptTo::Passphrase(p) => {
            let mut r = age::scrypt::Recipient::new(p.clone());
            r.set_work_factor(SCRYPT_LOG_N);
            age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
        }
    }
    .map_err(|e| CliError::failed(format!("cannot set up age encryption: {e}")))?;

    let response = ctx.client.get_stream("/v1/export")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".carnet-export-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io_error("create a temporary file in", &dir, &e))?;
    let bar = progress(None, "exporting");
    let mut source = Source {
        inner: response,
        tail: [0; 3],
        failed: None,
        bar: bar.clone(),
    };
    let written = (|| -> io::Result<()> {
        let mut sink = encryptor.wrap_output(BufWriter::new(tmp.as_file_mut()))?;
        io::copy(&mut source, &mut sink)?;
        sink.finish()?.flush()
    })();
    bar.finish_and_clear();
    let unwritten = format!("nothing was written to {}", a.out.display());
    if let Some(e) = source.failed {
        return Err(CliError::failed(format!(
            "the archive from carnetd stopped before its end: {e}"
        ))
        .with_hint(format!("{unwritten}; carnetd's log says why; try again")));
    }
    written.map_err(|e| io_error("write", tmp.path(), &e).with_hint(unwritten.clone()))?;
    if &source.tail != ARCHIVE_END {
        return Err(
            CliError::failed("the archive from carnetd ended early (it is incomplete)")
                .with_hint(format!("{unwritten}; try again")),
        );
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_error("write", tmp.path(), &e))?;
    // Checked again just before the rename: a link planted meanwhile is refused too (the
    // rename itself would replace a link, never write through it).
    writable_target(&a.out)?;
    let bytes = tmp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    tmp.persist(&a.out)
        .map_err(|e| io_error("write", &a.out, &e.error).with_hint(unwritten))?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    let encrypted_to = match &to {
        EncryptTo::Recipients(r) if r.len() == 1 => "1 recipient".to_owned(),
        EncryptTo::Recipients(r) => format!("{} recipients", r.len()),
        EncryptTo::Passphrase(_) => "a passphrase".to_owned(),
    };
    if ctx.json {
        output::json(&serde_json::json!({
            "file": a.out.display().to_string(),
            "bytes": bytes,
            "encrypted_to": match &to {
                EncryptTo::Recipients(r) => serde_json::json!(r.iter().map(|r| r.to_string()).collect::<Vec<_>>()),
                EncryptTo::Passphrase(_) => serde_json::json!("passphrase"),
            },
        }));
    }
    ctx.done(&format!(
        "exported the vault to {} ({}, encrypted to {encrypted_to})",
        a.out.display(),
        human_bytes(bytes)
    ));
    Ok(())
}

/// The directory FILE will be written in, after refusing a FILE that is a symbolic link or
/// not a regular file.
pub(super) fn writable_target(out: &Path) -> CliResult<PathBuf> {
    match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(CliError::failed(format!(
                "{} is a symbolic link: carnet export never writes through one",
                out.display()
            ))
            .with_hint("give the path of the file itself, or remove the link"));
        }
        Ok(m) if !m.is_file() => {
            return Err(CliError::failed(format!(
                "{} exists and is not a regular file",
                out.display()
            ))
            .with_hint("give the path of a file to create or replace"));
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("look at", out, &e)),
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(
            CliError::failed(format!("the directory {} does not exist", dir.display()))
                .with_hint("create it first, or give another --out"),
        );
    }
    Ok(dir)
}

/// The export passphrase: --passphrase-file's first line, or typed twice on a terminal.
fn export_passphrase(file: Option<&Path>) -> CliResult<SecretString> {
    if let Some(f) = file {
        let (text, from) = read_secret(f, "passphrase")?;
        let line = passphrase_from(&text, &from)
            .map_err(|why| CliError::failed(why).with_hint("nothing was exported"))?;
        strong_enough(&line, &from)?;
        return Ok(SecretString::from(line.as_str().to_owned()));
    }
    if !io::stdin().is_terminal() {
        return Err(CliError::failed("no terminal to ask for the archive's passphrase on")
            .with_hint("encrypt to a key with --recipient age1…, or give a passphrase with --passphrase-file F (\"-\" for stdin)"));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| CliError::failed(format!("cannot read the passphrase: {e}")))
    };
    let first = ask("passphrase for the archive: ")?;
    if first.is_empty() {
        return Err(CliError::failed("no passphrase was typed")
            .with_hint("nothing was exported; run `carnet export` again"));
    }
    strong_enough(&first, "the prompt")?;
    let again = ask("the same passphrase again: ")?;
    if *first != *again {
        return Err(CliError::failed("the two passphrases differ")
            .with_hint("nothing was exported; run `carnet export` again"));
    }
    Ok(SecretString::from(first.as_str().to_owned()))
}

/// The archive holds every record and the keys behind them (pseudonym key, receipt seeds), so
/// its passphrase must meet at least the rule of the vault's own (`carnetd init`).
fn strong_enough(passphrase: &str, from: &str) -> CliResult<()> {
    carnet_schemas::check_new_passphrase(passphrase).map_err(|weak| {
        CliError::failed(format!("the passphrase from {from} {weak}: the archive holds the whole vault"))
            .with_hint(format!(
                "nothing was exported; choose a passphrase of at least {} characters, or encrypt to a key with --recipient age1…",
                carnet_schemas::MIN_PASSPHRASE_CHARS
            ))
    })
}

/// The export as it arrives: counted for the progress bar, its last bytes kept (a whole
/// archive ends with `\n}\n`), and a failed read told apart from a failed write.
struct Source<R> {
    inner: R,
    tail: [u8; 3],
    failed: Option<io::Error>,
    bar: ProgressBar,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                for b in &buf[..n] {
                    self.tail = [self.tail[1], self.tail[2], *b];
                }
                self.bar.inc(n as u64);
                Ok(n)
            }
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                Err(copy)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Import

pub fn import(ctx: &Ctx, a: ImportArgs) -> CliResult<()> {
    let shown = a.file.display().to_string();
    let unchanged = "nothing was sent: the vault is unchanged";
    let file = File::open(&a.file).map_err(|e| io_error("open", &a.file, &e))?;
    let len = file
        .metadata()
        .map_err(|e| io_error("read", &a.file, &e))?
        .len();
    // age adds 16 bytes per 64 KiB chunk and a header of a few hundred bytes.
    let most = largest_archive();
    if len > most + most / 4096 + 65_536 {
        return Err(CliError::failed(format!(
            "{shown} is {}: larger than the {} archive carnetd imports",
            human_bytes(len),
            human_bytes(most)
        ))
        .with_hint(format!(
            "{unchanged}; is it an archive from `carnet export`?"
        )));
    }
    let bar = progress(Some(len), "importing");
    let counted = Counted {
        inner: file,
        bar: bar.clone(),
    };
    let decryptor = age::Decryptor::new_buffered(BufReader::new(counted))
        .map_err(|e| not_an_age_file(&shown, e).with_hint(unchanged))?;
    let identities = identities(&a, &shown, decryptor.is_scrypt())?;
    let plaintext = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| undecryptable(&a, &shown, e).with_hint(unchanged))?;
    let seen = Arc::new(Mutex::new(None));
    let guard = Guard {
        inner: plaintext,
        read: 0,
        shown: shown.clone(),
        seen: seen.clone(),
    };
    let sent =
        ctx.client
            .post_stream::<ImportReport>("/v1/import", Box::new(guard), IMPORT_TIMEOUT);
    bar.finish_and_clear();
    // A decryption failure on the way explains whatever the server answered.
    if let Some(e) = seen.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let doc = sent?;
    let r = &doc.value;
    if ctx.json {
        output::json(&doc.raw);
    }
    if !r.access_log_verification.ok {
        let at = r
            .access_log_verification
            .first_bad
            .as_ref()
            .map_or(String::new(), |b| {
                format!(" at entry {} ({})", b.seq, b.reason)
            });
        output::message(&format!(
            "carnet: warning: the access log had failed verification on the server that exported it{at}; it was imported as it was and is chained anew here"
        ));
    }
    let n = &r.imported;
    ctx.done(&format!(
        "imported {} vendors, {} interactions, {} purchases, {} incidents, {} promises, {} subscriptions, {} intents, {} offers, {} market offers, {} clients, {} grants, {} receipts, {} access-log entries and {} documents{}",
        n.vendors,
        n.interactions,
        n.purchases,
        n.incidents,
        n.promises,
        n.subscriptions,
        n.intents,
        n.offers,
        n.market_offers,
        n.clients,
        n.grants,
        n.receipts,
        n.access_log,
        n.documents,
        if r.profile { ", and the profile" } else { "" }
    ));
    Ok(())
}

/// The identities to decrypt with, as the file's kind and the flags say.
fn identities(
    a: &ImportArgs,
    shown: &str,
    scrypt: bool,
) -> CliResult<Vec<Box<dyn age::Identity + Send + Sync>>> {
    let unchanged = "nothing was sent: the vault is unchanged";
    if scrypt {
        if a.identity.is_some() {
            return Err(CliError::failed(format!(
                "{shown} is encrypted to a passphrase, not to an age key"
            ))
            .with_hint("leave out --identity: carnet asks for the passphrase (or give it with --passphrase-file F)"));
        }
        let passphrase = match &a.passphrase_file {
            Some(f) => {
                let (text, from) = read_secret(f, "passphrase")?;
                passphrase_from(&text, &from)
                    .map_err(|why| CliError::failed(why).with_hint(unchanged))?
            }
            None if io::stdin().is_terminal() => {
                let typed = rpassword::prompt_password(format!("passphrase of {shown}: "))
                    .map(Zeroizing::new)
                    .map_err(|e| CliError::failed(format!("cannot read the passphrase: {e}")))?;
                if typed.is_empty() {
                    return Err(CliError::failed("no passphrase was typed").with_hint(unchanged));
                }
                typed
            }
            None => {
                return Err(CliError::failed(format!(
                    "{shown} is encrypted to a passphrase and there is no terminal to ask for it on"
                ))
                .with_hint("give it with --passphrase-file F (\"-\" for stdin)"));
            }
        };
        let mut identity = age::scrypt::Identity::new(SecretString::from(passphrase.as_str()));
        identity.set_max_work_factor(MAX_SCRYPT_LOG_N);
        return Ok(vec![Box::new(identity)]);
    }
    if a.passphrase_file.is_some() {
        return Err(CliError::failed(format!(
            "{shown} is encrypted to age keys, not to a passphrase"
        ))
        .with_hint("give the identity file of one of its recipients with --identity F"));
    }
    let Some(path) = &a.identity else {
        return Err(CliError::failed(format!(
            "{shown} is encrypted to age keys: carnet needs the identity of one of them"
        ))
        .with_hint("give its identity file with --identity F (the AGE-SECRET-KEY-1… file age-keygen wrote)"));
    };
    let text =
        Zeroizing::new(fs::read(path).map_err(|e| io_error("read the identity file", path, &e))?);
    let not_identities = |why: String| {
        CliError::failed(format!(
            "{} is not an age identity file: {why}",
            path.display()
        ))
        .with_hint("it holds AGE-SECRET-KEY-1… lines, as age-keygen writes them")
    };
    age::IdentityFile::from_buffer(text.as_slice())
        .map_err(|e| not_identities(e.to_string()))?
        .into_identities()
        .map_err(|e| not_identities(e.to_string()))
}

fn not_an_age_file(shown: &str, e: age::DecryptError) -> CliError {
    match e {
        age::DecryptError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => CliError::failed(
            format!("{shown} is cut short: its age header is incomplete"),
        ),
        age::DecryptError::Io(io) => CliError::failed(format!("cannot read {shown}: {io}")),
        age::DecryptError::UnknownFormat => CliError::failed(format!(
            "{shown} is of an age format this carnet does not know"
        )),
        _ => CliError::failed(format!(
            "{shown} is not an age-encrypted archive (its header does not read as age's)"
        )),
    }
}

fn undecryptable(a: &ImportArgs, shown: &str, e: age::DecryptError) -> CliError {
    match e {
        age::DecryptError::ExcessiveWork { required, .. } => CliError::failed(format!(
            "{shown} asks for scrypt work factor 2^{required}, more than the 2^{MAX_SCRYPT_LOG_N} carnet spends on a passphrase: refused unread (an archive from `carnet export` uses 2^{SCRYPT_LOG_N})"
        )),
        age::DecryptError::NoMatchingKeys => CliError::failed(format!(
            "{shown} is not encrypted to the key in {}",
            a.identity
                .as_deref()
                .map_or_else(|| "the identity file".into(), |p| p.display().to_string())
        )),
        age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed
            if a.identity.is_none() =>
        {
            CliError::failed(format!("wrong passphrase for {shown}"))
        }
        age::DecryptError::InvalidMac => CliError::failed(format!(
            "{shown} was altered: its header's MAC does not check out"
        )),
        other => CliError::failed(format!("{shown} does not decrypt: {other}")),
    }
}

/// The file as age reads it, counted for the progress bar.
struct Counted<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// The plaintext on its way to carnetd: a decryption failure (the file was cut short or
/// altered) or an archive over the limit is kept, so it can be reported instead of the
/// broken upload it causes.
struct Guard<R> {
    inner: R,
    read: u64,
    shown: String,
    seen: Arc<Mutex<Option<CliError>>>,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let unchanged = "nothing was imported: the vault is unchanged";
        let failure = match self.inner.read(buf) {
            Ok(n) if self.read + n as u64 <= largest_archive() => {
                self.read += n as u64;
                return Ok(n);
            }
            Ok(_) => CliError::failed(format!(
                "{} holds more than {}, the most carnetd imports",
                self.shown,
                human_bytes(largest_archive())
            )),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => CliError::failed(format!(
                "{} is cut short: it ends before the end of the archive",
                self.shown
            )),
            Err(_) if self.read == 0 => CliError::failed(format!(
                "{} does not decrypt: it was cut short or altered after it was written",
                self.shown
            )),
            Err(_) => CliError::failed(format!(
                "{} does not decrypt after its first {}: it was cut short or altered after it was written",
                self.shown,
                human_bytes(self.read)
            )),
        };
        let why = failure.message.clone();
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(failure.with_hint(unchanged));
        Err(io::Error::other(why))
    }
}

// ---------------------------------------------------------------------------------------------

/// A progress bar on stderr, only on a terminal: of `total` bytes, or a spinner.
fn progress(total: Option<u64>, what: &'static str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::new(n),
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {msg} {bytes} {bytes_per_sec}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// `12.3 MiB`.
pub(super) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} bytes"),
        3 => format!("{value:.2} {}", UNITS[unit]),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(carnet_schemas::MAX_ARCHIVE_BYTES), "1.00 GiB");
    }

    #[test]
    fn a_symlink_or_a_directory_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.age");
        fs::write(&real, b"x").unwrap();
        let link = dir.path().join("link.age");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = writable_target(&link).unwrap_err();
        assert!(e.message.contains("symbolic link"), "{}", e.message);
        assert!(writable_target(dir.path()).is_err());
        assert!(writable_target(&real).is_ok(), "a regular file is replaced");
        assert!(writable_target(&dir.path().join("new.age")).is_ok());
        assert!(writable_target(&dir.path().join("missing/new.age")).is_err());
    }
}
