//! Connections cannot be hoarded: slowloris against the real `carnetd` under the systemd
//! default of 1,024 file descriptors, and the header-read and idle timeouts in process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use carnet_server::accept::ConnectionLimits;
use carnet_server::state::Settings;
use carnet_tests::{Carnetd, TestServer};

/// systemd's default `LimitNOFILE` (soft and hard), which the attack exhausted.
const NOFILE: u64 = 1024;
const ATTACKERS: usize = 1100;
/// How long a fresh `GET /healthz` may take, under attack.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

fn addr_of(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}

/// The test process holds every attacking socket: it raises its own soft limit if needed.
fn raise_own_nofile(want: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    if now.current.is_none_or(|soft| soft >= want) {
        return;
    }
    assert!(
        now.maximum.is_none_or(|hard| hard >= want),
        "this test holds {want} sockets but the hard file-descriptor limit is {:?}: raise it (ulimit -Hn)",
        now.maximum
    );
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(want),
            maximum: now.maximum,
        },
    )
    .expect("raise the soft file-descriptor limit");
}

/// The `Max open files` soft and hard limits of a running process.
fn nofile_of(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    let mut words = line["Max open files".len()..].split_whitespace();
    (
        words.next().unwrap().to_owned(),
        words.next().unwrap().to_owned(),
    )
}

/// An attacking connection: a request line and one header, then nothing more yet.
fn open_slow(addr: SocketAddr) -> Option<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
    s.write_all(b"GET /v1/vendors HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .ok()?;
    Some(s)
}

/// A fresh connection asking `GET /healthz`: how long the answer took, or what went wrong.
fn probe(addr: SocketAddr) -> Result<Duration, String> {
    let started = Instant::now();
    let mut s =
        TcpStream::connect_timeout(&addr, ANSWER_WITHIN).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(ANSWER_WITHIN))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .map_err(|e| format!("read after {:?}: {e}", started.elapsed()))?;
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    if !text.starts_with("HTTP/1.1 200") {
        return Err(format!("answered {text:?}"));
    }
    Ok(took)
}

/// Slowloris as the issue ran it: under `prlimit --nofile=1024:1024`, 1,100 connections send
/// a request line and then one header line a second, reconnecting whenever carnetd closes
/// one. A fresh `GET /healthz` is still answered within 3 s, every second for 6 s, and the log
/// is not flooded with accept errors.
#[test]
fn slowloris_under_1024_file_descriptors_cannot_stop_carnetd_answering() {
    raise_own_nofile(ATTACKERS as u64 + 512);
    let dir = tempfile::tempdir().unwrap();
    let limit = format!("--nofile={NOFILE}:{NOFILE}");
    // prlimit is util-linux's (`.ci/run` installs it where it is missing): without it, fail.
    let d = Carnetd::start_under(&["prlimit", &limit, "--"], dir.path(), &[])
        .unwrap_or_else(|e| panic!("cannot start carnetd under prlimit (util-linux): {e}"));
    let n = NOFILE.to_string();
    assert_eq!(
        nofile_of(d.child.id()),
        (n.clone(), n),
        "the limit applies to carnetd"
    );
    let limits = d.wait_for_log(&["connection limits"]);
    assert!(
        limits.contains(&format!("\"max_connections\":{}", NOFILE - 128)),
        "the cap follows the descriptor limit: {limits}"
    );
    let addr = addr_of(&d.base);

    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let attack = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut conns: Vec<Option<TcpStream>> =
                (0..ATTACKERS).map(|_| open_slow(addr)).collect();
            let opened = conns.iter().filter(|c| c.is_some()).count();
            let _ = ready_tx.send(opened);
            let (started, mut reconnects) = (Instant::now(), 0usize);
            // Bounded: the probes take about 10 s; stop after 30 s whatever happens.
            for tick in 1..=30u32 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                for c in conns.iter_mut() {
                    let dripped = c
                        .as_mut()
                        .is_some_and(|s| s.write_all(b"X-Drip: 1\r\n").is_ok());
                    if !dripped {
                        *c = open_slow(addr);
                        reconnects += 1;
                    }
                }
                // The attack's pace (one header line a second), not a wait for readiness.
                let next = started + Duration::from_secs(u64::from(tick));
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            reconnects
        })
    };
    let opened = ready.recv().unwrap();
    assert_eq!(
        opened, ATTACKERS,
        "every attacking connection was accepted by the kernel"
    );

    // Every second for 6 s (7 probes), each on its own fresh connection and thread.
    let start = Instant::now();
    let probes: Vec<_> = (0..=6u64)
        .map(|i| {
            let at = start + Duration::from_secs(i);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            std::thread::spawn(move || probe(addr))
        })
        .collect();
    let results: Vec<Result<Duration, String>> =
        probes.into_iter().map(|p| p.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    let reconnects = attack.join().unwrap();
    let log = d.log();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(took) => assert!(
                *took <= ANSWER_WITHIN,
                "probe {i} took {took:?} (all: {results:?})"
            ),
            Err(e) => panic!(
                "probe {i} at {i} s was not answered: {e} (all: {results:?}); log tail:\n{}",
                tail(&log)
            ),
        }
    }
    assert!(
        reconnects > 0,
        "carnetd closed attacking connections to stay under its cap"
    );
    let accept_errors = log.lines().filter(|l| l.contains("accept failed")).count();
    assert!(
        accept_errors <= 3,
        "{accept_errors} accept errors logged:\n{}",
        tail(&log)
    );
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn in_process(header: u64, idle: u64) -> TestServer {
    TestServer::spawn_with_settings(Settings {
        connections: ConnectionLimits {
            header_read_timeout: Duration::from_secs(header),
            idle_timeout: Duration::from_secs(idle),
            max_connections: 64,
        },
        ..Settings::default()
    })
}

