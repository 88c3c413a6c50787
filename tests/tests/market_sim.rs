//! The market simulation (issue 20): 10,000 simulated vaults on 20 hosts and 100 directory
//! vendors (the SDK's listeners) against one nats-server with `carnet-market nats-config`'s
//! configuration, each party on its own credentials; about a minute in the debug profile.
//! nats-server is killed (`kill -9`) and restarted in the middle of the activations. Then the
//! oracle, built from the generated grants, judges every vendor's log:
//!
//! 1. no vendor opens an intent outside its grants, none is handed a subject outside its
//!    registered categories — not even when it subscribes with plain NATS, as an attacker would;
//! 2. every entitled vendor hears every live intent at its latest revision;
//! 3. a republished message (same `Nats-Msg-Id`) is refused as a duplicate, and no vendor hears
//!    one revision twice;
//! 4. a terminal event is the last a vendor hears of an intent, after its announcement;
//! 5. nothing PubAck'ed before the kill is lost: still on the stream, and handed to its vendors;
//! 6. a vendor whose grant was revoked opens none of that vault's later revisions.
//!
//! Its vaults are not full carnet-core vaults (SQLite, sealed rows, outbox): 10,000 of those do
//! not start in a minute. Each is the part of one that speaks to the relay, built with the same
//! functions (`carnet_tests::market_sim` says which). `CARNET_SIM_VAULTS` changes the size.
#![forbid(unsafe_code)]

use std::time::Duration;

use carnet_tests::market_sim::world::Size;
use carnet_tests::market_sim::{Options, Transport, run};

fn vaults() -> usize {
    std::env::var("CARNET_SIM_VAULTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn a_market_of_ten_thousand_vaults_keeps_every_promise_through_a_relay_crash() {
    let started = std::time::Instant::now();
    let run = run(Options {
        transport: Transport::Consent,
        size: Size {
            vaults: vaults(),
            vendors: 100,
            hosts: 20,
            seed: 20,
        },
        kill: true,
        deadline: Duration::from_secs(120),
        republish: 200,
    });
    let t = &run.timing;
    let published = run.published.len();
    eprintln!(
        "market_sim: {} vaults, {published} publications in {:?} (setup {:?}); {} of {} receipts \
         {:?} after the first publication; {} checked on the stream after the restart; \
         relay peak RSS {:.0} → {:.0} MiB; listener interruptions read past: {}; total {:?}",
        run.vaults.len(),
        t.phases,
        t.setup,
        t.received,
        t.expected,
        t.to_last_receipt,
        run.checked_after_restart,
        t.relay_mib.0,
        t.relay_mib.1,
        run.interruptions,
        started.elapsed()
    );
    let mut at: Vec<std::time::Instant> = run.receipts.iter().flatten().map(|r| r.at).collect();
    at.sort();
    if let (Some(first), Some(killed)) = (at.first(), run.killed_at) {
        let gap = at
            .windows(2)
            .map(|w| (w[1] - w[0], w[0]))
            .max()
            .unwrap_or((Default::default(), *first));
        eprintln!(
            "kill at +{:?}; longest pause between receipts {:?} from +{:?}",
            killed.saturating_duration_since(*first),
            gap.0,
            gap.1 - *first,
        );
    }
    eprintln!("steps {:?}", run.timing.steps);
    let o = run.evidence();
    assert!(
        run.stopped_listeners.is_empty(),
        "vendors' listeners stopped before the end (the relay's restart must not stop one): {:?}",
        run.stopped_listeners
    );

    // Every publication was handed to every vendor registered in its category.
    o.every_publication_reached_its_subscribers()
        .assert_holds("every publication reaches its category's vendors");
    // 1.
    o.opened_only_when_granted().assert_holds(
        "no vendor opens an intent outside its grants or hears outside its categories",
    );
    // 2.
    o.entitled_vendors_heard_live_intents()
        .assert_holds("every entitled vendor hears every live intent");
    // 3.
    let r = &run.republished;
    assert!(
        r.tried > 0 && r.refused == r.tried && r.problems.is_empty(),
        "republished duplicates must be refused: {} of {} refused; {:?}",
        r.refused,
        r.tried,
        r.problems
    );
    assert_eq!(
        r.stream_messages.0, r.stream_messages.1,
        "republished duplicates must not grow the stream"
    );
    let suppressed: Vec<&str> = run
        .published
        .iter()
        .filter(|p| p.suppressed)
        .map(|p| p.msg_id.as_str())
        .collect();
    assert!(
        suppressed.is_empty(),
        "a first publication was taken for a duplicate: {suppressed:?}"
    );
    // 1, as an attacker: plain subscriptions beyond a vendor's categories get nothing, while
    // one on its own category gets every republished message of it.
    assert!(!run.snooped.is_empty(), "no vendor snooped");
    assert!(
        run.snooped
            .iter()
            .map(|s| s.control_expected)
            .sum::<usize>()
            > 0,
        "no republished message fell in a snooping vendor's category: the check proves nothing"
    );
    for s in &run.snooped {
        assert_eq!(
            s.forbidden_got, 0,
            "vendor {} read {} messages through {:?}, outside its categories",
            s.vendor, s.forbidden_got, s.forbidden
        );
        assert!(
            s.control_got >= s.control_expected,
            "vendor {}'s subscription to its own category got {} of {} republished messages",
            s.vendor,
            s.control_got,
            s.control_expected
        );
    }
    // 3 and 4.
    o.each_intent_heard_once_in_order().assert_holds(
        "no revision heard twice; a terminal event is heard last, after the announcement",
    );
    // 5.
    assert!(run.killed_at.is_some(), "nats-server was not killed");
    assert!(
        run.checked_after_restart > 0,
        "nothing was acknowledged before the kill"
    );
    assert!(
        run.lost.is_empty(),
        "{} of {} publications acknowledged before the kill are not on the stream after the restart: {:?}",
        run.lost.len(),
        run.checked_after_restart,
        &run.lost[..run.lost.len().min(20)]
    );
    o.acked_before_kill_reached_vendors()
        .assert_holds("every publication acknowledged before the kill reaches its vendors");
    // 6.
    o.revoked_vendors_open_nothing_later()
        .assert_holds("a revoked vendor opens no later revision");
}
