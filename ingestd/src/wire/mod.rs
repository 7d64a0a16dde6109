//! Wire decoding: request body bytes → one [`DecodedEntry`] per entry.
//!
//! The body is a JSON array of entries or a single entry object. It is parsed in one pass
//! ([`stream::for_each_entry`]), each entry handed over as soon as it is complete. A body
//! that pass gives up on takes the two-pass path: the top level is split into borrowed raw
//! entries ([`split_batch`]) and each entry is decoded on its own ([`flat::decode_entry`]),
//! so that one bad entry is rejected with its index while its siblings are kept. `body`
//! stays borrowed raw JSON ([`Body::Raw`]) until a pipeline stage actually needs to look
//! inside it, which keeps the common path to one parse.

pub mod flat;
pub mod legacy;
pub mod lenient;
pub mod stream;
pub mod timestamp;

use opentrace_shared::Row;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Which endpoint an entry arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `POST /api/v2/logs`: flat entries only.
    V2,
    /// `POST /api/logs`: flat entries plus the legacy nested keys ([`legacy`]).
    Legacy,
}

/// Per-request context for decoding.
#[derive(Debug, Clone, Copy)]
pub struct DecodeCtx<'a> {
    /// Receive time in µs since the epoch (`received_at`, and `ts` when missing).
    pub received_at: i64,
    /// `env` for entries that do not say (`OPENTRACE_DEFAULT_ENV`).
    pub default_env: &'a str,
    /// The endpoint's dialect.
    pub dialect: Dialect,
}

/// A `body` document, parsed only when needed.
#[derive(Debug, Clone)]
pub enum Body<'a> {
    /// No body (absent or `null`).
    None,
    /// The raw JSON text as received, not yet parsed.
    Raw(&'a RawValue),
    /// A parsed (and possibly modified) document.
    Parsed(Value),
}

impl<'a> Body<'a> {
    /// The parsed document, parsing the raw text on first use; `None` when there is no body.
    pub fn value_mut(&mut self) -> Option<&mut Value> {
        if let Body::Raw(r) = *self {
            *self = Body::Parsed(serde_json::from_str(r.get()).unwrap_or(Value::Null));
        }
        match self {
            Body::Parsed(v) => Some(v),
            _ => None,
        }
    }

    /// The body as an object, creating it (or wrapping a non-object as `{"value": …}`).
    pub fn object_mut(&mut self) -> &mut Map<String, Value> {
        let map = match std::mem::replace(self, Body::None) {
            Body::None => Map::new(),
            Body::Raw(r) => match serde_json::from_str(r.get()) {
                Ok(Value::Object(m)) => m,
                Ok(other) => wrap(other),
                Err(_) => Map::new(),
            },
            Body::Parsed(Value::Object(m)) => m,
            Body::Parsed(Value::Null) => Map::new(),
            Body::Parsed(other) => wrap(other),
        };
        *self = Body::Parsed(Value::Object(map));
        match self {
            Body::Parsed(Value::Object(m)) => m,
            _ => unreachable!("the body was set to an object just above"),
        }
    }

    /// Whether the raw or parsed body contains `needle` in its JSON text (cheap pre-check).
    pub fn raw_contains(&self, needle: &str) -> bool {
        match self {
            Body::None => false,
            Body::Raw(r) => r.get().contains(needle),
            Body::Parsed(_) => true,
        }
    }

    /// Detaches the body from the request buffer.
    pub fn into_owned(self) -> Body<'static> {
        match self {
            Body::None => Body::None,
            Body::Raw(r) => Body::Parsed(serde_json::from_str(r.get()).unwrap_or(Value::Null)),
            Body::Parsed(v) => Body::Parsed(v),
        }
    }

    /// The compact JSON text to store, `None` for no body.
    pub fn into_text(self) -> Option<String> {
        match self {
            Body::None | Body::Parsed(Value::Null) => None,
            Body::Raw(r) => Some(compact_json(r.get())),
            Body::Parsed(v) => serde_json::to_string(&v).ok(),
        }
    }
}

fn wrap(v: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("value".to_string(), v);
    m
}

