//! What documents cost export, import and backup, and whether memory stays flat: a vault with
//! one vendor and documents totalling 0 (the baseline, measured in the same run), 10 MiB and
//! 100 MiB (1 GiB too with `CARNET_BENCH_GIB=1`), through the release `carnet` CLI and release
//! `carnetd` processes:
//! 1. `export`: `carnet export` (snapshot, chunks opened and grouped into 1 MiB records,
//!    base64, age, atomic write): its time, carnetd's peak RSS (VmHWM, reset first) and the
//!    CLI's;
//! 2. `import`: `carnet import` of that archive into an empty vault (decryption, upload,
//!    spool, parse, re-seal chunk by chunk, one transaction), the same figures;
//! 3. `backup`: `carnetd backup` of the exporting vault (SQLite's online backup), its time and
//!    peak RSS.
//!
//! Flat means the peaks do not grow with the documents' total: each is also given as a ratio
//! to the baseline's. Needs release binaries: `cargo build --release --bins`, then
//! `cargo bench -p carnet-tests --bench documents_archive`.
#![allow(clippy::unwrap_used)] // a benchmark that cannot unwrap has failed anyway

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use age::secrecy::ExposeSecret;
use carnet_tests::memory::{peak_rss_mib, reset_peak, run_measured};
use carnet_tests::{Api, Carnetd, binary, http};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

/// The largest document the bench adds (the default limit is 25 MiB).
const DOCUMENT_MIB: usize = 20;

fn main() {
    let mut sizes = vec![0usize, 10, 100];
    if std::env::var_os("CARNET_BENCH_GIB").is_some() {
        sizes.push(1024);
    }
    println!(
        "documents through export, import and backup (release binaries; peak RSS as VmHWM, ratio to the vault without documents)"
    );
    let mut base: Option<Figures> = None;
    for mib in sizes {
        let f = measure(mib);
        let b = base.get_or_insert(f);
        let per_mib = |d: Duration, b: Duration| {
            if mib == 0 {
                String::from("      -")
            } else {
                format!(
                    "{:>5.1} ms",
                    (d.as_secs_f64() - b.as_secs_f64()) * 1000.0 / mib as f64
                )
            }
        };
        println!(
            "  documents {mib:>5} MiB (archive {:.1} MiB):",
            f.archive_mib
        );
        for (what, took, server, cli, b_took, b_server, b_cli) in [
            (
                "export", f.export.0, f.export.1, f.export.2, b.export.0, b.export.1, b.export.2,
            ),
            (
                "import", f.import.0, f.import.1, f.import.2, b.import.0, b.import.1, b.import.2,
            ),
        ] {
            println!(
                "    {what}: {:>6.2} s ({} per MiB over the baseline)  carnetd peak {server:>5.1} MiB ({:.2}x)  CLI peak {cli:>5.1} MiB ({:.2}x)",
                took.as_secs_f64(),
                per_mib(took, b_took),
                server / b_server,
                cli / b_cli
            );
        }
        println!(
            "    backup: {:>6.2} s ({} per MiB over the baseline)  carnetd backup peak {:>5.1} MiB ({:.2}x)",
            f.backup.0.as_secs_f64(),
            per_mib(f.backup.0, b.backup.0),
            f.backup.1,
            f.backup.1 / b.backup.1
        );
    }
}

/// One size's figures: (time, carnetd peak MiB, CLI peak MiB) for export and import, (time,
/// peak MiB) for backup.
#[derive(Clone, Copy)]
struct Figures {
    archive_mib: f64,
    export: (Duration, f64, f64),
    import: (Duration, f64, f64),
    backup: (Duration, f64),
}

/// Runs `cmd` to completion; how long it took and its peak RSS.
fn timed(mut cmd: Command) -> (Duration, f64) {
    let (elapsed, peak, out) = run_measured(&mut cmd);
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, peak)
}

fn carnet(server: &Carnetd, home: &Path, args: &[&str]) -> (Duration, f64) {
    let mut cmd = Command::new(binary("carnet"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("CARNET_SERVER", &server.base)
        .env("CARNET_TOKEN", server.token());
    timed(cmd)
}

/// carnetd's peak RSS over `f`, reset first.
fn server_peak<T>(server: &Carnetd, f: impl FnOnce() -> T) -> (T, f64) {
    let pid = server.child.id();
    reset_peak(pid);
    let out = f();
    (out, peak_rss_mib(pid).unwrap_or(0.0))
}

fn measure(mib: usize) -> Figures {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let key_file = root.path().join("key.txt");
    std::fs::write(&key_file, identity.to_string().expose_secret()).unwrap();
    let quota = [("CARNET_DOCUMENT_QUOTA_MIB", "2048")];

    let a = Carnetd::start(&root.path().join("a"), &quota).unwrap();
    let vendor = a.create("/v1/vendors", &json!({"name": "Acme"}));
    let mut left = mib;
    let mut data = vec![0u8; DOCUMENT_MIB << 20];
    while left > 0 {
        let n = left.min(DOCUMENT_MIB);
        SystemRandom::new().fill(&mut data[..n << 20]).unwrap();
        let r = http()
            .post(a.url(&format!("/v1/documents?vendor={vendor}")))
            .bearer_auth(a.token())
            .body(data[..n << 20].to_vec())
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        left -= n;
    }
    drop(data);

    let out = root.path().join("out.age");
    let out_s = out.to_str().unwrap().to_owned();
    let ((took, cli), server) = server_peak(&a, || {
        carnet(
            &a,
            &home,
            &["export", "--out", &out_s, "--recipient", &recipient],
        )
    });
    let export = (took, server, cli);
    let archive_mib = std::fs::metadata(&out).unwrap().len() as f64 / (1 << 20) as f64;

    let b = Carnetd::start(&root.path().join("b"), &quota).unwrap();
    let ((took, cli), server) = server_peak(&b, || {
        carnet(
            &b,
            &home,
            &["import", &out_s, "--identity", key_file.to_str().unwrap()],
        )
    });
    let import = (took, server, cli);
    let listed = b.get("/v1/documents").json()["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(listed, mib.div_ceil(DOCUMENT_MIB));
    drop(b);

    let mut cmd = Command::new(binary("carnetd"));
    let copy = root.path().join("backup.db");
    cmd.env_clear().arg("--data-dir").arg(&a.data_dir).args([
        "backup",
        "--out",
        copy.to_str().unwrap(),
    ]);
    let backup = timed(cmd);
    Figures {
        archive_mib,
        export,
        import,
        backup,
    }
}
