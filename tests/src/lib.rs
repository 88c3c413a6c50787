//! Helpers for Carnet's end-to-end tests: a carnetd served in-process on port 0
//! (`TestServer`), a real `carnetd` process (`Carnetd`) for what needs one (SIGKILL, start-up
//! errors, logs), and the `carnet` CLI run as a process against either. Every helper is ready
//! when it returns: nothing sleeps to wait for readiness.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use carnet_core::clock::{Clock, ManualClock, SystemClock};
use carnet_core::store::Synchronous;
use carnet_core::vault::VaultPaths;
use carnet_server::{OpenOptions, Server, Settings, serve};
use serde_json::Value;
use tempfile::TempDir;

pub use bins::binary;

mod bins;
pub mod browser;
pub mod intents;
pub mod load;
pub mod market;
pub mod market_sim;
pub mod memory;
pub mod ntfy;
pub mod oauth2_http;
pub mod served;
pub mod smtp;
pub mod vendor;
pub mod webapp;
pub mod webdriver;
pub mod webhook;
pub mod writers;

static RUSTLS: Once = Once::new();

/// A blocking HTTP client that never follows redirects.
pub fn http() -> reqwest::blocking::Client {
    RUSTLS.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// A response, read in full.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn from(r: reqwest::blocking::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().expect("response body");
        Resp {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        let p = self.json();
        assert_eq!(p["status"], status);
        assert!(p["title"].is_string() && p["detail"].is_string(), "{p}");
        p
    }
}

/// Talks to a carnetd over HTTP with its owner token.
pub trait Api {
    fn base(&self) -> &str;
    fn token(&self) -> String;

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = http()
            .request(method, self.url(path))
            .bearer_auth(self.token());
        if let Some(b) = body {
            req = req.json(b);
        }
        Resp::from(req.send().expect("request"))
    }

    fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None)
    }
    fn post(&self, path: &str, body: &Value) -> Resp {
        self.send("POST", path, Some(body))
    }
    fn put(&self, path: &str, body: &Value) -> Resp {
        self.send("PUT", path, Some(body))
    }
    fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, None)
    }

    /// A fresh full check of the access log: asks for one (`POST /v1/access-log/verify`, 202)
    /// and waits for its result (`GET …?wait=true` until it is no longer `in_progress`).
    #[track_caller]
    fn check_access_log(&self) -> Value {
        let asked = self.send("POST", "/v1/access-log/verify", None);
        assert_eq!(asked.status, 202, "{}", asked.text);
        loop {
            let r = self.get("/v1/access-log/verify?wait=true");
            assert_eq!(r.status, 200, "{}", r.text);
            let v = r.json();
            if v["in_progress"] == false {
                return v;
            }
        }
    }

    /// Creates a record and returns its id, asserting 201.
    #[track_caller]
    fn create(&self, path: &str, body: &Value) -> String {
        let r = self.post(path, body);
        assert_eq!(r.status, 201, "create {path}: {}", r.text);
        r.json()["id"].as_str().expect("id").to_owned()
    }

    /// Every item of a paged listing.
    fn list_all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_owned(),
            };
            let page = self.get(&url);
            assert_eq!(page.status, 200, "{}", page.text);
            let page = page.json();
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return items,
            }
        }
    }
}

