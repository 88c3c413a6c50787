//! The index's data against a brute-force listing of the same records.

use carnet_schemas::Channel;
use chrono::NaiveDate;

use super::data::{Data, Filter};
use super::item::{Item, Key, Op, RecordKind, Rid};

/// A small deterministic generator (no randomness in tests).
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

fn rid(n: u64) -> Rid {
    let mut r = [0u8; 10];
    r[2..].copy_from_slice(&n.to_be_bytes());
    r
}

fn vendor(n: u64) -> Item {
    let mut i = Item::new(RecordKind::Vendor, "", None, (0, 0), 0);
    i.id = rid(1_000_000 + n);
    i.name = Some(format!("vendor {}", n % 3).into());
    i.texts.push((format!("Vendeur numéro {n}"), true));
    i
}

fn interaction(n: u64, v: u64, ms: i64, channel: Channel, words: &str) -> Item {
    let mut i = Item::new(RecordKind::Interaction, "", None, (-ms, 0), ms);
    i.id = rid(n);
    i.vendor = Some(rid(1_000_000 + v));
    i.at = Some((ms, 0));
    i.channel = Some(channel);
    i.texts.push((words.to_owned(), true));
    i
}

struct Model {
    data: Data,
    /// id → (vendor, ms, channel, text)
    live: Vec<(u64, u64, i64, Channel, String)>,
}

fn model(seed: u64, n: u64) -> Model {
    let mut g = Lcg(seed);
    let mut data = Data::default();
    for v in 0..5 {
        data.apply(Op::Put(vendor(v)));
    }
    let words = [
        "technicien passé",
        "facture payée",
        "livraison",
        "Técnico rapide",
    ];
    let mut live = Vec::new();
    for id in 0..n {
        let v = g.next(5);
        // Few distinct times, so ties are broken by id.
        let ms = 1_000 * g.next(40) as i64;
        let ch = Channel::ALL[g.next(3) as usize];
        let w = words[g.next(4) as usize].to_owned();
        data.apply(Op::Put(interaction(id, v, ms, ch, &w)));
        live.push((id, v, ms, ch, w));
    }
    Model { data, live }
}

/// Every key the index pages through, `limit` at a time.
fn walk(d: &Data, f: &Filter, limit: usize) -> Vec<Key> {
    let mut out: Vec<Key> = Vec::new();
    loop {
        let mut page = d.page(RecordKind::Interaction, f, out.last(), limit);
        let more = page.len() > limit;
        page.truncate(limit);
        out.extend(page);
        if !more {
            return out;
        }
    }
}

fn expected(m: &Model, keep: impl Fn(&(u64, u64, i64, Channel, String)) -> bool) -> Vec<Key> {
    let mut keys: Vec<Key> = m
        .live
        .iter()
        .filter(|r| keep(r))
        .map(|r| (-r.2, 0, rid(r.0)))
        .collect();
    keys.sort();
    keys
}

#[test]
fn pages_give_every_record_once_in_order_with_filters_combined() {
    let m = model(7, 600);
    for limit in [1, 7, 50, 1000] {
        assert_eq!(
            walk(&m.data, &Filter::default(), limit),
            expected(&m, |_| true)
        );
    }
    let f = Filter {
        vendor: Some(rid(1_000_002)),
        channel: Some(Channel::Email),
        since: Some((5_000, 0)),
        until: Some((30_000, 0)),
        ..Filter::default()
    };
    let want = expected(&m, |r| {
        r.1 == 2 && r.3 == Channel::Email && r.2 >= 5_000 && r.2 < 30_000
    });
    assert!(!want.is_empty());
    assert_eq!(walk(&m.data, &f, 3), want);
    let f = Filter {
        words: vec!["tec".into()],
        until: Some((20_000, 0)),
        ..Filter::default()
    };
    let want = expected(&m, |r| {
        (r.4.starts_with("tech") || r.4.starts_with("Téc")) && r.2 < 20_000
    });
    assert!(!want.is_empty());
    assert_eq!(walk(&m.data, &f, 4), want);
    // Times to the nanosecond: `since` includes its instant, `until` excludes its own.
    let mut d = Data::default();
    d.apply(Op::Put(vendor(0)));
    let mut i = interaction(1, 0, 5_000, Channel::Phone, "x");
    i.at = Some((5_000, 999_998));
    d.apply(Op::Put(i));
    let count = |since, until| {
        let f = Filter {
            since,
            until,
            ..Filter::default()
        };
        d.page(RecordKind::Interaction, &f, None, 10).len()
    };
    assert_eq!(count(Some((5_000, 999_998)), None), 1);
    assert_eq!(count(Some((5_000, 999_999)), None), 0);
    assert_eq!(count(None, Some((5_000, 999_998))), 0);
    assert_eq!(count(None, Some((5_000, 999_999))), 1);
    assert_eq!(count(Some((4_999, 0)), Some((5_001, 0))), 1);
}

