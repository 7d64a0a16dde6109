//! `DATA_DIR/settings.json`: runtime settings written by queryd and watched by ingestd.
//!
//! The file is the only channel through which an operator (or an agent through queryd)
//! changes ingest behaviour without a restart: PII scrubbing rules, retention and sampling.
//! Every field has a default, unknown fields are ignored (a newer queryd may add some), and a
//! missing file means "all defaults". The writer replaces the file atomically (write
//! `settings.json.tmp`, fsync, rename), so a reader never sees a half-written document.
//!
//! Example:
//!
//! ```json
//! {
//!   "pii": { "enabled": true, "extra_patterns": ["ACCT-[0-9]{8}"], "extra_keys": ["pin"] },
//!   "retention_days": 30,
//!   "sampling": { "rules": [ { "service": "*", "rate": 1.0, "keep_errors": true } ] }
//! }
//! ```

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file name of the settings document inside the data directory.
pub const SETTINGS_FILE: &str = "settings.json";

/// All runtime settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    /// PII scrubbing rules applied by ingestd before anything is stored.
    pub pii: PiiSettings,
    /// Delete hour directories older than this many days; `None` keeps everything.
    pub retention_days: Option<u32>,
    /// Server-side sampling rules (stored for queryd's tools; ingestd does not sample yet).
    pub sampling: SamplingSettings,
}

/// PII scrubbing rules.
///
/// The built-in rules (credit cards with a Luhn check, e-mail addresses, phone numbers, SSNs,
/// bearer tokens, and the SDKs' sensitive key names) always apply while `enabled` is true;
/// the two lists only add to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PiiSettings {
    /// Whether scrubbing runs at all. Default `true`: the SDKs scrub nothing by default.
    pub enabled: bool,
    /// Additional regular expressions (Rust `regex` syntax); matches become `[FILTERED]`.
    pub extra_patterns: Vec<String>,
    /// Additional sensitive key names (case-insensitive) whose values become `[FILTERED]`.
    pub extra_keys: Vec<String>,
}

impl Default for PiiSettings {
    fn default() -> Self {
        PiiSettings {
            enabled: true,
            extra_patterns: Vec::new(),
            extra_keys: Vec::new(),
        }
    }
}

/// Server-side sampling configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SamplingSettings {
    /// Rules, first match wins; no rule means keep everything.
    pub rules: Vec<SamplingRule>,
}

/// One sampling rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingRule {
    /// Service name the rule applies to, or `*` for all.
    pub service: String,
    /// Fraction of rows kept, 0.0 to 1.0.
    pub rate: f64,
    /// Whether `error` and `fatal` rows are always kept.
    pub keep_errors: bool,
}

impl Default for SamplingRule {
    fn default() -> Self {
        SamplingRule {
            service: "*".to_string(),
            rate: 1.0,
            keep_errors: true,
        }
    }
}

/// Why a settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file exists but could not be read (or written).
    #[error("settings file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid settings document.
    #[error("settings file {path} is malformed: {source}")]
    Malformed {
        /// The file.
        path: String,
        /// The parse error, with line and column.
        source: serde_json::Error,
    },
}

impl Settings {
    /// Reads the settings file. A missing file yields the defaults; an unreadable or malformed
    /// one is an error, so that a caller already running with settings can keep them.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(source) => {
                return Err(SettingsError::Io {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        serde_json::from_slice(&text).map_err(|source| SettingsError::Malformed {
            path: path.display().to_string(),
            source,
        })
    }

    /// Writes the settings atomically: `<path>.tmp`, fsync, rename over `path`, fsync the
    /// directory. Readers see either the old or the new document, never a mix.
    pub fn store(&self, path: &Path) -> Result<(), SettingsError> {
        let io = |source| SettingsError::Io {
            path: path.display().to_string(),
            source,
        };
        let text = serde_json::to_vec_pretty(self).map_err(|source| SettingsError::Malformed {
            path: path.display().to_string(),
            source,
        })?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&text).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(&dir.path().join(SETTINGS_FILE)).unwrap();
        assert_eq!(s, Settings::default());
        assert!(s.pii.enabled);
        assert_eq!(s.retention_days, None);
    }

    #[test]
    fn partial_document_fills_defaults_and_ignores_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SETTINGS_FILE);
        std::fs::write(&p, r#"{"pii":{"extra_keys":["pin"]},"future":1}"#).unwrap();
        let s = Settings::load(&p).unwrap();
        assert!(s.pii.enabled);
        assert_eq!(s.pii.extra_keys, vec!["pin".to_string()]);
        assert!(s.sampling.rules.is_empty());
    }

    #[test]
    fn malformed_file_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SETTINGS_FILE);
        std::fs::write(&p, "{ not json").unwrap();
        assert!(matches!(
            Settings::load(&p),
            Err(SettingsError::Malformed { .. })
        ));
        std::fs::write(&p, r#"{"pii":{"enabled":"yes"}}"#).unwrap();
        assert!(matches!(
            Settings::load(&p),
            Err(SettingsError::Malformed { .. })
        ));
    }

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SETTINGS_FILE);
        let mut s = Settings::default();
        s.pii.enabled = false;
        s.pii.extra_patterns.push("ACCT-[0-9]+".into());
        s.retention_days = Some(7);
        s.sampling.rules.push(SamplingRule {
            service: "api".into(),
            rate: 0.5,
            keep_errors: true,
        });
        s.store(&p).unwrap();
        assert_eq!(Settings::load(&p).unwrap(), s);
        assert!(!dir.path().join("settings.json.tmp").exists());
    }
}
