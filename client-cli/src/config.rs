//! Where the server is and which owner token to send. `discover` is a pure function of what
//! `Inputs::load` read from the flags, the environment and the files, so the order is tested
//! without touching the real environment:
//!
//! - server: `--server`, else `CARNET_SERVER`, else `server` in the config file, else
//!   `http://127.0.0.1:8787`;
//! - token: `CARNET_TOKEN`, else `token` in the config file, else the local data dir's
//!   `owner.token`.
//!
//! A token is only ever sent to the server it belongs to: the config file's token to the config
//! file's server, and a local `owner.token` only to a loopback address. Pointing `--server`
//! elsewhere never leaks them.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::{Host, Url};
use zeroize::Zeroizing;

use crate::error::{BUG_HINT, CliError, CliResult, ExitKind, io_error};

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8787";

// ---------------------------------------------------------------------------------------------
// Server address

/// The base URL of a carnetd: http(s), a host, no credentials, query or fragment. It may
/// have a path when carnetd sits under a prefix behind a reverse proxy.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl(Url);

impl FromStr for ServerUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let url = Url::parse(s.trim()).map_err(|e| {
            format!(
                "{s:?} is not a server address ({e}); write it in full, e.g. http://127.0.0.1:8787"
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!(
                "{s:?} is not an http(s) server address, e.g. https://carnet.example.net"
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{s:?} carries credentials; remove the user:password@ part (the token is sent as a header)"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{s:?} has a query or fragment; give the base address only"
            ));
        }
        Ok(ServerUrl(url))
    }
}

impl ServerUrl {
    /// The URL of an API path (`/v1/vendors`) on this server, under its base path.
    pub fn endpoint(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        url
    }

    /// Whether the host is this machine (where a local `owner.token` may be sent).
    pub fn is_loopback(&self) -> bool {
        match self.0.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// Plain http to another machine: the token would cross the network readable.
    pub fn is_cleartext_remote(&self) -> bool {
        self.0.scheme() == "http" && !self.is_loopback()
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

// ---------------------------------------------------------------------------------------------
// Token

/// The owner token: zeroed when dropped, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

impl Token {
    /// Takes the first line of `text`, trimmed; refuses anything that cannot be a token.
    pub fn parse(text: &str) -> Result<Token, String> {
        let line = text.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            return Err("it is empty".into());
        }
        if !line.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("it has spaces or characters a token never has".into());
        }
        Ok(Token(Zeroizing::new(line.to_owned())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(redacted)")
    }
}

/// Where the token came from, to say which one to fix when the server refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Env,
    ConfigFile(PathBuf),
    OwnerTokenFile(PathBuf),
    /// Given to `carnet login` (a file, stdin or the prompt).
    Given(String),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Env => f.write_str("CARNET_TOKEN"),
            TokenSource::ConfigFile(p) | TokenSource::OwnerTokenFile(p) => {
                write!(f, "{}", p.display())
            }
            TokenSource::Given(what) => f.write_str(what),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Config file

/// `$XDG_CONFIG_HOME/carnet/config.toml`, written by `carnet login`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

pub fn config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("carnet").join("config.toml"))
}

/// `$CARNET_DATA_DIR/owner.token`, else `$XDG_DATA_HOME/carnet/owner.token`.
pub fn owner_token_path(carnet_data_dir: Option<&str>) -> Option<PathBuf> {
    match carnet_data_dir.filter(|d| !d.is_empty()) {
        Some(dir) => Some(Path::new(dir).join("owner.token")),
        None => dirs::data_dir().map(|d| d.join("carnet").join("owner.token")),
    }
}

/// Writes the config file atomically (a temporary file in the same directory, then a rename)
/// and readable by the owner only.
pub fn save_config(path: &Path, config: &ConfigFile) -> CliResult<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| io_error("create the directory", dir, &e))?;
    let text = toml::to_string(config).map_err(|e| {
        CliError::failed(format!("cannot write the configuration: {e}")).with_hint(BUG_HINT)
    })?;
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| io_error("create a temporary file in", dir, &e))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io_error("write", tmp.path(), &e))?;
    tmp.persist(path)
        .map_err(|e| io_error("replace", path, &e.error))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Discovery

