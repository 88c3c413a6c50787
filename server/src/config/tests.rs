//! Each key: its default, the file over it, the environment over the file, flags over both;
//! unknown keys and bad values refused with the key's name and where the value came from.

use std::collections::HashMap;
use std::ffi::OsString;

use super::*;

fn flags(dir: &Path) -> Overrides {
    Overrides {
        data_dir: Some(dir.to_owned()),
        ..Overrides::default()
    }
}

fn resolve(dir: &Path, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    resolve_with(flags(dir), env)
}

fn resolve_with(flags: Overrides, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: HashMap<String, OsString> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
        .collect();
    Config::resolve(flags, &|k| env.get(k).cloned())
}

fn write(dir: &Path, toml: &str) {
    std::fs::write(dir.join(CONFIG_FILE), toml).unwrap();
}

#[track_caller]
fn refused(dir: &Path, env: &[(&str, &str)], words: &[&str]) {
    let err = resolve(dir, env).unwrap_err().to_string();
    for w in words {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
}

#[test]
fn defaults_then_file_then_env_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.public_url, "http://127.0.0.1:8787");
    assert!(c.config_file.is_none());

    write(
        dir.path(),
        "listen = \"127.0.0.1:9000\"\npublic_url = \"https://vault.example.net/carnet\"\n",
    );
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(c.public_url, "https://vault.example.net/carnet");
    assert_eq!(c.config_file, Some(dir.path().join(CONFIG_FILE)));

    let env = [("CARNET_LISTEN", "127.0.0.1:9050")];
    let c = resolve(dir.path(), &env).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:9050");
    assert_eq!(c.public_url, "https://vault.example.net/carnet");

    let mut o = flags(dir.path());
    o.listen = Some("127.0.0.1:9100".parse().unwrap());
    assert_eq!(
        resolve_with(o, &env).unwrap().listen.to_string(),
        "127.0.0.1:9100"
    );
}

#[test]
fn the_data_dir_and_config_file_come_from_flags_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let elsewhere = other.path().join("elsewhere.toml");
    std::fs::write(&elsewhere, "jurisdiction = \"FR\"\n").unwrap();
    let env = [
        ("CARNET_DATA_DIR", dir.path().to_str().unwrap()),
        ("CARNET_CONFIG", elsewhere.to_str().unwrap()),
    ];
    let c = resolve_with(Overrides::default(), &env).unwrap();
    assert_eq!(c.data_dir, dir.path());
    assert_eq!(c.jurisdiction, "FR");
    assert_eq!(c.config_file.as_deref(), Some(elsewhere.as_path()));
    // An explicit file may name the data directory; the flag still wins.
    std::fs::write(&elsewhere, format!("data_dir = {:?}\n", other.path())).unwrap();
    let c = resolve_with(Overrides::default(), &env[1..]).unwrap();
    assert_eq!(c.data_dir, other.path());
    let c = resolve_with(flags(dir.path()), &env[1..]).unwrap();
    assert_eq!(c.data_dir, dir.path());
    // The data directory's own file cannot point somewhere else.
    write(dir.path(), &format!("data_dir = {:?}\n", other.path()));
    refused(dir.path(), &[], &["data_dir", CONFIG_FILE, "--config"]);
}

#[test]
fn access_token_ttl_layers_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(resolve(dir.path(), &[]).unwrap().access_token_ttl, 3600);
    write(dir.path(), "access_token_ttl = 600\n");
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(c.access_token_ttl, 600);
    assert_eq!(c.settings().access_token_ttl, chrono::Duration::minutes(10));
    let env = [("CARNET_ACCESS_TOKEN_TTL", "900")];
    assert_eq!(resolve(dir.path(), &env).unwrap().access_token_ttl, 900);

    refused(
        dir.path(),
        &[("CARNET_ACCESS_TOKEN_TTL", "59")],
        &["access_token_ttl", "CARNET_ACCESS_TOKEN_TTL", "60 to 86400"],
    );
    refused(
        dir.path(),
        &[("CARNET_ACCESS_TOKEN_TTL", "an hour")],
        &["access_token_ttl", "CARNET_ACCESS_TOKEN_TTL", "an hour"],
    );
    write(dir.path(), "access_token_ttl = 86401\n");
    refused(dir.path(), &[], &["access_token_ttl", CONFIG_FILE]);
    // A bad file value is refused even when the environment overrides it.
    refused(dir.path(), &env, &["access_token_ttl", CONFIG_FILE]);
    write(dir.path(), "access_token_ttl = \"1h\"\n");
    refused(dir.path(), &[], &["access_token_ttl"]);
}

