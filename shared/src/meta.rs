//! `meta.json`: the summary ingestd writes when it seals an hour.
//!
//! Its presence means the hour is closed (no WAL will appear in it again). It carries counts
//! and per-minute histograms so that most counting questions never decode a column, and the
//! dictionaries of low-cardinality columns so that a filter on an absent value skips the hour.
//! Format: `docs/FORMAT.md` §meta.json.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkError, ChunkReader};
use crate::ids::{ChunkId, HourId, Seq};
use crate::row::Level;
use crate::schema::Col;

/// Current `meta.json` format version.
pub const META_FORMAT_VERSION: u32 = 1;

/// Inclusive range of integers (sequence numbers or µs timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// Smallest value.
    pub min: i64,
    /// Largest value.
    pub max: i64,
}

impl Range {
    fn widen(r: &mut Option<Range>, v: i64) {
        match r {
            Some(r) => {
                r.min = r.min.min(v);
                r.max = r.max.max(v);
            }
            None => *r = Some(Range { min: v, max: v }),
        }
    }
}

/// One chunk of a sealed hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMeta {
    /// Chunk number.
    pub id: u32,
    /// Rows in the chunk.
    pub rows: u64,
    /// Sequence numbers covered.
    pub seq: Range,
    /// Event-time (`ts`) range, µs.
    pub ts_us: Range,
    /// Size of `chunk_NNN.col`.
    pub col_bytes: u64,
    /// Size of `chunk_NNN.idx`.
    pub idx_bytes: u64,
}

/// Per-minute counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteCounts {
    /// All rows.
    pub total: u64,
    /// Rows with level error or fatal.
    pub errors: u64,
}

/// Counts by value of a few columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// By level name.
    pub level: BTreeMap<String, u64>,
    /// By service.
    pub service: BTreeMap<String, u64>,
    /// Error/fatal rows by service.
    pub service_errors: BTreeMap<String, u64>,
    /// By environment.
    pub env: BTreeMap<String, u64>,
    /// By HTTP status (rows that have one).
    pub status: BTreeMap<String, u64>,
    /// By error fingerprint (rows that have one).
    pub fingerprint: BTreeMap<String, u64>,
}

/// Distinct values of low-cardinality columns in the hour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dictionaries {
    /// Services.
    pub service: BTreeSet<String>,
    /// Environments.
    pub env: BTreeSet<String>,
    /// Levels.
    pub level: BTreeSet<String>,
    /// Event types.
    pub event_type: BTreeSet<String>,
    /// Versions (commit SHAs).
    pub version: BTreeSet<String>,
}

/// The content of `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourMeta {
    /// [`META_FORMAT_VERSION`].
    pub format_version: u32,
    /// The hour directory name, `YYYY-MM-DDTHH` (receive hour).
    pub hour: String,
    /// When the hour was sealed, RFC 3339 UTC.
    pub sealed_at: String,
    /// Total rows in the hour.
    pub rows: u64,
    /// Sequence numbers covered (absent for an empty hour).
    pub seq: Option<Range>,
    /// Event-time range, µs (absent for an empty hour).
    pub ts_us: Option<Range>,
    /// Chunks, by number.
    pub chunks: Vec<ChunkMeta>,
    /// Counts by column value.
    pub counts: Counts,
    /// Histogram keyed by event-time minute `YYYY-MM-DDTHH:MM` (UTC).
    pub minutes: BTreeMap<String, MinuteCounts>,
    /// Distinct values.
    pub dictionaries: Dictionaries,
    /// Row counts by environment, then service, then level: the cross-tabulation that lets
    /// counts under level/service/env filters come from here too. Absent in files written
    /// before it existed (readers then scan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_service_level: Option<Rollup>,
}

/// Row counts by environment → service → level name.
pub type Rollup = BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>;

