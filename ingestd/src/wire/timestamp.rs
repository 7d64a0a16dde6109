//! Parsing of the wire `ts` into microseconds since the Unix epoch.
//!
//! Accepted: RFC 3339 with any number of fractional digits (Node sends milliseconds, Ruby
//! microseconds; nanoseconds are truncated to µs) and any offset (converted to UTC); as a
//! courtesy, a bare integer epoch, whose unit is inferred from its magnitude (seconds,
//! milliseconds, microseconds or nanoseconds).

use chrono::DateTime;

/// Parses a timestamp; `None` when it is not recognisable (the caller uses the receive time).
pub fn parse(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = t.parse().ok()?;
        let a = n.unsigned_abs();
        return Some(if a >= 100_000_000_000_000_000 {
            n / 1000
        } else if a >= 100_000_000_000_000 {
            n
        } else if a >= 100_000_000_000 {
            n.checked_mul(1000)?
        } else {
            n.checked_mul(1_000_000)?
        });
    }
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: i64 = 1_776_507_330_000_000; // 2026-04-18T10:15:30Z

    #[test]
    fn rfc3339_precisions() {
        assert_eq!(parse("2026-04-18T10:15:30Z"), Some(BASE));
        assert_eq!(parse("2026-04-18T10:15:30.686Z"), Some(BASE + 686_000));
        assert_eq!(parse("2026-04-18T10:15:30.123456Z"), Some(BASE + 123_456));
        assert_eq!(
            parse("2026-04-18T10:15:30.123456789Z"),
            Some(BASE + 123_456)
        );
        assert_eq!(parse("2026-04-18T12:15:30.5+02:00"), Some(BASE + 500_000));
    }

    #[test]
    fn epoch_numbers_by_magnitude() {
        assert_eq!(parse("1776507330"), Some(BASE));
        assert_eq!(parse("1776507330686"), Some(BASE + 686_000));
        assert_eq!(parse("1776507330123456"), Some(BASE + 123_456));
        assert_eq!(parse("1776507330123456789"), Some(BASE + 123_456));
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("2026-04-18"), None);
    }
}