#[test]
fn app_idle_timeout_layers_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(c.app_idle_timeout, 8 * 3600);
    assert_eq!(c.settings().app_idle_timeout, chrono::Duration::hours(8));
    write(dir.path(), "app_idle_timeout = 900\n");
    assert_eq!(
        resolve(dir.path(), &[])
            .unwrap()
            .settings()
            .app_idle_timeout,
        chrono::Duration::minutes(15)
    );
    let env = [("CARNET_APP_IDLE_TIMEOUT", "3600")];
    assert_eq!(resolve(dir.path(), &env).unwrap().app_idle_timeout, 3600);
    refused(
        dir.path(),
        &[("CARNET_APP_IDLE_TIMEOUT", "59")],
        &[
            "app_idle_timeout",
            "CARNET_APP_IDLE_TIMEOUT",
            "60 to 2592000",
        ],
    );
}

#[test]
fn max_live_tokens_layers_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(c.max_live_tokens, 10_000);
    assert_eq!(c.settings().max_live_tokens, 10_000);
    write(dir.path(), "max_live_tokens = 500\n");
    assert_eq!(resolve(dir.path(), &[]).unwrap().max_live_tokens, 500);
    let env = [("CARNET_MAX_LIVE_TOKENS", "20000")];
    let c = resolve(dir.path(), &env).unwrap();
    assert_eq!(c.settings().max_live_tokens, 20_000);
    assert!(c.to_toml().unwrap().contains("max_live_tokens = 20000"));

    refused(
        dir.path(),
        &[("CARNET_MAX_LIVE_TOKENS", "0")],
        &["max_live_tokens", "CARNET_MAX_LIVE_TOKENS", "1 to 10000000"],
    );
    refused(
        dir.path(),
        &[("CARNET_MAX_LIVE_TOKENS", "lots")],
        &["max_live_tokens", "CARNET_MAX_LIVE_TOKENS", "lots"],
    );
    write(dir.path(), "max_live_tokens = 10000001\n");
    refused(dir.path(), &[], &["max_live_tokens", CONFIG_FILE]);
}

#[test]
fn document_limits_layer_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!((c.document_max_mib, c.document_quota_mib), (25, 1024));
    let limits = c.settings().documents;
    assert_eq!((limits.max_bytes, limits.quota_bytes), (25 << 20, 1 << 30));
    write(
        dir.path(),
        "document_max_mib = 5\ndocument_quota_mib = 50\n",
    );
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!((c.document_max_mib, c.document_quota_mib), (5, 50));
    let env = [("CARNET_DOCUMENT_QUOTA_MIB", "2048")];
    let c = resolve(dir.path(), &env).unwrap();
    assert_eq!(c.settings().documents.quota_bytes, 2048 << 20);
    assert!(c.to_toml().unwrap().contains("document_quota_mib = 2048"));
    refused(
        dir.path(),
        &[("CARNET_DOCUMENT_MAX_MIB", "0")],
        &["document_max_mib", "CARNET_DOCUMENT_MAX_MIB", "1 to 4096"],
    );
    refused(
        dir.path(),
        &[("CARNET_DOCUMENT_QUOTA_MIB", "1G")],
        &["document_quota_mib", "not a whole number of MiB"],
    );
}

