//! `carnet unlock [--passphrase-file F|-] [--recovery-key-file F|-] [--identity]` and
//! `carnet lock`. Unlocking a passphrase vault needs no owner token and sends none: the
//! passphrase (or recovery key) is what carnetd authenticates. An identity vault's key is
//! opened by the identity file on the server, so there `--identity` sends the owner token,
//! which carnetd checks once the key is open. It looks at `GET /healthz` first, so an open vault is
//! left alone and nothing secret is asked for or sent. Secrets are held in zeroizing buffers
//! on this side and never appear in a message.

use std::io::{IsTerminal, Read};
use std::path::Path;

use carnet_schemas::{Health, HealthStatus, UnlockRequest};
use zeroize::{Zeroize, Zeroizing};

use super::Ctx;
use crate::cli::{UnlockArgs, UnlockWith};
use crate::client::{Client, Doc};
use crate::config::{Inputs, ServerUrl, discover, discover_server};
use crate::error::{CliError, CliResult, ExitKind, io_error};
use crate::output;

/// What a recovery key line starts with (`carnetd init --passphrase-file` prints it).
const RECOVERY_PREFIX: &str = "AGE-SECRET-KEY-1";

pub fn unlock(server: Option<ServerUrl>, json: bool, args: UnlockArgs) -> CliResult<()> {
    let inputs = Inputs::load(server)?;
    let server = discover_server(&inputs)?;
    let with = args.with();
    let client = match with {
        UnlockWith::Identity => {
            let found = discover(&inputs)?;
            Client::new(found.server, found.token, found.source)?
        }
        _ => Client::without_token(server.clone())?,
    };
    let health: Doc<Health> = client.get("/healthz", &[])?;
    if health.value.status == HealthStatus::Ok {
        return already_unlocked(json, &health);
    }
    if with != UnlockWith::Identity && server.is_cleartext_remote() {
        output::message(&format!(
            "carnet: warning: {server} is plain http to another machine: the passphrase crosses the network readable; put carnetd behind https"
        ));
    }
    let mut body = request(&with, &server)?;
    let sent: CliResult<Doc<Health>> = client.post("/v1/unlock", &body);
    body.passphrase.zeroize();
    body.recovery_key.zeroize();
    match sent {
        Ok(doc) => {
            if json {
                output::json(&doc.raw);
            }
            output::message("unlocked");
            Ok(())
        }
        // Someone else unlocked it since /healthz answered; or carnetd refused to open it (a
        // rolled-back database), and the vault is still sealed: its reason is the error.
        Err(e) if e.status == Some(409) => {
            let health: Doc<Health> = client.get("/healthz", &[])?;
            if health.value.status == HealthStatus::Ok {
                already_unlocked(json, &health)
            } else {
                Err(e)
            }
        }
        Err(e) if e.status == Some(401) => Err(wrong(&with, &server)),
        Err(e) if e.status == Some(429) => Err(too_soon(e)),
        Err(e) => Err(e),
    }
}

