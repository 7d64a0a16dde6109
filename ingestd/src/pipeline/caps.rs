//! Field size caps, applied after scrubbing and before storage.
//!
//! A value over its cap is cut at a UTF-8 character boundary and ends with the visible
//! marker `…[truncated]`; the result (marker included) is never longer than the cap.
//!
//! | class | columns | cap |
//! |---|---|---|
//! | identifier-like | service, env, version, host, kind, event_type, trace_id, span_id, parent_span_id, request_id, user_id, tenant_id, session_id, method, error_class, job_class, job_queue, job_id | 512 B |
//! | path-like | path, route, handler, source_file | 2048 B |
//! | text | message, error_message | 16 KiB |
//! | body | body (JSON) | 256 KiB, see [`cap_body`] |

use opentrace_shared::Row;

/// The marker appended to a cut value.
pub const MARKER: &str = "…[truncated]";
/// Cap for identifier-like columns.
pub const IDENT_CAP: usize = 512;
/// Cap for path-like columns.
pub const PATH_CAP: usize = 2048;
/// Cap for `message` and `error_message`.
pub const TEXT_CAP: usize = 16 * 1024;
/// Default cap for the `body` JSON text.
pub const BODY_CAP: usize = 256 * 1024;
/// How much of an oversized body is kept as a preview.
const BODY_PREVIEW: usize = 16 * 1024;

/// Cuts `s` to at most `max` bytes (marker included) at a character boundary.
pub fn cap(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut end = max.saturating_sub(MARKER.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str(MARKER);
    true
}

fn cap_opt(s: &mut Option<String>, max: usize) {
    if let Some(v) = s {
        cap(v, max);
    }
}

/// Applies the column caps to a row (not to `body`).
pub fn apply(row: &mut Row) {
    for s in [&mut row.service, &mut row.env, &mut row.kind] {
        cap(s, IDENT_CAP);
    }
    for s in [
        &mut row.version,
        &mut row.host,
        &mut row.event_type,
        &mut row.trace_id,
        &mut row.span_id,
        &mut row.parent_span_id,
        &mut row.request_id,
        &mut row.user_id,
        &mut row.tenant_id,
        &mut row.session_id,
        &mut row.method,
        &mut row.error_class,
        &mut row.job_class,
        &mut row.job_queue,
        &mut row.job_id,
    ] {
        cap_opt(s, IDENT_CAP);
    }
    for s in [
        &mut row.path,
        &mut row.route,
        &mut row.handler,
        &mut row.source_file,
    ] {
        cap_opt(s, PATH_CAP);
    }
    cap(&mut row.message, TEXT_CAP);
    cap_opt(&mut row.error_message, TEXT_CAP);
}

/// Caps the body JSON text. Cutting JSON would make it invalid, so an oversized body is
/// replaced by `{"_truncated":true,"original_bytes":N,"preview":"<first 16 KiB of the text>…[truncated]"}`.
pub fn cap_body(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut preview = text.clone();
    cap(&mut preview, BODY_PREVIEW.min(max / 2));
    serde_json::json!({
        "_truncated": true,
        "original_bytes": text.len(),
        "preview": preview,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_is_utf8_safe_and_marked() {
        let mut s = "é".repeat(600); // 1200 bytes
        assert!(cap(&mut s, IDENT_CAP));
        assert!(s.len() <= IDENT_CAP);
        assert!(s.ends_with(MARKER));
        let mut short = "abc".to_string();
        assert!(!cap(&mut short, IDENT_CAP));
        assert_eq!(short, "abc");
    }

    #[test]
    fn row_caps_by_class() {
        let mut row = Row {
            message: "m".repeat(20_000),
            path: Some("/p".repeat(2000)),
            trace_id: Some("t".repeat(600)),
            ..Row::default()
        };
        apply(&mut row);
        assert_eq!(row.message.len(), TEXT_CAP);
        assert!(row.path.as_deref().unwrap().len() <= PATH_CAP);
        assert!(row.trace_id.as_deref().unwrap().ends_with(MARKER));
    }

    #[test]
    fn body_over_cap_becomes_valid_json() {
        let big = format!("{{\"k\":\"{}\"}}", "x".repeat(1000));
        let capped = cap_body(big.clone(), 100);
        let v: serde_json::Value = serde_json::from_str(&capped).unwrap();
        assert_eq!(v["_truncated"], true);
        assert_eq!(v["original_bytes"], big.len());
        assert_eq!(cap_body("{}".into(), 100), "{}");
    }
}
