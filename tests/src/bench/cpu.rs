//! CPU time of a daemon's threads, from `/proc/<pid>/task/*/stat`.
//!
//! Entries per second swing by 20% between runs on a shared VM, because the VM's speed
//! drifts and the load generator shares its two cores. The CPU seconds ingestd spends per
//! entry, split by thread, vary much less, and they say which part of the daemon (HTTP
//! decoding, the WAL writer, the chunk builder) a change made cheaper.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

/// CPU seconds (user + system) per thread group of one process.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CpuByThread {
    /// Seconds by group: `http` (tokio workers), `wal` (the WAL writer), `builder` (chunk
    /// and index builders), and `other` (every other thread, the main thread included).
    pub secs: BTreeMap<String, f64>,
}

impl CpuByThread {
    /// Seconds of one group (0 if absent).
    pub fn get(&self, group: &str) -> f64 {
        self.secs.get(group).copied().unwrap_or(0.0)
    }

    /// Seconds over all groups.
    pub fn total(&self) -> f64 {
        self.secs.values().sum()
    }

    /// The CPU used between `earlier` and `self`, group by group. Threads that exited in
    /// between take their time with them, so the daemon's long-lived threads are what is
    /// measured.
    pub fn since(&self, earlier: &CpuByThread) -> CpuByThread {
        let secs = self
            .secs
            .iter()
            .map(|(k, v)| (k.clone(), (v - earlier.get(k)).max(0.0)))
            .collect();
        CpuByThread { secs }
    }
}

/// The group a thread name belongs to (thread names are set by ingestd and tokio).
fn group_of(thread: &str) -> &'static str {
    if thread.starts_with("tokio-rt-worker") {
        "http"
    } else if thread == "wal-writer" {
        "wal"
    } else if thread.ends_with("-builder") {
        "builder"
    } else {
        "other"
    }
}

/// Parses one `/proc/<pid>/task/<tid>/stat` line into (thread name, utime + stime ticks).
/// The name is between the first `(` and the last `)` (it may contain both); utime and
/// stime are fields 14 and 15 of the line, the 12th and 13th after the name.
pub fn parse_stat(line: &str) -> Option<(String, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let name = line.get(open + 1..close)?.to_string();
    let mut rest = line.get(close + 1..)?.split_whitespace().skip(11);
    let utime: u64 = rest.next()?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some((name, utime + stime))
}

/// Clock ticks per second of the `stat` files.
fn ticks_per_sec() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|&t| t > 0)
        .map_or(100.0, |t| t as f64)
}

/// CPU seconds by thread group of process `pid`, or `None` if `/proc` cannot be read.
pub fn cpu_of(pid: u32) -> Option<CpuByThread> {
    let hz = ticks_per_sec();
    let mut out = CpuByThread::default();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(task) = task else { continue };
        let Ok(line) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((name, ticks)) = parse_stat(&line) {
            *out.secs.entry(group_of(&name).to_string()).or_default() += ticks as f64 / hz;
        }
    }
    Some(out)
}

/// Waits (at most `limit`) until the chunk builder of `pid` has used no CPU for half a
/// second, so that the builds a load phase queued are counted in that phase's CPU, and
/// returns the CPU by thread group at that point.
pub fn cpu_when_builder_idle(pid: u32, limit: Duration) -> Option<CpuByThread> {
    let start = Instant::now();
    let mut last = cpu_of(pid)?;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = cpu_of(pid)?;
        if now.get("builder") <= last.get("builder") || start.elapsed() >= limit {
            return Some(now);
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parens() {
        let line = "4242 (tokio-rt-worker) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 5";
        assert_eq!(parse_stat(line), Some(("tokio-rt-worker".to_string(), 300)));
        let odd = "7 (a (b) c) R 1 2 3 4 5 6 7 8 9 10 1 2 0 0";
        assert_eq!(parse_stat(odd), Some(("a (b) c".to_string(), 3)));
        assert_eq!(parse_stat("7 (x) R 1 2"), None);
    }

    #[test]
    fn groups_and_differences() {
        assert_eq!(group_of("tokio-rt-worker"), "http");
        assert_eq!(group_of("chunk-builder"), "builder");
        assert_eq!(group_of("wal-writer"), "wal");
        assert_eq!(group_of("opentrace-inges"), "other");
        let a = CpuByThread {
            secs: [("http".to_string(), 1.0), ("builder".to_string(), 2.0)].into(),
        };
        let b = CpuByThread {
            secs: [("http".to_string(), 1.5), ("builder".to_string(), 4.0)].into(),
        };
        let d = b.since(&a);
        assert_eq!(d.get("http"), 0.5);
        assert_eq!(d.get("builder"), 2.0);
        assert_eq!(d.total(), 2.5);
    }

    #[test]
    fn reads_this_process() {
        // Burn a little CPU so the total is not zero at 100 Hz.
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        assert_ne!(x, 1);
        let c = cpu_of(std::process::id()).expect("/proc is readable");
        assert!(c.total() > 0.0, "{c:?}");
    }
}
