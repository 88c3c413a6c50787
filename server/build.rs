//! Links carnetd with packed relative relocations (DT_RELR) where the machine that builds it
//! can run such a binary: a native Linux build whose glibc is 2.36 or later.
//!
//! carnetd is a position-independent executable; its ~60,000 relative relocations take
//! 1.4 MiB as RELA entries, read at every start, and 24 KiB packed: the binary and its
//! resident memory are that much smaller (README, Performance). Such a binary needs
//! `GLIBC_ABI_DT_RELR` (glibc 2.36) to start, so an older glibc, or a cross build, links as
//! before.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    if native
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && glibc_version().is_some_and(|version| version >= (2, 36))
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The build machine's glibc, from `getconf GNU_LIBC_VERSION` ("glibc 2.36").
fn glibc_version() -> Option<(u32, u32)> {
    let out = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (major, minor) = text.trim().strip_prefix("glibc ")?.split_once('.')?;
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}
