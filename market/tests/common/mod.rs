//! Test helpers: a real `nats-server -js` on a free loopback port with a temporary store (as
//! nats.rs's own tests start one), ready once a client connection reads its INFO line; a
//! publisher standing in for the vault; and `carnet-vendor` run as a process.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use async_nats::jetstream;
use carnet_market::relay::{self, StreamSettings};
pub use carnet_market::testing::NatsServer;
use carnet_market::wire::Event;
use carnet_market::wire::announcement::{Body, IntentKeys, PublicFields, Publication, Window};
use chrono::{DateTime, Utc};

/// A JetStream context on `server`, with the relay's streams created.
pub async fn relay_with_streams(server: &NatsServer) -> jetstream::Context {
    let client = async_nats::connect(server.url()).await.unwrap();
    let js = jetstream::new(client);
    relay::ensure_streams(
        &js,
        StreamSettings::for_longest_window(Duration::from_secs(90 * 86_400)),
    )
    .await
    .unwrap();
    js
}

/// Publishes like the vault does, waiting for the PubAck; returns whether it was a duplicate.
pub async fn publish(js: &jetstream::Context, p: &Publication) -> bool {
    relay::publish(js, p, Duration::from_secs(10))
        .await
        .unwrap()
        .duplicate
}

/// Publishes the same body with no header at all (an attacker replaying captured bytes, which
/// JetStream cannot de-duplicate).
pub async fn replay_bare(js: &jetstream::Context, p: &Publication) {
    js.publish(p.subject.clone(), p.body.clone().into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// An announcement of `keys`' intent, in `category`, region FR-75, valid a week.
pub fn announce(
    keys: &IntentKeys,
    revision: u64,
    event: Event,
    category: &str,
    title: &str,
) -> Publication {
    let now = Utc::now();
    keys.announce(
        revision,
        event,
        category.parse().unwrap(),
        "FR-75".parse().unwrap(),
        window(now),
        Body::Public(PublicFields {
            title: Some(title.into()),
            ..PublicFields::default()
        }),
        now,
    )
    .unwrap()
}

pub fn window(now: DateTime<Utc>) -> Window {
    Window {
        valid_from: now - chrono::Duration::hours(1),
        valid_through: now + chrono::Duration::days(7),
    }
}

/// The `carnet-vendor` binary of this build.
pub fn vendor_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carnet-vendor"))
}

/// The `carnet-market` binary of this build.
pub fn market_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carnet-market"))
}

/// A vendor's key file and state directory.
pub struct Vendor {
    pub id: String,
    pub dir: tempfile::TempDir,
}

impl Vendor {
    /// Makes the vendor's keys with `carnet-vendor keygen` and returns it with its public keys.
    pub fn new(id: &str) -> (Vendor, serde_json::Value) {
        let dir = tempfile::tempdir().unwrap();
        let out = vendor_cmd()
            .args(["keygen", "--json", "--out"])
            .arg(dir.path().join("vendor.key"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let public = serde_json::from_slice(&out.stdout).unwrap();
        (Vendor { id: id.into(), dir }, public)
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("vendor.key")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// `carnet-vendor SUBCOMMAND --relay URL --key … --id … --state …` followed by `rest`.
    pub fn cmd(&self, subcommand: &str, server: &NatsServer, rest: &[&str]) -> Command {
        let mut c = vendor_cmd();
        c.arg(subcommand)
            .args(["--relay", &server.url(), "--id", &self.id, "--key"])
            .arg(self.key())
            .arg("--state")
            .arg(self.state())
            .args(rest);
        c
    }

    /// Whether the state recorded `intent_ref`.
    pub fn recorded(&self, intent_ref: &str) -> bool {
        self.state()
            .join("intents")
            .join(format!("{intent_ref}.json"))
            .exists()
    }
}

/// Runs `cmd` to its end, failing the test if it takes longer than `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child, limit)
}

/// Waits for `child` to end (at most `limit`: then it is killed and the test fails).
pub fn finish(mut child: Child, limit: Duration) -> Output {
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        stderr.read_to_end(&mut b).unwrap();
        b
    });
    let mut out = wait_output(child, limit);
    out.stderr = err_reader.join().unwrap();
    out
}

/// Waits for `child` (whose stderr another thread reads) to end, at most `limit`, and returns its
/// status and stdout.
fn wait_output(mut child: Child, limit: Duration) -> Output {
    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        stdout.read_to_end(&mut b).unwrap();
        b
    });
    let pid = child.id();
    let waiter = std::thread::spawn(move || {
        let status = child.wait().unwrap();
        let _ = tx.send(());
        status
    });
    if rx.recv_timeout(limit).is_err() {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        let out = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
        panic!("process did not end within {limit:?}; stdout:\n{out}");
    }
    Output {
        status: waiter.join().unwrap(),
        stdout: out_reader.join().unwrap(),
        stderr: Vec::new(),
    }
}

/// Starts `cmd` and returns once a line of its stderr contains `marker`; the rest of stderr is
/// collected and handed back by `finish_started`.
pub fn start_until(mut cmd: Command, marker: &str) -> Started {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let marker = marker.to_owned();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut told = false;
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if !told && line.contains(&marker) {
                let _ = tx.send(());
                told = true;
            }
        }
        seen
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the process never printed its marker line");
    Started { child, reader }
}

pub struct Started {
    child: Child,
    reader: std::thread::JoinHandle<String>,
}

impl Started {
    /// Waits for the process's end; returns its stdout and all of its stderr.
    pub fn finish(self, limit: Duration) -> (Output, String) {
        let out = wait_output(self.child, limit);
        (out, self.reader.join().unwrap())
    }
}

/// The JSON lines of a listener's stdout.
pub fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