#[test]
fn edits_moves_and_deletions_between_pages_are_seen() {
    let mut m = model(11, 200);
    let first = {
        let mut p = m
            .data
            .page(RecordKind::Interaction, &Filter::default(), None, 20);
        p.truncate(20);
        p
    };
    // Delete a record of the next page, move one from the next page to the front (seen
    // already: not again), and add one far back (seen when reached).
    let rest = walk(&m.data, &Filter::default(), 1000);
    let (gone, moved) = (rest[25].2, rest[30].2);
    let gone_n = m.live.iter().position(|r| rid(r.0) == gone).unwrap();
    m.live.remove(gone_n);
    m.data.apply(Op::Remove(RecordKind::Interaction, gone));
    let moved_n = m.live.iter().position(|r| rid(r.0) == moved).unwrap();
    let r = &mut m.live[moved_n];
    r.2 = 999_999;
    m.data
        .apply(Op::Put(interaction(r.0, r.1, r.2, r.3, &r.4.clone())));
    m.data
        .apply(Op::Put(interaction(5_000, 1, -5, Channel::Web, "nouveau")));
    m.live.push((5_000, 1, -5, Channel::Web, "nouveau".into()));
    let mut seen = first.clone();
    loop {
        let mut page = m
            .data
            .page(RecordKind::Interaction, &Filter::default(), seen.last(), 20);
        let more = page.len() > 20;
        page.truncate(20);
        seen.extend(page);
        if !more {
            break;
        }
    }
    let want: Vec<Key> = first
        .iter()
        .copied()
        .chain(
            expected(&m, |_| true)
                .into_iter()
                .filter(|k| *k > *first.last().unwrap()),
        )
        .collect();
    assert_eq!(seen, want);
    assert!(!seen.iter().any(|k| k.2 == gone));
    assert_eq!(
        seen.iter().filter(|k| k.2 == moved).count(),
        0,
        "moved before the cursor"
    );
    assert!(seen.iter().any(|k| k.2 == rid(5_000)));
}

#[test]
fn deleting_a_vendor_takes_its_records_out_of_listings_and_search() {
    let mut m = model(3, 300);
    m.data.apply(Op::RemoveVendor(rid(1_000_001)));
    m.live.retain(|r| r.1 != 1);
    assert_eq!(
        walk(&m.data, &Filter::default(), 50),
        expected(&m, |_| true)
    );
    let f = Filter {
        vendor: Some(rid(1_000_001)),
        ..Filter::default()
    };
    assert!(
        m.data
            .page(RecordKind::Interaction, &f, None, 10)
            .is_empty()
    );
    let hits = m.data.search(&["facture".into()], None, None, 1000);
    assert!(hits.iter().all(|h| h.vendor != Some(rid(1_000_001))));
    assert!(
        m.data
            .search(&["vendeur".into(), "1".into()], None, None, 10)
            .is_empty()
    );
    assert_eq!(m.data.records(), 4 + m.live.len());
}

#[test]
fn search_ranks_filters_and_survives_compaction() {
    let mut m = model(5, 100);
    // Many edits: documents are replaced, postings compacted on the way.
    for round in 0..60 {
        for r in &m.live {
            m.data.apply(Op::Put(interaction(
                r.0,
                r.1,
                r.2,
                r.3,
                &format!("{} {round}", r.4),
            )));
        }
    }
    let rare = interaction(
        9_000,
        0,
        1,
        Channel::Phone,
        "technicien technique technologie",
    );
    m.data.apply(Op::Put(rare));
    let hits = m.data.search(&["techn".into()], None, None, 5);
    assert_eq!(hits[0].id, rid(9_000), "more matched words");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let all = m.data.search(
        &["techn".into()],
        Some(RecordKind::Interaction),
        None,
        10_000,
    );
    let want = m.live.iter().filter(|r| r.4.starts_with("tech")).count() + 1;
    assert_eq!(all.len(), want);
    assert!(
        m.data
            .search(&["techn".into()], Some(RecordKind::Vendor), None, 10)
            .is_empty()
    );
    let vendors = m.data.search(
        &["vendeur".into()],
        Some(RecordKind::Vendor),
        Some(rid(1_000_003)),
        10,
    );
    assert_eq!(vendors.len(), 1);
    assert_eq!((vendors[0].id, vendors[0].vendor), (rid(1_000_003), None));
    let of_vendor = m
        .data
        .search(&["livraison".into()], None, Some(rid(1_000_004)), 1000);
    assert!(of_vendor.iter().all(|h| h.vendor == Some(rid(1_000_004))));
    assert!(
        m.data
            .search(&["ivraison".into()], None, None, 10)
            .is_empty()
    );
}

