//! Starts the real `opentrace-ingestd` / `opentrace-queryd` binaries for end-to-end tests.
//!
//! Binaries are looked up next to the running test executable (`target/<profile>/`); if
//! absent they are built once with cargo in the same profile. Every daemon listens on a free
//! loopback port and is killed when its handle drops.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// The directory holding the workspace's binaries for the profile the tests run in.
pub fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("current_exe")?;
    // target/<profile>/deps/<test-binary>
    let deps = exe.parent().context("test binary has no parent")?;
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().context("deps has no parent")?
    } else {
        deps
    };
    Ok(dir.to_path_buf())
}

/// Path to a workspace binary, building it first if it is missing.
pub fn binary(name: &str) -> Result<PathBuf> {
    let dir = bin_dir()?;
    let path = dir.join(name);
    let _g = BUILD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !path.exists() {
        // target/<profile>: build in the same profile (`debug` is the dev profile).
        let profile = dir
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| *n != "debug")
            .map(str::to_string);
        let pkg = name.trim_start_matches("opentrace-");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "-p", &format!("opentrace-{pkg}"), "--bin", name]);
        if let Some(p) = profile {
            cmd.args(["--profile", &p]);
        }
        let st = cmd.status().context("running cargo build")?;
        if !st.success() || !path.exists() {
            bail!("could not build {name}: run `cargo build --workspace --release --bins` first");
        }
    }
    Ok(path)
}

/// A free loopback TCP address (bound then released; good enough for tests).
pub fn free_addr() -> Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

/// Two different free loopback ports (for two daemons). Calling [`free_addr`] twice may
/// return the same port twice, since each listener is closed before the next bind; here
/// both stay bound until both are known.
pub fn free_addr_pair() -> Result<(SocketAddr, SocketAddr)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?, b.local_addr()?))
}

/// Waits until something accepts TCP connections at `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("nothing listening on {addr} after {timeout:?}")
}

/// A running daemon process.
pub struct Daemon {
    /// The child process.
    pub child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Where its stderr goes.
    pub log_path: PathBuf,
}

impl Daemon {
    /// Spawns `binary` with `args` and `envs`, logging to `log_path`, and waits up to 20 s
    /// for `addr`.
    pub fn spawn(
        binary: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        addr: SocketAddr,
        log_path: &Path,
    ) -> Result<Daemon> {
        Daemon::spawn_waiting(binary, args, envs, addr, log_path, Duration::from_secs(20))
    }

    /// [`Daemon::spawn`], waiting up to `wait` for the port (a daemon recovering a large
    /// data directory opens it late).
    pub fn spawn_waiting(
        binary: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        addr: SocketAddr,
        log_path: &Path,
        wait: Duration,
    ) -> Result<Daemon> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)?;
        let mut cmd = Command::new(binary);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            );
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", binary.display()))?;
        let mut d = Daemon {
            child,
            addr,
            log_path: log_path.to_path_buf(),
        };
        if let Err(e) = wait_for_port(addr, wait) {
            let _ = d.child.kill();
            bail!("{e}; log:\n{}", d.log());
        }
        Ok(d)
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill9(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Sends `signal` (e.g. `libc`'s SIGTERM = 15, SIGINT = 2) and waits up to `timeout`.
    pub fn signal_and_wait(&mut self, signal: i32, timeout: Duration) -> Result<ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args([format!("-{signal}"), pid])
            .status()
            .context("kill")?;
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait()? {
                return Ok(st);
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                bail!(
                    "daemon did not exit within {timeout:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The stdout lines of a child process, read on a thread, so a test can wait for a line
/// with a deadline while the process keeps running.
pub struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    /// Takes `child`'s piped stdout and starts reading it.
    pub fn of(child: &mut Child) -> Result<Lines> {
        let stdout = child.stdout.take().context("stdout is not piped")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Lines {
            rx,
            seen: Vec::new(),
        })
    }

    /// Waits until a line starting with `prefix` arrives; returns everything read so far,
    /// joined with newlines. Fails with what was read if `timeout` passes or stdout closes.
    pub fn wait_for(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        while !self.seen.iter().any(|l| l.starts_with(prefix)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => bail!("no line starting with {prefix:?}; read: {:?}", self.seen),
            }
        }
        Ok(self.seen.join("\n"))
    }
}
