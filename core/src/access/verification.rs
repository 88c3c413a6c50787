//! The access log's full check, run in the background and kept: carnetd checks the log after
//! it opens (so a large log never delays the start), and again whenever the owner asks
//! (`request`); readers get the last result at once (`current`), or wait for a running check
//! to end (`wait`). A check walks the log one row at a time on a connection of its own
//! (`Store::scan`), so its memory does not grow with the log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use carnet_schemas::AuditVerification;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::crypto::Keys;
use crate::store::Store;

/// What a check needs of the open vault.
#[derive(Clone)]
pub struct Vault {
    pub store: Arc<Store>,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
}

/// The last result, and whether a check runs (or one more was asked for while it ran).
pub struct LogCheck {
    status: watch::Sender<AuditVerification>,
    /// Set when a check is asked for while one runs: it runs again once it ends, so the
    /// answer covers everything written (or tampered with) before the request.
    again: Mutex<bool>,
}

impl Default for LogCheck {
    fn default() -> Self {
        LogCheck {
            status: watch::Sender::new(AuditVerification::unchecked()),
            again: Mutex::new(false),
        }
    }
}

impl LogCheck {
    /// The last check's result, with `in_progress` set while one runs.
    pub fn current(&self) -> AuditVerification {
        self.status.borrow().clone()
    }

    /// The result once no check runs any more, or the current one after `at_most`.
    pub async fn wait(&self, at_most: Duration) -> AuditVerification {
        let mut rx = self.status.subscribe();
        let _ = tokio::time::timeout(at_most, rx.wait_for(|v| !v.in_progress)).await;
        self.current()
    }

    /// Starts a full check in the background, or (one running) makes it run once more after.
    pub fn request(self: &Arc<Self>, vault: &Vault) {
        {
            let mut again = self.again.lock().unwrap_or_else(|p| p.into_inner());
            if self.status.borrow().in_progress {
                *again = true;
                return;
            }
            self.status.send_modify(|s| s.in_progress = true);
        }
        let (check, vault) = (self.clone(), vault.clone());
        tokio::task::spawn_blocking(move || {
            loop {
                let result = run(&vault);
                let mut again = check.again.lock().unwrap_or_else(|p| p.into_inner());
                let rerun = std::mem::take(&mut *again);
                check.status.send_modify(|s| {
                    if let Some(r) = result {
                        *s = r;
                    }
                    s.in_progress = rerun;
                });
                if !rerun {
                    break;
                }
            }
        });
    }
}

/// One full check; logs what it found (an error naming the first bad entry).
fn run(vault: &Vault) -> Option<AuditVerification> {
    let started = Instant::now();
    match vault
        .store
        .scan(|c| crate::access::chain::verify(c, &vault.keys))
    {
        Ok(mut v) => {
            v.checked_at = Some(chrono::SubsecRound::trunc_subsecs(vault.clock.now(), 3));
            v.duration_ms = Some(started.elapsed().as_millis() as u64);
            match &v.first_bad {
                None => tracing::info!(
                    entries = v.entries,
                    pruned = v.pruned.as_ref().map_or(0, |p| p.entries),
                    duration_ms = v.duration_ms,
                    "access log verified"
                ),
                Some(bad) => tracing::error!(
                    entry = bad.seq,
                    reason = %bad.reason,
                    "the access log was tampered with: `carnet audit verify` shows where"
                ),
            }
            Some(v)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot check the access log");
            None
        }
    }
}