/// Removes insignificant whitespace from valid JSON text without parsing it.
///
/// Works on bytes: every byte JSON's structure depends on (quotes, backslashes, whitespace)
/// is ASCII, and no byte of a multi-byte UTF-8 character is, so the text between the
/// whitespace runs that are removed is copied as it is.
pub fn compact_json(s: &str) -> String {
    let b = s.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t');
    if !b.iter().any(|&c| is_ws(c)) {
        return s.to_string();
    }
    let mut out = Vec::with_capacity(b.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut from = 0;
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_str = false;
            }
        } else if c == b'"' {
            in_str = true;
        } else if is_ws(c) {
            out.extend_from_slice(&b[from..i]);
            from = i + 1;
        }
    }
    out.extend_from_slice(&b[from..]);
    // Only ASCII whitespace outside strings was removed from valid UTF-8: still valid.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// One decoded entry: the row (without body, fingerprint, kind or caps yet), its body and
/// any non-fatal remarks (e.g. "ts missing, receive time used").
#[derive(Debug, Clone)]
pub struct DecodedEntry<'a> {
    /// The row's columns as sent.
    pub row: Row,
    /// The `body` document.
    pub body: Body<'a>,
    /// Non-fatal remarks, reported by `?validate=1`.
    pub warnings: Vec<String>,
}

impl DecodedEntry<'_> {
    /// Detaches the entry from the request buffer.
    pub fn into_owned(self) -> DecodedEntry<'static> {
        DecodedEntry {
            row: self.row,
            body: self.body.into_owned(),
            warnings: self.warnings,
        }
    }
}

/// Why a whole request body was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    /// The body is empty.
    #[error("empty body: expected a JSON array of log entries or one entry object")]
    Empty,
    /// The body is not JSON.
    #[error("body is not valid JSON: {0}")]
    NotJson(String),
    /// The body is JSON but neither an array nor an object.
    #[error("body must be a JSON array of log entries or one entry object")]
    NotArrayOrObject,
    /// More entries than allowed in one request.
    #[error("too many entries: {got} in one request, the limit is {max}; split the batch")]
    TooManyEntries {
        /// Entries in the request.
        got: usize,
        /// The configured limit.
        max: usize,
    },
}

/// Splits a request body into its raw entries.
pub fn split_batch(bytes: &[u8], max_entries: usize) -> Result<Vec<&RawValue>, BatchError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let entries = match first {
        None => return Err(BatchError::Empty),
        Some(b'[') => serde_json::from_slice::<Vec<&RawValue>>(bytes)
            .map_err(|e| BatchError::NotJson(e.to_string()))?,
        Some(b'{') => vec![
            serde_json::from_slice::<&RawValue>(bytes)
                .map_err(|e| BatchError::NotJson(e.to_string()))?,
        ],
        Some(_) => {
            return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => Err(BatchError::NotArrayOrObject),
                Err(e) => Err(BatchError::NotJson(e.to_string())),
            };
        }
    };
    if entries.len() > max_entries {
        return Err(BatchError::TooManyEntries {
            got: entries.len(),
            max: max_entries,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_accepts_array_and_object() {
        assert_eq!(
            split_batch(b" [ {\"a\":1}, {\"b\":2} ]", 10).unwrap().len(),
            2
        );
        assert_eq!(split_batch(b"{\"a\":1}", 10).unwrap().len(), 1);
        assert_eq!(split_batch(b"[]", 10).unwrap().len(), 0);
    }

    #[test]
    fn split_errors() {
        assert_eq!(split_batch(b"  ", 10).err(), Some(BatchError::Empty));
        assert!(matches!(
            split_batch(b"hello", 10),
            Err(BatchError::NotJson(_))
        ));
        assert_eq!(
            split_batch(b"42", 10).err(),
            Some(BatchError::NotArrayOrObject)
        );
        assert!(matches!(
            split_batch(b"[{}", 10),
            Err(BatchError::NotJson(_))
        ));
        assert_eq!(
            split_batch(b"[{},{},{}]", 2).err(),
            Some(BatchError::TooManyEntries { got: 3, max: 2 })
        );
    }

    #[test]
    fn compaction_keeps_string_whitespace() {
        assert_eq!(
            compact_json("{ \"a b\" : [1, 2],\n \"c\":\"x \\\" y\" }"),
            "{\"a b\":[1,2],\"c\":\"x \\\" y\"}"
        );
        assert_eq!(
            compact_json("{ \"é\" :\t\"ü x\\\\\" ,\r\n \"k\": [ \"日 本\" ] }"),
            "{\"é\":\"ü x\\\\\",\"k\":[\"日 本\"]}"
        );
    }
}
