//! Command-line and environment configuration.
//!
//! Every option can be given as a flag or an environment variable (flag wins). A `.env` file
//! in the working directory is read first ([`load_dotenv`]); it never overrides a variable
//! that is already set. `docs/CONFIGURATION.md` documents every option.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};

/// When the store fsyncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncPolicy {
    /// fsync (group commit) before every acknowledgement: an acknowledged entry survives
    /// power loss. The default.
    Always,
    /// Never fsync explicitly; the OS writes back when it likes. For benchmarks and
    /// throw-away environments only: acknowledged entries can be lost on a crash.
    Never,
}

/// `opentrace-ingestd` configuration.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "opentrace-ingestd",
    version,
    about = "OpenTrace ingest daemon: accepts log batches from the OpenTrace SDKs and stores them durably.",
    long_about = "OpenTrace ingest daemon: accepts log batches from the OpenTrace Ruby and Node SDKs \
(POST /api/logs, POST /api/v2/logs), makes them durable (fsync before the 2xx) and turns them \
into columnar chunk files in the data directory. Every option can also be set through the \
environment variable shown, or in a .env file in the working directory (real environment \
variables win). See docs/CONFIGURATION.md."
)]
pub struct Config {
    /// Data directory shared with opentrace-queryd (logs/, settings.json, ingest.key). A
    /// leading `~` is the home directory.
    #[arg(long, env = "OPENTRACE_DATA_DIR", default_value = "~/.opentrace")]
    pub data_dir: PathBuf,

    /// Address to listen on for SDK traffic.
    #[arg(long, env = "OPENTRACE_INGEST_ADDR", default_value = "127.0.0.1:8081")]
    pub addr: SocketAddr,

    /// API key the SDKs must send as `Authorization: Bearer <key>`. If unset, the keys in
    /// DATA_DIR/ingest.key are used; that file is created with a fresh `ot_<64 hex>` key
    /// (mode 0600, printed once) when it does not exist.
    #[arg(long, env = "OPENTRACE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// `env` stored for entries that do not send one.
    #[arg(long, env = "OPENTRACE_DEFAULT_ENV", default_value = "production")]
    pub default_env: String,

    /// Largest request body accepted as sent on the wire (compressed or not), in bytes.
    #[arg(long, env = "OPENTRACE_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest request body after gzip decompression, in bytes. Decompression stops at this
    /// size (a gzip bomb costs at most this much memory) and the request gets 413.
    #[arg(long, env = "OPENTRACE_MAX_DECOMPRESSED_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_decompressed_bytes: usize,

    /// Most entries in one request; a larger batch is refused whole with 413.
    #[arg(long, env = "OPENTRACE_MAX_ENTRIES", default_value_t = 5000)]
    pub max_entries: usize,

    /// Storage: a chunk is built from the WAL once it holds this many bytes of rows.
    #[arg(long, env = "OPENTRACE_CHUNK_TARGET_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub chunk_target_bytes: u64,

    /// Storage: a chunk is built from the WAL once it holds this many rows.
    #[arg(long, env = "OPENTRACE_CHUNK_MAX_ROWS", default_value_t = 65_536)]
    pub chunk_max_rows: u64,

    /// Storage: when to fsync the WAL.
    #[arg(long, env = "OPENTRACE_SYNC", value_enum, default_value_t = SyncPolicy::Always)]
    pub sync: SyncPolicy,

    /// Storage: when more than this many bytes of WAL are waiting to become chunks, new
    /// batches are refused with 503 + Retry-After (the SDKs retry them).
    #[arg(long, env = "OPENTRACE_WAL_MAX_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub wal_max_bytes: u64,

    /// How often settings.json is checked for changes, in milliseconds, besides file-system
    /// notifications.
    #[arg(long, env = "OPENTRACE_SETTINGS_POLL_MS", default_value_t = 2000)]
    pub settings_poll_ms: u64,

