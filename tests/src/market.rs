//! A market for end-to-end tests: a real nats-server with JetStream, an operator key, a signed
//! directory of vendors whose key files are written (as `carnet-vendor keygen` writes them),
//! the environment that points a real carnetd at it, and the `carnet-vendor` tool. With
//! `start_with_consent`, the relay runs `carnet-market nats-config`'s configuration and every
//! client uses the credentials the operator's commands issue (carnetd as vault host `v1`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use carnet_market::directory::Directory;
use carnet_market::keys::{SigningKey, VendorKeys};
use carnet_market::testing::{NatsServer, directory_vendor_with_keys};
use carnet_market::{creds, nats_config, relay};
use chrono::{Duration, Utc};
use tempfile::TempDir;

use crate::{Carnetd, binary};

/// The region carnetd announces in, in these tests.
pub const REGION: &str = "FR-75";

/// A relay, its operator and its directory's vendors.
pub struct Market {
    pub nats: NatsServer,
    pub files: TempDir,
    pub operator: SigningKey,
    /// The signed directory file carnetd reads.
    pub directory: PathBuf,
    /// Consent at the transport: credentials in `files` (`admin.creds`, `vault.creds`,
    /// `<vendor>.creds`), used by carnetd, `carnet-vendor` and this helper alike.
    pub consent: bool,
}

/// The vault host carnetd is on a relay with consent at the transport.
pub const HOST: &str = "v1";

impl Market {
    /// A relay and a directory of `vendors` (id, categories), each with a key file.
    pub fn start(vendors: &[(&str, &[&str])]) -> Market {
        Self::start_with(vendors, false)
    }

    /// The same on a relay with consent at the transport: nats-server runs the configuration
    /// `carnet-market nats-config` makes, the streams are created with the admin's credentials,
    /// and carnetd (vault host `HOST`) and each vendor get theirs.
    pub fn start_with_consent(vendors: &[(&str, &[&str])]) -> Market {
        Self::start_with(vendors, true)
    }

    fn start_with(vendors: &[(&str, &[&str])], consent: bool) -> Market {
        let files = tempfile::tempdir().expect("temp dir");
        let operator = SigningKey::generate();
        let mut d = Directory::empty(Utc::now());
        for (id, categories) in vendors {
            let keys = VendorKeys::generate();
            keys.write_new(&files.path().join(format!("{id}.key")))
                .expect("vendor key file");
            let mut v = directory_vendor_with_keys(
                id,
                &keys.signing.verifying_key().to_string(),
                &keys.identity.recipient().to_string(),
            );
            v.categories = categories
                .iter()
                .map(|c| c.parse().expect("category"))
                .collect();
            d.add_vendor(v).expect("add vendor");
        }
        let directory = files.path().join("directory.json");
        let signed = d.sign(&operator, Utc::now(), Duration::days(30));
        signed.write(&directory).expect("write directory");
        let nats = if consent {
            let d = carnet_market::directory::verify(
                &std::fs::read(&directory).expect("directory"),
                &operator.verifying_key(),
                Utc::now(),
                None,
            )
            .expect("signed directory");
            Self::issue_all(&operator, &d, files.path());
            let nats = NatsServer::with_config(|port, store| {
                let settings = nats_config::ServerSettings {
                    listen: format!("127.0.0.1:{port}"),
                    store_dir: store.display().to_string(),
                };
                nats_config::render(&operator, &d, &settings, Utc::now()).expect("nats-config")
            });
            Self::create_streams(&nats.url(), &files.path().join("admin.creds"));
            nats
        } else {
            NatsServer::start()
        };
        Market {
            nats,
            files,
            operator,
            directory,
            consent,
        }
    }

    /// What `carnet-market admin-user`, `vault-user --id v1` and `vendor-user --id ID` write.
    fn issue_all(operator: &SigningKey, d: &Directory, dir: &Path) {
        let now = Utc::now();
        creds::issue_admin(operator, &dir.join("admin.creds"), now).expect("admin creds");
        let host = HOST.parse().expect("host");
        creds::issue_vault(operator, &host, &dir.join("vault.creds"), now).expect("vault creds");
        for v in &d.vendors {
            creds::issue_vendor(operator, v, &dir.join(format!("{}.creds", v.id)), now)
                .expect("vendor creds");
        }
    }

