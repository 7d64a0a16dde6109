//! Derivation of the `kind` column (`log`, `request`, `job`, `event`).
//!
//! Rules, first match wins (reference server `limits.go`, with one deviation):
//! 1. an explicit `kind` is kept (lowercased);
//! 2. `event_type == "http.request"` → `request`;
//! 3. any of `method`, `path`, `route`, or `status > 0` → `request`;
//! 4. any of `job_class`, `job_queue`, `job_id`, `queue_ms` → `job`;
//! 5. an `event_type` other than `log`, `error` or `in_request_log` → `event`
//!    (deviation: Ruby stamps plain logs and errors with `event_type: "log"`/`"error"`, and
//!    in-request children carry `in_request_log`; those stay `log`);
//! 6. otherwise `log`.
//!
//! `duration_ms` alone is deliberately not a request signal.

use opentrace_shared::Row;

/// The row's kind.
pub fn derive(row: &Row) -> String {
    let explicit = row.kind.trim();
    if !explicit.is_empty() {
        return explicit.to_ascii_lowercase();
    }
    let et = row.event_type.as_deref().unwrap_or("");
    if et == "http.request"
        || row.method.is_some()
        || row.path.is_some()
        || row.route.is_some()
        || row.status.is_some_and(|s| s > 0)
    {
        return "request".into();
    }
    if row.job_class.is_some()
        || row.job_queue.is_some()
        || row.job_id.is_some()
        || row.queue_ms.is_some()
    {
        return "job".into();
    }
    if !et.is_empty() && !matches!(et, "log" | "error" | "in_request_log") {
        return "event".into();
    }
    "log".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_in_order() {
        let mut r = Row::default();
        assert_eq!(derive(&r), "log");
        r.event_type = Some("log".into());
        assert_eq!(derive(&r), "log");
        r.event_type = Some("payment.completed".into());
        assert_eq!(derive(&r), "event");
        r.job_queue = Some("default".into());
        assert_eq!(derive(&r), "job");
        r.status = Some(0);
        assert_eq!(derive(&r), "job");
        r.status = Some(500);
        assert_eq!(derive(&r), "request");
        r.kind = "Custom".into();
        assert_eq!(derive(&r), "custom");
        let d = Row {
            duration_ms: Some(5),
            ..Row::default()
        };
        assert_eq!(derive(&d), "log");
    }
}
