//! Strongly typed identifiers used across the store.
//!
//! Every row, hour directory, chunk and ingest batch has an id with its own type so that a
//! sequence number can never be passed where a chunk number is expected.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};

/// Global, strictly increasing row sequence number assigned by ingestd.
///
/// Sequence numbers are never reused (ingestd recovers the high-water mark from the WAL and
/// chunks on start-up), so `(seq)` alone identifies a row in the whole data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seq(pub u64);

impl Seq {
    /// The sequence number after this one.
    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }

    /// The sequence number `n` after this one: the first seq after a batch of `n` rows
    /// starting here.
    pub fn after(self, n: u64) -> Seq {
        Seq(self.0 + n)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A UTC hour, counted in hours since the Unix epoch.
///
/// Rows are filed under the hour in which ingestd *received* them, so the directory an entry
/// lands in never depends on a client's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourId(pub i64);

/// Microseconds in one hour.
const HOUR_US: i64 = 3_600_000_000;

impl HourId {
    /// The hour containing the given instant, in microseconds since the Unix epoch.
    pub fn from_micros(us: i64) -> HourId {
        HourId(us.div_euclid(HOUR_US))
    }

    /// The first microsecond of this hour.
    pub fn start_micros(self) -> i64 {
        self.0 * HOUR_US
    }

    /// One past the last microsecond of this hour.
    pub fn end_micros(self) -> i64 {
        (self.0 + 1) * HOUR_US
    }

    /// The hour after this one.
    pub fn next(self) -> HourId {
        HourId(self.0 + 1)
    }

    /// The directory name of this hour, `YYYY-MM-DDTHH`.
    pub fn dir_name(self) -> String {
        match Utc.timestamp_opt(self.0 * 3600, 0).single() {
            Some(t) => format!(
                "{:04}-{:02}-{:02}T{:02}",
                t.year(),
                t.month(),
                t.day(),
                t.hour()
            ),
            None => format!("invalid-hour-{}", self.0),
        }
    }

    /// Parses a directory name of the form `YYYY-MM-DDTHH`; `None` for anything else.
    pub fn parse_dir_name(name: &str) -> Option<HourId> {
        let b = name.as_bytes();
        if b.len() != 13 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = name.get(r)?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let (y, m, d, h) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?);
        if h > 23 {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
        let dt: DateTime<Utc> = Utc.from_utc_datetime(&date.and_hms_opt(h, 0, 0)?);
        Some(HourId(dt.timestamp().div_euclid(3600)))
    }
}

impl fmt::Display for HourId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dir_name())
    }
}

/// The number of a chunk within its hour directory: `wal_NNN.log` becomes `chunk_NNN.col`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChunkId(pub u32);

impl ChunkId {
    /// The chunk after this one.
    pub fn next(self) -> ChunkId {
        ChunkId(self.0 + 1)
    }
}

impl fmt::Display for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// A client-chosen batch id (`X-Batch-ID`), recorded in the WAL so that a retried batch is
/// answered "deduplicated" even after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchId(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_dir_round_trip() {
        for h in [0i64, 1, 24, 490_000, 500_123] {
            let id = HourId(h);
            assert_eq!(HourId::parse_dir_name(&id.dir_name()), Some(id));
        }
        assert_eq!(HourId(0).dir_name(), "1970-01-01T00");
        assert_eq!(HourId::parse_dir_name("2026-11-24T25"), None);
        assert_eq!(HourId::parse_dir_name("2026-11-24T2"), None);
        assert_eq!(HourId::parse_dir_name("2026-1x-24T02"), None);
    }

    #[test]
    fn hour_from_micros_handles_negative() {
        assert_eq!(HourId::from_micros(-1), HourId(-1));
        assert_eq!(HourId::from_micros(HOUR_US), HourId(1));
    }
}
