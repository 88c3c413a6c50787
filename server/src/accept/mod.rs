//! carnetd's accept loop (instead of `axum::serve`), so that no client can hold what others
//! need. Each connection must send its request headers within `header_read_timeout` of being
//! accepted (or of the first byte of its next request), and a kept-alive connection may idle
//! for `idle_timeout`; a request being served has no such limit here (the routes' own timeouts
//! apply). At most `max_connections` are held, never more than the file-descriptor limit
//! leaves room for: at the cap, the connection that has waited longest for its headers (then
//! the longest idle) is closed to admit the new one. It never stops accepting: when the
//! process is out of descriptors anyway, it evicts one, pauses a moment and logs that at most
//! once every ten seconds.

mod slots;
mod tracked;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use self::slots::{Phase, Slot, Slots};
use self::tracked::{InFlight, TrackedBody, TrackedStream};
use crate::Server;
use crate::metrics::{ConnectionClosed, Metrics};

pub use crate::config::ConnectionLimits;

/// File descriptors kept for everything but client connections: the database and its WAL per
/// pooled connection, webhook deliveries, DNS, backups and exports, logs.
pub const RESERVED_FDS: u64 = 128;
/// How long the loop pauses after failing to accept (out of descriptors, or another error), so
/// that a lasting failure is neither a busy loop nor a log flood.
const ACCEPT_PAUSE: Duration = Duration::from_millis(20);
/// At most one warning about failed accepts per this long.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// How many connections are held at most: the configured number, but no more than the
/// soft `RLIMIT_NOFILE` less [`RESERVED_FDS`] (at least 16). Also the soft limit, if known.
pub fn cap(configured: usize) -> (usize, Option<u64>) {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| soft_nofile(&text));
    let cap = match soft {
        Some(soft) => {
            let room = usize::try_from(soft.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
            configured.min(room.max(16))
        }
        None => configured,
    };
    (cap, soft)
}

/// The soft limit on open files in a `/proc/<pid>/limits` text (`None` if unlimited or
/// missing). Read from there rather than with `getrlimit`, which the shipped unit's system
/// call filter (`~@resources`) may refuse.
fn soft_nofile(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes; then stops accepting, lets
/// requests in flight finish, closes the other connections and returns once all are closed.
pub async fn serve_connections(
    listener: TcpListener,
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = server.settings().connections;
    let (cap, soft) = cap(limits.max_connections);
    tracing::info!(
        max_connections = cap,
        nofile_soft_limit = soft,
        header_read_timeout_s = limits.header_read_timeout.as_secs(),
        idle_timeout_s = limits.idle_timeout.as_secs(),
        "connection limits"
    );
    let slots = Arc::new(Slots::default());
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut warned: Option<Instant> = None;
    let mut failures_since_warning = 0u64;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let Some(slot) = slots.admit(cap) else {
                    tracing::debug!(%peer, "every connection is serving a request: closing the new one");
                    server
                        .metrics()
                        .connection_closed(ConnectionClosed::Refused);
                    continue;
                };
                server.metrics().connection_open(true);
                let _ = stream.set_nodelay(true);
                tasks.spawn(drive(
                    stream,
                    peer,
                    slot,
                    slots.clone(),
                    server.clone(),
                    limits,
                    stopping.clone(),
                ));
            }
            // One connection's failure (reset before it was accepted): nothing to wait for.
            Err(e) if is_connection_error(&e) => {
                tracing::debug!(error = %e, "a connection failed before it was accepted");
            }
            Err(e) => {
                let out_of_descriptors = is_out_of_descriptors(&e);
                if out_of_descriptors {
                    slots.evict_one();
                }
                failures_since_warning += 1;
                if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
                    tracing::warn!(
                        error = %e,
                        failures = failures_since_warning,
                        connections = slots.len(),
                        "accept failed{}",
                        if out_of_descriptors {
                            " (out of file descriptors: closing the connection that waited longest for its headers; raise LimitNOFILE or lower max_connections)"
                        } else {
                            ""
                        }
                    );
                    warned = Some(Instant::now());
                    failures_since_warning = 0;
                }
                tokio::time::sleep(ACCEPT_PAUSE).await;
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    matches!(
        Errno::from_io_error(e),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    )
}

/// Serves one connection until it closes, its deadline passes, it is evicted, or shutdown
/// (then a request in flight finishes first).
async fn drive(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Arc<Slot>,
    slots: Arc<Slots>,
    server: Server,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let metrics = server.metrics().clone();
    let _release = Release(slots, slot.clone(), metrics.clone());
    let io = TokioIo::new(TrackedStream {
        stream,
        slot: slot.clone(),
    });
    let for_requests = slot.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let in_flight = InFlight::start(&for_requests);
        let call =
            tower::ServiceExt::oneshot(server.connection(peer), req.map(axum::body::Body::new));
        async move {
            let response = call.await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| TrackedBody {
                body,
                _in_flight: in_flight,
            }))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    let mut closing = *stopping.borrow();
    if closing {
        slot.watch();
        conn.as_mut().graceful_shutdown();
    }
    // A phase change never brings a deadline sooner than this after it (at least a
    // millisecond: with zero timeouts, a request being served would otherwise spin this loop).
    let shortest = limits
        .header_read_timeout
        .min(limits.idle_timeout)
        .max(Duration::from_millis(1));
    loop {
        // Once shutting down, a connection that is not serving a request closes now (and one
        // that is is woken when its request ends). Otherwise the task is not woken when the
        // phase changes: it wakes at the deadline of the phase it saw, or sooner, after the
        // shortest deadline a change can bring, and reads the phase again.
        let deadline = if closing {
            (slot.phase().0 != Phase::Busy).then(Instant::now)
        } else {
            let soonest_change = Instant::now() + shortest;
            Some(
                slot.deadline(limits.header_read_timeout, limits.idle_timeout)
                    .map_or(soonest_change, |at| at.min(soonest_change)),
            )
        };
        let expiry = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                break;
            }
            () = expiry => {
                let still_due = if closing {
                    slot.phase().0 != Phase::Busy
                } else {
                    slot.deadline(limits.header_read_timeout, limits.idle_timeout)
                        .is_some_and(|at| at <= Instant::now())
                };
                if still_due {
                    let phase = slot.phase().0;
                    tracing::debug!(%peer, ?phase, "closing a connection past its deadline");
                    if !closing {
                        metrics.connection_closed(match phase {
                            Phase::Idle => ConnectionClosed::IdleTimeout,
                            Phase::Head | Phase::Busy => ConnectionClosed::HeaderTimeout,
                        });
                    }
                    break;
                }
            }
            () = slot.changed.notified(), if closing => {}
            () = slot.evicted.notified() => {
                tracing::debug!(%peer, "closing a connection to make room for a new one");
                metrics.connection_closed(ConnectionClosed::Evicted);
                break;
            }
            changed = stopping.changed(), if !closing => {
                closing = true;
                slot.watch();
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Gives a connection's place back however its task ends (a panic included), so the count
/// never drifts up to the cap.
struct Release(Arc<Slots>, Arc<Slot>, Arc<Metrics>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.remove(&self.1);
        self.2.connection_open(false);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_soft_open_files_limit_is_read_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max stack size            8388608              unlimited            bytes     \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(super::soft_nofile(text), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(super::soft_nofile(unlimited), None);
        assert_eq!(super::soft_nofile(""), None);
        let (cap, soft) = super::cap(usize::MAX);
        let soft = soft.expect("this machine has /proc/self/limits");
        assert_eq!(cap as u64, soft.saturating_sub(super::RESERVED_FDS).max(16));
    }
}
