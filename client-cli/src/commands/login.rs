//! `carnet login --server URL [--token-file F|-]`: checks an owner token against the server
//! and saves both in the config file (mode 0600, written atomically). The token is read from a
//! file, stdin or a prompt — never from the command line, where `ps` and shell history see it.

use std::io::{IsTerminal, Read};
use std::path::Path;

use carnet_schemas::Profile;
use zeroize::Zeroizing;

use crate::cli::LoginArgs;
use crate::client::{Client, Doc};
use crate::config::{
    ConfigFile, ServerUrl, Token, TokenSource, config_path, env_server, save_config,
};
use crate::error::{CliError, CliResult, ExitKind, io_error};
use crate::output;

pub fn run(server: Option<ServerUrl>, json: bool, args: LoginArgs) -> CliResult<()> {
    let server = match server {
        Some(s) => Some(s),
        None => env_server()?,
    };
    let server = server.ok_or_else(|| {
        CliError::usage("carnet login needs the server's address")
            .with_hint("carnet login --server https://carnet.example.net (or set CARNET_SERVER)")
    })?;
    let path = config_path().ok_or_else(|| {
        CliError::failed("cannot tell where the config file goes: no config directory").with_hint(
            "set XDG_CONFIG_HOME (or HOME), or use CARNET_SERVER and CARNET_TOKEN instead",
        )
    })?;
    let (text, from) = read_token(args.token_file.as_deref(), &server)?;
    let token = Token::parse(&text).map_err(|why| {
        CliError::new(
            ExitKind::Auth,
            format!("the token from {from} is not usable: {why}"),
        )
        .with_hint("give the one line carnetd wrote to owner.token in its data dir")
    })?;
    let client = Client::new(server.clone(), token.clone(), TokenSource::Given(from))?;
    // Any owner endpoint proves the token; the profile is small.
    let _: Doc<Profile> = client.get("/v1/profile", &[]).map_err(|e| {
        if e.kind == ExitKind::Auth {
            CliError {
                message: format!(
                    "{server} refused this token: {}; nothing was saved",
                    e.message
                ),
                ..e
            }
        } else {
            e
        }
    })?;
    if server.is_cleartext_remote() {
        output::message(&format!(
            "carnet: warning: {server} is plain http to another machine: the owner token crosses the network readable; put carnetd behind https"
        ));
    }
    let config = ConfigFile {
        server: Some(server.to_string()),
        token: Some(token.expose().to_owned()),
    };
    save_config(&path, &config)?;
    if json {
        output::json(&serde_json::json!({
            "server": server.to_string(),
            "config_file": path.display().to_string(),
        }));
    } else {
        output::stdout(&format!(
            "logged in to {server}; saved in {}\n",
            path.display()
        ));
    }
    Ok(())
}

/// The token text and where it came from, for messages.
fn read_token(file: Option<&Path>, server: &ServerUrl) -> CliResult<(Zeroizing<String>, String)> {
    let from_stdin = || -> CliResult<(Zeroizing<String>, String)> {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            CliError::failed(format!("cannot read the token from stdin: {e}"))
                .with_hint("nothing was saved; give the token in a file with --token-file F")
        })?;
        Ok((text, "stdin".to_owned()))
    };
    match file {
        Some(p) if p.as_os_str() == "-" => from_stdin(),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| io_error("read the token file", p, &e))?;
            Ok((Zeroizing::new(text), p.display().to_string()))
        }
        None if std::io::stdin().is_terminal() => {
            let text =
                rpassword::prompt_password(format!("owner token for {server}: ")).map_err(|e| {
                    CliError::failed(format!("cannot read the token: {e}")).with_hint(
                        "nothing was saved; give the token with --token-file F (\"-\" for stdin)",
                    )
                })?;
            Ok((Zeroizing::new(text), "the prompt".to_owned()))
        }
        None => from_stdin(),
    }
}
