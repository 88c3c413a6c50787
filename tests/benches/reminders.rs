//! One pass of the reminder scheduler (issue 17) over a vault of 100 subscriptions, 10,000
//! promises and 100,000 interactions (and a tenth of that, to see how it grows), against a
//! baseline measured in the same run: opening the same records one by one (what a scheduler
//! that read the records themselves would do at least).
//!
//! - a steady pass (everything already told: the common case, once a minute);
//! - a first pass for a new at-once channel with `details` on (everything is news: the
//!   counts, plus the detail lines it opens, 20 per kind at most);
//! - the size of the sealed memory the pass keeps.
//!
//! The server runs on a manual clock so that its own scheduler stays quiet (it passes on a new
//! minute only); the bench calls `carnet_core::reminders::pass` itself.
//!
//! Run: `cargo bench -p carnet-tests --bench reminders` (`CARNET_BENCH_SCALES=1` for the big
//! vault only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use carnet_core::ledger::{self, Interactions, Promises, subscriptions};
use carnet_core::store::Synchronous;
use carnet_schemas::notify::NotifyKind;
use carnet_schemas::{
    InteractionFields, InteractionId, NewNotifyChannel, NewPromise, NewSubscription, PromiseId,
    SubscriptionId, VendorFields,
};
use carnet_tests::TestServer;
use chrono::Duration as Days;
use serde_json::json;

/// A vault's size: interactions, promises, subscriptions (vendors: 100).
struct Scale {
    interactions: usize,
    promises: usize,
    subscriptions: usize,
}

const VENDORS: usize = 100;
const STEADY_RUNS: usize = 30;
const FIRST_RUNS: usize = 5;

fn main() {
    let only_big = std::env::var("CARNET_BENCH_SCALES").is_ok_and(|v| v == "1");
    let scales: Vec<Scale> = [(10_000, 1_000, 10), (100_000, 10_000, 100)]
        .into_iter()
        .filter(|s| !only_big || s.0 == 100_000)
        .map(|(interactions, promises, subscriptions)| Scale {
            interactions,
            promises,
            subscriptions,
        })
        .collect();
    println!("# cargo bench --bench reminders\n");
    println!(
        "| vault (interactions / promises / subscriptions) | steady pass p50 / p99 | first pass, new channel with details, p50 | opening the same records | steady ÷ opening | first ÷ opening | memory kept |"
    );
    println!("|---|---|---|---|---|---|---|");
    for scale in scales {
        measure(&scale);
    }
}

fn measure(scale: &Scale) {
    let s = TestServer::spawn_with_synchronous_and_manual_clock(Synchronous::Normal);
    let state = s.state();
    let core = state.core.clone();
    let consents = state.consents.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let built = Instant::now();
    let ids = rt.block_on(fill(&core, scale));
    eprintln!(
        "  filled {} interactions, {} promises, {} subscriptions in {:.0} s",
        scale.interactions,
        scale.promises,
        scale.subscriptions,
        built.elapsed().as_secs_f64()
    );
    // Channels: one at once, one digest (its hour passed: its first pass sends the day's).
    for (i, digest) in [(0, None), (1, Some(0u8))] {
        let new = NewNotifyChannel {
            url: Some(format!("http://127.0.0.1:9/hook{i}")),
            digest_hour: digest,
            ..NewNotifyChannel::of(NotifyKind::Webhook)
        };
        rt.block_on(carnet_core::notify::create(&core, new))
            .unwrap();
    }
    let first = rt
        .block_on(carnet_core::reminders::pass(&core, &consents))
        .unwrap();
    assert!(first > 0, "the first pass tells the new channels");

    let mut steady = Vec::with_capacity(STEADY_RUNS);
    for _ in 0..STEADY_RUNS {
        let t = Instant::now();
        let n = rt
            .block_on(carnet_core::reminders::pass(&core, &consents))
            .unwrap();
        steady.push(t.elapsed());
        assert_eq!(n, 0, "a steady pass tells nothing new");
    }
    let mut firsts = Vec::with_capacity(FIRST_RUNS);
    for i in 0..FIRST_RUNS {
        let new = NewNotifyChannel {
            url: Some(format!("http://127.0.0.1:9/new{i}")),
            details: true,
            ..NewNotifyChannel::of(NotifyKind::Webhook)
        };
        rt.block_on(carnet_core::notify::create(&core, new))
            .unwrap();
        let t = Instant::now();
        let n = rt
            .block_on(carnet_core::reminders::pass(&core, &consents))
            .unwrap();
        firsts.push(t.elapsed());
        assert_eq!(n, 1, "the new channel, told of everything");
    }
    let open = opening(&core, &ids);
    let memory = core
        .store
        .read(|c| carnet_core::store::records::meta_get(c, "reminders"))
        .unwrap()
        .map_or(0, |b| b.len());
    let (sp50, sp99) = percentiles(steady);
    let (fp50, _) = percentiles(firsts);
    println!(
        "| {} / {} / {} | {sp50:.1} / {sp99:.1} ms | {fp50:.1} ms | {:.0} ms | {:.4} | {:.4} | {:.0} KiB |",
        scale.interactions,
        scale.promises,
        scale.subscriptions,
        ms(open),
        sp50 / ms(open),
        fp50 / ms(open),
        memory as f64 / 1024.0
    );
}

