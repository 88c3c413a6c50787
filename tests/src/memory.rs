//! Peak memory of processes, for the benches: VmHWM from /proc, its reset, and a command run
//! to completion with its peak polled. Linux only; never used by the tests themselves.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The peak resident set (VmHWM) of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmHWM:")
}

/// The resident set (VmRSS) of a process, in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmRSS:")
}

/// A `/proc/<pid>/status` line in kB, as MiB.
fn status_mib(pid: u32, name: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets a process's peak RSS to its current RSS (Linux `clear_refs` 5).
pub fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// Runs `cmd` to completion (stdin closed, output captured); how long it took, its peak RSS
/// in MiB (polled from /proc until it exits: VmHWM only grows, so the last reading is the
/// peak) and its output. Panics if it cannot be started.
pub fn run_measured(cmd: &mut Command) -> (Duration, f64, Output) {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the measured command");
    let pid = child.id();
    let mut peak: f64 = 0.0;
    while child.try_wait().ok().flatten().is_none() {
        if let Some(p) = peak_rss_mib(pid) {
            peak = peak.max(p);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = started.elapsed();
    let out = child
        .wait_with_output()
        .expect("the measured command's output");
    (elapsed, peak, out)
}
