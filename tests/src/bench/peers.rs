//! The peer stores, run by `tests/bench/peers/run_peers.py` in a Python virtualenv.
//!
//! The virtualenv lives under the output directory (`<target>/bench/venv`) and is created
//! with `python3 -m venv` + `pip install -r tests/bench/peers/requirements.txt` when missing.
//! Any failure (no python3, pip cannot reach PyPI, a peer that does not load) is returned as
//! [`PeersOutcome::Failed`] and printed in a loud banner by the caller: the numbers of our
//! store are still reported, but without the comparison.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use super::dataset::Probes;

/// The peers' answer, or why there is none.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PeersOutcome {
    /// The script's JSON (`{"python": .., "peers": {name: {...}}}`).
    Ran {
        /// The parsed output.
        report: serde_json::Value,
    },
    /// Nothing could be measured.
    Failed {
        /// What went wrong (with the tail of the tool's output).
        reason: String,
    },
    /// Not requested (quick mode or `--no-peers`).
    Skipped,
}

/// `tests/bench/peers` in the source tree.
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/peers")
}

fn tail(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let start = s.len().saturating_sub(2000);
    let mut i = start;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    s[i..].to_string()
}

/// Creates (if needed) the virtualenv in `venv` and returns its python.
pub fn ensure_venv(venv: &Path) -> Result<PathBuf, String> {
    let py = venv.join("bin/python");
    let stamp = venv.join(".requirements-installed");
    if py.exists() && stamp.exists() {
        return Ok(py);
    }
    if !py.exists() {
        let o = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .output()
            .map_err(|e| format!("python3 -m venv: {e}"))?;
        if !o.status.success() {
            return Err(format!("python3 -m venv failed: {}", tail(&o.stderr)));
        }
    }
    let req = peers_dir().join("requirements.txt");
    let o = Command::new(&py)
        .args(["-m", "pip", "install", "-q", "-r"])
        .arg(&req)
        .output()
        .map_err(|e| format!("pip: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "pip install -r {} failed: {}",
            req.display(),
            tail(&o.stderr)
        ));
    }
    let _ = std::fs::write(&stamp, b"ok\n");
    Ok(py)
}

/// Loads `ndjson` into every peer under `work` and times the query set.
pub fn run_peers(
    venv: &Path,
    ndjson: &Path,
    work: &Path,
    p: &Probes,
    iters: usize,
) -> PeersOutcome {
    let py = match ensure_venv(venv) {
        Ok(py) => py,
        Err(reason) => return PeersOutcome::Failed { reason },
    };
    let o = Command::new(&py)
        .arg(peers_dir().join("run_peers.py"))
        .arg("--ndjson")
        .arg(ndjson)
        .arg("--work")
        .arg(work)
        .args(["--needle", &p.needle])
        .args(["--trace-id", &p.trace_id])
        .args(["--service", &p.service])
        .args(["--ts-from-us", &p.ts_from_us.to_string()])
        .args(["--ts-to-us", &p.ts_to_us.to_string()])
        .args(["--iters", &iters.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output();
    let o = match o {
        Ok(o) => o,
        Err(e) => {
            return PeersOutcome::Failed {
                reason: format!("running run_peers.py: {e}"),
            };
        }
    };
    if !o.status.success() {
        return PeersOutcome::Failed {
            reason: format!("run_peers.py exited with {}", o.status),
        };
    }
    match serde_json::from_slice(&o.stdout) {
        Ok(report) => PeersOutcome::Ran { report },
        Err(e) => PeersOutcome::Failed {
            reason: format!("run_peers.py printed no JSON ({e}): {}", tail(&o.stdout)),
        },
    }
}
