//! Error fingerprint: the grouping key of `error`/`fatal` rows.
//!
//! ```text
//! fingerprint = lowercase hex of the first 8 bytes (16 hex chars) of
//!               MD5( service ␀ error_class ␀ location )
//! location    = "F:" norm_path(frame.file) ":" frame.method     if a backtrace frame is known
//!             | "F:" norm_path(source_file) ":"                  else if source_file is set
//!             | "M:" norm_message(error_message or message)      otherwise
//! ```
//!
//! - `frame` is the top *in-app* frame of the first backtrace found in the body
//!   (`body.exception.backtrace|stack`, `body.context.backtrace|stack_trace`,
//!   `body.backtrace|stack_trace`), library frames (`/gems/`, `node_modules`, `node:` …)
//!   skipped; the line number is never hashed, so adding a line above the raise keeps the
//!   group. Unlike the reference server (file only), the method is included: two different
//!   errors of the same class raised in one file stay apart.
//! - `error_class` is the column after promotion from the body (empty string if unknown).
//! - `norm_path`: `file://` removed, a deploy prefix up to `/releases/<digits>/` removed, a
//!   query string removed, then `norm_message`'s replacements (so hashed asset names and
//!   version numbers do not split groups).
//! - `norm_message`: the first 500 characters; UUIDs → `<UUID>`, IPv4 → `<IP>`, `0x…` and hex
//!   runs of 16+ → `<HEX>`, numeric path segments → `/<N>`, digit runs starting a word → `<N>` (so `1500ms` → `<N>ms`, `order 7` and `order 42` group together),
//!   quoted strings of 4+ characters → `<STR>`.
//!
//! Rows below `error` get no fingerprint.

use std::sync::LazyLock;

use md5::{Digest, Md5};
use opentrace_shared::Row;
use regex::Regex;

use opentrace_shared::backtrace::Frame;

struct Normalizer {
    steps: Vec<(Regex, &'static str)>,
    releases: Option<Regex>,
}

static NORM: LazyLock<Normalizer> = LazyLock::new(|| {
    let steps = [
        (
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            "<UUID>",
        ),
        (
            r"(?-u:\b)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?-u:\b)",
            "<IP>",
        ),
        (r"(?-u:\b)0x[0-9a-fA-F]+(?-u:\b)", "<HEX>"),
        (r"(?-u:\b)[0-9a-fA-F]{16,}(?-u:\b)", "<HEX>"),
        (r"/\d+(?-u:\b)", "/<N>"),
        (r"(?-u:\b)\d+", "<N>"),
        (r#"'[^']{4,}'|"[^"]{4,}""#, "<STR>"),
    ];
    Normalizer {
        steps: steps
            .into_iter()
            .filter_map(|(p, r)| Regex::new(p).ok().map(|re| (re, r)))
            .collect(),
        releases: Regex::new(r"^.*/releases/\d+/").ok(),
    }
});

/// Normalises an error message for grouping (see the module doc).
pub fn norm_message(msg: &str) -> String {
    let end = msg.char_indices().nth(500).map_or(msg.len(), |(i, _)| i);
    let mut s = msg.get(..end).unwrap_or(msg).to_string();
    for (re, rep) in &NORM.steps {
        if let std::borrow::Cow::Owned(o) = re.replace_all(&s, *rep) {
            s = o;
        }
    }
    s
}

/// Normalises a source path for grouping (see the module doc).
pub fn norm_path(path: &str) -> String {
    let p = path.strip_prefix("file://").unwrap_or(path);
    let p = p.split('?').next().unwrap_or(p);
    match &NORM.releases {
        Some(re) => norm_message(&re.replace(p, "")),
        None => norm_message(p),
    }
}

/// The fingerprint of an error/fatal row, `None` for other levels.
pub fn compute(row: &Row, frame: Option<&Frame>) -> Option<String> {
    if !row.level.is_error() {
        return None;
    }
    let location = match (frame, &row.source_file) {
        (Some(f), _) => format!(
            "F:{}:{}",
            norm_path(&f.file),
            f.method.as_deref().unwrap_or("")
        ),
        (None, Some(file)) => format!("F:{}:", norm_path(file)),
        (None, None) => format!(
            "M:{}",
            norm_message(row.error_message.as_deref().unwrap_or(&row.message))
        ),
    };
    let mut h = Md5::new();
    h.update(row.service.as_bytes());
    h.update([0u8]);
    h.update(row.error_class.as_deref().unwrap_or("").as_bytes());
    h.update([0u8]);
    h.update(location.as_bytes());
    let digest = h.finalize();
    Some(hex::encode(digest.get(..8).unwrap_or(&digest[..])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentrace_shared::Level;

    fn err(class: &str, msg: &str) -> Row {
        Row {
            level: Level::Error,
            service: "api".into(),
            error_class: Some(class.into()),
            message: msg.into(),
            ..Row::default()
        }
    }

    #[test]
    fn same_error_different_ids_same_fingerprint() {
        let a = compute(
            &err(
                "NotFound",
                "User 12345 not found (req 9c1e0a52-6b0e-4f57-9d1e-3c2f1b7a8e11)",
            ),
            None,
        );
        let b = compute(
            &err(
                "NotFound",
                "User 98 not found (req 0b5e0a52-6b0e-4f57-9d1e-3c2f1b7a8e99)",
            ),
            None,
        );
        assert_eq!(a, b);
        assert_eq!(a.as_ref().map(String::len), Some(16));
        let c = compute(
            &err(
                "Timeout",
                "User 12345 not found (req 9c1e0a52-6b0e-4f57-9d1e-3c2f1b7a8e11)",
            ),
            None,
        );
        assert_ne!(a, c);
    }

    #[test]
    fn frames_ignore_line_but_keep_method() {
        let row = err("Stripe::CardError", "declined");
        let f = |line, method: &str| Frame {
            file: "/var/www/app/releases/20260418101530/app/services/charge.rb".into(),
            line: Some(line),
            method: Some(method.into()),
        };
        let a = compute(&row, Some(&f(27, "call")));
        let b = compute(&row, Some(&f(31, "call")));
        let c = compute(&row, Some(&f(27, "refund")));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut other_release = f(27, "call");
        other_release.file = "/var/www/app/releases/20260501000000/app/services/charge.rb".into();
        assert_eq!(a, compute(&row, Some(&other_release)));
    }

    #[test]
    fn non_errors_have_none() {
        let mut r = err("X", "y");
        r.level = Level::Warn;
        assert_eq!(compute(&r, None), None);
    }

    #[test]
    fn normaliser() {
        assert_eq!(
            norm_message("GET /orders/42 from 10.0.0.12 took 1500ms"),
            "GET /orders/<N> from <IP> took <N>ms"
        );
        assert_eq!(
            norm_message("reading 'total' of 0xdeadbeef"),
            "reading <STR> of <HEX>"
        );
    }
}