/// Everything discovery looks at, read beforehand.
#[derive(Debug, Default)]
pub struct Inputs {
    /// `--server`.
    pub server_flag: Option<ServerUrl>,
    /// `CARNET_SERVER` (read here rather than by clap, so that an empty one counts as unset).
    pub env_server: Option<String>,
    /// `CARNET_TOKEN`.
    pub env_token: Option<String>,
    pub config_path: Option<PathBuf>,
    /// The config file, if it exists.
    pub config: Option<ConfigFile>,
    pub owner_token_path: Option<PathBuf>,
    /// `owner.token`'s contents: `None` if there is no such file, `Err` if it could not be read.
    pub owner_token: Option<Result<String, String>>,
}

/// Where to send requests and with which token.
#[derive(Debug)]
pub struct Found {
    pub server: ServerUrl,
    pub token: Token,
    pub source: TokenSource,
}

impl Inputs {
    /// Reads the environment and the files discovery may need.
    pub fn load(server_flag: Option<ServerUrl>) -> CliResult<Inputs> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let config_path = config_path();
        let config = match &config_path {
            Some(p) => read_config(p)?,
            None => None,
        };
        let owner_token_path = owner_token_path(env("CARNET_DATA_DIR").as_deref());
        let owner_token =
            owner_token_path
                .as_ref()
                .and_then(|p| match std::fs::read_to_string(p) {
                    Ok(text) => Some(Ok(text)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => Some(Err(e.to_string())),
                });
        Ok(Inputs {
            server_flag,
            env_server: env("CARNET_SERVER"),
            env_token: env("CARNET_TOKEN"),
            config_path,
            config,
            owner_token_path,
            owner_token,
        })
    }
}