#[test]
fn followups_and_warranties_come_from_the_dates_kept() {
    let mut d = Data::default();
    d.apply(Op::Put(vendor(0)));
    let day = |n| NaiveDate::from_ymd_opt(2026, 1, n).unwrap();
    for (n, pending) in [
        (1, Some(Some(day(10)))),
        (2, Some(None)),
        (3, None),
        (4, Some(Some(day(20)))),
    ] {
        let mut i = interaction(n, 0, 1, Channel::Phone, "x");
        i.pending = pending;
        d.apply(Op::Put(i));
    }
    let mut due: Vec<u64> = d
        .followups(Some(day(15)))
        .iter()
        .map(|f| u64::from_be_bytes(f.0[2..].try_into().unwrap()))
        .collect();
    due.sort_unstable();
    assert_eq!(due, vec![1, 2]);
    assert_eq!(d.followups(None).len(), 3);
    let mut p = Item::new(RecordKind::Purchase, "", None, (0, 0), 0);
    p.id = rid(50);
    p.vendor = Some(rid(1_000_000));
    p.warranty_until = Some(day(12));
    d.apply(Op::Put(p));
    assert_eq!(
        d.warranties_ending(day(1), day(12)),
        vec![(rid(50), day(12))]
    );
    assert!(d.warranties_ending(day(13), day(31)).is_empty());
    d.apply(Op::RemoveVendor(rid(1_000_000)));
    assert!(d.followups(None).is_empty());
    assert!(d.warranties_ending(day(1), day(31)).is_empty());
}

/// What comes due is read from the dates kept in order: soonest first, undated steps last; a
/// step changed or done, a record removed, leaves no trace there.
#[test]
fn what_comes_due_follows_every_change_in_date_order() {
    let mut d = Data::default();
    d.apply(Op::Put(vendor(0)));
    let day = |n| NaiveDate::from_ymd_opt(2026, 1, n).unwrap();
    let put = |d: &mut Data, n: u64, pending: Option<Option<NaiveDate>>| {
        let mut i = interaction(n, 0, 1, Channel::Phone, "x");
        i.pending = pending;
        d.apply(Op::Put(i));
    };
    put(&mut d, 1, Some(Some(day(20))));
    put(&mut d, 2, Some(None));
    put(&mut d, 3, Some(Some(day(5))));
    put(&mut d, 4, Some(Some(day(12))));
    let order = |d: &Data, through| -> Vec<u64> {
        d.followups(through)
            .iter()
            .map(|f| u64::from_be_bytes(f.0[2..].try_into().unwrap()))
            .collect()
    };
    assert_eq!(order(&d, None), vec![3, 4, 1, 2]);
    assert_eq!(order(&d, Some(day(12))), vec![3, 4, 2]);
    // Moved, done, removed.
    put(&mut d, 3, Some(Some(day(25))));
    put(&mut d, 4, None);
    d.apply(Op::Remove(RecordKind::Interaction, rid(1)));
    assert_eq!(order(&d, None), vec![3, 2]);
    assert_eq!(order(&d, Some(day(24))), vec![2]);
}

