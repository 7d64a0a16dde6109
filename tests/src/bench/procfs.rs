//! Memory of a process from `/proc/<pid>/status`.

use serde::Serialize;

/// Resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Mem {
    /// Peak resident set size (`VmHWM`).
    pub vm_hwm_kb: u64,
    /// Current resident set size (`VmRSS`).
    pub vm_rss_kb: u64,
    /// Of `VmRSS`, anonymous memory (`RssAnon`: heap and stacks, what the process really
    /// holds); the rest is mapped files (mmapped chunks, which the kernel can drop).
    pub rss_anon_kb: u64,
}

/// Parses `VmHWM` and `VmRSS` out of a `/proc/<pid>/status` text.
pub fn parse_status(text: &str) -> Mem {
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    Mem {
        vm_hwm_kb: field("VmHWM:"),
        vm_rss_kb: field("VmRSS:"),
        rss_anon_kb: field("RssAnon:"),
    }
}

/// The memory of process `pid`, or `None` if it cannot be read (not Linux, process gone).
pub fn mem_of(pid: u32) -> Option<Mem> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(parse_status(&text))
}

/// The memory of the calling process.
pub fn mem_of_self() -> Option<Mem> {
    mem_of(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fields() {
        let m =
            parse_status("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t   512 kB\n");
        assert_eq!(
            m,
            Mem {
                vm_hwm_kb: 2048,
                vm_rss_kb: 1024,
                rss_anon_kb: 512,
            }
        );
    }
}
