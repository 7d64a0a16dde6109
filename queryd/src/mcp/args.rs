//! Argument conventions shared by the query tools: time windows, limits and cursors.
//!
//! **Time points** accept a relative duration (`30s`, `15m`, `24h`, `7d`, `2w`: that long
//! before now), `now`, or an absolute RFC 3339 timestamp (`2026-04-18T10:15:30Z`, any offset;
//! a timestamp without offset is read as UTC). **Windows**: `since` is the start (default per
//! action), `until` the end (default now); explicit arguments always win over defaults, and
//! the resolved window is echoed back in every response as UTC RFC 3339 with `Z`.
//!
//! The token **`last_deploy`** as `since` starts the window at the newest deploy (first sight
//! of a new version) the caller may see: of `service` when the call names one, else of any
//! service. The deploy is echoed back with the window.
//!
//! **Lists** take `limit` (clamped to a per-action maximum) and an opaque `cursor` returned
//! as `next_cursor` by the previous page.

use chrono::{NaiveDateTime, SecondsFormat, TimeZone, Utc};
use opentrace_shared::time::parse_rfc3339_micros;
use serde_json::{Map, Value, json};

use super::registry::ToolCall;
use super::response::ToolError;
use super::scope::EnvScope;
use super::tools::groups::deploy_json;
use super::tools::{opt_i64, opt_str};

const US_PER_SEC: i64 = 1_000_000;

/// Formats µs since the epoch as RFC 3339 UTC with `Z` (sub-seconds only when present).
pub fn fmt_ts(us: i64) -> String {
    match Utc.timestamp_micros(us).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => String::from("out-of-range"),
    }
}

/// Parses a duration such as `90s`, `15m`, `24h`, `7d`, `2w` into µs.
pub fn parse_duration_us(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    n.checked_mul(secs)?.checked_mul(US_PER_SEC)
}

/// Parses a time point (see the module documentation) relative to `now_us`.
pub fn parse_time_point(s: &str, now_us: i64) -> Option<i64> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Some(now_us);
    }
    if let Some(d) = parse_duration_us(t) {
        return Some(now_us.saturating_sub(d));
    }
    if let Some(us) = parse_rfc3339_micros(t) {
        return Some(us);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(n.and_utc().timestamp_micros());
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc().timestamp_micros())
}

/// A resolved time window `[from, to)` in µs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub from_us: i64,
    /// Exclusive end.
    pub to_us: i64,
    /// The `since` text used (the argument or the action's default).
    pub since: String,
    /// Whether `since` was the action's default.
    pub defaulted: bool,
    /// The deploy the window starts at, when `since` was `last_deploy`.
    pub deploy: Option<Value>,
}

/// The `since` token that means "the newest deploy".
pub const LAST_DEPLOY: &str = "last_deploy";

impl Window {
    /// The window from `since`/`until` arguments, `default_since` when `since` is absent.
    pub fn from_args(
        args: &Map<String, Value>,
        default_since: &str,
        now_us: i64,
    ) -> Result<Window, ToolError> {
        let since_arg = opt_str(args, "since")?.filter(|s| !s.trim().is_empty());
        let until_arg = opt_str(args, "until")?.filter(|s| !s.trim().is_empty());
        let since = since_arg.unwrap_or(default_since);
        let bad = |name: &str, v: &str| {
            ToolError::InvalidArguments(format!(
                "`{name}` {v:?} is not a time: use a duration before now (15m, 24h, 7d) or RFC 3339 UTC such as 2026-04-18T10:15:30Z"
            ))
        };
        let from_us = parse_time_point(since, now_us).ok_or_else(|| bad("since", since))?;
        let to_us = match until_arg {
            Some(u) => parse_time_point(u, now_us).ok_or_else(|| bad("until", u))?,
            // One second of slack so rows stamped "now" by a slightly fast clock count.
            None => now_us.saturating_add(US_PER_SEC),
        };
        if from_us >= to_us {
            return Err(ToolError::InvalidArguments(format!(
                "empty window: since {} is not before until {}; pass an earlier `since` or a later `until`",
                fmt_ts(from_us),
                fmt_ts(to_us)
            )));
        }
        Ok(Window {
            from_us,
            to_us,
            since: since.to_string(),
            defaulted: since_arg.is_none(),
            deploy: None,
        })
    }

    /// The window of a tool call: [`Window::from_args`], plus the `last_deploy` token,
    /// resolved within the caller's environments (and `service`, when given).
    pub fn for_call(
        call: &ToolCall<'_>,
        default_since: &str,
        now_us: i64,
    ) -> Result<Window, ToolError> {
        let since = opt_str(call.args, "since")?.map(str::trim);
        if since != Some(LAST_DEPLOY) {
            return Window::from_args(call.args, default_since, now_us);
        }
        let scope = EnvScope::for_call(call)?;
        let service = opt_str(call.args, "service")?
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let deploy = call
            .platform
            .last_deploys(&scope.restriction(), service)
            .map_err(|e| ToolError::Internal(e.to_string()))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ToolError::InvalidArguments(format!(
                    "since=last_deploy: no deploy recorded{} in your environments ({}); a deploy is the first row of a new `version` of a service. Pass a duration such as since=24h instead",
                    service.map(|s| format!(" for service {s:?}")).unwrap_or_default(),
                    scope.describe()
                ))
            })?;
        let mut args = call.args.clone();
        args.insert("since".into(), json!(fmt_ts(deploy.first_seen_at.0)));
        let mut w = Window::from_args(&args, default_since, now_us)?;
        w.since = LAST_DEPLOY.to_string();
        w.deploy = Some(deploy_json(&deploy));
        Ok(w)
    }

    /// A window given directly (baselines, trace spans).
    pub fn between(from_us: i64, to_us: i64, label: &str) -> Window {
        Window {
            from_us,
            to_us,
            since: label.to_string(),
            defaulted: false,
            deploy: None,
        }
    }

    /// Length in µs.
    pub fn len_us(&self) -> i64 {
        self.to_us.saturating_sub(self.from_us)
    }

    /// How the window is echoed back: UTC RFC 3339 with `Z`.
    pub fn echo(&self) -> Value {
        let mut v = json!({"from": fmt_ts(self.from_us), "to": fmt_ts(self.to_us)});
        if self.defaulted {
            v["note"] = json!(format!(
                "default window ({}); pass since/until to change it",
                self.since
            ));
        }
        if let Some(d) = &self.deploy {
            v["since_deploy"] = d.clone();
        }
        v
    }

    /// A bucket width giving about a dozen buckets over the window.
    pub fn auto_bucket_us(&self) -> i64 {
        const CHOICES: [i64; 9] = [60, 300, 900, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400];
        let target = self.len_us() / 12;
        CHOICES
            .iter()
            .map(|s| s * US_PER_SEC)
            .find(|w| *w >= target)
            .unwrap_or(86_400 * US_PER_SEC)
    }
}