/// Changes made while the index builds are kept, and a read waits for the build to end.
#[test]
fn a_read_waits_for_the_build_and_sees_the_changes_made_meanwhile() {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};

    use super::{LedgerIndex, Loader};
    use crate::crypto::{Keys, VaultKey};
    use crate::store::{Store, Synchronous};

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("carnet.db"), Synchronous::Normal).unwrap());
    let keys = Arc::new(Keys::new(VaultKey::generate().unwrap()));
    let (go, wait) = mpsc::channel::<()>();
    let (started, build_started) = mpsc::channel::<()>();
    let gate = Mutex::new((wait, started));
    let load: Loader = Arc::new(move |_, _, sink| {
        let gate = gate.lock().unwrap();
        gate.1.send(()).unwrap();
        gate.0.recv().unwrap();
        sink(Op::Put(vendor(0)));
        sink(Op::Put(interaction(
            1,
            0,
            10,
            Channel::Phone,
            "lu à la construction",
        )));
        Ok(())
    });
    let index = LedgerIndex::start(store, keys, load);
    build_started.recv().unwrap();
    // Committed while the build reads: one record replaced, one added, one deleted.
    index.apply(vec![
        Op::Put(interaction(1, 0, 30, Channel::Phone, "changé pendant")),
        Op::Put(interaction(2, 0, 20, Channel::Email, "ajouté pendant")),
        Op::Put(interaction(3, 0, 5, Channel::Email, "effacé pendant")),
        Op::Remove(RecordKind::Interaction, rid(3)),
    ]);
    assert_eq!(
        index.stats().records,
        0,
        "nothing is served from a half-built index"
    );
    let reader = {
        let index = index.clone();
        std::thread::spawn(move || {
            index
                .read(|d| {
                    let keys = d.page(RecordKind::Interaction, &Filter::default(), None, 10);
                    let found = d.search(&["pendant".into()], None, None, 10).len();
                    (keys, found)
                })
                .unwrap()
        })
    };
    go.send(()).unwrap();
    let (keys, found) = reader.join().unwrap();
    assert_eq!(keys, vec![(-30, 0, rid(1)), (-20, 0, rid(2))]);
    assert_eq!(found, 2);
    assert_eq!(index.stats().records, 3);
}

#[test]
fn a_read_during_a_build_longer_than_its_wait_says_warming_and_the_next_one_is_served() {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::{LedgerIndex, Loader};
    use crate::crypto::{Keys, VaultKey};
    use crate::ledger::LedgerError;
    use crate::store::{Store, Synchronous};

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("carnet.db"), Synchronous::Normal).unwrap());
    let keys = Arc::new(Keys::new(VaultKey::generate().unwrap()));
    // The build is held until the test lets it go: it cannot end within the read's wait.
    let (go, wait) = mpsc::channel::<()>();
    let gate = Mutex::new(wait);
    let load: Loader = Arc::new(move |_, _, sink| {
        gate.lock().unwrap().recv().unwrap();
        sink(Op::Put(vendor(0)));
        Ok(())
    });
    let index = LedgerIndex::start(store, keys, load);
    let early = index.read_within(Duration::from_millis(20), |d| d.records());
    assert!(
        matches!(early, Err(LedgerError::Warming)),
        "a read that cannot wait for the build is told so, not served half an index"
    );
    go.send(()).unwrap();
    assert_eq!(index.read(|d| d.records()).unwrap(), 1);
}

fn purchase(n: u64, v: u64, day: NaiveDate, created_ms: i64) -> Item {
    use chrono::Datelike;
    let d = i64::from(day.num_days_from_ce());
    let mut i = Item::new(RecordKind::Purchase, "", None, (-d, -created_ms), 0);
    i.id = rid(n);
    i.vendor = Some(rid(1_000_000 + v));
    i
}

fn incident(n: u64, v: u64, ms: i64) -> Item {
    let mut i = Item::new(RecordKind::Incident, "", None, (-ms, 0), ms);
    i.id = rid(n);
    i.vendor = Some(rid(1_000_000 + v));
    i
}

const DAY: i64 = 86_400_000;

