//! A description of the machine a run happened on.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

/// Cores, memory, kernel and disk of the benchmark machine.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Machine {
    /// Logical CPUs available to the process (`nproc`).
    pub cores: usize,
    /// CPU model from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `MemTotal` from `/proc/meminfo`, in MiB.
    pub mem_total_mib: u64,
    /// `uname -sr`.
    pub kernel: String,
    /// `df -hT` line of the file system holding the scratch directory.
    pub disk: String,
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Describes this machine; `dir` is where the data directories live.
pub fn describe(dir: &Path) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_total_mib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024);
    let df = command_output("df", &["-hT", &dir.to_string_lossy()]);
    Machine {
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model,
        mem_total_mib,
        kernel: command_output("uname", &["-sr"]),
        disk: df.lines().last().unwrap_or_default().to_string(),
    }
}
