//! The background work of an open vault: the janitor, the access-log flusher, the webhook
//! worker and the reminders' worker. Started when a vault opens, aborted when it seals.

use tokio::task::JoinHandle;

use crate::context::Core;
use crate::store::StoreError;

/// Starts them; the caller aborts the handles when it seals.
pub fn spawn(core: &Core) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(janitor(core.clone())),
        tokio::spawn(
            core.access_log
                .clone()
                .run(core.store.clone(), core.keys.clone()),
        ),
        tokio::spawn(crate::webhooks::deliver::run(core.clone())),
        tokio::spawn(crate::notify::deliver::run(core.clone())),
    ]
}

/// Runs `sweep` every minute, prunes access-log entries older than the retention
/// (`prune_access_log`) and closes the compaction runs whose window ended.
async fn janitor(core: Core) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        sweep(&core).await;
        prune_access_log(&core).await;
        // Compaction runs whose window ended are closed even when the vendor went quiet.
        if let Err(e) = core
            .access_log
            .flush(&core.store, &core.keys, core.now())
            .await
        {
            tracing::error!(error = %e, "could not append to the access log");
        }
    }
}

/// One pass of the janitor: forgets expired tokens and grants in memory, so memory stays
/// bounded, and deletes the token and code rows nothing needs any more, so the disk does too
/// (`store::access::purge_tokens`: expired a day ago, or revoked and never used;
/// `store::consent::purge_codes`: expired a day ago, used ones once their tokens could no
/// longer be alive).
pub async fn sweep(core: &Core) {
    let now = core.now();
    core.access.prune(now);
    let day_ago = now - chrono::Duration::days(1);
    let used_codes_before = day_ago - core.policy.refresh_token_ttl;
    let purged = core
        .store
        .write(move |c| {
            Ok::<_, StoreError>((
                crate::store::access::purge_tokens(c, day_ago)?,
                crate::store::consent::purge_codes(c, day_ago, used_codes_before)?,
            ))
        })
        .await;
    match purged {
        Ok((tokens, codes)) if tokens + codes > 0 => {
            tracing::debug!(tokens, codes, "purged dead token and code rows");
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "purging dead tokens and codes failed"),
    }
}

/// Prunes the access log's entries older than `access_log_retention_days` (none when it is 0)
/// behind its sealed checkpoint, a batch per write so the writer is never held long; a
/// stretch that does not check out is kept and logged. Returns how many were pruned.
pub async fn prune_access_log(core: &Core) -> u64 {
    let days = core.policy.access_log_retention_days;
    if days == 0 {
        return 0;
    }
    let before = core.now() - chrono::Duration::days(i64::from(days));
    let mut pruned = 0u64;
    loop {
        let keys = core.keys.clone();
        let batch = core
            .store
            .write(move |c| {
                Ok::<_, StoreError>(crate::access::checkpoint::prune_batch(c, &keys, before))
            })
            .await;
        match batch {
            Ok(Ok(n)) => {
                pruned += n as u64;
                if n < crate::access::checkpoint::PRUNE_BATCH {
                    break;
                }
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "access-log retention stopped");
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "access-log retention failed");
                break;
            }
        }
    }
    if pruned > 0 {
        tracing::info!(entries = pruned, %before, "access-log entries pruned by retention");
    }
    pruned
}
