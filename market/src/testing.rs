//! For tests only (the `test-support` feature): a real `nats-server -js` on a free loopback port
//! with a temporary store, as nats.rs's own tests start one, ready once a client connection reads
//! its INFO line. Shared by this crate's tests and carnetd's end-to-end tests. It never skips: a
//! machine without nats-server fails the test with the command that installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::directory::{AcceptedTerms, DirectoryVendor};
use crate::keys::VendorKeys;

/// A nats-server with JetStream, killed when dropped.
pub struct NatsServer {
    child: Child,
    port: u16,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// Starts one. Fails (never skips) when nats-server is not installed.
    pub fn start() -> NatsServer {
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
            let mut child = Command::new("nats-server")
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(store.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if wait_ready(&mut child, port) {
                return NatsServer {
                    child,
                    port,
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
        self.child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self._store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            wait_ready(&mut self.child, self.port),
            "nats-server did not start again on port {}",
            self.port
        );
    }
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
