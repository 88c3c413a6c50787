//! The vaults the listings and search parts measure: an export archive of `n` interactions
//! over 100 vendors, with purchases and incidents, written the way `carnet export` writes one
//! (the head and the vendors come from a real export of a vault holding the 100 vendors, so
//! the keys and the format version are real), cached under `target/bench-ledger/`, and
//! imported into a fresh data directory through `POST /v1/import`, the endpoint `carnet import`
//! streams its decrypted archive to (the CLI's age decryption is left out: it is measured by
//! `--bench export`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carnet_schemas::ARCHIVE_VERSION;
use carnet_tests::{Api, Carnetd, TestServer};
use serde_json::{Value, json};

/// Bump when the generator's output changes, so cached archives are made again.
const GENERATOR: u32 = 1;
pub const VENDORS: usize = 100;
/// One purchase per this many interactions, and one incident per `INCIDENT_EVERY`.
const PURCHASE_EVERY: usize = 20;
const INCIDENT_EVERY: usize = 100;
/// The newest interaction; the oldest is ten years before.
pub const NEWEST: &str = "2026-11-01T18:00:00Z";
const YEARS: i64 = 10;

/// A deterministic mix (splitmix64), so an archive is the same on every machine.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A well-formed, unique id: `prefix_` and 16 base32hex characters of a mix of `n` and `salt`.
pub fn id(prefix: &str, salt: u64, n: u64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    // mix is a bijection of u64: 64 bits of it plus 16 of the salt stay unique.
    let bits = (u128::from(mix(n ^ (salt << 56))) << 16) | u128::from(salt & 0xffff);
    let mut s = String::with_capacity(prefix.len() + 17);
    s.push_str(prefix);
    s.push('_');
    for i in (0..16).rev() {
        s.push(ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
    }
    s
}

/// The vendor of interaction `i`, as an index.
pub fn vendor_of(i: usize) -> usize {
    (mix(i as u64 ^ 0x5eed) % VENDORS as u64) as usize
}

const SUBJECTS: &[&str] = &[
    "Appel au service client au sujet de la livraison",
    "Call about the delayed delivery of the order",
    "Réclamation : colis endommagé à la réception",
    "Le technicien est passé pour la réparation du lave-linge",
    "Chat with support about a refund for the returned item",
    "Échange en magasin pour une taille différente",
    "Email about the invoice and the warranty extension",
    "Relance concernant le remboursement promis",
    "Question sur la facture d'électricité du trimestre",
    "Visit to the store to compare électroménager prices",
    "Rendez-vous pris avec un conseiller pour la résiliation",
    "Complaint about the technician who never showed up",
    "Demande de devis pour l'installation de la cuisine",
    "Follow-up on the subscription renewal and the new price",
    "Problème de connexion internet signalé au support technique",
    "Retour d'un article défectueux, bon de retour envoyé",
];
const WITH: &[&str] = &[
    "Service client",
    "Customer service",
    "Julie, conseillère",
    "the store manager",
    "Support technique",
    "Marc au téléphone",
    "Billing department",
    "Hélène, agence de Lyon",
];
const SAID: &[&str] = &[
    "J'ai demandé une livraison vendredi matin et un appel une heure avant",
    "I asked for the refund to go back to the original card",
    "J'ai expliqué que le carton était déchiré et l'appareil rayé",
    "I said the technician had to come back because the part was missing",
    "J'ai rappelé le numéro de commande et la date d'achat",
    "I asked whether the warranty covers the pump",
    "J'ai demandé un geste commercial après trois semaines d'attente",
    "I explained the invoice shows the old tariff",
];
const ANSWERED: &[&str] = &[
    "Ils vérifient avec le transporteur et confirment par e-mail",
    "They will send a technician next week, between 8 and 12",
    "Remboursement accepté, sous quinze jours ouvrés",
    "They said the électroménager department would call back",
    "Un avoir de vingt euros sera appliqué sur la prochaine facture",
    "They cannot change the delivery slot before Monday",
    "Le dossier est transmis au service réclamations",
    "They confirmed the repair is covered by the warranty",
];
const OUTCOMES: &[&str] = &[
    "En attente de confirmation",
    "Resolved on the call",
    "Rendez-vous fixé",
    "Refund promised",
    "Sans suite pour l'instant",
    "Escalated to a supervisor",
];
const NEXT: &[&str] = &[
    "Vérifier l'e-mail de confirmation",
    "Call back if nothing arrives by Friday",
    "Renvoyer le colis avec l'étiquette prépayée",
    "Check the refund on the bank statement",
];
/// Words added to a summary: the rare one is in about 1 record in 1,000.
const EXTRA: &[&str] = &[
    "commande",
    "order",
    "délai",
    "garantie",
    "facture",
    "invoice",
    "technique",
    "technician",
    "réparé",
    "repaired",
    "fenêtre",
    "chaudière",
    "boiler",
    "abonnement",
    "échéance",
    "crédit",
];
pub const RARE: &str = "parapluie";
const CHANNELS: &[(&str, u64)] = &[
    ("email", 35),
    ("phone", 25),
    ("web", 15),
    ("chat", 10),
    ("store", 10),
    ("mail", 4),
    ("other", 1),
];

fn pick<'a>(list: &[&'a str], r: u64) -> &'a str {
    list[(r % list.len() as u64) as usize]
}