struct Ids {
    interactions: Vec<InteractionId>,
    promises: Vec<PromiseId>,
    subscriptions: Vec<SubscriptionId>,
}

/// The vault: 100 vendors; interactions a fifth of which have a next step (due from 60 days
/// ago to 60 days on); promises due likewise, a third of them kept; subscriptions renewing
/// within the year, 30 days of notice.
async fn fill(core: &carnet_core::context::Core, scale: &Scale) -> Ids {
    let now = core.now();
    let today = now.date_naive();
    let mut vendors = Vec::new();
    for v in 0..VENDORS {
        let f: VendorFields =
            serde_json::from_value(json!({"name": format!("Vendor {v}")})).unwrap();
        let made = ledger::create::<ledger::Vendors>(&core.store, &core.keys, &core.index, f, now)
            .await
            .unwrap();
        vendors.push(made.id);
    }
    let day = |i: usize| (today + Days::days((i % 121) as i64 - 60)).to_string();
    let mut ids = Ids {
        interactions: Vec::new(),
        promises: Vec::new(),
        subscriptions: Vec::new(),
    };
    for i in 0..scale.interactions {
        let mut body = json!({"vendor_id": vendors[i % VENDORS], "channel": "email",
            "summary": format!("Exchange {i} about the delivery"), "sentiment": (i % 5) as i64 - 2});
        if i % 5 == 0 {
            body["next_step"] = json!(format!("Step {i}"));
            body["next_due"] = json!(day(i / 5));
        }
        let f: InteractionFields = serde_json::from_value(body).unwrap();
        let made = ledger::create::<Interactions>(&core.store, &core.keys, &core.index, f, now)
            .await
            .unwrap();
        ids.interactions.push(made.id);
    }
    for i in 0..scale.promises {
        let new: NewPromise = serde_json::from_value(json!({"vendor_id": vendors[i % VENDORS],
            "what": format!("Promise {i}"), "due": day(i)}))
        .unwrap();
        let made = ledger::create::<Promises>(&core.store, &core.keys, &core.index, new, now)
            .await
            .unwrap();
        if i % 3 == 0 {
            ledger::promises::settle(
                &core.store,
                &core.keys,
                &core.index,
                &made.id,
                ledger::promises::Settle::Kept(Default::default()),
                now,
            )
            .await
            .unwrap();
        }
        ids.promises.push(made.id);
    }
    for i in 0..scale.subscriptions {
        let next = today + Days::days((i * 365 / scale.subscriptions.max(1)) as i64 + 1);
        let new: NewSubscription = serde_json::from_value(json!({
            "vendor_id": vendors[i % VENDORS], "item": format!("Plan {i}"), "amount": "19.99",
            "currency": "EUR", "every": "year", "next": next.to_string(), "notice_days": 30}))
        .unwrap();
        let made = subscriptions::create(&core.store, &core.keys, new, now)
            .await
            .unwrap();
        ids.subscriptions.push(made.id);
    }
    ids
}

/// Opens every record of `ids` one by one (the baseline).
fn opening(core: &carnet_core::context::Core, ids: &Ids) -> Duration {
    let now = core.now();
    let t = Instant::now();
    for id in &ids.interactions {
        ledger::show::<Interactions>(&core.store, &core.keys, id).unwrap();
    }
    for id in &ids.promises {
        ledger::show::<Promises>(&core.store, &core.keys, id).unwrap();
    }
    for id in &ids.subscriptions {
        subscriptions::show(&core.store, &core.keys, id, now).unwrap();
    }
    t.elapsed()
}

fn percentiles(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    (
        ms(d[d.len() / 2]),
        ms(d[(d.len() * 99 / 100).min(d.len() - 1)]),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
