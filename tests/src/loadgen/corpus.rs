//! Real log message text for plain log rows, taken from the loghub samples.
//!
//! Each loghub file has its own line prefix (timestamps, pids, host names, a level word). The
//! prefix is stripped so that what remains reads like an application log message
//! (`"dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_3886 terminating"`), and the
//! level word, when the prefix has one, is kept to choose the entry's level.

use std::path::{Path, PathBuf};

use regex::Regex;

/// The severity a corpus line carried in its original prefix, mapped to the SDK levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorpusLevel {
    /// `debug`, `trace`, `verbose` and the Android `V`/`D` letters.
    Debug,
    /// `info`, `notice` and lines with no level word.
    Info,
    /// `warn`, `warning`.
    Warn,
    /// `error`, `fatal`, `severe`, `failure` and the Android `E`/`F` letters.
    Error,
}

impl CorpusLevel {
    fn from_word(w: &str) -> CorpusLevel {
        match w.to_ascii_lowercase().as_str() {
            "v" | "d" | "debug" | "trace" | "verbose" => CorpusLevel::Debug,
            "w" | "warn" | "warning" => CorpusLevel::Warn,
            "e" | "f" | "error" | "fatal" | "severe" | "failure" | "critical" => CorpusLevel::Error,
            _ => CorpusLevel::Info,
        }
    }
}

/// One message from the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusLine {
    /// The message with the loghub prefix removed.
    pub text: String,
    /// The level the original line carried.
    pub level: CorpusLevel,
}

/// The set of messages plain log rows are drawn from.
#[derive(Debug, Clone)]
pub struct Corpus {
    lines: Vec<CorpusLine>,
}

/// Why a corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The directory or one of its files could not be read.
    #[error("reading corpus {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The directory held no usable `*.log` line.
    #[error("no log lines found under {0}")]
    Empty(PathBuf),
}

/// Prefix patterns per loghub system (file stem without `_2k`). Group `lvl`, when present,
/// is the level word. Files not listed are used whole.
const PREFIXES: &[(&str, &str)] = &[
    (
        "Android",
        r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+\d+\s+\d+ (?P<lvl>[VDIWEF]) ",
    ),
    ("Apache", r"^\[[^\]]+\] \[(?P<lvl>\w+)\] "),
    ("BGL", r"^\S+ \d+ \S+ \S+ \S+ \S+ \S+ \S+ (?P<lvl>\w+) "),
    ("HDFS", r"^\d+ \d+ \d+ (?P<lvl>\w+) "),
    ("HPC", r"^\d+ "),
    ("Hadoop", r"^\S+ \S+ (?P<lvl>\w+) "),
    ("HealthApp", r"^[^|]+\|"),
    ("Linux", r"^\w{3}\s+\d+ \d\d:\d\d:\d\d \S+ "),
    ("Mac", r"^\w{3}\s+\d+ \d\d:\d\d:\d\d \S+ "),
    ("OpenSSH", r"^\w{3}\s+\d+ \d\d:\d\d:\d\d \S+ "),
    ("OpenStack", r"^\S+ \S+ \S+ \d+ (?P<lvl>\w+) "),
    ("Proxifier", r"^\[[^\]]+\] "),
    ("Spark", r"^\S+ \S+ (?P<lvl>\w+) "),
    ("Thunderbird", r"^\S+ \d+ \S+ \S+ \w{3}\s+\d+ \S+ \S+ "),
    ("Windows", r"^\S+ \S+, (?P<lvl>\w+)\s+"),
    ("Zookeeper", r"^\S+ \S+ - (?P<lvl>\w+)\s+"),
];

/// Longest message kept, in bytes (longer lines are cut at a char boundary).
const MAX_MESSAGE_BYTES: usize = 200;

impl Corpus {
    /// The loghub directory shipped in this crate (`tests/data/loghub`).
    pub fn default_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/loghub")
    }

    /// Loads every `*.log` file of `dir`, in file-name order so the corpus is the same on
    /// every machine, and strips the per-system prefixes.
    pub fn load_dir(dir: &Path) -> Result<Corpus, CorpusError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CorpusError::Io { path, source }
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        files.sort();
        let mut lines = Vec::new();
        for file in files {
            let text = std::fs::read(&file).map_err(io(&file))?;
            let text = String::from_utf8_lossy(&text);
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let system = stem.split('_').next().unwrap_or_default();
            let prefix = PREFIXES
                .iter()
                .find(|(name, _)| *name == system)
                .and_then(|(_, re)| Regex::new(re).ok());
            lines.extend(text.lines().filter_map(|l| strip_line(l, prefix.as_ref())));
        }
        if lines.is_empty() {
            return Err(CorpusError::Empty(dir.to_path_buf()));
        }
        Ok(Corpus { lines })
    }

    /// Loads the shipped loghub corpus.
    pub fn load_default() -> Result<Corpus, CorpusError> {
        Corpus::load_dir(&Corpus::default_dir())
    }

    /// A corpus made of the given lines (for tests and for callers with their own text).
    /// Returns `None` when `lines` is empty, since a generator needs at least one message.
    pub fn from_lines(lines: Vec<CorpusLine>) -> Option<Corpus> {
        (!lines.is_empty()).then_some(Corpus { lines })
    }

    /// All lines, in load order.
    pub fn lines(&self) -> &[CorpusLine] {
        &self.lines
    }

    /// The line at `i` modulo the corpus size (the corpus is never empty).
    pub fn pick(&self, i: usize) -> &CorpusLine {
        &self.lines[i % self.lines.len()]
    }
}

fn strip_line(line: &str, prefix: Option<&Regex>) -> Option<CorpusLine> {
    let line = line.trim();
    let (text, level) = match prefix.and_then(|re| re.captures(line)) {
        Some(c) => {
            let end = c.get(0).map_or(0, |m| m.end());
            let level = c
                .name("lvl")
                .map_or(CorpusLevel::Info, |m| CorpusLevel::from_word(m.as_str()));
            (line.get(end..).unwrap_or_default().trim(), level)
        }
        None => (line, CorpusLevel::Info),
    };
    if text.len() < 8 {
        return None;
    }
    let mut cut = text.len().min(MAX_MESSAGE_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(CorpusLine {
        text: text[..cut].to_string(),
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_shipped_corpus_and_strips_prefixes() {
        let c = Corpus::load_default().unwrap();
        assert!(c.lines().len() > 30_000, "{}", c.lines().len());
        // No line should still start with a loghub timestamp like "2015-10-18 18:01:47".
        let dated = Regex::new(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d").unwrap();
        let still_dated = c.lines().iter().filter(|l| dated.is_match(&l.text)).count();
        assert!(still_dated < c.lines().len() / 100, "{still_dated}");
        let hdfs = c
            .lines()
            .iter()
            .find(|l| {
                l.text
                    .starts_with("dfs.DataNode$PacketResponder: PacketResponder")
            })
            .unwrap();
        assert_eq!(hdfs.level, CorpusLevel::Info);
        for lvl in [CorpusLevel::Warn, CorpusLevel::Error, CorpusLevel::Debug] {
            assert!(c.lines().iter().any(|l| l.level == lvl), "{lvl:?}");
        }
    }

    #[test]
    fn empty_dir_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            Corpus::load_dir(d.path()),
            Err(CorpusError::Empty(_))
        ));
    }
}