fn channel(r: u64) -> &'static str {
    let mut r = r % 100;
    for (c, w) in CHANNELS {
        if r < *w {
            return c;
        }
        r -= w;
    }
    "other"
}

/// The time of the `i`th of `n` records: evenly over ten years before `NEWEST`, newest last.
fn at(i: usize, n: usize) -> chrono::DateTime<chrono::Utc> {
    let newest: chrono::DateTime<chrono::Utc> = NEWEST.parse().expect("time");
    let span = chrono::Duration::days(365 * YEARS).num_seconds();
    let back = span - span * i as i64 / n.max(1) as i64;
    newest - chrono::Duration::seconds(back)
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Incident `j` (of vendor `j % VENDORS`).
fn incident(j: usize, n: usize, vendors: &[String]) -> Value {
    let r = mix(j as u64 ^ 0x1c1d);
    let t = at(j * INCIDENT_EVERY, n);
    let resolved = !r.is_multiple_of(3);
    let mut v = json!({
        "id": id("inc", 2, j as u64),
        "created_at": stamp(t),
        "updated_at": stamp(t),
        "vendor_id": vendors[j % VENDORS],
        "description": format!("{} ({})", pick(SUBJECTS, r), pick(EXTRA, r >> 8)),
        "opened_at": stamp(t),
        "status": if resolved { "resolved" } else { "open" },
    });
    if resolved {
        v["resolution"] = json!(pick(ANSWERED, r >> 16));
        v["satisfaction"] = json!(r % 11);
        v["resolved_at"] = json!(stamp(t + chrono::Duration::days(3)));
    }
    v
}

fn purchase(j: usize, n: usize, vendors: &[String]) -> Value {
    let r = mix(j as u64 ^ 0x9a7c);
    let t = at(j * PURCHASE_EVERY, n);
    let day = t.date_naive();
    json!({
        "id": id("pur", 3, j as u64),
        "created_at": stamp(t),
        "updated_at": stamp(t),
        "vendor_id": vendors[(r % VENDORS as u64) as usize],
        "item": format!("{} n°{}", pick(&["Lave-linge", "Bouilloire", "Phone case", "Forfait mobile", "Chaudière", "Umbrella"], r >> 4), r % 997),
        "amount": format!("{}.{:02}", 5 + r % 900, (r >> 20) % 100),
        "currency": "EUR",
        "date": day.to_string(),
        "warranty_until": (day + chrono::Duration::days(730)).to_string(),
        "receipt": format!("CMD-{:08}", r % 100_000_000),
    })
}

fn interaction(i: usize, n: usize, vendors: &[String], incidents: usize) -> Value {
    let r = mix(i as u64);
    let v = vendor_of(i);
    let t = at(i, n);
    let rare = if r % 1000 == 7 { RARE } else { "" };
    let mut x = json!({
        "id": id("int", 1, i as u64),
        "created_at": stamp(t),
        "updated_at": stamp(t),
        "vendor_id": vendors[v],
        "at": stamp(t),
        "channel": channel(r >> 3),
        "summary": format!("{} — {} {} n°{}", pick(SUBJECTS, r >> 10), pick(EXTRA, r >> 15), rare, r % 100_000),
        "with": pick(WITH, r >> 20),
        "outcome": pick(OUTCOMES, r >> 24),
        "shared": i.is_multiple_of(7),
    });
    x["sentiment"] = json!(((r >> 28) % 5) as i64 - 2);
    if (r >> 32) % 10 < 6 {
        x["i_said"] = json!(pick(SAID, r >> 34));
        x["they_said"] = json!(pick(ANSWERED, r >> 38));
    }
    if (r >> 42).is_multiple_of(2) {
        x["expected"] = json!("Une réponse claire et un délai / a clear answer and a date");
    }
    if (r >> 44) % 10 < 3 {
        x["next_step"] = json!(pick(NEXT, r >> 46));
        x["next_due"] = json!((t + chrono::Duration::days(7)).date_naive().to_string());
        x["next_done"] = json!(i + n / 100 < n);
    }
    // One in twenty is about an incident of the same vendor.
    let per_vendor = incidents / VENDORS;
    if (r >> 50).is_multiple_of(20) && per_vendor > 0 {
        let k = ((r >> 54) as usize) % per_vendor;
        x["incident_id"] = json!(id("inc", 2, (v + VENDORS * k) as u64));
    }
    x
}

/// The vendors' names: each unique.
fn vendor_name(i: usize) -> String {
    const NAMES: &[&str] = &[
        "Darty",
        "Boulangerie Martin",
        "Free Mobile",
        "EDF",
        "Leroy Merlin",
        "Fnac",
        "Garage Dupré",
        "La Poste",
        "Orange",
        "Pharmacie Hélène",
    ];
    format!("{} {}", NAMES[i % NAMES.len()], i / NAMES.len() + 1)
}

/// A small real vault's archive: the head and the vendors the big one is grown from.
fn seed_export() -> String {
    let s = TestServer::spawn();
    for i in 0..VENDORS {
        let cats = ["home.appliances", "telecom", "energy", "food", "services"];
        s.create(
            "/v1/vendors",
            &json!({"name": vendor_name(i), "categories": [cats[i % cats.len()]],
                    "note": "Client depuis 2016; très réactif par téléphone"}),
        );
    }
    let r = s.get("/v1/export");
    assert_eq!(r.status, 200, "export: {}", r.text);
    r.text
}

/// Where generated archives are kept: `target/bench-ledger/`.
fn cache_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<bench> → target/
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the bench runs from target/<profile>/deps/")
        .to_owned();
    target.join("bench-ledger")
}

