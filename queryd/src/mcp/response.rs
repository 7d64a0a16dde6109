//! Tool response conventions: compact JSON text, a size guard that trims the largest lists
//! and says what it left out, a `suggested_tools` array of next calls, and errors as tool
//! results (`isError: true`) whose text tells the agent how to fix the call.

use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Byte budget of one response body: about 8k tokens at ~3.5 bytes per JSON token.
pub const MAX_RESPONSE_BYTES: usize = 28_000;

/// A next call worth making, with its arguments filled in.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suggestion {
    /// Tool name.
    pub tool: &'static str,
    /// Arguments, including `action`.
    pub args: Value,
    /// Why it is useful.
    pub why: String,
}

/// A successful tool result before rendering.
#[derive(Debug, Clone, Default)]
pub struct ToolOutput {
    body: Map<String, Value>,
    suggested: Vec<Suggestion>,
}

impl ToolOutput {
    /// An output with these top-level fields (a non-object is wrapped as `{"result": v}`).
    pub fn new(body: Value) -> Self {
        let body = match body {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert(String::from("result"), other);
                m
            }
        };
        Self {
            body,
            suggested: Vec::new(),
        }
    }

    /// Adds a suggested next call.
    pub fn suggest(mut self, tool: &'static str, args: Value, why: impl Into<String>) -> Self {
        self.suggested.push(Suggestion {
            tool,
            args,
            why: why.into(),
        });
        self
    }

    /// The body fields (for tests and wrappers).
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }
}

/// A failed call, reported to the agent as a tool result with `isError: true`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The arguments are wrong; the message says which and how to fix them.
    #[error("{0}")]
    InvalidArguments(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The addressed thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with current state.
    #[error("{0}")]
    Conflict(String),
    /// Something failed on the server; retrying later may help.
    #[error("internal error: {0}; retry later or report it to the server operator")]
    Internal(String),
}

/// Result type of tool handlers.
pub type ToolResult = Result<ToolOutput, ToolError>;

/// Renders an error result.
pub fn render_error(err: &ToolError) -> CallToolResult {
    let kind = match err {
        ToolError::InvalidArguments(_) => "invalid_arguments",
        ToolError::Forbidden(_) => "forbidden",
        ToolError::NotFound(_) => "not_found",
        ToolError::Conflict(_) => "conflict",
        ToolError::Internal(_) => "internal",
    };
    let text = json!({"error": kind, "message": err.to_string()}).to_string();
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// Renders a success result as compact JSON text within [`MAX_RESPONSE_BYTES`].
pub fn render(output: ToolOutput) -> CallToolResult {
    let text = render_text(output, MAX_RESPONSE_BYTES);
    CallToolResult::success(vec![ContentBlock::text(text)])
}

/// The JSON text of `output`, trimmed to `budget` bytes: while too big, the longest
/// top-level array is cut (halving) and a `truncated` note records what was left out.
pub fn render_text(output: ToolOutput, budget: usize) -> String {
    let ToolOutput {
        mut body,
        suggested,
    } = output;
    if !suggested.is_empty() {
        body.insert(String::from("suggested_tools"), json!(suggested));
    }
    let mut notes: Map<String, Value> = Map::new();
    loop {
        let mut doc = body.clone();
        if !notes.is_empty() {
            let mut t = Map::new();
            t.insert(String::from("lists"), Value::Object(notes.clone()));
            t.insert(
                String::from("hint"),
                json!("the response was cut to stay under about 8k tokens; narrow the call (filters, smaller limit) or page with cursor"),
            );
            doc.insert(String::from("truncated"), Value::Object(t));
        }
        let text = Value::Object(doc).to_string();
        if text.len() <= budget {
            return text;
        }
        let longest = body
            .iter()
            .filter(|(k, _)| k.as_str() != "suggested_tools")
            .filter_map(|(k, v)| v.as_array().map(|a| (k.clone(), a.len())))
            .filter(|(_, n)| *n > 0)
            .max_by_key(|(_, n)| *n);
        let Some((key, len)) = longest else {
            return json!({
                "error": "response_too_large",
                "message": "the result is larger than the response budget even without list items; narrow the call with filters or a smaller limit"
            })
            .to_string();
        };
        let keep = len / 2;
        let original = notes
            .get(&key)
            .and_then(|n| n.get("total"))
            .and_then(Value::as_u64)
            .unwrap_or(len as u64);
        if let Some(Value::Array(a)) = body.get_mut(&key) {
            a.truncate(keep);
        }
        notes.insert(
            key,
            json!({"total": original, "returned": keep, "omitted": original - keep as u64}),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_output_is_untouched_and_suggestions_appended() {
        let out =
            ToolOutput::new(json!({"a": 1})).suggest("admin", json!({"action": "users"}), "x");
        let v: Value = serde_json::from_str(&render_text(out, 1000)).unwrap();
        assert_eq!(v["a"], 1);
        assert_eq!(v["suggested_tools"][0]["tool"], "admin");
        assert!(v.get("truncated").is_none());
    }

    #[test]
    fn big_list_is_cut_and_reported() {
        let items: Vec<Value> = (0..1000)
            .map(|i| json!({"i": i, "pad": "x".repeat(50)}))
            .collect();
        let out = ToolOutput::new(json!({"items": items, "small": [1, 2]}));
        let text = render_text(out, 5_000);
        assert!(text.len() <= 5_000);
        let v: Value = serde_json::from_str(&text).unwrap();
        let kept = v["items"].as_array().unwrap().len();
        assert!(kept > 0 && kept < 1000);
        assert_eq!(v["truncated"]["lists"]["items"]["total"], 1000);
        assert_eq!(
            v["truncated"]["lists"]["items"]["omitted"]
                .as_u64()
                .unwrap(),
            1000 - kept as u64
        );
        assert_eq!(v["small"], json!([1, 2]));
    }

    #[test]
    fn errors_are_tool_results() {
        let r = render_error(&ToolError::InvalidArguments("pass user_id".into()));
        assert_eq!(r.is_error, Some(true));
    }
}
