//! Fills a vault's access log with N entries quickly, in-process through the core's own
//! logging path (the entries are sealed and chained as carnetd writes them): for measuring
//! carnetd's start-up memory and the log's check on a large log.
//!
//! `cargo run --release -p carnet-tests --example fill_access_log -- DATA_DIR N [IDS]`
//! (creates the vault, with an identity file, when DATA_DIR has none; each entry is a pull
//! that returned IDS intents, 10 by default, half of them withholding the same two fields).

use std::borrow::Cow;
use std::sync::Arc;

use carnet_core::access::log::{AccessEvent, Withheld};
use carnet_core::clock::SystemClock;
use carnet_core::store::Synchronous;
use carnet_core::vault::VaultPaths;
use carnet_schemas::{ClientId, GrantId, IntentField, ScopeSet, VendorId};
use carnet_server::{OpenOptions, Server, Settings};

const BATCH: usize = 20_000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(n)) = (
        args.next(),
        args.next().and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: fill_access_log DATA_DIR N [IDS]");
        std::process::exit(2);
    };
    let per_entry = args
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(10);
    std::fs::create_dir_all(&dir).expect("data dir");
    let (server, _) = Server::start(OpenOptions {
        paths: VaultPaths::new(dir.into(), None),
        synchronous: Synchronous::Normal,
        clock: Arc::new(SystemClock),
        // Every entry its own (identical reads are otherwise compacted).
        settings: Settings {
            access_log_compact_window: 0,
            ..Settings::default()
        },
        relay: None,
    })
    .await
    .expect("open the vault");
    let core = server.state().expect("the vault is open");
    let vendor: VendorId = core.new_id();
    let client: ClientId = core.new_id();
    let grant: GrantId = core.new_id();
    let ids: Arc<Vec<String>> = Arc::new(
        (0..per_entry)
            .map(|_| core.new_id::<carnet_schemas::ids::IntentKind>().to_string())
            .collect(),
    );
    let withheld: Arc<Withheld> = Arc::new(
        ids.iter()
            .step_by(2)
            .map(|i| {
                (
                    i.clone(),
                    vec![IntentField::PriceSpecification, IntentField::AreaServed],
                )
            })
            .collect(),
    );
    let started = std::time::Instant::now();
    let mut written = 0;
    while written < n {
        let now = core.now();
        for _ in 0..BATCH.min(n - written) {
            core.access_log.record(
                now,
                AccessEvent {
                    vendor_id: vendor.clone(),
                    client_id: client.clone(),
                    grant_id: Some(grant.clone()),
                    endpoint: Cow::Borrowed("GET /v1/vendor/intents"),
                    scopes: ScopeSet::from_bits(1),
                    ids: ids.clone(),
                    status: 200,
                    withheld: Some(withheld.clone()),
                },
            );
            written += 1;
        }
        core.access_log
            .flush(&core.store, &core.keys, core.now())
            .await
            .expect("append");
    }
    println!(
        "{written} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
