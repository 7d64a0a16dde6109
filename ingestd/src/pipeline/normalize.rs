//! Promotion of error details from `body` into columns.
//!
//! The SDKs put exception data in different places: Node in `body.exception{class, message,
//! stack}` plus top-level `error_class`; Ruby standalone errors only in
//! `body.context{exception_class, exception_message, backtrace}`; legacy rows in
//! `metadata` (which the legacy mapper moved to `body.context`) or a top-level `backtrace`.
//! For rows at level error/fatal, or that already name an `error_class`, this fills the
//! missing `error_class`, `error_message`, `source_file` and `source_line` columns and returns
//! the top in-app frame for the fingerprint. The body itself is left unchanged.

use opentrace_shared::Row;
use serde_json::Value;

use crate::wire::Body;
use opentrace_shared::backtrace::{
    CLASS_KEYS, Frame, MESSAGE_KEYS, first_str, frame_lines, places, top_frame, trace_value,
};

/// Fills `host` from `body.context.hostname`, where both SDKs put it (neither sends a
/// top-level `host`). A raw body is only peeked at (borrowed, never re-serialised), so its
/// stored text stays exactly as received.
pub fn promote_host(row: &mut Row, body: &mut Body<'_>) {
    #[derive(serde::Deserialize)]
    struct Peek<'a> {
        #[serde(borrow)]
        context: Option<Ctx<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Ctx<'a> {
        #[serde(borrow)]
        hostname: Option<std::borrow::Cow<'a, str>>,
    }
    if row.host.is_some() {
        return;
    }
    let host = match body {
        Body::None => None,
        Body::Raw(r) => {
            let text = r.get();
            if !text.contains("\"hostname\"") {
                return;
            }
            serde_json::from_str::<Peek<'_>>(text)
                .ok()
                .and_then(|p| p.context?.hostname.map(|h| h.into_owned()))
        }
        Body::Parsed(v) => v
            .get("context")
            .and_then(|c| c.get("hostname"))
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    row.host = host.filter(|h| !h.is_empty());
}

/// Fills error columns from the body; returns the frame used for `source_file`, if any.
pub fn promote_error_details(row: &mut Row, body: &mut Body<'_>) -> Option<Frame> {
    if !row.level.is_error() && row.error_class.is_none() {
        return None;
    }
    let mut frame = None;
    if let Some(Value::Object(b)) = body.value_mut() {
        let at = places(b);
        if row.error_class.is_none() {
            row.error_class = first_str(&at, CLASS_KEYS).map(str::to_string);
        }
        if row.error_message.is_none() {
            row.error_message = first_str(&at, MESSAGE_KEYS).map(str::to_string);
        }
        frame = trace_value(b).map(frame_lines).and_then(top_frame);
    }
    if let Some(f) = &frame
        && row.source_file.is_none()
    {
        row.source_file = Some(f.file.clone());
        row.source_line = f.line;
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentrace_shared::Level;

    #[test]
    fn ruby_context_error_is_promoted() {
        let mut row = Row {
            level: Level::Error,
            ..Row::default()
        };
        let mut body = Body::Parsed(serde_json::json!({"context": {
            "exception_class": "ActiveRecord::RecordNotFound",
            "exception_message": "Couldn't find User with 'id'=7",
            "backtrace": ["/gems/activerecord/lib/x.rb:1:in `find'", "app/models/user.rb:12:in `load'"]
        }}));
        let f = promote_error_details(&mut row, &mut body).unwrap();
        assert_eq!(
            row.error_class.as_deref(),
            Some("ActiveRecord::RecordNotFound")
        );
        assert_eq!(
            row.error_message.as_deref(),
            Some("Couldn't find User with 'id'=7")
        );
        assert_eq!(row.source_file.as_deref(), Some("app/models/user.rb"));
        assert_eq!(row.source_line, Some(12));
        assert_eq!(f.method.as_deref(), Some("load"));
    }

    #[test]
    fn info_rows_are_untouched() {
        let mut row = Row::default();
        let mut body = Body::Parsed(serde_json::json!({"exception": {"class": "X"}}));
        assert_eq!(promote_error_details(&mut row, &mut body), None);
        assert_eq!(row.error_class, None);
    }
}