fn read_config(path: &Path) -> CliResult<Option<ConfigFile>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, &e)),
    };
    let config: ConfigFile = toml::from_str(&text).map_err(|e| {
        CliError::failed(format!(
            "{} is not a valid carnet configuration: {}",
            path.display(),
            e.message()
        ))
        .with_hint("it takes the keys `server` and `token`; fix it, or run `carnet login --server URL` to rewrite it")
    })?;
    #[cfg(unix)]
    if config.token.is_some() {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            crate::output::message(&format!(
                "carnet: warning: {} holds the owner token but others may read it; run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    Ok(Some(config))
}

/// `CARNET_SERVER`, if set and not empty.
pub fn env_server() -> CliResult<Option<ServerUrl>> {
    let value = std::env::var("CARNET_SERVER").ok();
    parse_env_server(value.as_deref().filter(|v| !v.trim().is_empty()))
}

fn parse_env_server(value: Option<&str>) -> CliResult<Option<ServerUrl>> {
    value
        .map(|s| {
            s.parse::<ServerUrl>().map_err(|e| {
                CliError::usage(format!("CARNET_SERVER: {e}"))
                    .with_hint("set it to carnetd's address, or unset it")
            })
        })
        .transpose()
}

/// The config file's `server`, if it has one.
fn config_server(inputs: &Inputs) -> CliResult<Option<ServerUrl>> {
    let Some(s) = inputs.config.as_ref().and_then(|c| c.server.as_deref()) else {
        return Ok(None);
    };
    s.parse::<ServerUrl>().map(Some).map_err(|e| {
        let file = inputs.config_path.clone().unwrap_or_default();
        CliError::failed(format!("server in {}: {e}", file.display()))
            .with_hint("fix it, or run `carnet login --server URL` to rewrite it")
    })
}

/// The server alone, for what needs no token (`carnet unlock`).
pub fn discover_server(inputs: &Inputs) -> CliResult<ServerUrl> {
    let env_server = parse_env_server(inputs.env_server.as_deref())?;
    match (&inputs.server_flag, env_server, config_server(inputs)?) {
        (Some(s), _, _) => Ok(s.clone()),
        (None, Some(s), _) | (None, None, Some(s)) => Ok(s),
        (None, None, None) => ServerUrl::from_str(DEFAULT_SERVER).map_err(CliError::failed),
    }
}

/// Applies the discovery order to what was read.
pub fn discover(inputs: &Inputs) -> CliResult<Found> {
    let config_file = || inputs.config_path.clone().unwrap_or_default();
    let config_server = config_server(inputs)?;
    let server = discover_server(inputs)?;
    let bad_token = |source: &TokenSource, why: String| {
        CliError::new(
            ExitKind::Auth,
            format!("the owner token in {source} is not usable: {why}"),
        )
        .with_hint(
            "put the token from carnetd's owner.token there, or run `carnet login --server URL`",
        )
    };
    let found = |token: &str, source: TokenSource| match Token::parse(token) {
        Ok(token) => Ok(Found {
            server: server.clone(),
            token,
            source,
        }),
        Err(why) => Err(bad_token(&source, why)),
    };

    if let Some(t) = &inputs.env_token {
        return found(t, TokenSource::Env);
    }
    // The config file's token belongs to the config file's server (the default one when the
    // file names none).
    let mut skipped_config = None;
    if let Some(t) = inputs.config.as_ref().and_then(|c| c.token.as_deref()) {
        let token_server = match &config_server {
            Some(s) => s.clone(),
            None => ServerUrl::from_str(DEFAULT_SERVER).map_err(CliError::failed)?,
        };
        if token_server == server {
            return found(t, TokenSource::ConfigFile(config_file()));
        }
        skipped_config = Some(token_server);
    }
    let owner_file = inputs.owner_token_path.clone().unwrap_or_default();
    if server.is_loopback() {
        match &inputs.owner_token {
            Some(Ok(text)) => return found(text, TokenSource::OwnerTokenFile(owner_file)),
            Some(Err(e)) => {
                return Err(CliError::new(
                    ExitKind::Auth,
                    format!("cannot read the owner token {}: {e}", owner_file.display()),
                )
                .with_hint("run carnet as the user that runs carnetd, or set CARNET_TOKEN, or run `carnet login --server URL`"));
            }
            None => {}
        }
    }
    let mut hint = format!(
        "set CARNET_TOKEN, or run `carnet login --server {server}` to save it in {}",
        config_file().display()
    );
    if server.is_loopback() {
        hint.push_str(&format!(
            ", or start carnetd here: it writes {}",
            owner_file.display()
        ));
    }
    if let Some(other) = skipped_config {
        hint.push_str(&format!(
            " (the token in {} is for {other})",
            config_file().display()
        ));
    }
    Err(CliError::new(ExitKind::Auth, format!("no owner token for {server}")).with_hint(hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            config_path: Some("/home/me/.config/carnet/config.toml".into()),
            owner_token_path: Some("/home/me/.local/share/carnet/owner.token".into()),
            ..Inputs::default()
        }
    }

    fn url(s: &str) -> ServerUrl {
        s.parse().unwrap()
    }

    fn config(server: Option<&str>, token: Option<&str>) -> Option<ConfigFile> {
        Some(ConfigFile {
            server: server.map(Into::into),
            token: token.map(Into::into),
        })
    }

    #[test]
    fn env_token_comes_first_then_config_then_owner_token_file() {
        let mut i = inputs();
        i.env_token = Some("from-env".into());
        i.config = config(Some("http://127.0.0.1:8787"), Some("from-config"));
        i.owner_token = Some(Ok("from-file\n".into()));
        let f = discover(&i).unwrap();
        assert_eq!((f.token.expose(), f.source), ("from-env", TokenSource::Env));

        i.env_token = None;
        let f = discover(&i).unwrap();
        assert_eq!(f.token.expose(), "from-config");
        assert!(matches!(f.source, TokenSource::ConfigFile(_)));

        i.config = None;
        let f = discover(&i).unwrap();
        assert_eq!(f.token.expose(), "from-file");
        assert!(matches!(f.source, TokenSource::OwnerTokenFile(_)));
        assert_eq!(f.server.to_string(), DEFAULT_SERVER);
    }

    #[test]
    fn server_flag_beats_config_which_beats_the_default() {
        let mut i = inputs();
        i.env_token = Some("t".into());
        assert_eq!(discover(&i).unwrap().server.to_string(), DEFAULT_SERVER);
        i.config = config(Some("https://carnet.example.net/"), None);
        assert_eq!(
            discover(&i).unwrap().server.to_string(),
            "https://carnet.example.net"
        );
        i.server_flag = Some(url("http://localhost:9000"));
        assert_eq!(
            discover(&i).unwrap().server.to_string(),
            "http://localhost:9000"
        );
    }

    #[test]
    fn a_config_token_only_goes_to_its_own_server() {
        let mut i = inputs();
        i.config = config(Some("https://carnet.example.net"), Some("remote-token"));
        i.server_flag = Some(url("https://other.example.org"));
        let e = discover(&i).unwrap_err();
        assert_eq!(e.kind, ExitKind::Auth);
        assert!(
            e.hint
                .unwrap()
                .contains("is for https://carnet.example.net")
        );
        // Same server spelt differently still matches.
        i.server_flag = Some(url("HTTPS://Carnet.Example.NET:443/"));
        assert_eq!(discover(&i).unwrap().token.expose(), "remote-token");
        // A config without a server holds a token for the default server.
        i.config = config(None, Some("local-token"));
        i.server_flag = None;
        assert_eq!(discover(&i).unwrap().token.expose(), "local-token");
    }

    #[test]
    fn owner_token_file_is_only_sent_to_this_machine() {
        let mut i = inputs();
        i.owner_token = Some(Ok("from-file".into()));
        i.server_flag = Some(url("https://carnet.example.net"));
        let e = discover(&i).unwrap_err();
        assert_eq!(e.message, "no owner token for https://carnet.example.net");
        assert!(!e.hint.unwrap().contains("owner.token"));
        for local in [
            "http://localhost:1",
            "http://[::1]:8787",
            "http://127.0.0.2:80",
        ] {
            i.server_flag = Some(url(local));
            assert_eq!(discover(&i).unwrap().token.expose(), "from-file", "{local}");
        }
    }

    #[test]
    fn missing_or_broken_tokens_say_where_to_look() {
        let e = discover(&inputs()).unwrap_err();
        assert_eq!(e.kind, ExitKind::Auth);
        assert_eq!(e.message, "no owner token for http://127.0.0.1:8787");
        let hint = e.hint.unwrap();
        assert!(hint.contains("CARNET_TOKEN"), "{hint}");
        assert!(
            hint.contains("carnet login --server http://127.0.0.1:8787"),
            "{hint}"
        );
        assert!(
            hint.contains("/home/me/.local/share/carnet/owner.token"),
            "{hint}"
        );

        let mut i = inputs();
        i.owner_token = Some(Err("permission denied".into()));
        let e = discover(&i).unwrap_err();
        assert!(e.message.contains("permission denied"), "{}", e.message);

        i.env_token = Some("two words".into());
        let e = discover(&i).unwrap_err();
        assert!(e.message.contains("CARNET_TOKEN"), "{}", e.message);
    }

    #[test]
    fn server_urls_are_checked_and_joined_under_their_path() {
        assert!("127.0.0.1:8787".parse::<ServerUrl>().is_err());
        assert!("ftp://x".parse::<ServerUrl>().is_err());
        assert!("https://u:p@x".parse::<ServerUrl>().is_err());
        assert!("https://x/?a=b".parse::<ServerUrl>().is_err());
        let u = url("https://proxy.example.net/carnet/");
        assert_eq!(
            u.endpoint("/v1/vendors").as_str(),
            "https://proxy.example.net/carnet/v1/vendors"
        );
        assert!(url("http://example.net").is_cleartext_remote());
        assert!(!url("http://127.0.0.1:8787").is_cleartext_remote());
    }

    #[test]
    fn tokens_are_one_line_and_never_debug_printed() {
        let t = Token::parse("abc_DEF-123\n").unwrap();
        assert_eq!(t.expose(), "abc_DEF-123");
        assert_eq!(format!("{t:?}"), "Token(redacted)");
        assert!(Token::parse("\n").is_err());
    }

    #[test]
    fn config_is_written_private_and_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("carnet").join("config.toml");
        let c = ConfigFile {
            server: Some("http://127.0.0.1:8787".into()),
            token: Some("t0k".into()),
        };
        save_config(&path, &c).unwrap();
        save_config(&path, &c).unwrap();
        assert_eq!(read_config(&path).unwrap(), Some(c));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
