//! The ledger index alone, in memory (`cargo bench -p carnet-core --bench ledger_index`):
//! build time, heap and page/search latencies for 100,000 interactions across 100 vendors with
//! French-like texts, beside a linear scan of the same records' words in the same run
//! (`N=1000000` for a million records; `SEARCH_RUNS=N` runs of each search; `SCANS=0` leaves the
//! scan out). What a real vault adds (reading and opening every sealed row) is in
//! `carnet-tests`'s `ledger` bench.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use carnet_core::ledger::index::{Data, Filter, Item, Op, RecordKind, text};
use carnet_schemas::Channel;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const SYLLABLES: [&str; 24] = [
    "ta", "ré", "mi", "lon", "ché", "vi", "pa", "tu", "neu", "cour", "bel", "ga", "dé", "fi", "mo",
    "sen", "tra", "gne", "lu", "po", "ran", "qué", "zo", "bi",
];

fn word(g: &mut Lcg) -> String {
    // A Zipf-ish vocabulary: short words often, long ones rarely.
    let len = 1 + g.next(2) + g.next(2) * g.next(3);
    (0..len).map(|_| SYLLABLES[g.next(24) as usize]).collect()
}

fn sentence(g: &mut Lcg, n: usize) -> String {
    (0..n).map(|_| word(g)).collect::<Vec<_>>().join(" ")
}

fn rid(n: u64) -> [u8; 10] {
    let mut r = [0u8; 10];
    r[2..].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    r
}

fn percentiles(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    (ms(d[d.len() / 2]), ms(d[d.len() * 99 / 100]))
}

fn time(runs: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
    let mut d = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        f(i);
        d.push(t.elapsed());
    }
    percentiles(d)
}

/// A number from the environment, or `default`.
fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n = env("N", 100_000);
    // Runs of each search, and of the linear scan (0: none; at 1M records one takes ~20 s).
    let (runs, scans) = (env("SEARCH_RUNS", 50) as usize, env("SCANS", 5) as usize);
    let mut g = Lcg(42);
    let mut items = Vec::with_capacity(n as usize + 100);
    for v in 0..100 {
        let mut i = Item::new(RecordKind::Vendor, "", None, (0, 0), 0);
        i.id = rid(1_000_000_000 + v);
        i.name = Some(format!("vendor {v}").into());
        i.texts.push((sentence(&mut g, 3), true));
        items.push(i);
    }
    let mut texts = Vec::with_capacity(n as usize);
    for k in 0..n {
        let ms = 1_700_000_000_000 + g.next(300_000_000_000) as i64;
        let mut i = Item::new(RecordKind::Interaction, "", None, (-ms, 0), ms);
        i.id = rid(k);
        i.vendor = Some(rid(1_000_000_000 + g.next(100)));
        i.at = Some((ms, 0));
        i.channel = Some(Channel::ALL[g.next(7) as usize]);
        let (summary, said) = (sentence(&mut g, 6), sentence(&mut g, 15));
        let outcome = sentence(&mut g, 10);
        texts.push(format!("{summary} {said} {outcome}"));
        i.texts = vec![(summary, true), (said, false), (outcome, false)];
        items.push(i);
    }
    let started = Instant::now();
    let mut data = Data::default();
    for i in items {
        data.apply(Op::Put(i));
    }
    let build = started.elapsed();
    println!(
        "{n} interactions, 100 vendors: built in {:.2} s ({:.1} µs/record), {:.1} MiB heap ({:.0} B/record)",
        build.as_secs_f64(),
        build.as_secs_f64() * 1e6 / n as f64,
        data.heap_bytes() as f64 / 1048576.0,
        data.heap_bytes() as f64 / data.records() as f64
    );
    let kind = RecordKind::Interaction;
    let all = Filter::default();
    let deep = {
        let mut after = None;
        for _ in 0..(n as usize / 2 / 200) {
            after = data.page(kind, &all, after.as_ref(), 200).get(199).copied();
        }
        after
    };
    let vendor = |i: usize| Filter {
        vendor: Some(rid(1_000_000_000 + (i % 100) as u64)),
        ..Filter::default()
    };
    type Case<'a> = (&'a str, Box<dyn Fn(usize) -> usize + 'a>);
    let cases: Vec<Case> = vec![
        (
            "first page, 50",
            Box::new(|_| data.page(kind, &all, None, 50).len()),
        ),
        (
            "page 50 at the middle",
            Box::new(|_| data.page(kind, &all, deep.as_ref(), 50).len()),
        ),
        (
            "vendor, 50",
            Box::new(|i| data.page(kind, &vendor(i), None, 50).len()),
        ),
        (
            "vendor + channel, 50",
            Box::new(|i| {
                let f = Filter {
                    channel: Some(Channel::Phone),
                    ..vendor(i)
                };
                data.page(kind, &f, None, 50).len()
            }),
        ),
        (
            "vendor + one month, 50",
            Box::new(|i| {
                let since = 1_700_000_000_000 + (i as i64 % 100) * 2_592_000_000;
                let f = Filter {
                    since: Some((since, 0)),
                    until: Some((since + 2_592_000_000, 0)),
                    ..vendor(i)
                };
                data.page(kind, &f, None, 50).len()
            }),
        ),
    ];
    for (name, f) in &cases {
        let (p50, p99) = time(500, |i| {
            std::hint::black_box(f(i));
        });
        println!("page   {name:<26} p50 {p50:7.3} ms  p99 {p99:7.3} ms");
    }
    for q in ["tarémi", "ta", "lonchévi pa", "zobiqué"] {
        let words = text::words(q);
        let (p50, p99) = time(runs, |_| {
            std::hint::black_box(data.search(&words, None, None, 20));
        });
        let hits = data.search(&words, None, None, 200).len();
        if scans == 0 {
            println!("search {q:<26} p50 {p50:7.3} ms  p99 {p99:7.3} ms  ({hits} of top 200)");
            continue;
        }
        let (s50, s99) = time(scans, |_| {
            // The linear scan: fold every record's text and test each word's prefixes.
            let c = texts
                .iter()
                .filter(|t| {
                    let ws = text::words(t);
                    words
                        .iter()
                        .all(|q| ws.iter().any(|w| w.starts_with(q.as_str())))
                })
                .count();
            std::hint::black_box(c);
        });
        println!(
            "search {q:<26} p50 {p50:7.3} ms  p99 {p99:7.3} ms  ({hits} of top 200) | linear scan p50 {s50:7.1} ms  p99 {s99:7.1} ms"
        );
    }
}
