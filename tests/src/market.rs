//! A market for end-to-end tests: a real nats-server with JetStream, an operator key, a signed
//! directory of vendors whose key files are written (as `carnet-vendor keygen` writes them),
//! the environment that points a real carnetd at it, and the `carnet-vendor` tool.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use carnet_market::directory::Directory;
use carnet_market::keys::{SigningKey, VendorKeys};
use carnet_market::testing::{NatsServer, directory_vendor_with_keys};
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
}

impl Market {
    /// A relay and a directory of `vendors` (id, categories), each with a key file.
    pub fn start(vendors: &[(&str, &[&str])]) -> Market {
        let nats = NatsServer::start();
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
        d.sign(&operator, Utc::now(), Duration::days(30))
            .write(&directory)
            .expect("write directory");
        Market {
            nats,
            files,
            operator,
            directory,
        }
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
    }

    /// A real carnetd on `data_dir`, with this market; returns once it listens.
    pub fn carnetd(&self, data_dir: &Path) -> Carnetd {
        let env = self.carnetd_env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Carnetd::start(data_dir, &env).expect("carnetd with a relay")
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

    fn vendor_command(&self, verb: &str, id: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary("carnet-vendor"));
        cmd.arg(verb)
            .arg("--relay")
            .arg(self.nats.url())
            .arg("--key")
            .arg(self.key_file(id))
            .args(["--id", id])
            .arg("--state")
            .arg(self.state_dir(id))
            .args(args)
            .env_remove("XDG_STATE_HOME");
        cmd
    }
}
