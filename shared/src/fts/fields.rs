//! Which text of a row is full-text indexed, shared by the index builder and the query
//! verifier so both always see exactly the same text.
//!
//! The indexed columns are those with `full_text: true` in [`crate::schema::COLUMNS`]:
//! `message`, `path`, `handler`, `error_class`, `error_message`, `source_file` and `body`.
//! Plain string columns contribute their whole value as one text. `body` is JSON: each
//! string *value* and each number (as its JSON text) found recursively in it is one text
//! (in document order; a repeated key's values all count);
//! object keys, `true`/`false`/`null` and JSON punctuation are not indexed (keys name the
//! shape of the payload, not its content, and would match nearly every row of a kind). A
//! `body` that is not valid JSON is indexed as one plain text.

use std::cell::RefCell;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::row_ref::RowValues;
use crate::schema::{COLUMNS, Col};

/// Calls `f(col, text)` for every indexed text of `row`, in column order; a JSON `body`
/// yields one call per string value or number, in document order.
pub fn indexed_texts<R: RowValues + ?Sized>(row: &R, mut f: impl FnMut(Col, &str)) {
    for def in COLUMNS.iter().filter(|d| d.full_text) {
        let Some(text) = row.value(def.col).as_str() else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        if def.col == Col::Body {
            BODY_TEXTS.with(|cell| {
                // `f` never indexes another row, but stay correct if it ever did.
                let mut own = JsonTexts::default();
                let mut shared = cell.try_borrow_mut();
                let texts = match shared.as_deref_mut() {
                    Ok(t) => t,
                    Err(_) => &mut own,
                };
                if texts.collect(text) {
                    texts.for_each(|t| f(Col::Body, t));
                } else {
                    f(Col::Body, text);
                }
            });
        } else {
            f(def.col, text);
        }
    }
}

thread_local! {
    /// Scratch space for the texts of one `body`, reused so that indexing a body allocates
    /// nothing once warm.
    static BODY_TEXTS: RefCell<JsonTexts> = RefCell::new(JsonTexts::default());
}

/// The string values and numbers of one JSON document, walked without building a
/// `serde_json::Value` (no map, no string per key): their bytes in one buffer.
#[derive(Debug, Default)]
struct JsonTexts {
    bytes: String,
    ends: Vec<usize>,
}

impl JsonTexts {
    /// Collects the texts of `json`; `false` (and nothing usable) if it is not valid JSON,
    /// so that a body is either indexed value by value or as one plain text, never half.
    fn collect(&mut self, json: &str) -> bool {
        self.bytes.clear();
        self.ends.clear();
        // One huge body must not pin its buffer to the thread for good.
        if self.bytes.capacity() > 1 << 20 {
            self.bytes.shrink_to(64 << 10);
        }
        if self.ends.capacity() > 1 << 16 {
            self.ends.shrink_to(1 << 10);
        }
        let mut de = serde_json::Deserializer::from_str(json);
        let ok = Walk(self).deserialize(&mut de).is_ok() && de.end().is_ok();
        if !ok {
            self.ends.clear();
        }
        ok
    }

    fn for_each(&self, mut f: impl FnMut(&str)) {
        let mut from = 0;
        for &end in &self.ends {
            f(self.bytes.get(from..end).unwrap_or(""));
            from = end;
        }
    }

    fn push_str(&mut self, s: &str) {
        self.bytes.push_str(s);
        self.ends.push(self.bytes.len());
    }

    /// A number as its JSON text, exactly as `serde_json::Number` displays it.
    fn push_number(&mut self, n: serde_json::Number) {
        use std::fmt::Write;
        let _ = write!(self.bytes, "{n}");
        self.ends.push(self.bytes.len());
    }
}

/// A serde visitor (and seed) that walks any JSON value into a [`JsonTexts`].
struct Walk<'a>(&'a mut JsonTexts);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.push_number(v.into());
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.push_number(v.into());
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // JSON cannot spell a non-finite number, so `from_f64` always succeeds here.
        if let Some(n) = serde_json::Number::from_f64(v) {
            self.0.push_number(n);
        }
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Walk(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Walk(&mut *self.0))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::Row;

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

    /// The texts the JSON walk must produce: every string and number of `serde_json`'s
    /// own parse, as a multiset (the walk keeps document order and repeated keys).
    fn by_value(json: &str) -> Option<Vec<String>> {
        fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
            use serde_json::Value as J;
            match v {
                J::String(s) => out.push(s.clone()),
                J::Number(n) => out.push(n.to_string()),
                J::Array(items) => items.iter().for_each(|i| walk(i, out)),
                J::Object(map) => map.values().for_each(|i| walk(i, out)),
                J::Null | J::Bool(_) => {}
            }
        }
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let mut out = Vec::new();
        walk(&v, &mut out);
        out.sort();
        Some(out)
    }

    fn body_texts(json: &str) -> Vec<String> {
        let row = Row {
            body: Some(json.into()),
            ..Row::default()
        };
        let mut got = Vec::new();
        indexed_texts(&row, |_, t| got.push(t.to_string()));
        got
    }

    #[test]
    fn json_walk_matches_serde_values() {
        for json in [
            r#"{"b":"x","a":[1,-2,1.5,-0.0,1e300,12345678901234567890,184467440737095516150]}"#,
            r#"["caf\u00e9","tab\there",{"k":{"k":{"k":[null,true,"deep"]}}}]"#,
            r#"  "just a string"  "#,
            "0.1",
            "[]",
        ] {
            let mut got = body_texts(json);
            got.sort();
            assert_eq!(Some(got), by_value(json), "{json}");
        }
    }

    #[test]
    fn repeated_keys_all_count() {
        assert_eq!(body_texts(r#"{"a":"x","a":"y"}"#), vec!["x", "y"]);
    }

    #[test]
    fn invalid_json_is_one_plain_text_never_half_walked() {
        for bad in [r#"{"a":"x"} trailing"#, r#"{"a":"x","b":"#, "[1,2", "1e400"] {
            assert_eq!(body_texts(bad), vec![bad.to_string()], "{bad}");
        }
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn json_walk_matches_serde_on_generated_documents(
            leaves in proptest::collection::vec(
                prop_oneof![
                    "[a-z\\\\\"é ]{0,6}".prop_map(serde_json::Value::String),
                    proptest::num::i64::ANY.prop_map(serde_json::Value::from),
                    proptest::num::f64::NORMAL.prop_map(serde_json::Value::from),
                    proptest::bool::ANY.prop_map(serde_json::Value::from),
                ],
                0..8,
            ),
        ) {
            let doc = serde_json::json!({"list": leaves.clone(), "nested": {"x": leaves}});
            let json = doc.to_string();
            let mut got = body_texts(&json);
            got.sort();
            prop_assert_eq!(Some(got), by_value(&json));
        }
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
