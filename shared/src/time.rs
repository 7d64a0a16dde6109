//! Conversions between µs timestamps and RFC 3339 text, UTC with `Z`.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Formats µs since the epoch as RFC 3339 UTC with microseconds and `Z`
/// (e.g. `2026-11-24T07:15:30.123456Z`).
pub fn format_rfc3339_micros(us: i64) -> String {
    match Utc.timestamp_micros(us).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        None => String::from("out-of-range"),
    }
}

/// Parses an RFC 3339 timestamp with any sub-second precision (truncated to µs).
pub fn parse_rfc3339_micros(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
}

/// The current time in µs since the epoch.
pub fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_precision() {
        let us = parse_rfc3339_micros("2026-04-18T10:15:30.123456789Z").unwrap();
        assert_eq!(format_rfc3339_micros(us), "2026-04-18T10:15:30.123456Z");
        assert_eq!(
            parse_rfc3339_micros("2026-04-18T12:15:30+02:00"),
            parse_rfc3339_micros("2026-04-18T10:15:30Z")
        );
        assert_eq!(parse_rfc3339_micros("yesterday"), None);
    }
}