impl HourMeta {
    /// Parses `meta.json` bytes.
    pub fn from_json(bytes: &[u8]) -> Result<HourMeta, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Serialises to pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain maps and numbers cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// The columns of one row that `meta.json` summarises.
#[derive(Debug, Clone, Copy)]
pub struct MetaRow<'a> {
    /// Sequence number.
    pub seq: Seq,
    /// Event time, µs.
    pub ts: i64,
    /// Level.
    pub level: Level,
    /// Service.
    pub service: &'a str,
    /// Environment.
    pub env: &'a str,
    /// HTTP status.
    pub status: Option<i64>,
    /// Error fingerprint.
    pub fingerprint: Option<&'a str>,
    /// Event type.
    pub event_type: Option<&'a str>,
    /// Version.
    pub version: Option<&'a str>,
}

/// Accumulates an hour's rows and chunks into a [`HourMeta`].
#[derive(Debug, Clone)]
pub struct HourMetaBuilder {
    meta: HourMeta,
}

/// `YYYY-MM-DDTHH:MM` of a µs timestamp.
pub fn minute_key(ts_us: i64) -> String {
    let secs = ts_us.div_euclid(1_000_000);
    match Utc.timestamp_opt(secs - secs.rem_euclid(60), 0).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M").to_string(),
        None => "out-of-range".to_string(),
    }
}

fn bump(m: &mut BTreeMap<String, u64>, k: &str) {
    if let Some(v) = m.get_mut(k) {
        *v += 1;
    } else {
        m.insert(k.to_string(), 1);
    }
}

impl HourMetaBuilder {
    /// Starts an empty summary of `hour`.
    pub fn new(hour: HourId) -> HourMetaBuilder {
        HourMetaBuilder {
            meta: HourMeta {
                format_version: META_FORMAT_VERSION,
                hour: hour.dir_name(),
                sealed_at: String::new(),
                rows: 0,
                seq: None,
                ts_us: None,
                chunks: Vec::new(),
                counts: Counts::default(),
                minutes: BTreeMap::new(),
                dictionaries: Dictionaries::default(),
                env_service_level: Some(Rollup::new()),
            },
        }
    }

    /// Records one chunk's file sizes and ranges.
    pub fn add_chunk(
        &mut self,
        id: ChunkId,
        rows: u64,
        seq: Range,
        ts_us: Range,
        sizes: (u64, u64),
    ) {
        self.meta.chunks.push(ChunkMeta {
            id: id.0,
            rows,
            seq,
            ts_us,
            col_bytes: sizes.0,
            idx_bytes: sizes.1,
        });
    }

    /// Adds one row to the counts.
    pub fn add_row(&mut self, r: &MetaRow<'_>) {
        let m = &mut self.meta;
        m.rows += 1;
        Range::widen(&mut m.seq, r.seq.0 as i64);
        Range::widen(&mut m.ts_us, r.ts);
        let level = r.level.as_str();
        bump(&mut m.counts.level, level);
        bump(&mut m.counts.service, r.service);
        bump(&mut m.counts.env, r.env);
        if r.level.is_error() {
            bump(&mut m.counts.service_errors, r.service);
        }
        if let Some(s) = r.status {
            bump(&mut m.counts.status, &s.to_string());
        }
        if let Some(f) = r.fingerprint {
            bump(&mut m.counts.fingerprint, f);
        }
        if let Some(roll) = m.env_service_level.as_mut() {
            let by_service = match roll.get_mut(r.env) {
                Some(x) => x,
                None => roll.entry(r.env.to_string()).or_default(),
            };
            let by_level = match by_service.get_mut(r.service) {
                Some(x) => x,
                None => by_service.entry(r.service.to_string()).or_default(),
            };
            bump(by_level, level);
        }
        let minute = m.minutes.entry(minute_key(r.ts)).or_default();
        minute.total += 1;
        if r.level.is_error() {
            minute.errors += 1;
        }
        let d = &mut m.dictionaries;
        for (set, v) in [
            (&mut d.service, Some(r.service)),
            (&mut d.env, Some(r.env)),
            (&mut d.level, Some(level)),
            (&mut d.event_type, r.event_type),
            (&mut d.version, r.version),
        ] {
            if let Some(v) = v
                && !set.contains(v)
            {
                set.insert(v.to_string());
            }
        }
    }

