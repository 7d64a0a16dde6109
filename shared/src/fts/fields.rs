//! Which text of a row is full-text indexed, shared by the index builder and the query
//! verifier so both always see exactly the same text.
//!
//! The indexed columns are those with `full_text: true` in [`crate::schema::COLUMNS`]:
//! `message`, `path`, `handler`, `error_class`, `error_message`, `source_file` and `body`.
//! Plain string columns contribute their whole value as one text. `body` is JSON: each
//! string *value* and each number (as its JSON text) found recursively in it is one text;
//! object keys, `true`/`false`/`null` and JSON punctuation are not indexed (keys name the
//! shape of the payload, not its content, and would match nearly every row of a kind). A
//! `body` that is not valid JSON is indexed as one plain text.

use crate::row::Row;
use crate::schema::{COLUMNS, Col};

/// Calls `f(col, text)` for every indexed text of `row`, in column order; a JSON `body`
/// yields one call per string value or number (object members in `serde_json` map order).
pub fn indexed_texts(row: &Row, mut f: impl FnMut(Col, &str)) {
    for def in COLUMNS.iter().filter(|d| d.full_text) {
        let Some(text) = row.get(def.col).as_str() else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        if def.col == Col::Body {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => json_texts(&v, &mut |s| f(Col::Body, s)),
                Err(_) => f(Col::Body, text),
            }
        } else {
            f(def.col, text);
        }
    }
}

fn json_texts(v: &serde_json::Value, f: &mut impl FnMut(&str)) {
    use serde_json::Value as J;
    match v {
        J::String(s) => f(s),
        J::Number(n) => f(&n.to_string()),
        J::Array(items) => items.iter().for_each(|i| json_texts(i, f)),
        J::Object(map) => map.values().for_each(|i| json_texts(i, f)),
        J::Null | J::Bool(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_values_not_keys() {
        let row = Row {
            message: "hello".into(),
            path: Some("/api/x".into()),
            trace_id: Some("not-indexed".into()),
            body: Some(r#"{"cust":{"email":"a@b.c","tags":["vip",7]},"ok":true}"#.into()),
            ..Row::default()
        };
        let mut got = Vec::new();
        indexed_texts(&row, |c, t| got.push((c, t.to_string())));
        assert_eq!(
            got,
            vec![
                (Col::Message, "hello".to_string()),
                (Col::Path, "/api/x".to_string()),
                (Col::Body, "a@b.c".to_string()),
                (Col::Body, "vip".to_string()),
                (Col::Body, "7".to_string()),
            ]
        );
    }

    #[test]
    fn invalid_json_body_is_plain_text() {
        let row = Row {
            body: Some("not {json".into()),
            ..Row::default()
        };
        let mut got = Vec::new();
        indexed_texts(&row, |c, t| got.push((c, t.to_string())));
        assert_eq!(got, vec![(Col::Body, "not {json".to_string())]);
    }
}