pub fn lock(ctx: &Ctx) -> CliResult<()> {
    match ctx.client.post_no_content("/v1/lock") {
        Ok(()) => {
            output::message("sealed: the vault's key left memory; `carnet unlock` opens it again");
            Ok(())
        }
        Err(e) if e.kind == ExitKind::Sealed => {
            output::message("the vault is already sealed; `carnet unlock` opens it");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn already_unlocked(json: bool, health: &Doc<Health>) -> CliResult<()> {
    if json {
        output::json(&health.raw);
    }
    output::message("the vault is already unlocked");
    Ok(())
}

/// The body of `POST /v1/unlock`, with the secret read as `with` says.
fn request(with: &UnlockWith, server: &ServerUrl) -> CliResult<UnlockRequest> {
    let unusable = |why: String| {
        CliError::failed(why).with_hint("nothing was sent; the vault is still sealed")
    };
    let owned = |t: Zeroizing<String>| Some(t.as_str().to_owned());
    Ok(match with {
        UnlockWith::Identity => UnlockRequest::default(),
        UnlockWith::PromptedPassphrase => UnlockRequest {
            passphrase: owned(prompted(server)?),
            recovery_key: None,
        },
        UnlockWith::PassphraseFile(f) => {
            let (text, from) = read_secret(f, "passphrase")?;
            UnlockRequest {
                passphrase: owned(passphrase_from(&text, &from).map_err(unusable)?),
                recovery_key: None,
            }
        }
        UnlockWith::RecoveryKeyFile(f) => {
            let (text, from) = read_secret(f, "recovery key")?;
            UnlockRequest {
                passphrase: None,
                recovery_key: owned(recovery_key_from(&text, &from).map_err(unusable)?),
            }
        }
    })
}

fn prompted(server: &ServerUrl) -> CliResult<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        return Err(
            CliError::failed(format!("no terminal to ask for the passphrase of the vault at {server} on"))
                .with_hint("give it on stdin with `--passphrase-file -` or in a file with --passphrase-file F, or the recovery key with --recovery-key-file F (--identity: a vault without a passphrase)"),
        );
    }
    let text = rpassword::prompt_password(format!("passphrase of the vault at {server}: "))
        .map(Zeroizing::new)
        .map_err(|e| {
            CliError::failed(format!("cannot read the passphrase: {e}"))
                .with_hint("nothing was sent; give it with --passphrase-file F (\"-\" for stdin)")
        })?;
    if text.is_empty() {
        return Err(CliError::failed("no passphrase was typed")
            .with_hint("nothing was sent; run `carnet unlock` again"));
    }
    Ok(text)
}

/// A file's text, stdin's, or (with `-` on a terminal) a hidden prompt's, and where it came
/// from for messages.
pub(crate) fn read_secret(path: &Path, what: &str) -> CliResult<(Zeroizing<String>, String)> {
    if path.as_os_str() != "-" {
        let text = std::fs::read_to_string(path)
            .map_err(|e| io_error(&format!("read the {what} file"), path, &e))?;
        return Ok((Zeroizing::new(text), path.display().to_string()));
    }
    let mut text = Zeroizing::new(String::new());
    if std::io::stdin().is_terminal() {
        // Reading a terminal to its end would show the secret as it is typed.
        let typed = rpassword::prompt_password(format!("{what}: ")).map_err(|e| {
            CliError::failed(format!("cannot read the {what}: {e}"))
                .with_hint("nothing was sent; give it in a file instead of \"-\"")
        })?;
        text.push_str(&typed);
        return Ok((text, "the prompt".to_owned()));
    }
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        CliError::failed(format!("cannot read the {what} from stdin: {e}"))
            .with_hint("nothing was sent; give it in a file instead of \"-\"")
    })?;
    Ok((text, "stdin".to_owned()))
}

/// The passphrase: the first line, without `\n` or `\r\n`, exactly as `carnetd init
/// --passphrase-file` read it (spaces included).
pub fn passphrase_from(text: &str, from: &str) -> Result<Zeroizing<String>, String> {
    match text.lines().next() {
        Some(line) if !line.is_empty() => Ok(Zeroizing::new(line.to_owned())),
        _ => Err(format!(
            "the first line of {from} is empty: it holds no passphrase"
        )),
    }
}

/// The recovery key: the one line that is neither blank nor a `#` comment, trimmed, which
/// must look like `AGE-SECRET-KEY-1…` (checked here so a wrong file costs no attempt).
pub fn recovery_key_from(text: &str, from: &str) -> Result<Zeroizing<String>, String> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let (Some(key), None) = (lines.next(), lines.next()) else {
        return Err(format!(
            "{from} must hold one recovery key line ({RECOVERY_PREFIX}…) besides # comments"
        ));
    };
    let looks_right = key
        .get(..RECOVERY_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(RECOVERY_PREFIX))
        && key.len() > RECOVERY_PREFIX.len()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !looks_right {
        return Err(format!(
            "{from} does not hold a recovery key: it is the {RECOVERY_PREFIX}… line `carnetd init --passphrase-file` printed"
        ));
    }
    Ok(Zeroizing::new(key.to_owned()))
}