    /// How often, in seconds, hours older than `retention_days` (settings.json) are deleted
    /// (also once at start-up).
    #[arg(long, env = "OPENTRACE_RETENTION_INTERVAL_SECS", default_value_t = 300)]
    pub retention_interval_secs: u64,

    /// Seconds to wait for in-flight requests at shutdown before closing connections.
    #[arg(long, env = "OPENTRACE_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

impl Config {
    /// The data directory with a leading `~` expanded.
    pub fn data_dir(&self) -> PathBuf {
        expand_home(&self.data_dir)
    }

    /// A configuration with every default and the given data directory (for tests and
    /// embedding).
    pub fn with_data_dir(dir: &Path) -> Config {
        let mut c = Config::parse_from(["opentrace-ingestd"]);
        c.data_dir = dir.to_path_buf();
        c
    }
}

/// Expands a leading `~` to `$HOME`.
pub fn expand_home(p: &Path) -> PathBuf {
    let Ok(rest) = p.strip_prefix("~") else {
        return p.to_path_buf();
    };
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(rest),
        None => p.to_path_buf(),
    }
}

/// Parses `.env` text: `KEY=VALUE` lines, `export ` prefix allowed, `#` comments, values
/// optionally in single or double quotes (double quotes understand `\n`, `\"`, `\\`).
pub fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let v = v.trim();
        let value = if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            let mut s = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some('n') => s.push('\n'),
                        Some(other) => s.push(other),
                        None => s.push('\\'),
                    }
                } else {
                    s.push(c);
                }
            }
            s
        } else if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            inner.to_string()
        } else {
            // Unquoted: a ` #` starts a comment.
            v.split(" #").next().unwrap_or(v).trim_end().to_string()
        };
        out.push((k.to_string(), value));
    }
    out
}

/// Reads `.env` from the working directory and returns the pairs whose variable is not set
/// in the real environment (the caller sets them before any thread starts).
pub fn load_dotenv(dir: &Path) -> Vec<(String, String)> {
    match std::fs::read_to_string(dir.join(".env")) {
        Ok(text) => parse_dotenv(&text)
            .into_iter()
            .filter(|(k, _)| std::env::var_os(k).is_none())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn dotenv_parsing() {
        let pairs = parse_dotenv(
            "# comment\nA=1\nexport B = two words # trailing\nC=\"x\\ny\"\nD='$raw'\nbad line\n=nokey\n",
        );
        assert_eq!(
            pairs,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x\ny".into()),
                ("D".into(), "$raw".into()),
            ]
        );
    }

    #[test]
    fn defaults() {
        let c = Config::parse_from(["x"]);
        assert_eq!(c.addr.to_string(), "127.0.0.1:8081");
        assert_eq!(c.default_env, "production");
        assert_eq!(c.max_entries, 5000);
        assert_eq!(c.sync, SyncPolicy::Always);
        Config::command().debug_assert();
    }

    #[test]
    fn help_mentions_every_env_var() {
        let help = Config::command().render_long_help().to_string();
        for var in [
            "OPENTRACE_DATA_DIR",
            "OPENTRACE_INGEST_ADDR",
            "OPENTRACE_API_KEY",
            "OPENTRACE_DEFAULT_ENV",
            "OPENTRACE_MAX_BODY_BYTES",
            "OPENTRACE_MAX_DECOMPRESSED_BYTES",
            "OPENTRACE_MAX_ENTRIES",
            "OPENTRACE_CHUNK_TARGET_BYTES",
            "OPENTRACE_CHUNK_MAX_ROWS",
            "OPENTRACE_SYNC",
            "OPENTRACE_WAL_MAX_BYTES",
            "OPENTRACE_SETTINGS_POLL_MS",
            "OPENTRACE_SHUTDOWN_GRACE_SECS",
        ] {
            assert!(help.contains(var), "{var} missing from --help");
        }
    }
}
