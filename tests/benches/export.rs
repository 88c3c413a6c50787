//! Export and import of a vault of 100,000 interactions, through the release `carnet` CLI and a
//! release `carnetd` process, and age's stream cipher against the RustCrypto
//! `chacha20poly1305` crate on the same data, measured in the same run:
//! 1. `import`: `carnet import` of an archive of 100,000 interactions into an empty vault
//!    (decryption, upload, parse, seal, one transaction), its time, and the peak RSS of
//!    carnetd (VmHWM, reset first) and of the CLI;
//! 2. `export`: `carnet export` of that vault (snapshot, open, JSON, age encryption, atomic
//!    write), the same figures;
//! 3. `age`: encrypting and decrypting 256 MiB with age (X25519 recipient, STREAM of 64 KiB
//!    ChaCha20-Poly1305 chunks) against the bare AEAD over the same chunks; the ratio is the
//!    figure to watch (target: within 1.3x).
//!
//! Needs release binaries: `cargo build --release --bins`, then
//! `cargo bench -p carnet-tests --bench export` (one part: `… -- age`).
#![allow(clippy::unwrap_used)] // a benchmark that cannot unwrap has failed anyway

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret;
use carnet_tests::memory::{peak_rss_mib, reset_peak, run_measured};
use carnet_tests::{Api, Carnetd, binary};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use serde_json::{Value, json};

const INTERACTIONS: usize = 100_000;
const VENDORS: usize = 20;

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if wanted("import") || wanted("export") {
        export_and_import();
    }
    if wanted("age") {
        age_against_chacha();
    }
}