#[test]
fn refresh_token_ttl_layers_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(c.refresh_token_ttl, 2_592_000);
    assert_eq!(c.settings().refresh_token_ttl, chrono::Duration::days(30));
    write(dir.path(), "refresh_token_ttl = 86400\n");
    assert_eq!(resolve(dir.path(), &[]).unwrap().refresh_token_ttl, 86_400);
    let env = [("CARNET_REFRESH_TOKEN_TTL", "31536000")];
    assert_eq!(
        resolve(dir.path(), &env).unwrap().refresh_token_ttl,
        31_536_000
    );
    refused(
        dir.path(),
        &[("CARNET_REFRESH_TOKEN_TTL", "3599")],
        &[
            "refresh_token_ttl",
            "CARNET_REFRESH_TOKEN_TTL",
            "3600 to 31536000",
        ],
    );
    write(dir.path(), "refresh_token_ttl = 31536001\n");
    refused(dir.path(), &[], &["refresh_token_ttl", CONFIG_FILE]);
    write(dir.path(), "refresh_token_tll = 3600\n");
    refused(dir.path(), &[], &["refresh_token_tll"]);
}

#[test]
fn trusted_proxies_layers_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert!(c.trusted_proxies.is_empty());
    assert!(c.settings().trusted_proxies.is_empty());
    write(
        dir.path(),
        "trusted_proxies = [\"127.0.0.1\", \"10.1.2.3/8\", \"::1\", \"fd00::/8\"]\n",
    );
    let c = resolve(dir.path(), &[]).unwrap();
    let shown: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8"]);
    assert_eq!(c.settings().trusted_proxies, c.trusted_proxies);

    let env = [("CARNET_TRUSTED_PROXIES", " 192.168.1.0/24 , 172.17.0.1,")];
    let c = resolve(dir.path(), &env).unwrap();
    let shown: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["192.168.1.0/24", "172.17.0.1/32"]);

    refused(
        dir.path(),
        &[("CARNET_TRUSTED_PROXIES", "10.0.0.1,proxy.lan")],
        &["trusted_proxies", "CARNET_TRUSTED_PROXIES", "proxy.lan"],
    );
    write(dir.path(), "trusted_proxies = [\"10.0.0.300\"]\n");
    refused(dir.path(), &[], &["trusted_proxies", "10.0.0.300"]);
    write(dir.path(), "trusted_proxies = \"10.0.0.1\"\n");
    refused(dir.path(), &[], &["trusted_proxies"]);
    write(dir.path(), "trusted_proxy = [\"10.0.0.1\"]\n");
    refused(dir.path(), &[], &["trusted_proxy"]);
}

#[test]
fn open_registration_layers_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert!(!c.open_registration && !c.settings().open_registration);
    write(dir.path(), "open_registration = true\n");
    let c = resolve(dir.path(), &[]).unwrap();
    assert!(c.open_registration && c.settings().open_registration);
    for (value, want) in [
        ("false", false),
        ("0", false),
        ("TRUE", true),
        ("yes", true),
    ] {
        let env = [("CARNET_OPEN_REGISTRATION", value)];
        assert_eq!(resolve(dir.path(), &env).unwrap().open_registration, want);
    }
    refused(
        dir.path(),
        &[("CARNET_OPEN_REGISTRATION", "maybe")],
        &["open_registration", "CARNET_OPEN_REGISTRATION", "maybe"],
    );
    write(dir.path(), "open_registration = \"yes\"\n");
    refused(dir.path(), &[], &["open_registration"]);
    write(dir.path(), "open_registrations = true\n");
    refused(dir.path(), &[], &["open_registrations"]);
}

#[test]
fn log_settings_layers_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(
        (c.log_format, c.log_level.as_str()),
        (LogFormat::Pretty, "info")
    );
    write(dir.path(), "log_format = \"json\"\nlog_level = \"warn\"\n");
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(
        (c.log_format, c.log_level.as_str()),
        (LogFormat::Json, "warn")
    );
    let c = resolve(dir.path(), &[("CARNET_LOG", "debug")]).unwrap();
    assert_eq!(c.log_level, "debug");
    let env = [
        ("CARNET_LOG", "debug"),
        ("CARNET_LOG_LEVEL", "carnet_server=trace"),
        ("CARNET_LOG_FORMAT", "pretty"),
    ];
    let c = resolve(dir.path(), &env).unwrap();
    assert_eq!(
        (c.log_format, c.log_level.as_str()),
        (LogFormat::Pretty, "carnet_server=trace")
    );
    let mut o = flags(dir.path());
    o.log_format = Some(LogFormat::Json);
    assert_eq!(resolve_with(o, &env).unwrap().log_format, LogFormat::Json);

    refused(
        dir.path(),
        &[("CARNET_LOG_FORMAT", "xml")],
        &["log_format", "CARNET_LOG_FORMAT", "pretty or json"],
    );
    refused(
        dir.path(),
        &[("CARNET_LOG_LEVEL", "carnet_server=loud")],
        &["log_level", "CARNET_LOG_LEVEL"],
    );
    refused(
        dir.path(),
        &[("CARNET_LOG", "carnet_server=loud")],
        &["log_level", "environment variable CARNET_LOG)"],
    );
    write(dir.path(), "log_format = \"xml\"\n");
    refused(dir.path(), &[], &["log_format"]);
}