/// The archive of `n` interactions: from the cache, or written now.
pub fn archive(n: usize) -> PathBuf {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).expect("cache dir");
    let path = dir.join(format!("archive-v{ARCHIVE_VERSION}-g{GENERATOR}-{n}.json"));
    if path.exists() {
        return path;
    }
    let t = Instant::now();
    let head = seed_export();
    let tmp = path.with_extension("tmp");
    write_archive(&head, n, &tmp);
    std::fs::rename(&tmp, &path).expect("rename archive");
    eprintln!(
        "  generated {} ({:.1} MiB) in {:.1} s",
        path.display(),
        std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64()
    );
    path
}

/// Writes the archive of `n` interactions grown from `head`, a real export of the vendors.
fn write_archive(head: &str, n: usize, out: &Path) {
    let vendors: Vec<String> = head
        .lines()
        .filter(|l| l.starts_with("{\"id\":\"ven_"))
        .map(|l| {
            let v: Value = serde_json::from_str(l.trim_end_matches(',')).expect("vendor");
            v["id"].as_str().expect("vendor id").to_owned()
        })
        .collect();
    assert_eq!(vendors.len(), VENDORS, "vendors in the seed export");
    let (purchases, incidents) = (n / PURCHASE_EVERY, n / INCIDENT_EVERY);
    let mut f = BufWriter::new(File::create(out).expect("archive file"));
    let section = |f: &mut BufWriter<File>, count: usize, make: &dyn Fn(usize) -> Value| {
        for j in 0..count {
            serde_json::to_writer(&mut *f, &make(j)).expect("write");
            f.write_all(if j + 1 < count { b",\n" } else { b"\n" })
                .expect("write");
        }
    };
    for line in head.lines() {
        if let Some(counts) = line.strip_prefix("\"counts\":") {
            let mut c: Value = serde_json::from_str(counts.trim_end_matches(',')).expect("counts");
            c["interactions"] = json!(n);
            c["purchases"] = json!(purchases);
            c["incidents"] = json!(incidents);
            writeln!(f, "\"counts\":{c},").expect("write");
            continue;
        }
        match line {
            "\"incidents\":[]," => {
                f.write_all(b"\"incidents\":[\n").expect("write");
                section(&mut f, incidents, &|j| incident(j, n, &vendors));
                f.write_all(b"],\n").expect("write");
            }
            "\"purchases\":[]," => {
                f.write_all(b"\"purchases\":[\n").expect("write");
                section(&mut f, purchases, &|j| purchase(j, n, &vendors));
                f.write_all(b"],\n").expect("write");
            }
            "\"interactions\":[]," => {
                f.write_all(b"\"interactions\":[\n").expect("write");
                section(&mut f, n, &|i| interaction(i, n, &vendors, incidents));
                f.write_all(b"],\n").expect("write");
            }
            _ => {
                f.write_all(line.as_bytes()).expect("write");
                f.write_all(b"\n").expect("write");
            }
        }
    }
    f.into_inner().expect("flush").sync_all().expect("sync");
}

