//! For tests only (the `test-support` feature): a real `nats-server -js` on a free loopback port
//! with a temporary store, as nats.rs's own tests start one, ready once a client connection reads
//! its INFO line, or one started with a given configuration (`with_config`). Shared by this crate's tests and carnetd's end-to-end tests. It never skips: a
//! machine without nats-server fails the test with the command that installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::directory::{AcceptedTerms, DirectoryVendor};
use crate::keys::VendorKeys;

/// A nats-server with JetStream, killed when dropped.
pub struct NatsServer {
    child: Child,
    port: u16,
    /// The configuration file it was started with (`with_config`), if any.
    config: Option<std::path::PathBuf>,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// Starts one, open to every client. Fails (never skips) when nats-server is not installed.
    pub fn start() -> NatsServer {
        Self::start_with(None::<fn(u16, &Path) -> String>)
    }

    /// Starts one with the configuration `make(port, store_dir)` returns (e.g. `carnet-market
    /// nats-config --listen 127.0.0.1:<port> --store-dir <store_dir>`'s).
    pub fn with_config(make: impl Fn(u16, &Path) -> String) -> NatsServer {
        Self::start_with(Some(make))
    }

    fn start_with(make: Option<impl Fn(u16, &Path) -> String>) -> NatsServer {
        match Command::new("nats-server").arg("--version").output() {
            Ok(o) if o.status.success() => {}
            _ => panic!(
                "nats-server is not installed, and the market relay tests need it: \
                 install it (sudo apt-get install -y nats-server) and run them again"
            ),
        }
        let store = tempfile::tempdir().unwrap();
        // A port found free may be taken before the server binds it: then it exits, and we
        // try another.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let config = make.as_ref().map(|make| {
                let path = store.path().join("nats.conf");
                std::fs::write(&path, make(port, &store.path().join("js"))).unwrap();
                path
            });
            let mut child = spawn(port, config.as_deref(), store.path());
            if wait_ready(&mut child, port) {
                return NatsServer {
                    child,
                    port,
                    config,
                    _store: store,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("nats-server did not start on a free loopback port");
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server process's id (for a bench reading its memory in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server (as a crash would), keeping its port and its store.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port with the same store, and waits until it is ready.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(self.port, self.config.as_deref(), self._store.path());
        assert!(
            wait_ready(&mut self.child, self.port),
            "nats-server did not start again on port {}",
            self.port
        );
    }
}

/// nats-server with `config` (which names its port and store), or open with JetStream on
/// `port` and `store`.
fn spawn(port: u16, config: Option<&Path>, store: &Path) -> Child {
    let mut command = Command::new("nats-server");
    match config {
        Some(path) => command.arg("-c").arg(path),
        None => command
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store),
    };
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ready when a connection reads the server's `INFO` line; false if the server exited.
fn wait_ready(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut line = String::new();
            if BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("INFO") {
                return true;
            }
        }
        // Retrying the connection, not waiting a fixed time for readiness.
        std::thread::yield_now();
    }
    false
}

/// A vendor of the market in `home.appliances` with fresh keys, named "`id` shop".
pub fn directory_vendor(id: &str) -> DirectoryVendor {
    let keys = VendorKeys::generate();
    directory_vendor_with_keys(
        id,
        &keys.signing.verifying_key().to_string(),
        &keys.identity.recipient().to_string(),
    )
}

/// A vendor of the market in `home.appliances` with these public keys (`carnet-vendor keygen`'s).
pub fn directory_vendor_with_keys(id: &str, ed25519: &str, x25519: &str) -> DirectoryVendor {
    DirectoryVendor {
        id: id.parse().unwrap(),
        name: format!("{id} shop"),
        website: Some("https://example.org".into()),
        ed25519: ed25519.into(),
        x25519: x25519.into(),
        categories: vec!["home.appliances".parse().unwrap()],
        terms: AcceptedTerms {
            retention_days: 30,
            no_resale: true,
            no_tracking: true,
        },
    }
}