    /// `carnet-market streams` with the admin's credentials (vault hosts may not make them).
    fn create_streams(url: &str, admin: &Path) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let client = relay::connect(&Self::options(url, Some(admin.to_owned())))
                .await
                .expect("admin connects");
            let js = async_nats::jetstream::new(client);
            let age = std::time::Duration::from_secs(90 * 86_400);
            relay::ensure_streams(&js, relay::StreamSettings::for_longest_window(age))
                .await
                .expect("streams");
        });
    }

    fn options(url: &str, creds: Option<PathBuf>) -> relay::RelayOptions {
        relay::RelayOptions {
            url: url.to_owned(),
            creds,
            name: "carnet-tests".into(),
            wait_for_relay: false,
            inbox_prefix: None,
        }
    }

    /// The credentials file of `who` (`admin`, `vault`, or a vendor id), on a consent relay.
    pub fn creds_file(&self, who: &str) -> PathBuf {
        self.files.path().join(format!("{who}.creds"))
    }

    /// The environment that points carnetd at this market.
    pub fn carnetd_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CARNET_RELAY_URL", self.nats.url()),
            (
                "CARNET_RELAY_DIRECTORY",
                self.directory.display().to_string(),
            ),
            (
                "CARNET_RELAY_DIRECTORY_KEY",
                self.operator.verifying_key().to_string(),
            ),
            ("CARNET_RELAY_REGION", REGION.into()),
        ]
        .into_iter()
        .chain(self.consent.then(|| {
            (
                "CARNET_RELAY_CREDS_FILE",
                self.creds_file("vault").display().to_string(),
            )
        }))
        .collect()
    }

    /// A real carnetd on `data_dir`, with this market; returns once it listens.
    pub fn carnetd(&self, data_dir: &Path) -> Carnetd {
        self.try_carnetd(data_dir, &[])
            .expect("carnetd with a relay")
    }

    /// The same with `extra` environment (`CARNET_RELAY_HOST`, …); its log if it exits.
    pub fn try_carnetd(&self, data_dir: &Path, extra: &[(&str, &str)]) -> Result<Carnetd, String> {
        let env = self.carnetd_env();
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.extend_from_slice(extra);
        Carnetd::start(data_dir, &env)
    }

    /// Vendor `id`'s key file.
    pub fn key_file(&self, id: &str) -> PathBuf {
        self.files.path().join(format!("{id}.key"))
    }

    /// Vendor `id`'s state directory (`--state`).
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.files.path().join(format!("{id}-state"))
    }

    /// `carnet-vendor VERB --relay … --key … --id ID --state … ARGS…`, run to its end.
    pub fn vendor(&self, verb: &str, id: &str, args: &[&str]) -> Output {
        self.vendor_command(verb, id, args)
            .stdin(Stdio::null())
            .output()
            .expect("run carnet-vendor")
    }

    /// The same, started in the background with its stdout piped (a `listen`).
    pub fn vendor_spawn(&self, verb: &str, id: &str, args: &[&str]) -> Child {
        self.vendor_command(verb, id, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start carnet-vendor")
    }

    /// `carnet-vendor listen --json --count N ARGS…` as vendor `id`: the `count` announcements it
    /// prints. Fails the test when they do not all come within a minute (the listener is killed).
    pub fn listen(&self, id: &str, count: usize, args: &[&str]) -> Vec<serde_json::Value> {
        let n = count.to_string();
        let mut all = vec!["--json", "--count", &n];
        all.extend_from_slice(args);
        let mut child = self.vendor_spawn("listen", id, &all);
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut heard = Vec::new();
        while heard.len() < count {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => heard.push(
                    serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("listen printed non-JSON ({e}): {line}")),
                ),
                Err(_) => {
                    let _ = child.kill();
                    let out = child.wait_with_output().expect("listener output");
                    panic!(
                        "{id} heard {} of {count} announcements within a minute: {heard:?}\nstderr: {}",
                        heard.len(),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
        let status = child.wait().expect("listener exit");
        assert!(status.success(), "listen exited with {status}");
        heard
    }

    /// Every message the relay's `INTENTS` stream holds, as (subject, headers, body) text.
    pub fn intents_on_the_relay(&self) -> Vec<(String, String, String)> {
        self.with_jetstream(|js| async move {
            let mut stream = js
                .get_stream(carnet_market::relay::INTENTS_STREAM)
                .await
                .expect("INTENTS stream");
            let last = stream
                .info()
                .await
                .expect("stream info")
                .state
                .last_sequence;
            let mut out = Vec::new();
            for seq in 1..=last {
                if let Ok(m) = stream.get_raw_message(seq).await {
                    let headers = m
                        .headers
                        .iter()
                        .map(|(k, v)| format!("{k}: {v:?}"))
                        .collect::<Vec<_>>()
                        .join("\n");
                    out.push((
                        m.subject.to_string(),
                        headers,
                        String::from_utf8_lossy(&m.payload).into_owned(),
                    ));
                }
            }
            out
        })
    }

    /// Publishes `body` on `subject` as anyone allowed on the relay could (a replay, a forgery),
    /// with `msg_id` as its `Nats-Msg-Id` (none when empty: JetStream then keeps every copy);
    /// returns once JetStream stored it.
    pub fn publish_raw(&self, subject: &str, msg_id: &str, body: &[u8]) {
        self.with_jetstream(|js| async move {
            let mut headers = async_nats::HeaderMap::new();
            if !msg_id.is_empty() {
                headers.insert(carnet_market::wire::MSG_ID_HEADER, msg_id);
            }
            let ack = js
                .publish_with_headers(subject.to_owned(), headers, body.to_vec().into())
                .await
                .expect("publish")
                .await
                .expect("PubAck");
            assert!(!ack.duplicate, "{msg_id} was already on the relay");
        });
    }

    /// Runs `f` with a JetStream client of this relay, to its end.
    pub fn with_jetstream<F, T>(&self, f: impl FnOnce(async_nats::jetstream::Context) -> F) -> T
    where
        F: std::future::Future<Output = T>,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let creds = self.consent.then(|| self.creds_file("admin"));
        runtime.block_on(async {
            let client = relay::connect(&Self::options(&self.nats.url(), creds))
                .await
                .expect("connect");
            f(async_nats::jetstream::new(client)).await
        })
    }

    fn vendor_command(&self, verb: &str, id: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary("carnet-vendor"));
        cmd.arg(verb)
            .arg("--relay")
            .arg(self.nats.url())
            .arg("--key")
            .arg(self.key_file(id))
            .args(["--id", id])
            .arg("--state")
            .arg(self.state_dir(id));
        if self.consent {
            cmd.arg("--creds").arg(self.creds_file(id));
        }
        cmd.args(args).env_remove("XDG_STATE_HOME");
        cmd
    }
}

/// The benches' baseline stream: `BARE` on `bare.>`, file storage, nothing else set (what bare
/// async-nats is measured with, beside the relay's own streams on the same nats-server).
pub async fn bare_stream(
    js: &async_nats::jetstream::Context,
) -> async_nats::jetstream::stream::Stream {
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "BARE".into(),
        subjects: vec!["bare.>".into()],
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .expect("the BARE stream")
}
