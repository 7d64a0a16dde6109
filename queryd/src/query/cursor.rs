//! [`Cursor`]: an opaque position `(ts, seq)` in a result ordered by time, so paging is
//! stable while new rows arrive (a row's `(ts, seq)` never changes and is unique).

use std::fmt;
use std::str::FromStr;

use opentrace_shared::Seq;

use super::QueryError;

/// The `(ts, seq)` of the last row returned; the next page continues strictly after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// Event time, µs.
    pub ts: i64,
    /// Sequence number.
    pub seq: Seq,
}

impl Cursor {
    /// The opaque text form, `c1-<ts as 16 hex digits>-<seq hex>`.
    pub fn encode(&self) -> String {
        self.to_string()
    }

    /// Parses [`Cursor::encode`]'s output.
    pub fn decode(s: &str) -> Result<Cursor, QueryError> {
        s.parse()
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c1-{:016x}-{:x}", self.ts as u64, self.seq.0)
    }
}

impl FromStr for Cursor {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Cursor, QueryError> {
        let bad = || QueryError::BadCursor(s.to_string());
        let rest = s.strip_prefix("c1-").ok_or_else(bad)?;
        let (ts, seq) = rest.split_once('-').ok_or_else(bad)?;
        let ts = u64::from_str_radix(ts, 16).map_err(|_| bad())? as i64;
        let seq = u64::from_str_radix(seq, 16).map_err(|_| bad())?;
        Ok(Cursor { ts, seq: Seq(seq) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for c in [
            Cursor {
                ts: -5,
                seq: Seq(0),
            },
            Cursor {
                ts: i64::MAX,
                seq: Seq(u64::MAX),
            },
            Cursor {
                ts: 1_700_000_000_000_000,
                seq: Seq(42),
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
        assert!(Cursor::decode("c1-zz-1").is_err());
        assert!(Cursor::decode("x").is_err());
    }
}
