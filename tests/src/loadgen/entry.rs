//! One generated log entry in the flat v2 wire format the SDKs send.
//!
//! Field order follows the captured Node payloads; absent fields are left out, and the
//! `Option<Option<_>>` fields can be sent as JSON `null`, as the Ruby gem does for `env`
//! and `controller`.

use serde::Serialize;
use serde_json::Value;

/// Index of an entry in a generator's output, starting at 0. It is the `lg_seq` marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EntryIndex(pub u64);

impl std::fmt::Display for EntryIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What kind of row an entry is (not sent; for tests and statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// `event_type: "http.request"` request summary row.
    Request,
    /// Plain log row (message from the loghub corpus).
    Log,
    /// Error row (`body.exception` for Node, `body.context.exception_class` for Ruby).
    Error,
    /// Custom event (`event_type` other than `http.request`, `log`, `error`).
    Event,
}

/// A number sent either as an integer (Ruby) or a float (Node).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Num {
    /// Integer milliseconds, as Ruby sends `duration_ms`.
    Int(u64),
    /// Fractional milliseconds, as Node sends them.
    Float(f64),
}

/// One flat v2 entry. Serialises to exactly what goes on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Not sent: the entry's index in the stream (also in `body.lg_seq`).
    #[serde(skip)]
    pub index: EntryIndex,
    /// Not sent: the kind of row.
    #[serde(skip)]
    pub kind: EntryKind,
    /// Not sent: true when this row was emitted because of an earlier one (the error row
    /// Node sends after a failed request), and so not drawn from the mix.
    #[serde(skip)]
    pub follow_up: bool,
    /// RFC 3339 UTC timestamp (ms for Node, µs for Ruby).
    pub ts: String,
    /// Lowercase level.
    pub level: &'static str,
    /// Service name.
    pub service: String,
    /// Message; always ends with the ` lg-<seed>-<index>` marker token.
    pub message: String,
    /// Environment; `Some(None)` sends `null` (Ruby with no resolved env).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<Option<&'static str>>,
    /// Git SHA of the running code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `http.request`, `log`, `error` or an event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// HTTP method (request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'static str>,
    /// Request path with ids filled in (request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// HTTP status (request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Request duration in ms (request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<Num>,
    /// Ruby controller class; `Some(None)` sends `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<Option<String>>,
    /// Node handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// 32-hex trace id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// 16-hex span id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// 16-hex parent span id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// User id, as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Total SQL ms (Node request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_ms: Option<f64>,
    /// SQL statement count (Node request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_count: Option<u32>,
    /// N+1 warning (Node request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_plus_one: Option<bool>,
    /// Repeated SQL fingerprints (Node request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dup_queries: Option<u32>,
    /// 1 when the slowest query exceeded 100 ms (Node request rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_queries: Option<u32>,
    /// Error class (Node error rows only; Ruby keeps it in the body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    /// Free-form body; always an object holding at least `lg_seq`.
    pub body: Value,
}

impl Entry {
    /// The entry as a JSON value (what a server would parse).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Appends the entry's compact JSON to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // Serialising plain structs, strings and numbers into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, self);
    }

    /// The marker token carried at the end of the message: `lg-<seed>-<index>`.
    pub fn marker(seed: u64, index: EntryIndex) -> String {
        format!("lg-{seed}-{}", index.0)
    }
}
