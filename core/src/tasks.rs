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

/// Forgets expired tokens and grants every minute, so memory stays bounded, and deletes
/// token rows that expired more than a day ago (they can never be used again).
async fn janitor(core: Core) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = core.now();
        core.access.prune(now);
        let before = now - chrono::Duration::days(1);
        core.store
            .write_behind("purging expired tokens", move |c| {
                crate::store::access::purge_tokens(c, before).map(drop)
            })
            .await;
    }
}