#[test]
fn a_vendors_tally_and_sentiments_come_from_the_index_alone() {
    let mut d = Data::default();
    d.apply(Op::Put(vendor(0)));
    d.apply(Op::Put(vendor(1)));
    let day = |n: u32| NaiveDate::from_ymd_opt(2026, 1, n).unwrap();
    for (n, ms, s) in [
        (1, 10 * DAY, Some(2)),
        (2, 30 * DAY, None),
        (3, 20 * DAY, Some(-1)),
    ] {
        let mut i = interaction(n, 0, ms, Channel::Phone, "x");
        i.sentiment = s;
        d.apply(Op::Put(i));
    }
    d.apply(Op::Put(interaction(4, 1, 99 * DAY, Channel::Phone, "x")));
    d.apply(Op::Put(purchase(10, 0, day(20), 1)));
    d.apply(Op::Put(purchase(11, 0, day(5), 2)));
    d.apply(Op::Put(incident(20, 0, 15 * DAY)));
    let t = d.tally(&rid(1_000_000));
    assert_eq!(
        (t.interactions, t.purchases, t.incidents),
        (3, 2, 1),
        "{t:?}"
    );
    assert_eq!(t.last_contact, Some((30 * DAY, 0)));
    assert_eq!(t.first_purchase, Some(day(5)));
    assert_eq!(d.tally(&rid(1_000_009)), super::Tally::default());
    assert_eq!(
        d.sentiments(&rid(1_000_000), None),
        vec![(20 * DAY, -1), (10 * DAY, 2)]
    );
    assert_eq!(
        d.sentiments(&rid(1_000_000), Some(15 * DAY)),
        vec![(20 * DAY, -1)]
    );
    // A deleted interaction leaves the tally.
    d.apply(Op::Remove(RecordKind::Interaction, rid(2)));
    let t = d.tally(&rid(1_000_000));
    assert_eq!((t.interactions, t.last_contact), (2, Some((20 * DAY, 0))));
}

#[test]
fn a_vendors_timeline_pages_through_every_kind_once_newest_first() {
    use super::Moment;
    let mut g = Lcg(11);
    let mut d = Data::default();
    d.apply(Op::Put(vendor(0)));
    d.apply(Op::Put(vendor(1)));
    let base = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let base_ms = base
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let mut want: Vec<(Moment, Rid)> = Vec::new();
    for n in 0..300u64 {
        let v = g.next(2);
        // Times on few days, some exactly at midnight: ties between kinds.
        let days = g.next(10) as i64;
        let ms = base_ms + days * DAY + if g.next(2) == 0 { 0 } else { 3_600_000 };
        let item = match g.next(3) {
            0 => interaction(n, v, ms, Channel::Email, "x"),
            1 => purchase(
                n,
                v,
                base + chrono::Days::new(days as u64),
                g.next(5) as i64,
            ),
            _ => incident(n, v, ms),
        };
        if v == 0 {
            let key = (item.key.0, item.key.1, item.id);
            let m = Moment::of(item.kind, key);
            if item.kind == RecordKind::Purchase {
                assert_eq!(m.ms(), base_ms + days * DAY);
            } else {
                assert_eq!(m.ms(), ms);
            }
            want.push((m, item.id));
        }
        d.apply(Op::Put(item));
    }
    want.sort();
    for limit in [1, 4, 25, 500] {
        let mut got: Vec<(Moment, Rid)> = Vec::new();
        loop {
            let after = got.last().map(|(m, _)| *m);
            let mut page = d.timeline(&rid(1_000_000), after.as_ref(), limit);
            let more = page.len() > limit;
            page.truncate(limit);
            got.extend(page.into_iter().map(|(_, m)| (m, m.key.2)));
            if !more {
                break;
            }
        }
        assert_eq!(got, want, "limit {limit}");
    }
    assert!(d.timeline(&rid(1_000_009), None, 5).is_empty());
}

#[test]
fn vendors_filter_by_the_beginning_of_their_name_in_any_case() {
    let mut d = Data::default();
    for (n, name) in [(0, "acme"), (1, "acme bis"), (2, "beta"), (3, "ácme")] {
        let mut v = vendor(n);
        v.name = Some(name.into());
        d.apply(Op::Put(v));
    }
    let names = |prefix: &str| -> Vec<String> {
        d.vendor_page(prefix, None, 10)
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    };
    assert_eq!(names("ACM"), vec!["acme", "acme bis"]);
    assert_eq!(names(""), vec!["acme", "acme bis", "beta", "ácme"]);
    assert_eq!(names("zz"), Vec::<String>::new());
    let first = d.vendor_page("acme", None, 1);
    assert_eq!(first.len(), 2, "one more tells a next page");
    let after = (first[0].0.as_str(), &first[0].1);
    let rest = d.vendor_page("acme", Some(after), 1);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].0, "acme bis");
}

#[test]
fn keeping_the_sentiment_does_not_grow_an_entry() {
    // 1,000,000 interactions: every byte of an entry is a megabyte of the index.
    assert!(std::mem::size_of::<super::data::Entry>() <= 64);
}

