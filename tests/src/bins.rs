//! The workspace binaries the tests run, `carnetd` and `carnet`, found beside the test
//! executable (`target/<profile>/`) and built there first when missing or stale: `cargo test -p
//! carnet-tests` builds no binary of another package, `cargo test --workspace` builds both.
//! Never runs a build when both are up to date, so a workspace run pays only for the check.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

/// Each binary with its package. A build always names every package, whichever binary it
/// builds: cargo unifies dependency features over the packages named, so naming the same ones
/// every time reuses one build of their dependencies instead of making a new one per choice.
const BINARIES: [(&str, &str); 3] = [
    ("carnetd", "carnet-server"),
    ("carnet", "carnet-cli"),
    ("carnet-vendor", "carnet-market"),
];

/// The path of `name` (`carnetd`, `carnet` or `carnet-vendor`), built by this process first if it was missing or
/// older than its sources (once per process, whichever test asks first).
pub fn binary(name: &str) -> PathBuf {
    assert!(
        BINARIES.iter().any(|(bin, _)| *bin == name),
        "{name} is not one of the workspace binaries the tests know: {BINARIES:?}"
    );
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let dir = profile_dir();
    if let Err(e) = BUILT.get_or_init(|| build_if_needed(&dir)) {
        panic!("{e}");
    }
    dir.join(name)
}

/// `target/<profile>/`: the test executable is `target/<profile>/deps/<name>-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable is in target/<profile>/deps/")
        .to_owned()
}

fn build_if_needed(profile_dir: &Path) -> Result<(), String> {
    let stale: Vec<&str> = BINARIES
        .iter()
        .map(|(bin, _)| *bin)
        .filter(|bin| !up_to_date(&profile_dir.join(bin)))
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(other) => other,
        None => return Err(format!("no profile in {}", profile_dir.display())),
    };
    let target_dir = profile_dir.parent().ok_or("no target directory")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        if set_by_cargo_for_this_crate(&name.to_string_lossy()) {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(workspace_root())
        .args(["build", "--locked", "--profile", profile, "--target-dir"])
        .arg(target_dir);
    for (_, package) in BINARIES {
        cmd.args(["--package", package]);
    }
    for bin in &stale {
        cmd.args(["--bin", bin]);
    }
    // cargo's progress goes to the test run's stderr: a first build takes minutes.
    cmd.stdin(Stdio::null());
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run cargo to build {stale:?} ({e}): {cmd:?}"))?;
    if !status.success() {
        return Err(format!(
            "building {stale:?} for the tests failed ({status}); cargo's errors are above.\n\
             The command was: {cmd:?}"
        ));
    }
    match stale
        .iter()
        .map(|bin| profile_dir.join(bin))
        .find(|path| !path.exists())
    {
        Some(missing) => Err(format!(
            "cargo built {stale:?}, but {} is not there",
            missing.display()
        )),
        None => Ok(()),
    }
}

/// What cargo sets for the crate it runs (the test), not for a build: left in, build scripts
/// that watch one (ring's watches `CARGO_MANIFEST_DIR`) would rerun, and rebuild everything
/// above them, whenever the build was started from a test rather than a shell.
fn set_by_cargo_for_this_crate(name: &str) -> bool {
    const NAMES: [&str; 9] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    const PREFIXES: [&str; 4] = [
        "CARGO_PKG_",
        "CARGO_BIN_EXE_",
        "CARGO_CFG_",
        "CARGO_FEATURE_",
    ];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether `bin` exists and is newer than every file cargo's dep-info beside it (`bin.d`)
/// lists, than the manifests of their packages, and than `Cargo.lock`.
fn up_to_date(bin: &Path) -> bool {
    let Some(built) = modified(bin) else {
        return false;
    };
    let Ok(dep_info) = std::fs::read_to_string(bin.with_extension("d")) else {
        return false;
    };
    let Some((_, deps)) = dep_info.split_once(": ") else {
        return false;
    };
    let sources = dep_info_paths(deps);
    let manifests: HashSet<PathBuf> = sources.iter().filter_map(|s| manifest_of(s)).collect();
    let root = workspace_root();
    let lock = [root.join("Cargo.lock"), root.join("Cargo.toml")];
    sources
        .iter()
        .chain(&manifests)
        .chain(&lock)
        .all(|p| modified(p).is_some_and(|m| m <= built))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The paths of a make-style dependency list: separated by spaces, a space within a path
/// escaped with a backslash.
fn dep_info_paths(deps: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = deps.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    paths.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        paths.push(PathBuf::from(current));
    }
    paths
}

/// The `Cargo.toml` of the package a source file belongs to.
fn manifest_of(source: &Path) -> Option<PathBuf> {
    source
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("Cargo.toml"))
        .find(|m| m.exists())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_paths_are_split_on_unescaped_spaces() {
        assert_eq!(
            dep_info_paths("/w/a.rs /w/my\\ dir/b.rs\n"),
            [PathBuf::from("/w/a.rs"), PathBuf::from("/w/my dir/b.rs")]
        );
    }
}