/// carnetd served in-process on 127.0.0.1:0 with a fresh data directory.
pub struct TestServer {
    dir: Option<TempDir>,
    pub base: String,
    pub clock: Arc<ManualClock>,
    manual: bool,
    server: Server,
    shutdown: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl TestServer {
    /// A server on a new vault, with the real clock.
    pub fn spawn() -> TestServer {
        Self::start(tempfile::tempdir().expect("tempdir"), false)
    }

    /// A server whose clock only moves when the test says so.
    pub fn spawn_with_manual_clock() -> TestServer {
        Self::start(tempfile::tempdir().expect("tempdir"), true)
    }

    /// A server on an existing data directory (a restart).
    pub fn restart_in(dir: TempDir) -> TestServer {
        Self::start(dir, false)
    }

    /// A restart whose clock only moves when the test says so.
    pub fn restart_in_with_manual_clock(dir: TempDir) -> TestServer {
        Self::start(dir, true)
    }

    /// A server whose writer uses `synchronous` (benchmarks compare FULL with NORMAL).
    pub fn spawn_with_synchronous(synchronous: Synchronous) -> TestServer {
        Self::start_with(tempfile::tempdir().expect("tempdir"), false, synchronous)
    }

    /// A server with `synchronous` on a clock that only moves when told (benchmarks that
    /// drive a background task themselves).
    pub fn spawn_with_synchronous_and_manual_clock(synchronous: Synchronous) -> TestServer {
        Self::start_with(tempfile::tempdir().expect("tempdir"), true, synchronous)
    }

    fn start(dir: TempDir, manual: bool) -> TestServer {
        Self::start_with(dir, manual, Synchronous::Full)
    }

    /// A server with open dynamic registration (`open_registration = true`).
    pub fn spawn_with_open_registration() -> TestServer {
        Self::spawn_with_settings(Settings {
            open_registration: true,
            ..Settings::default()
        })
    }

    /// A server that logs every vendor read on its own (`access_log_compact_window = 0`), for
    /// tests that count or tamper with entries one read at a time.
    pub fn spawn_logging_every_read() -> TestServer {
        Self::spawn_with_settings(Settings {
            access_log_compact_window: 0,
            ..Settings::default()
        })
    }

    /// A restart of a server that logs every vendor read on its own.
    pub fn restart_logging_every_read(dir: TempDir) -> TestServer {
        Self::start_full(
            dir,
            false,
            Synchronous::Full,
            Settings {
                access_log_compact_window: 0,
                ..Settings::default()
            },
        )
    }

    /// A server with these settings (its `public_url` is set to where it listens).
    pub fn spawn_with_settings(settings: Settings) -> TestServer {
        Self::start_full(
            tempfile::tempdir().expect("tempdir"),
            false,
            Synchronous::Full,
            settings,
        )
    }

    /// A server with these settings and a manual clock (`clock.advance`).
    pub fn spawn_with_settings_and_manual_clock(settings: Settings) -> TestServer {
        Self::start_full(
            tempfile::tempdir().expect("tempdir"),
            true,
            Synchronous::Full,
            settings,
        )
    }

    fn start_with(dir: TempDir, manual: bool, synchronous: Synchronous) -> TestServer {
        Self::start_full(dir, manual, synchronous, Settings::default())
    }

    fn start_full(
        dir: TempDir,
        manual: bool,
        synchronous: Synchronous,
        settings: Settings,
    ) -> TestServer {
        // The owner's days default to the server's zone: the tests count them in UTC, whatever
        // the machine's zone.
        carnet_core::ledger::profile::set_server_time_zone(carnet_core::ledger::profile::Tz::UTC);
        // Whole seconds, as people write times: the server keeps milliseconds.
        let manual_clock = Arc::new(ManualClock::new(chrono::SubsecRound::trunc_subsecs(
            SystemClock.now(),
            0,
        )));
        let clock: Arc<dyn Clock> = if manual {
            manual_clock.clone()
        } else {
            Arc::new(SystemClock)
        };
        let paths = VaultPaths::new(dir.path().to_owned(), None);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                let opened = Server::start(OpenOptions {
                    paths,
                    synchronous,
                    clock,
                    settings: Settings {
                        public_url: format!("http://{addr}"),
                        ..settings
                    },
                    relay: None,
                })
                .await;
                let (server, _) = match opened {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok((addr, server.clone())));
                serve(listener, server, async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("serve");
            });
        });
        let (addr, server) = ready_rx
            .recv()
            .expect("server thread")
            .unwrap_or_else(|e| panic!("carnetd did not start: {e}"));
        TestServer {
            dir: Some(dir),
            base: format!("http://{addr}"),
            clock: manual_clock,
            manual,
            server,
            shutdown: Mutex::new(Some(stop_tx)),
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Stops the server (in-flight requests finish, queued writes commit) and hands back the
    /// data directory.
    pub fn stop(mut self) -> TempDir {
        self.halt();
        self.dir.take().expect("data dir")
    }

    fn halt(&self) {
        if let Some(tx) = self.shutdown.lock().expect("lock").take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.lock().expect("lock").take() {
            let _ = t.join();
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("data dir").path()
    }

    /// The server's state of the moment (the vault is open): for hooks a test holds, such as
    /// the password-hash slot.
    pub fn state(&self) -> carnet_server::state::AppState {
        self.server.state().expect("the vault is open")
    }

    /// What the server's clock says now (the manual clock, or the real one).
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        if self.manual {
            self.clock.now()
        } else {
            chrono::Utc::now()
        }
    }

    /// Runs the `carnet` CLI against this server.
    pub fn carnet(&self, args: &[&str]) -> CliOutput {
        run_carnet(&self.base, &self.token(), self.path(), args, None)
    }

    /// Runs the CLI with `stdin` as its standard input.
    pub fn carnet_stdin(&self, args: &[&str], stdin: &str) -> CliOutput {
        run_carnet(&self.base, &self.token(), self.path(), args, Some(stdin))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.halt();
    }
}

