//! The SDK API key(s) and `DATA_DIR/ingest.key`.
//!
//! `OPENTRACE_API_KEY`, when set, is the only key. Otherwise every non-empty line of
//! `ingest.key` not starting with `#` is a valid key (several lines allow a rotation without
//! downtime). If the file does not exist it is created once with a fresh key
//! `ot_` + 64 lowercase hex (32 random bytes), mode 0600, and the key is printed once on
//! stdout; later starts reuse it and never print it.
//!
//! Keys are compared in constant time ([`ApiKeys::verify`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;

/// The key file name inside the data directory.
pub const KEY_FILE: &str = "ingest.key";

/// The accepted keys.
#[derive(Clone)]
pub struct ApiKeys {
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} key(s), redacted)", self.keys.len())
    }
}

/// Where the key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `OPENTRACE_API_KEY` / `--api-key`.
    Config,
    /// An existing key file.
    File(PathBuf),
    /// A key file created now; the new key is included so the caller can print it once.
    Generated(PathBuf, String),
}

/// Why the keys could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or creating the key file failed.
    #[error("API key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The key file holds no key.
    #[error("API key file {0} contains no key")]
    Empty(String),
}

impl ApiKeys {
    /// Keys from explicit values (tests, `OPENTRACE_API_KEY`).
    pub fn from_keys<I: IntoIterator<Item = String>>(keys: I) -> ApiKeys {
        ApiKeys {
            keys: keys.into_iter().map(String::into_bytes).collect(),
        }
    }

    /// Resolves the keys: the configured one, else the key file, created if missing.
    pub fn resolve(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> Result<(ApiKeys, KeySource), KeyError> {
        if let Some(k) = configured.map(str::trim).filter(|k| !k.is_empty()) {
            return Ok((ApiKeys::from_keys([k.to_string()]), KeySource::Config));
        }
        let path = data_dir.join(KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let keys: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect();
                if keys.is_empty() {
                    return Err(KeyError::Empty(path.display().to_string()));
                }
                Ok((ApiKeys::from_keys(keys), KeySource::File(path)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let key = generate_key();
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                match opts.open(&path) {
                    Ok(mut f) => {
                        f.write_all(format!("{key}\n").as_bytes()).map_err(io)?;
                        f.sync_all().map_err(io)?;
                        if let Ok(d) = std::fs::File::open(data_dir) {
                            d.sync_all().map_err(io)?;
                        }
                        Ok((
                            ApiKeys::from_keys([key.clone()]),
                            KeySource::Generated(path.clone(), key),
                        ))
                    }
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::resolve(None, data_dir)
                    }
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Whether an `Authorization` header value carries one of the keys (constant time per key).
    pub fn verify(&self, authorization: Option<&[u8]>) -> bool {
        let Some(h) = authorization else {
            return false;
        };
        let token = match h.get(..7) {
            Some(p) if p.eq_ignore_ascii_case(b"bearer ") => h.get(7..).unwrap_or_default(),
            _ => return false,
        };
        let token = token.trim_ascii();
        let mut ok = subtle::Choice::from(0u8);
        for k in &self.keys {
            ok |= k.as_slice().ct_eq(token);
        }
        ok.into()
    }
}

/// A fresh key: `ot_` followed by 64 lowercase hex characters.
pub fn generate_key() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("ot_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, src) = ApiKeys::resolve(None, dir.path()).unwrap();
        let KeySource::Generated(path, key) = src else {
            panic!("expected a generated key")
        };
        assert!(key.starts_with("ot_") && key.len() == 67);
        assert!(key[3..].bytes().all(|b| b.is_ascii_hexdigit()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(keys.verify(Some(format!("Bearer {key}").as_bytes())));
        let (again, src2) = ApiKeys::resolve(None, dir.path()).unwrap();
        assert_eq!(src2, KeySource::File(path));
        assert!(again.verify(Some(format!("Bearer {key}").as_bytes())));
    }

    #[test]
    fn configured_key_wins_and_verify_is_strict() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, src) = ApiKeys::resolve(Some("secret-1"), dir.path()).unwrap();
        assert_eq!(src, KeySource::Config);
        assert!(!dir.path().join(KEY_FILE).exists());
        assert!(keys.verify(Some(b"Bearer secret-1")));
        assert!(keys.verify(Some(b"bearer secret-1")));
        assert!(!keys.verify(Some(b"Bearer secret-2")));
        assert!(!keys.verify(Some(b"Bearer secret-1x")));
        assert!(!keys.verify(Some(b"secret-1")));
        assert!(!keys.verify(None));
    }

    #[test]
    fn key_file_with_several_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "# rotated\nold\nnew\n").unwrap();
        let (keys, _) = ApiKeys::resolve(None, dir.path()).unwrap();
        assert!(keys.verify(Some(b"Bearer old")));
        assert!(keys.verify(Some(b"Bearer new")));
        assert!(!keys.verify(Some(b"Bearer # rotated")));
    }
}
