//! `carnet password set [--password-file F|-]`: the web password, which signs the owner in on
//! the consent page. Read from a file's first line or stdin, or prompted twice on a terminal —
//! never from the command line, where `ps` and shell history see it. Kept in zeroizing buffers
//! on this side (the request body is as short-lived as reqwest makes it).

use std::io::{IsTerminal, Read};
use std::path::Path;

use carnet_schemas::WebPassword;
use zeroize::{Zeroize, Zeroizing};

use super::Ctx;
use crate::cli::{PasswordCmd, PasswordSet};
use crate::error::{CliError, CliResult, io_error};
use crate::output;

/// The server's minimum, checked here first so a short password costs no request.
pub const MIN_CHARS: usize = 10;

pub fn run(ctx: &Ctx, cmd: PasswordCmd) -> CliResult<()> {
    match cmd {
        PasswordCmd::Set(args) => set(ctx, args),
    }
}

fn set(ctx: &Ctx, a: PasswordSet) -> CliResult<()> {
    let password = match a.password_file.as_deref() {
        Some(p) => from_file(p)?,
        None => prompted()?,
    };
    check(&password).map_err(|why| {
        CliError::failed(why).with_hint("nothing was changed; a few words make a good password")
    })?;
    let mut body = WebPassword {
        password: password.as_str().to_owned(),
    };
    let sent = ctx.client.put_no_content("/v1/password", &body);
    body.password.zeroize();
    sent?;
    ctx.done(
        "web password set: sign in with it to the web app (/app/ on carnetd) and on the consent page, the page of carnetd a vendor sends your browser to when it asks for access",
    );
    Ok(())
}

/// What the server would refuse, said before sending it.
pub fn check(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(format!(
            "the password is {n} character{} long: use at least {MIN_CHARS}",
            if n == 1 { "" } else { "s" }
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(
            "the password has control characters, which cannot be typed on the consent page"
                .to_owned(),
        );
    }
    Ok(())
}

/// The first line of a file's text, without its line ending. Spaces around it are refused
/// rather than kept or dropped: either way the page would likely not see what was meant.
pub fn first_line(text: &str, from: &str) -> Result<Zeroizing<String>, String> {
    let line = text.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        return Err(format!("the first line of {from} is empty"));
    }
    if line.trim() != line {
        return Err(format!(
            "the password in {from} starts or ends with spaces: remove them (or type it at the prompt)"
        ));
    }
    Ok(Zeroizing::new(line.to_owned()))
}

fn from_file(path: &Path) -> CliResult<Zeroizing<String>> {
    let (text, from) = if path.as_os_str() == "-" {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            CliError::failed(format!("cannot read the password from stdin: {e}"))
                .with_hint("nothing was changed; give it in a file with --password-file F")
        })?;
        (text, "stdin".to_owned())
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| io_error("read the password file", path, &e))?;
        (Zeroizing::new(text), path.display().to_string())
    };
    first_line(&text, &from).map_err(|why| CliError::failed(why).with_hint("nothing was changed"))
}

fn prompted() -> CliResult<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        return Err(
            CliError::failed("no terminal to ask for the web password on").with_hint(
                "give it on stdin with `--password-file -`, or in a file with --password-file F",
            ),
        );
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| {
                CliError::failed(format!("cannot read the password: {e}")).with_hint(
                    "nothing was changed; give it with --password-file F (\"-\" for stdin)",
                )
            })
    };
    output::message(&format!(
        "the web password signs you in to the web app (/app/) and on the consent page; at least {MIN_CHARS} characters"
    ));
    let first = ask("new web password: ")?;
    check(&first).map_err(|why| {
        CliError::failed(why).with_hint("nothing was changed; a few words make a good password")
    })?;
    let again = ask("the same again: ")?;
    if *first != *again {
        return Err(
            CliError::failed("the two passwords differ; nothing was changed")
                .with_hint("run `carnet password set` again"),
        );
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_is_the_password() {
        assert_eq!(
            first_line("correct horse battery\nrest\n", "f")
                .unwrap()
                .as_str(),
            "correct horse battery"
        );
        assert_eq!(
            first_line("correct horse battery\r\n", "f")
                .unwrap()
                .as_str(),
            "correct horse battery"
        );
        assert_eq!(
            first_line("correct horse battery", "f").unwrap().as_str(),
            "correct horse battery"
        );
        assert!(first_line("", "f").unwrap_err().contains("empty"));
        assert!(
            first_line("\nsecond line", "f")
                .unwrap_err()
                .contains("empty")
        );
        assert!(
            first_line("trailing space \n", "f")
                .unwrap_err()
                .contains("spaces")
        );
        assert!(
            first_line(" leading space\n", "f")
                .unwrap_err()
                .contains("spaces")
        );
    }

    #[test]
    fn ten_characters_at_least_counted_as_characters() {
        assert!(check("123456789").unwrap_err().contains("at least 10"));
        assert!(check("").is_err());
        check("0123456789").unwrap();
        // Ten characters, more than ten bytes.
        check("ééééééééé").unwrap_err();
        check("éééééééééé").unwrap();
        assert!(check("abc\u{1b}defghijk").unwrap_err().contains("control"));
    }
}