impl Api for TestServer {
    fn base(&self) -> &str {
        &self.base
    }
    fn token(&self) -> String {
        read_token(self.path())
    }
}

pub fn read_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("owner.token"))
        .expect("owner.token")
        .trim()
        .to_owned()
}

/// What a CLI run printed.
#[derive(Debug)]
pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    fn from(o: Output) -> CliOutput {
        CliOutput {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "carnet failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `carnet` with this server and its token in the environment and a private HOME.
pub fn run_carnet(
    base: &str,
    token: &str,
    home: &Path,
    args: &[&str],
    stdin: Option<&str>,
) -> CliOutput {
    run_carnet_env(
        home,
        &[("CARNET_SERVER", base), ("CARNET_TOKEN", token)],
        args,
        stdin,
    )
}

/// Runs `carnet` with a clean environment: a private HOME under `home`, UTC, no colour, and
/// only the variables in `env`.
pub fn run_carnet_env(
    home: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: Option<&str>,
) -> CliOutput {
    let home = home.join("cli-home");
    std::fs::create_dir_all(&home).expect("cli home");
    let mut cmd = Command::new(binary("carnet"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn carnet");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    CliOutput::from(child.wait_with_output().expect("carnet output"))
}

/// A real `carnetd` process on 127.0.0.1:0, logging JSON to a captured stderr.
pub struct Carnetd {
    pub child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// Disconnects when the log reader ends, that is when carnetd has closed stderr (exited).
    log_closed: std::sync::mpsc::Receiver<()>,
}

impl Carnetd {
    /// Starts `carnetd` and returns once it listens.
    pub fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Result<Carnetd, String> {
        Self::start_under(&[], data_dir, extra_env)
    }

    /// Starts `carnetd` through `wrapper` (a program and its arguments that then execs the
    /// rest, such as `prlimit --nofile=1024:1024 --`), and returns once it listens.
    pub fn start_under(
        wrapper: &[&str],
        data_dir: &Path,
        extra_env: &[(&str, &str)],
    ) -> Result<Carnetd, String> {
        Self::start_program(&binary("carnetd"), wrapper, data_dir, extra_env)
    }

    /// Starts the `carnetd` at `carnetd` (another build, for a bench to compare), through
    /// `wrapper` as [`Carnetd::start_under`] does.
    pub fn start_program(
        carnetd: &Path,
        wrapper: &[&str],
        data_dir: &Path,
        extra_env: &[(&str, &str)],
    ) -> Result<Carnetd, String> {
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(carnetd);
                c
            }
            None => Command::new(carnetd),
        };
        without_carnet_env(&mut cmd);
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .env_remove("CARNET_CONFIG")
            .env_remove("CARNET_LISTEN")
            .env_remove("CARNET_PUBLIC_URL")
            .env_remove("CARNET_IDENTITY_FILE")
            // The owner's days in UTC, as the in-process servers count them (`extra_env` may
            // say otherwise).
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (closed_tx, log_closed) = std::sync::mpsc::channel::<()>();
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            let _closed_tx = closed_tx;
            let mut addr_tx = Some(addr_tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = listening_address(&line)
                    && let Some(tx) = addr_tx.take()
                {
                    let _ = tx.send(addr);
                }
                let mut l = sink.lock().unwrap_or_else(|p| p.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        match addr_rx.recv() {
            Ok(addr) => Ok(Carnetd {
                child,
                base: format!("http://{addr}"),
                data_dir: data_dir.to_owned(),
                log,
                reader: Some(reader),
                log_closed,
            }),
            Err(_) => {
                // stderr closed before a listening line: the process exited.
                let _ = reader.join();
                let status = child.wait().map_err(|e| e.to_string())?;
                let text = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
                Err(format!("carnetd exited ({status}):\n{text}"))
            }
        }
    }

    /// Everything carnetd logged so far (complete once it has exited).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// SIGKILL, then wait for the process and its log.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.log()
    }

    /// SIGTERM (what systemd and `docker stop` send), then wait for the process to exit —
    /// at most a minute — and return its exit status and complete log.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        use rustix::process::{Pid, Signal, kill_process};
        kill_process(Pid::from_child(&self.child), Signal::TERM).expect("send SIGTERM");
        match self.log_closed.recv_timeout(Duration::from_secs(60)) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!(
                    "carnetd did not exit within 60 s of SIGTERM; its log:\n{}",
                    self.log()
                )
            }
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {}
        }
        let status = self.child.wait().expect("wait for carnetd");
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        (status, self.log())
    }

    pub fn carnet(&self, args: &[&str]) -> CliOutput {
        run_carnet(&self.base, &self.token(), &self.data_dir, args, None)
    }

    /// Blocks until carnetd has logged a line containing every one of `needles` and returns
    /// that line; fails the test after a minute (or when carnetd exits first).
    #[track_caller]
    pub fn wait_for_log(&self, needles: &[&str]) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(line) = self
                .log()
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return line.to_owned();
            }
            match self.log_closed.recv_timeout(Duration::from_millis(20)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                    if std::time::Instant::now() < deadline => {}
                _ => panic!("carnetd never logged {needles:?}; its log:\n{}", self.log()),
            }
        }
    }
}

impl Drop for Carnetd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Api for Carnetd {
    fn base(&self) -> &str {
        &self.base
    }
    fn token(&self) -> String {
        read_token(&self.data_dir)
    }
}

/// Removes every `CARNET_*` variable the test run inherited: carnetd reads one for each
/// configuration key, and the tests say what they want.
fn without_carnet_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("CARNET_") {
            cmd.env_remove(k);
        }
    }
}

/// The address in carnetd's JSON "listening" log line.
fn listening_address(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line).ok()?;
    (v["fields"]["message"] == "carnetd listening")
        .then(|| v["fields"]["address"].as_str().map(str::to_owned))
        .flatten()
}

/// Runs `carnetd` with arguments to completion (init, print-config, a start that must fail).
pub fn run_carnetd(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> CliOutput {
    let mut cmd = Command::new(binary("carnetd"));
    without_carnet_env(&mut cmd);
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("CARNET_CONFIG")
        .env_remove("CARNET_LISTEN")
        .env_remove("CARNET_IDENTITY_FILE")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn carnetd");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    CliOutput::from(child.wait_with_output().expect("carnetd output"))
}
