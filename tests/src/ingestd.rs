//! The real `opentrace-ingestd` on a data directory and a fixed loopback port, restartable
//! after SIGKILL or SIGTERM on the same directory and port (for the crash and recovery tests).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::daemon::{Daemon, binary, free_addr};

/// SIGTERM's number on Linux.
pub const SIGTERM: i32 = 15;

/// An ingestd whose process may come and go while its data directory and port stay.
pub struct Ingestd {
    /// The data directory (`--data-dir`).
    pub data_dir: PathBuf,
    /// The listen address, the same across restarts.
    pub addr: SocketAddr,
    /// The API key clients must send.
    pub api_key: String,
    /// Flags added to every start.
    pub extra_args: Vec<String>,
    /// Where stdout/stderr of every run go (appended).
    pub log_path: PathBuf,
    /// Processes started so far.
    pub starts: u32,
    daemon: Option<Daemon>,
    bin: PathBuf,
}

impl Ingestd {
    /// Starts ingestd on `work/data` (created if needed) on a free loopback port, logging
    /// to `work/ingestd.log`.
    pub fn start(work: &Path, extra_args: &[&str]) -> Result<Ingestd> {
        let data_dir = work.join("data");
        std::fs::create_dir_all(&data_dir)?;
        let mut d = Ingestd {
            data_dir,
            addr: free_addr()?,
            api_key: "ot_e2e_test_key_0123456789".to_string(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            log_path: work.join("ingestd.log"),
            starts: 0,
            daemon: None,
            bin: binary("opentrace-ingestd")?,
        };
        d.restart()?;
        Ok(d)
    }

    /// Starts the process again (after a kill or stop) on the same directory and port.
    pub fn restart(&mut self) -> Result<()> {
        if self.is_running() {
            bail!("ingestd is still running");
        }
        let data_dir = self.data_dir.display().to_string();
        let addr = self.addr.to_string();
        let mut args: Vec<&str> = vec![
            "--data-dir",
            &data_dir,
            "--addr",
            &addr,
            "--api-key",
            &self.api_key,
        ];
        args.extend(self.extra_args.iter().map(String::as_str));
        let d = Daemon::spawn(&self.bin, &args, &[], self.addr, &self.log_path)
            .context("starting ingestd")?;
        self.daemon = Some(d);
        self.starts += 1;
        Ok(())
    }

    /// Whether a process is running.
    pub fn is_running(&mut self) -> bool {
        self.daemon
            .as_mut()
            .is_some_and(|d| matches!(d.child.try_wait(), Ok(None)))
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(|d| d.child.id())
    }

    /// SIGKILL, and reap.
    pub fn kill9(&mut self) -> Result<()> {
        match self.daemon.take() {
            Some(mut d) => d.kill9(),
            None => bail!("ingestd is not running"),
        }
    }

    /// SIGTERM, and wait up to `timeout` for the exit.
    pub fn sigterm(&mut self, timeout: Duration) -> Result<ExitStatus> {
        match self.daemon.take() {
            Some(mut d) => d.signal_and_wait(SIGTERM, timeout),
            None => bail!("ingestd is not running"),
        }
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything every run has logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

/// A memory figure of a process from `/proc/PID/status`, in KiB (`field` is e.g. `VmHWM`,
/// the peak resident set, or `VmRSS`).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}