/// A 401 from `/v1/unlock`: the secret did not open the vault's key.
fn wrong(with: &UnlockWith, server: &ServerUrl) -> CliError {
    let (message, hint) = match with {
        UnlockWith::Identity => (
            format!(
                "carnetd at {server} refused the owner token: an identity vault unlocks only with its own owner token"
            ),
            "send the token in carnetd's owner.token (CARNET_TOKEN, the config file, or `carnet login`); if it was rotated while sealed, use the new one. A passphrase vault: `carnet unlock` without --identity",
        ),
        UnlockWith::RecoveryKeyFile(_) => (
            format!("wrong recovery key: the vault at {server} is still sealed"),
            "check that it is the key `carnetd init` printed for this vault; the passphrase also opens it: `carnet unlock`",
        ),
        UnlockWith::PromptedPassphrase | UnlockWith::PassphraseFile(_) => (
            format!("wrong passphrase: the vault at {server} is still sealed"),
            "check the passphrase; the recovery key also opens the vault: `carnet unlock --recovery-key-file F` (a vault without a passphrase: `carnet unlock --identity`)",
        ),
    };
    CliError {
        status: Some(401),
        ..CliError::new(ExitKind::Auth, message).with_hint(hint)
    }
}

/// A 429 from `/v1/unlock`: a failed attempt from this address was too recent.
fn too_soon(e: CliError) -> CliError {
    let wait = e
        .retry_after
        .map_or_else(|| "wait a little".to_owned(), |s| format!("wait {s} s"));
    CliError {
        message: format!(
            "too soon after a failed unlock attempt from this address: {wait}, then run `carnet unlock` again"
        ),
        hint: Some(
            "each failed attempt makes the next one wait longer (1, 2, 4 … 60 s); nobody is locked out"
                .to_owned(),
        ),
        ..e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";

    #[test]
    fn the_recovery_key_is_the_one_line_that_is_not_a_comment() {
        let file = format!(
            "# created: 2026-11-12T10:00:00+01:00\n# public key: age1xyz\n\n  {KEY}  \r\n# kept offline\n"
        );
        assert_eq!(recovery_key_from(&file, "f").unwrap().as_str(), KEY);
        assert_eq!(
            recovery_key_from(&format!("{KEY}\n"), "f")
                .unwrap()
                .as_str(),
            KEY
        );
        let lower = KEY.to_ascii_lowercase();
        assert_eq!(recovery_key_from(&lower, "f").unwrap().as_str(), lower);
    }

    #[test]
    fn anything_else_is_refused_without_showing_it() {
        for text in [
            "",
            "# only a comment\n\n",
            &format!("{KEY}\n{KEY}\n"),
            "a long passphrase here\n",
            "AGE-SECRET-KEY-1\n",
            "AGE-SECRET-KEY-1 QQQQ\n",
            "age1publickeynotsecret\n",
        ] {
            let why = recovery_key_from(text, "key.txt").expect_err(text);
            assert!(why.starts_with("key.txt "), "{why}");
            assert!(
                !why.contains("passphrase here") && !why.contains("QQQQ"),
                "{why}"
            );
        }
    }

    #[test]
    fn the_passphrase_is_the_first_line_as_init_read_it() {
        let p = |t: &str| passphrase_from(t, "f").map(|z| z.as_str().to_owned());
        assert_eq!(
            p("a long passphrase here\nrest\n").unwrap(),
            "a long passphrase here"
        );
        assert_eq!(
            p("a long passphrase here\r\n").unwrap(),
            "a long passphrase here"
        );
        assert_eq!(p("no newline at all").unwrap(), "no newline at all");
        assert_eq!(p(" spaces kept \n").unwrap(), " spaces kept ");
        assert!(p("").unwrap_err().contains("empty"));
        assert!(p("\nsecond").unwrap_err().contains("empty"));
    }

    #[test]
    fn refusals_say_what_to_do() {
        let server: ServerUrl = "http://127.0.0.1:8787".parse().unwrap();
        let e = wrong(&UnlockWith::PromptedPassphrase, &server);
        assert_eq!(e.kind.code(), 4);
        assert!(e.hint.unwrap().contains("--recovery-key-file"));
        let e = wrong(&UnlockWith::Identity, &server);
        assert!(e.hint.unwrap().contains("without --identity"));
        let mut busy = CliError::failed("too many failed unlock attempts in a short time");
        busy.status = Some(429);
        busy.retry_after = Some(4);
        let e = too_soon(busy);
        assert_eq!(e.kind.code(), 1);
        assert!(e.message.contains("wait 4 s"), "{}", e.message);
    }
}
