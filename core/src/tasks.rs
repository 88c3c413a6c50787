//! The background work of an open vault: the janitor, the access-log flusher and the webhook
//! worker. Started when a vault opens, aborted when it seals.

use tokio::task::JoinHandle;

use crate::context::Core;

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
    ]
}

/// Runs `sweep` every minute.
async fn janitor(core: Core) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        sweep(&core).await;
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
            Ok::<_, crate::store::StoreError>((
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