/// Blocks until the peer closes `s` (or `limit` passes) and says when.
fn closed_after(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => {
                return Some(started.elapsed());
            }
            Err(_) => return None,
        }
        if started.elapsed() > limit {
            return None;
        }
    }
}

/// Headers dripped a line at a time buy no time: the connection is closed once the
/// header-read timeout has passed since it connected.
#[test]
fn a_connection_that_drips_its_headers_is_closed_at_the_header_read_timeout() {
    let s = in_process(1, 30);
    let addr = addr_of(&s.base);
    let mut c = TcpStream::connect(addr).unwrap();
    let started = Instant::now();
    c.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    let mut dripper = c.try_clone().unwrap();
    let drip = std::thread::spawn(move || {
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(200));
            if dripper.write_all(b"X-Drip: 1\r\n").is_err() {
                return;
            }
        }
    });
    let closed = closed_after(&mut c, Duration::from_secs(10));
    let total = started.elapsed();
    drip.join().unwrap();
    assert!(closed.is_some(), "still open after 10 s");
    assert!(
        total >= Duration::from_millis(900),
        "closed before its timeout: {total:?}"
    );
}

/// A kept-alive connection may idle past the header-read timeout (the idle timeout is longer)
/// and is then closed at the idle timeout.
#[test]
fn an_idle_keep_alive_connection_lasts_its_idle_timeout_then_closes() {
    let s = in_process(1, 3);
    let addr = addr_of(&s.base);
    let mut c = TcpStream::connect(addr).unwrap();
    let ask = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let read_answer = |c: &mut TcpStream| {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&got).contains("\"status\"") {
            let n = c.read(&mut buf).unwrap();
            assert!(
                n > 0,
                "closed before answering: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
    };
    c.write_all(ask).unwrap();
    read_answer(&mut c);
    // Idle for longer than the header-read timeout, less than the idle timeout.
    std::thread::sleep(Duration::from_millis(1600));
    c.write_all(ask).unwrap();
    read_answer(&mut c);
    let idle = closed_after(&mut c, Duration::from_secs(10)).expect("closed when idle");
    assert!(
        idle >= Duration::from_millis(2500),
        "closed after {idle:?} idle, before the 3 s idle timeout"
    );
}