#[test]
fn jurisdiction_layers() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(resolve(dir.path(), &[]).unwrap().jurisdiction, "");
    write(dir.path(), "jurisdiction = \"FR\"\n");
    assert_eq!(resolve(dir.path(), &[]).unwrap().jurisdiction, "FR");
    let c = resolve(dir.path(), &[("CARNET_JURISDICTION", "DE")]).unwrap();
    assert_eq!(c.settings().jurisdiction, "DE");
    write(dir.path(), "juridiction = \"FR\"\n");
    refused(dir.path(), &[], &["juridiction"]);
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lisen = \"x\"\n");
    refused(dir.path(), &[], &["lisen"]);
    write(dir.path(), "listen = \"nowhere\"\n");
    refused(dir.path(), &[], &["listen"]);
    write(dir.path(), "public_url = \"vault\"\n");
    refused(dir.path(), &[], &["public_url", CONFIG_FILE]);
    std::fs::remove_file(dir.path().join(CONFIG_FILE)).unwrap();
    refused(
        dir.path(),
        &[("CARNET_LISTEN", "nowhere")],
        &["listen", "CARNET_LISTEN", "nowhere"],
    );
    refused(
        dir.path(),
        &[("CARNET_PUBLIC_URL", "ftp://vault")],
        &["public_url", "CARNET_PUBLIC_URL"],
    );
    let mut o = flags(dir.path());
    o.public_url = Some("vault".into());
    let err = resolve_with(o, &[]).unwrap_err().to_string();
    assert!(
        err.contains("public_url") && err.contains("--public-url"),
        "{err}"
    );
    // An empty variable is unset, not an empty value.
    assert_eq!(
        resolve(dir.path(), &[("CARNET_LISTEN", "")])
            .unwrap()
            .listen
            .to_string(),
        DEFAULT_LISTEN
    );
}

#[test]
fn printed_config_is_a_valid_config_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "trusted_proxies = [\"10.0.0.0/8\"]\nopen_registration = true\n\
         refresh_token_ttl = 7200\njurisdiction = \"FR\"\n",
    );
    let c = resolve(dir.path(), &[]).unwrap();
    let text = c.to_toml().unwrap();
    assert!(
        text.starts_with("# carnetd configuration; file read: "),
        "{text}"
    );
    for line in [
        "trusted_proxies = [\"10.0.0.0/8\"]",
        "open_registration = true",
        "refresh_token_ttl = 7200",
        "access_token_ttl = 3600",
        "log_level = \"info\"",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    let again: Layer = toml::from_str(&text).unwrap();
    assert_eq!(again.refresh_token_ttl, Some(7200));
    assert_eq!(again.trusted_proxies.unwrap()[0].0, c.trusted_proxies[0]);
}

#[test]
fn secrets_serialize_redacted() {
    #[derive(Serialize)]
    struct WithSecret {
        #[serde(serialize_with = "redacted")]
        token: String,
    }
    let text = toml::to_string(&WithSecret {
        token: "hunter2".into(),
    })
    .unwrap();
    assert_eq!(text.trim(), "token = \"(redacted)\"");
}

