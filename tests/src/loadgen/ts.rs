//! RFC 3339 UTC timestamps in the two precisions the SDKs use.
//!
//! Hand-rolled (days-to-civil) instead of going through a date library because the generator
//! formats one timestamp per entry and this is on its hot path.

/// Microseconds since the Unix epoch, UTC (the project's timestamp unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

/// How many fractional digits a timestamp carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsPrecision {
    /// `2026-04-18T10:15:30.686Z`, as Node's `Date.toISOString()` writes it.
    Millis,
    /// `2026-04-18T10:15:30.123456Z`, as the Ruby gem writes it.
    Micros,
}

/// Converts days since 1970-01-01 to a (year, month, day) civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats `t` as an RFC 3339 UTC timestamp with a `Z` suffix.
pub fn format_rfc3339(t: Micros, precision: TsPrecision) -> String {
    let secs = t.0.div_euclid(1_000_000);
    let frac = t.0.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    match precision {
        TsPrecision::Millis => format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            frac / 1000
        ),
        TsPrecision::Micros => {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:06}Z")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SecondsFormat, TimeZone, Utc};

    #[test]
    fn matches_chrono_for_a_spread_of_instants() {
        let mut t: i64 = -86_400_000_000 * 400;
        while t < 4_102_444_800_000_000 {
            let c = Utc.timestamp_micros(t).single().unwrap();
            assert_eq!(
                format_rfc3339(Micros(t), TsPrecision::Micros),
                c.to_rfc3339_opts(SecondsFormat::Micros, true)
            );
            assert_eq!(
                format_rfc3339(Micros(t), TsPrecision::Millis),
                c.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
            t += 7_777_777_777_777;
        }
    }
}