    /// Adds every row and the ranges of one committed chunk, decoding only the columns the
    /// summary needs. `sizes` are the `.col` and `.idx` file sizes.
    pub fn add_chunk_reader(
        &mut self,
        id: ChunkId,
        reader: &ChunkReader<'_>,
        sizes: (u64, u64),
    ) -> Result<(), ChunkError> {
        let seq = reader.column(Col::Seq)?;
        let ts = reader.column(Col::Ts)?;
        let level = reader.column(Col::Level)?;
        let service = reader.column(Col::Service)?;
        let env = reader.column(Col::Env)?;
        let status = reader.column(Col::Status)?;
        let fp = reader.column(Col::ErrorFingerprint)?;
        let event_type = reader.column(Col::EventType)?;
        let version = reader.column(Col::Version)?;
        let rows = reader.row_count() as usize;
        for i in 0..rows {
            let level = level
                .get(i)
                .as_str()
                .and_then(|l| l.parse::<Level>().ok())
                .unwrap_or_default();
            self.add_row(&MetaRow {
                seq: Seq(seq.get(i).as_int().unwrap_or(0).max(0) as u64),
                ts: ts.get(i).as_int().unwrap_or(0),
                level,
                service: service.get(i).as_str().unwrap_or(""),
                env: env.get(i).as_str().unwrap_or(""),
                status: status.get(i).as_int(),
                fingerprint: fp.get(i).as_str(),
                event_type: event_type.get(i).as_str(),
                version: version.get(i).as_str(),
            });
        }
        let zm = reader.zone_map();
        if let (Some(seq), Some(ts)) = (zm.seq, zm.ts) {
            self.add_chunk(
                id,
                rows as u64,
                Range {
                    min: seq.min.0 as i64,
                    max: seq.max.0 as i64,
                },
                Range {
                    min: ts.min,
                    max: ts.max,
                },
                sizes,
            );
        }
        Ok(())
    }

    /// Finishes the summary, stamping `sealed_at` (µs since the epoch).
    pub fn finish(mut self, sealed_at_us: i64) -> HourMeta {
        self.meta.chunks.sort_by_key(|c| c.id);
        self.meta.sealed_at = crate::time::format_rfc3339_micros(sealed_at_us);
        self.meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_counts_and_round_trips() {
        let mut b = HourMetaBuilder::new(HourId(490_000));
        let base = HourId(490_000).start_micros();
        for i in 0..10i64 {
            b.add_row(&MetaRow {
                seq: Seq(100 + i as u64),
                ts: base + i * 30_000_000,
                level: if i % 5 == 0 {
                    Level::Error
                } else {
                    Level::Info
                },
                service: if i % 2 == 0 { "api" } else { "worker" },
                env: "production",
                status: (i % 2 == 0).then_some(200 + i),
                fingerprint: (i % 5 == 0).then_some("abc"),
                event_type: None,
                version: Some("v1"),
            });
        }
        b.add_chunk(
            ChunkId(0),
            10,
            Range { min: 100, max: 109 },
            Range {
                min: base,
                max: base + 270_000_000,
            },
            (10, 20),
        );
        let m = b.finish(base);
        assert_eq!(m.rows, 10);
        assert_eq!(m.counts.level["error"], 2);
        assert_eq!(m.counts.service_errors["api"], 1);
        assert_eq!(m.counts.service_errors["worker"], 1);
        assert_eq!(m.counts.fingerprint["abc"], 2);
        assert_eq!(m.minutes.len(), 5);
        assert_eq!(m.minutes[&minute_key(base)].total, 2);
        assert_eq!(m.seq, Some(Range { min: 100, max: 109 }));
        let back = HourMeta::from_json(&m.to_json()).unwrap();
        assert_eq!(back, m);
    }
}