#[test]
fn connection_limits_layers_and_bounds() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(
        (c.header_read_timeout, c.idle_timeout, c.max_connections),
        (10, 60, 4096)
    );
    assert_eq!(
        c.settings().connections,
        crate::config::ConnectionLimits::default()
    );
    write(
        dir.path(),
        "header_read_timeout = 5\nidle_timeout = 30\nmax_connections = 200\n",
    );
    let c = resolve(dir.path(), &[]).unwrap();
    assert_eq!(
        c.settings().connections,
        crate::config::ConnectionLimits {
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_connections: 200,
        }
    );
    let env = [
        ("CARNET_HEADER_READ_TIMEOUT", "3"),
        ("CARNET_IDLE_TIMEOUT", "120"),
        ("CARNET_MAX_CONNECTIONS", "50000"),
    ];
    let c = resolve(dir.path(), &env).unwrap();
    let printed = c.to_toml().unwrap();
    for line in [
        "header_read_timeout = 3",
        "idle_timeout = 120",
        "max_connections = 50000",
    ] {
        assert!(printed.contains(line), "{line:?} not in {printed}");
    }

    refused(
        dir.path(),
        &[("CARNET_HEADER_READ_TIMEOUT", "0")],
        &[
            "header_read_timeout",
            "CARNET_HEADER_READ_TIMEOUT",
            "1 to 600",
        ],
    );
    refused(
        dir.path(),
        &[("CARNET_IDLE_TIMEOUT", "soon")],
        &["idle_timeout", "CARNET_IDLE_TIMEOUT", "soon"],
    );
    refused(
        dir.path(),
        &[("CARNET_MAX_CONNECTIONS", "2")],
        &["max_connections", "CARNET_MAX_CONNECTIONS", "16 to 1000000"],
    );
    write(dir.path(), "idle_timeout = 3601\n");
    refused(dir.path(), &[], &["idle_timeout", CONFIG_FILE]);
}

#[test]
fn every_key_printed_is_a_variable_carnetd_knows() {
    let dir = tempfile::tempdir().unwrap();
    let mut flags = flags(dir.path());
    flags.identity_file = Some(dir.path().join("id.txt"));
    let mut env = relay_env(OPERATOR_KEY);
    env.push(("CARNET_RELAY_HOST", "vault-7"));
    let printed = resolve_with(flags, &env).unwrap().to_toml().unwrap();
    let table: toml::Table = toml::from_str(&printed).unwrap();
    let mut printed_keys: Vec<&str> = table.keys().map(String::as_str).collect();
    let mut keys = KEYS.to_vec();
    printed_keys.sort_unstable();
    keys.sort_unstable();
    assert_eq!(printed_keys, keys);
    let names = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
    let known: Vec<&str> = ["CARNET_LOG", "CARNET_CONFIG", "CARNET_TOKEN", "HOME"]
        .into_iter()
        .collect();
    assert!(unknown_variables(names(&known)).is_empty());
    let all = KEYS.map(env_name);
    assert!(unknown_variables(all.iter().map(OsString::from)).is_empty());
    let warned = unknown_variables(names(&["CARNET_ACESS_TOKEN_TTL"]));
    assert_eq!(warned.len(), 1);
    assert!(
        warned[0].contains("did you mean CARNET_ACCESS_TOKEN_TTL?"),
        "{}",
        warned[0]
    );
}

/// `log_level` filters of the kinds README documents, none of which silences carnetd.
const FILTERS: [&str; 5] = [
    "info",
    "DEBUG",
    "carnet_server=debug,info",
    "carnet_core",
    "warn,hyper=off",
];
/// Filters that parse but silence carnetd: a word that is no level is read as a target.
const SILENT: [&str; 3] = ["verbose", "loud,carnet_server=debug", "INFOO"];

#[test]
fn log_levels_that_silence_carnetd_are_told_apart() {
    for silent in SILENT {
        assert!(log_level_warning(silent).is_some(), "{silent}");
    }
    for fine in FILTERS {
        assert_eq!(log_level_warning(fine), None, "{fine}");
    }
}

/// A valid operator key (`carnet-market keygen` prints one like it).
const OPERATOR_KEY: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn relay_env(key: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("CARNET_RELAY_URL", "nats://127.0.0.1:4222"),
        ("CARNET_RELAY_CREDS_FILE", "/etc/carnet/relay.creds"),
        (
            "CARNET_RELAY_DIRECTORY",
            "https://market.example.net/directory.json",
        ),
        ("CARNET_RELAY_DIRECTORY_KEY", key),
        ("CARNET_RELAY_REGION", "FR-75"),
    ]
}