/// Runs the CLI against `server`; returns how long it took and its peak RSS.
fn carnet(server: &Carnetd, home: &Path, args: &[&str]) -> (Duration, f64) {
    let (elapsed, peak, out) = run_measured(
        Command::new(binary("carnet"))
            .args(args)
            .env_clear()
            .env("HOME", home)
            .env("CARNET_SERVER", &server.base)
            .env("CARNET_TOKEN", server.token()),
    );
    assert!(
        out.status.success(),
        "carnet {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, peak)
}

fn decrypt(bytes: &[u8], identity: &age::x25519::Identity) -> Vec<u8> {
    let mut plain = Vec::new();
    age::Decryptor::new(bytes)
        .unwrap()
        .decrypt(std::iter::once(identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

fn encrypt(plain: &[u8], to: &age::x25519::Recipient) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = age::Encryptor::with_recipients(std::iter::once(to as &dyn age::Recipient))
        .unwrap()
        .wrap_output(&mut out)
        .unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    out
}

/// An archive of `VENDORS` vendors (exported from a real vault, so its keys are real) and
/// `INTERACTIONS` interactions spread over them.
fn big_archive(small: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(small).unwrap();
    let vendors: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("{\"id\":\"ven_"))
        .map(|l| {
            let v: Value = serde_json::from_str(l.trim_end_matches(',')).unwrap();
            v["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(vendors.len(), VENDORS);
    let mut out = String::with_capacity(INTERACTIONS * 700);
    for line in text.lines() {
        if let Some(counts) = line.strip_prefix("\"counts\":") {
            let mut counts: Value = serde_json::from_str(counts.trim_end_matches(',')).unwrap();
            counts["interactions"] = json!(INTERACTIONS);
            out.push_str(&format!("\"counts\":{counts},\n"));
            continue;
        }
        if line == "\"interactions\":[]," {
            out.push_str("\"interactions\":[\n");
            for i in 0..INTERACTIONS {
                let record = json!({
                    "id": format!("int_{i:016}"),
                    "created_at": "2026-11-01T09:00:00.000Z",
                    "updated_at": "2026-11-01T09:00:00.000Z",
                    "vendor_id": vendors[i % VENDORS],
                    "at": "2026-11-01T09:00:00.000Z",
                    "channel": "phone",
                    "summary": format!("Call {i} about the order and its delivery window"),
                    "with": "Customer service",
                    "expected": "A delivery date this week",
                    "i_said": "I asked whether Friday morning is possible, and for a call an hour before",
                    "they_said": "They will check with the carrier and send a confirmation by email",
                    "outcome": "Pending confirmation",
                    "sentiment": (i % 5) as i64 - 2,
                    "next_step": "Check the confirmation email",
                    "next_due": "2026-11-05",
                    "next_done": i % 3 == 0,
                    "incident_id": null,
                    "shared": i % 7 == 0,
                });
                out.push_str(&record.to_string());
                out.push_str(if i + 1 < INTERACTIONS { ",\n" } else { "\n" });
            }
            out.push_str("],\n");
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

fn export_and_import() {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    let key_file = root.path().join("key.txt");
    std::fs::write(&key_file, identity.to_string().expose_secret()).unwrap();

    // A small real vault, exported, grown to 100,000 interactions.
    let a = Carnetd::start(&root.path().join("a"), &[]).unwrap();
    for i in 0..VENDORS {
        a.create(
            "/v1/vendors",
            &json!({"name": format!("Vendor {i}"), "categories": ["home"]}),
        );
    }
    let small = root.path().join("small.age");
    carnet(
        &a,
        &home,
        &[
            "export",
            "--out",
            small.to_str().unwrap(),
            "--recipient",
            &recipient.to_string(),
        ],
    );
    let plain = big_archive(&decrypt(&std::fs::read(&small).unwrap(), &identity));
    let big = root.path().join("big.age");
    std::fs::write(&big, encrypt(&plain, &recipient)).unwrap();
    let plain_mib = plain.len() as f64 / (1 << 20) as f64;
    drop(plain);
    drop(a);

    let b = Carnetd::start(&root.path().join("b"), &[]).unwrap();
    let pid = b.child.id();
    let idle = peak_rss_mib(pid).unwrap_or(0.0);
    reset_peak(pid);
    let (took, cli_peak) = carnet(
        &b,
        &home,
        &[
            "import",
            big.to_str().unwrap(),
            "--identity",
            key_file.to_str().unwrap(),
        ],
    );
    let server_peak = peak_rss_mib(pid).unwrap_or(0.0);
    println!(
        "export and import of {INTERACTIONS} interactions ({VENDORS} vendors; archive {plain_mib:.1} MiB of JSON, release binaries)"
    );
    println!("  carnetd idle RSS before: {idle:.1} MiB");
    println!(
        "  import (carnet import → carnetd, one transaction): {:>6.2} s  {:>7.0} records/s  carnetd peak RSS {server_peak:.1} MiB  CLI peak RSS {cli_peak:.1} MiB",
        took.as_secs_f64(),
        INTERACTIONS as f64 / took.as_secs_f64()
    );

    reset_peak(pid);
    let out = root.path().join("out.age");
    let (took, cli_peak) = carnet(
        &b,
        &home,
        &[
            "export",
            "--out",
            out.to_str().unwrap(),
            "--recipient",
            &recipient.to_string(),
        ],
    );
    let server_peak = peak_rss_mib(pid).unwrap_or(0.0);
    let size = std::fs::metadata(&out).unwrap().len() as f64 / (1 << 20) as f64;
    println!(
        "  export (carnetd → carnet export, age, atomic write): {:>6.2} s  {:>7.0} records/s  carnetd peak RSS {server_peak:.1} MiB  CLI peak RSS {cli_peak:.1} MiB  file {size:.1} MiB",
        took.as_secs_f64(),
        INTERACTIONS as f64 / took.as_secs_f64()
    );
    let back = decrypt(&std::fs::read(&out).unwrap(), &identity);
    let counts_line = std::str::from_utf8(&back)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("\"counts\":"))
        .unwrap()
        .to_owned();
    assert!(
        counts_line.contains(&format!("\"interactions\":{INTERACTIONS}")),
        "{counts_line}"
    );
}

/// Best of `rounds` timings of `f`, in seconds.
fn best(rounds: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn age_against_chacha() {
    const SIZE: usize = 256 << 20;
    const CHUNK: usize = 64 << 10;
    // Not all zeros, so nothing can take a shortcut.
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 31 % 251) as u8).collect();
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public();
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    let mut sealed = Vec::new();

    let mut bare_encrypt = || {
        sealed.clear();
        let mut buf = Vec::with_capacity(CHUNK + 16);
        for (n, chunk) in data.chunks(CHUNK).enumerate() {
            let mut nonce = [0u8; 12];
            nonce[3..11].copy_from_slice(&(n as u64).to_be_bytes());
            buf.clear();
            buf.extend_from_slice(chunk);
            let tag = cipher
                .encrypt_in_place_detached(&nonce.into(), b"", &mut buf)
                .unwrap();
            sealed.extend_from_slice(&buf);
            sealed.extend_from_slice(&tag);
        }
    };
    let mut age_file = Vec::with_capacity(SIZE + SIZE / 1000);
    let mut age_encrypt = || {
        age_file.clear();
        let mut w =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .unwrap()
                .wrap_output(&mut age_file)
                .unwrap();
        w.write_all(&data).unwrap();
        w.finish().unwrap();
    };
    let (mut raw_enc, mut age_enc) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        raw_enc = raw_enc.min(best(1, &mut bare_encrypt));
        age_enc = age_enc.min(best(1, &mut age_encrypt));
    }

    let mut plain = vec![0u8; CHUNK];
    let mut bare_decrypt = || {
        for (n, chunk) in sealed.chunks(CHUNK + 16).enumerate() {
            let mut nonce = [0u8; 12];
            nonce[3..11].copy_from_slice(&(n as u64).to_be_bytes());
            let (body, tag) = chunk.split_at(chunk.len() - 16);
            plain.clear();
            plain.extend_from_slice(body);
            cipher
                .decrypt_in_place_detached(&nonce.into(), b"", &mut plain, tag.into())
                .unwrap();
        }
    };
    let mut sink = vec![0u8; CHUNK];
    let mut age_decrypt = || {
        let mut r = age::Decryptor::new_buffered(&age_file[..])
            .unwrap()
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap();
        let mut total = 0;
        loop {
            let n = r.read(&mut sink).unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, SIZE);
    };
    let (mut raw_dec, mut age_dec) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        raw_dec = raw_dec.min(best(1, &mut bare_decrypt));
        age_dec = age_dec.min(best(1, &mut age_decrypt));
    }
    let mib = SIZE as f64 / (1 << 20) as f64;
    println!("age stream vs chacha20poly1305 (RustCrypto) on the same {mib:.0} MiB, 64 KiB chunks");
    println!(
        "  encrypt: chacha20poly1305 {:>7.0} MiB/s  age {:>7.0} MiB/s  ratio age/bare {:.2}x  (target <= 1.3x)",
        mib / raw_enc,
        mib / age_enc,
        age_enc / raw_enc
    );
    println!(
        "  decrypt: chacha20poly1305 {:>7.0} MiB/s  age {:>7.0} MiB/s  ratio age/bare {:.2}x  (target <= 1.3x)",
        mib / raw_dec,
        mib / age_dec,
        age_dec / raw_dec
    );
}