/// Formats a bucket width (µs) as `5m`, `1h`, `1d`...
pub fn fmt_duration(us: i64) -> String {
    let s = us / US_PER_SEC;
    if s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s % 3_600 == 0 {
        format!("{}h", s / 3_600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// `limit`: default `default`, at least 1, at most `max`.
pub fn limit(args: &Map<String, Value>, default: usize, max: usize) -> Result<usize, ToolError> {
    match opt_i64(args, "limit")? {
        None => Ok(default),
        Some(n) if n < 1 => Err(ToolError::InvalidArguments(format!(
            "`limit` must be between 1 and {max}"
        ))),
        Some(n) => Ok((n as usize).min(max)),
    }
}

/// An integer argument within `[min, max]` (default when absent).
pub fn bounded(
    args: &Map<String, Value>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ToolError> {
    match opt_i64(args, name)? {
        None => Ok(default),
        Some(n) if n < min || n > max => Err(ToolError::InvalidArguments(format!(
            "`{name}` must be between {min} and {max}"
        ))),
        Some(n) => Ok(n),
    }
}

/// The opaque cursor of a list ordered by something other than time: an offset.
pub fn offset_cursor(args: &Map<String, Value>) -> Result<usize, ToolError> {
    match opt_str(args, "cursor")?.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(0),
        Some(c) => c
            .strip_prefix("o1-")
            .and_then(|n| usize::from_str_radix(n, 16).ok())
            .ok_or_else(|| {
                ToolError::InvalidArguments(format!(
                    "`cursor` {c:?} is invalid here: pass back the next_cursor of the previous page of the same action unchanged"
                ))
            }),
    }
}

/// Encodes an offset as the opaque cursor [`offset_cursor`] reads.
pub fn encode_offset(offset: usize) -> String {
    format!("o1-{offset:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_776_507_330_000_000; // 2026-04-18T10:15:30Z

    #[test]
    fn time_points() {
        assert_eq!(parse_time_point("15m", NOW), Some(NOW - 900 * US_PER_SEC));
        assert_eq!(
            parse_time_point("7d", NOW),
            Some(NOW - 7 * 86_400 * US_PER_SEC)
        );
        assert_eq!(parse_time_point("now", NOW), Some(NOW));
        assert_eq!(parse_time_point("2026-04-18T10:15:30Z", 0), Some(NOW));
        assert_eq!(parse_time_point("2026-04-18T12:15:30+02:00", 0), Some(NOW));
        assert_eq!(parse_time_point("2026-04-18T10:15:30", 0), Some(NOW));
        assert_eq!(parse_time_point("yesterday", NOW), None);
        assert_eq!(parse_time_point("15x", NOW), None);
        assert_eq!(fmt_ts(NOW), "2026-04-18T10:15:30Z");
        assert_eq!(fmt_ts(NOW + 1_000), "2026-04-18T10:15:30.001Z");
    }

    #[test]
    fn windows() {
        let mut a = Map::new();
        let w = Window::from_args(&a, "1h", NOW).unwrap();
        assert_eq!(w.from_us, NOW - 3_600 * US_PER_SEC);
        assert!(w.defaulted);
        assert_eq!(w.echo()["from"], "2026-04-18T09:15:30Z");
        a.insert("since".into(), json!("2026-04-18T10:00:00Z"));
        a.insert("until".into(), json!("2026-04-18T10:05:00Z"));
        let w = Window::from_args(&a, "1h", NOW).unwrap();
        assert_eq!(w.len_us(), 300 * US_PER_SEC);
        assert!(!w.defaulted);
        a.insert("until".into(), json!("2026-04-18T09:00:00Z"));
        assert!(Window::from_args(&a, "1h", NOW).is_err());
        a.insert("since".into(), json!("last tuesday"));
        let e = Window::from_args(&a, "1h", NOW).unwrap_err();
        assert!(e.to_string().contains("15m"));
    }

    #[test]
    fn cursors_and_limits() {
        let mut a = Map::new();
        assert_eq!(offset_cursor(&a).unwrap(), 0);
        a.insert("cursor".into(), json!(encode_offset(300)));
        assert_eq!(offset_cursor(&a).unwrap(), 300);
        a.insert("cursor".into(), json!("garbage"));
        assert!(offset_cursor(&a).is_err());
        a.insert("limit".into(), json!(1000));
        assert_eq!(limit(&a, 50, 200).unwrap(), 200);
        a.insert("limit".into(), json!(0));
        assert!(limit(&a, 50, 200).is_err());
    }
}