/// A document of vendor `v`, titled `title`, attached to record `to` (the vendor if `None`).
fn document(n: u64, v: u64, to: Option<u64>, title: &str, file: &str) -> Item {
    use carnet_schemas::ids::{InteractionKind, VendorKind};
    use carnet_schemas::{AttachedTo, AttachmentKind};
    let mut i = Item::new(RecordKind::Document, "", None, (-(n as i64), 0), n as i64);
    i.id = rid(2_000_000 + n);
    i.vendor = Some(rid(1_000_000 + v));
    i.texts.push((title.to_owned(), true));
    i.texts.push((file.to_owned(), false));
    let attached_to = match to {
        Some(r) => AttachedTo {
            kind: AttachmentKind::Interaction,
            id: super::id_of::<InteractionKind>(&rid(r)).to_string(),
        },
        None => AttachedTo {
            kind: AttachmentKind::Vendor,
            id: super::id_of::<VendorKind>(&rid(1_000_000 + v)).to_string(),
        },
    };
    i.document = Some(Box::new(super::item::DocumentFacts {
        title: title.into(),
        file_name: Some(file.into()),
        attached_to,
    }));
    i
}

fn hits(d: &Data, q: &str, kind: Option<RecordKind>) -> Vec<Rid> {
    let words = super::text::words(q);
    d.search(&words, kind, None, 50)
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn documents_are_searched_by_title_and_file_name_and_forgotten_with_their_record() {
    let mut d = Data::default();
    for v in 0..2 {
        d.apply(Op::Put(vendor(v)));
    }
    d.apply(Op::Put(interaction(7, 0, 1_000, Channel::ALL[0], "appel")));
    d.apply(Op::Put(document(
        1,
        0,
        Some(7),
        "Contrat d'entretien",
        "scan_0412.pdf",
    )));
    d.apply(Op::Put(document(
        2,
        1,
        None,
        "Garantie",
        "photo-degats.jpg",
    )));
    let (one, two) = (rid(2_000_001), rid(2_000_002));
    assert_eq!(hits(&d, "contrat", None), vec![one]);
    assert_eq!(hits(&d, "scan 0412", None), vec![one], "file-name words");
    assert_eq!(hits(&d, "degats", Some(RecordKind::Document)), vec![two]);
    assert!(hits(&d, "degats", Some(RecordKind::Interaction)).is_empty());
    let found = d.search(&super::text::words("garantie"), None, None, 5);
    assert_eq!(found[0].vendor, Some(rid(1_000_001)), "its vendor");
    assert_eq!(
        d.document(&two).unwrap().file_name.as_deref(),
        Some("photo-degats.jpg")
    );
    let records = d.records();

    // Rewritten (a new title): the old words go.
    d.apply(Op::Put(document(2, 1, None, "Bon de garantie", "bon.jpg")));
    assert!(hits(&d, "degats", None).is_empty());
    assert_eq!(hits(&d, "bon garantie", None), vec![two]);
    assert_eq!(d.records(), records);

    // An edit of the interaction keeps its document; deleting it takes it (the database
    // cascades).
    d.apply(Op::Put(interaction(7, 0, 2_000, Channel::ALL[0], "appel")));
    assert_eq!(hits(&d, "contrat", None), vec![one]);
    d.apply(Op::Remove(RecordKind::Interaction, rid(7)));
    assert!(hits(&d, "contrat", None).is_empty());
    assert!(d.document(&one).is_none());

    // Deleting the document, or its vendor, forgets it.
    d.apply(Op::Put(document(3, 1, None, "Devis", "devis.pdf")));
    d.apply(Op::Remove(RecordKind::Document, two));
    assert!(hits(&d, "garantie", None).is_empty());
    d.apply(Op::RemoveVendor(rid(1_000_001)));
    assert!(hits(&d, "devis", None).is_empty());
    assert_eq!(d.records(), 1);
}

#[test]
fn documents_survive_the_postings_compaction() {
    let mut d = Data::default();
    d.apply(Op::Put(vendor(0)));
    d.apply(Op::Put(document(1, 0, None, "Facture cuisine", "f.pdf")));
    // Enough rewrites to make the postings compact (and renumber) several times.
    for n in 0..5_000u64 {
        d.apply(Op::Put(interaction(n, 0, n as i64, Channel::ALL[0], "mot")));
        d.apply(Op::Remove(RecordKind::Interaction, rid(n)));
    }
    assert_eq!(hits(&d, "cuisine", None), vec![rid(2_000_001)]);
    d.apply(Op::Remove(RecordKind::Document, rid(2_000_001)));
    assert!(hits(&d, "cuisine", None).is_empty());
}