/// What an import took.
pub struct Imported {
    pub took: Duration,
    pub records: u64,
    pub bytes: u64,
}

/// Imports the archive into the (empty) vault `server` serves, as `carnet import` does after
/// decrypting: one streamed `POST /v1/import`.
pub fn import(server: &Carnetd, archive: &Path) -> Result<Imported, String> {
    let file = File::open(archive).map_err(|e| e.to_string())?;
    let bytes = file.metadata().map_err(|e| e.to_string())?.len();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let r = client
        .post(server.url("/v1/import"))
        .bearer_auth(server.token())
        .header("content-type", "application/json")
        .body(reqwest::blocking::Body::sized(file, bytes))
        .send()
        .map_err(|e| e.to_string())?;
    let took = t.elapsed();
    let status = r.status();
    let text = r.text().map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("import answered {status}: {text}"));
    }
    let report: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let counts = report.get("imported").unwrap_or(&report);
    let records = ["vendors", "incidents", "purchases", "interactions"]
        .iter()
        .filter_map(|k| counts[k].as_u64())
        .sum();
    Ok(Imported {
        took,
        records,
        bytes,
    })
}

/// A fresh data directory holding the imported vault of `n` interactions: the import's
/// figures, and the directory (carnetd stopped). A cached archive this carnetd refuses (made by
/// another version) is made again once.
pub fn vault(n: usize, root: &Path) -> (PathBuf, Imported) {
    for attempt in 0..2 {
        let path = archive(n);
        let dir = root.join(format!("vault-{n}-{attempt}"));
        let server = Carnetd::start(&dir, &[]).expect("carnetd");
        match import(&server, &path) {
            Ok(done) => {
                let (status, log) = server.terminate();
                assert!(status.success(), "carnetd after the import: {log}");
                return (dir, done);
            }
            Err(e) if attempt == 0 => {
                eprintln!("  the cached archive was refused ({e}); making it again");
                std::fs::remove_file(&path).expect("remove the cached archive");
            }
            Err(e) => panic!("import of {n} interactions: {e}"),
        }
    }
    unreachable!("the second attempt returns or panics")
}