#[test]
fn the_relay_is_off_unless_relay_url_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &[]).unwrap();
    assert!(c.relay.is_none());
    assert!(!c.to_toml().unwrap().contains("relay"));
    // Other relay keys alone do nothing, and carnetd says so.
    let c = resolve(dir.path(), &[("CARNET_RELAY_REGION", "FR")]).unwrap();
    assert!(c.relay.is_none());
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("relay_region") && w.contains("relay_url is not")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn the_relay_keys_come_from_the_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let c = resolve(dir.path(), &relay_env(OPERATOR_KEY)).unwrap();
    let r = c.relay.unwrap();
    assert_eq!(r.url, "nats://127.0.0.1:4222");
    assert_eq!(
        r.directory,
        DirectorySource::Url("https://market.example.net/directory.json".into())
    );
    assert_eq!(r.directory_key.to_string(), OPERATOR_KEY);
    assert_eq!(r.region.as_str(), "FR-75");
    write(
        dir.path(),
        &format!(
            "relay_url = \"nats://relay.example.net:4222\"\nrelay_directory = \"/srv/market/directory.json\"\nrelay_directory_key = \"{OPERATOR_KEY}\"\nrelay_region = \"DE\"\n"
        ),
    );
    let r = resolve(dir.path(), &[("CARNET_RELAY_REGION", "FR")])
        .unwrap()
        .relay
        .unwrap();
    assert_eq!(
        r.directory,
        DirectorySource::File("/srv/market/directory.json".into())
    );
    assert_eq!((r.region.as_str(), r.creds_file), ("FR", None));
}

#[test]
fn bad_relay_values_are_refused_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let with = |key: &'static str, value: &'static str| {
        let mut env = relay_env(OPERATOR_KEY);
        env.retain(|(k, _)| *k != key);
        env.push((key, value));
        env
    };
    refused(
        dir.path(),
        &with("CARNET_RELAY_URL", "http://127.0.0.1:4222"),
        &["relay_url", "CARNET_RELAY_URL", "nats://"],
    );
    refused(
        dir.path(),
        &with("CARNET_RELAY_DIRECTORY", "http://market.example.net/d.json"),
        &["relay_directory", "not https"],
    );
    refused(
        dir.path(),
        &with("CARNET_RELAY_DIRECTORY_KEY", "not-a-key"),
        &["relay_directory_key", "carnet-market keygen"],
    );
    refused(
        dir.path(),
        &with("CARNET_RELAY_REGION", "fr-paris"),
        &["relay_region", "FR-75"],
    );
    refused(
        dir.path(),
        &with("CARNET_RELAY_HOST", "vault.7"),
        &["relay_host", "CARNET_RELAY_HOST", "lower-case letters"],
    );
    let host = resolve(dir.path(), &with("CARNET_RELAY_HOST", "vault-7"))
        .unwrap()
        .relay
        .unwrap()
        .host;
    assert_eq!(host.map(|h| h.to_string()), Some("vault-7".into()));
    for (missing, words) in [
        ("CARNET_RELAY_DIRECTORY", "relay_directory is needed"),
        (
            "CARNET_RELAY_DIRECTORY_KEY",
            "relay_directory_key is needed",
        ),
        ("CARNET_RELAY_REGION", "relay_region is needed"),
    ] {
        let mut env = relay_env(OPERATOR_KEY);
        env.retain(|(k, _)| *k != missing);
        refused(dir.path(), &env, &[words, "relay_url is set"]);
    }
}

/// The filters README documents for `log_level` are accepted; EnvFilter's span directives,
/// which carnetd's filter does not read, are refused with the key's name rather than ignored.
#[test]
fn log_level_filters_are_targets_and_levels() {
    for fine in FILTERS.into_iter().chain(SILENT) {
        assert_eq!(super::check_filter(fine), Ok(()), "{fine}");
    }
    for refused in ["carnet_server=loud", "[request]=debug", "info,[{id}]=trace"] {
        let message = super::check_filter(refused).unwrap_err();
        assert!(
            message.contains("not a tracing filter"),
            "{refused}: {message}"
        );
    }
}
