//! Moving to a new server as the README says: its export-and-import snippet, run as written
//! (line by line through `sh`, from the README itself), and a wrong token during a large
//! import reported as the server's refusal (exit 4), never as "cannot reach carnetd".

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use age::secrecy::ExposeSecret;
use carnet_tests::{Api, Carnetd, CliOutput, TestServer, binary, run_carnet_env};

/// The commands of the README's export-and-import snippet, without comments.
fn readme_snippet() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme
        .find("## Export, import and moving to another server")
        .expect("the README's section on moving")..];
    let start = section.find("```sh\n").expect("its snippet") + "```sh\n".len();
    let end = start + section[start..].find("```").expect("the snippet's end");
    section[start..end]
        .lines()
        .map(|l| l.find(" #").map_or(l, |at| &l[..at]).trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Runs one line of the snippet with `sh`, as a person would type it, in `work` with `home` as
/// HOME, the binaries under test first on PATH, and no CARNET_* but `env`.
fn sh(line: &str, work: &Path, home: &Path, env: &[(&str, &str)]) -> CliOutput {
    let bins = binary("carnet").parent().unwrap().to_owned();
    let path = std::env::join_paths(std::iter::once(bins).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let out = Command::new("sh")
        .args(["-c", line])
        .current_dir(work)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    CliOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn the_readme_s_move_to_a_new_server_works_as_written() {
    if Command::new("age-keygen")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!(
            "this test runs the README's snippet, which needs age and age-keygen: install Debian's age"
        );
    }
    let old = TestServer::spawn();
    old.create(
        "/v1/vendors",
        &serde_json::json!({"name": "Acme Appliances"}),
    );
    let (work, home, root) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // /var/lib/carnet, here: a directory that does not exist yet.
    let new_dir: PathBuf = root.path().join("var-lib-carnet");
    let new_dir_text = new_dir.to_str().unwrap().to_owned();
    let old_token = old.token();
    let lines = readme_snippet();
    assert!(lines.len() >= 4, "{lines:?}");

    let mut new: Option<Carnetd> = None;
    let mut last = None;
    for line in &lines {
        let line = line.replace("/var/lib/carnet", &new_dir_text);
        if let Some(args) = line.strip_prefix("carnetd ") {
            // The server is started by the harness (with --listen 127.0.0.1:0, since tests
            // share the machine) and ready when it returns, as it is for a person who waits
            // for it before typing the next line.
            let args = args.trim_end_matches('&').trim();
            assert_eq!(args, format!("--data-dir {new_dir_text}"), "{line}");
            new = Some(Carnetd::start(&new_dir, &[]).unwrap());
            continue;
        }
        // Before the new server: the CLI as configured for the old one. After: nothing but
        // what the line itself says, and the new server's address (its port is not 8787).
        let out = match &new {
            None => sh(
                &line,
                work.path(),
                home.path(),
                &[("CARNET_SERVER", &old.base), ("CARNET_TOKEN", &old_token)],
            ),
            Some(d) => sh(
                &line.replace("http://127.0.0.1:8787", &d.base),
                work.path(),
                home.path(),
                &[("CARNET_SERVER", &d.base)],
            ),
        };
        assert_eq!(out.code, 0, "`{line}` failed:\n{}", out.stderr);
        last = Some(out);
    }
    let new = new.expect("the snippet starts the new server");
    let names: Vec<String> = new
        .list_all("/v1/vendors")
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Acme Appliances"], "the vault moved");
    // The last line reads the archive without Carnet.
    let head = last.unwrap().stdout;
    assert!(
        head.starts_with('{') && head.contains("carnet-archive"),
        "{head}"
    );
}

#[test]
fn a_wrong_token_during_a_large_import_is_reported_as_refused() {
    let s = TestServer::spawn();
    let dir = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, key.to_string().expose_secret()).unwrap();
    // 64 MiB: far more than the sockets' buffers, so carnetd refuses the token while the
    // upload is still being written.
    let archive = dir.path().join("big.age");
    let recipient = key.to_public();
    let mut w = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .unwrap()
        .wrap_output(std::fs::File::create(&archive).unwrap())
        .unwrap();
    let filler = vec![b' '; 1 << 20];
    w.write_all(b"{\"format\":\"carnet-archive\",\"version\":1,\"x\":\"")
        .unwrap();
    for _ in 0..64 {
        w.write_all(&filler).unwrap();
    }
    w.write_all(b"\"}").unwrap();
    w.finish().unwrap();

    for attempt in 0..3 {
        let out = run_carnet_env(
            dir.path(),
            &[
                ("CARNET_SERVER", &s.base),
                ("CARNET_TOKEN", "not-the-owner-token"),
            ],
            &[
                "import",
                archive.to_str().unwrap(),
                "--identity",
                key_file.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.code, 4, "attempt {attempt}: {}", out.stderr);
        assert!(!out.stderr.contains("cannot reach"), "{}", out.stderr);
        assert!(out.stderr.contains("CARNET_TOKEN"), "{}", out.stderr);
    }
    assert_eq!(s.get("/v1/vendors").json()["items"], serde_json::json!([]));
}
