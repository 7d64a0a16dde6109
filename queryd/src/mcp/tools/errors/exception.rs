//! Stack-trace extraction: the exception of one occurrence (class, message, the whole
//! backtrace as frames, the cause chain, whether it was handled) from the row's columns and
//! its `body`, in both SDK shapes (see [`opentrace_shared::backtrace`]):
//!
//! - Node: `body.exception{class, message?, stack, causes[{className, message, stack}]}`;
//! - Ruby: `body.context{exception_class, exception_message, backtrace[],
//!   exception_causes[{class, message, backtrace[], origin}]}` (also the shape of a Ruby
//!   in-request error, whose metadata ingestd made the child row's `body.context`).
//!
//! A request row whose own body has no exception but carries in-request logs
//! (`body.logs[]`) shows its first error log's. Frames are capped by count ([`MAX_FRAMES`],
//! causes [`MAX_CAUSES`] × [`CAUSE_FRAMES`]) and by size ([`FRAMES_BYTES`],
//! [`CAUSE_FRAMES_BYTES`] per cause), the number left out said, so the response stays small
//! whatever the SDK sent.
//! A missing or malformed body never fails: the columns alone are shown.

use opentrace_shared::Row;
use opentrace_shared::backtrace::{
    CLASS_KEYS, MESSAGE_KEYS, first_str, frame_lines, is_in_app, parse_frame, places, trace_value,
};
use serde_json::{Map, Value, json};

use crate::mcp::tools::logs::rows::cut;

/// Frames of the main backtrace shown, at most.
pub(super) const MAX_FRAMES: usize = 50;
/// Causes shown, at most.
const MAX_CAUSES: usize = 5;
/// Frames per cause shown, at most.
const CAUSE_FRAMES: usize = 10;
/// Bytes (as JSON) of the main backtrace's frames shown, at most.
const FRAMES_BYTES: usize = 6_000;
/// Bytes (as JSON) of one cause's frames shown, at most.
const CAUSE_FRAMES_BYTES: usize = 800;
/// Characters of a file or unparsed frame line.
const FRAME_CHARS: usize = 240;
/// Characters of a method name.
const METHOD_CHARS: usize = 120;
/// Characters of the exception message.
const MESSAGE_CHARS: usize = 1_000;
/// Characters of a cause's message.
const CAUSE_MESSAGE_CHARS: usize = 300;
/// Largest `source_context` (as JSON text) passed through.
const SOURCE_CONTEXT_CHARS: usize = 2_000;

/// One frame as shown: parsed `{file, line, method, in_app}`, else the line itself as `raw`.
fn frame_json(line: &str) -> Value {
    match parse_frame(line) {
        Some(f) => {
            let mut v = json!({
                "file": cut(&f.file, FRAME_CHARS).0,
                "in_app": is_in_app(&f.file),
            });
            if let Some(l) = f.line {
                v["line"] = json!(l);
            }
            if let Some(m) = &f.method {
                v["method"] = json!(cut(m, METHOD_CHARS).0);
            }
            v
        }
        None => json!({"raw": cut(line.trim(), FRAME_CHARS).0}),
    }
}

/// The frames of a backtrace value (an array of frame strings, or one stack string whose
/// non-frame lines, such as Node's `TypeError: message` header, are dropped), in order:
/// the first ones, at most `max` and `budget` bytes of JSON, and how many there are in all.
pub(super) fn frames(v: &Value, max: usize, budget: usize) -> (Vec<Value>, usize) {
    let lines = frame_lines(v);
    let from_string = v.is_string();
    let kept: Vec<&str> = lines
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| !from_string || l.starts_with("at ") || parse_frame(l).is_some())
        .collect();
    let total = kept.len();
    let mut used = 0;
    let shown = kept
        .into_iter()
        .take(max)
        .map(frame_json)
        .take_while(|f| {
            used += f.to_string().len() + 1;
            used <= budget
        })
        .collect();
    (shown, total)
}

/// Adds `backtrace`, `frames_total` and (when cut) `frames_omitted` to `out`.
fn put_frames(out: &mut Value, trace: Option<&Value>, max: usize, budget: usize) {
    let (list, total) = trace.map(|t| frames(t, max, budget)).unwrap_or_default();
    out["backtrace"] = json!(list);
    out["frames_total"] = json!(total);
    if total > list.len() {
        out["frames_omitted"] = json!(total - list.len());
    }
}

fn str_of<'v>(m: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v str> {
    keys.iter()
        .find_map(|k| m.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
}

/// The cause chain: Node `exception.causes`, Ruby `context.exception_causes` (or either
/// name in another place).
fn causes_json(at: &[Option<&Map<String, Value>>; 3]) -> Option<(Vec<Value>, usize)> {
    let list = at.iter().flatten().find_map(|m| {
        ["causes", "exception_causes"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_array))
    })?;
    let items: Vec<&Map<String, Value>> = list.iter().filter_map(Value::as_object).collect();
    let total = items.len();
    let shown = items
        .into_iter()
        .take(MAX_CAUSES)
        .map(|c| {
            let mut v = json!({
                "class": str_of(c, &["class", "className", "name", "exception_class"]),
                "message": str_of(c, &["message", "exception_message"]).map(|m| cut(m, CAUSE_MESSAGE_CHARS).0),
            });
            if let Some(o) = str_of(c, &["origin"]) {
                v["origin"] = json!(cut(o, FRAME_CHARS).0);
            }
            let trace = ["backtrace", "stack", "stack_trace"]
                .iter()
                .find_map(|k| c.get(*k));
            put_frames(&mut v, trace, CAUSE_FRAMES, CAUSE_FRAMES_BYTES);
            v
        })
        .collect();
    Some((shown, total))
}

/// Whether the body describes an exception at all (class, message or backtrace).
fn describes_exception(b: &Map<String, Value>) -> bool {
    let at = places(b);
    first_str(&at, CLASS_KEYS).is_some() || trace_value(b).is_some()
}

/// The first error item of `body.logs[]` (Ruby in-request logs) with exception metadata, as
/// a body of the child-row shape `{context: metadata}`.
fn in_request_error(b: &Map<String, Value>) -> Option<(usize, Map<String, Value>)> {
    let logs = b.get("logs")?.as_array()?;
    logs.iter().enumerate().find_map(|(i, item)| {
        let level = item.get("level").and_then(Value::as_str)?;
        if !matches!(level.to_ascii_lowercase().as_str(), "error" | "fatal") {
            return None;
        }
        let meta = item.get("metadata").filter(|m| m.is_object())?.clone();
        let mut body = Map::new();
        body.insert("context".into(), meta);
        describes_exception(&body).then_some((i, body))
    })
}

/// The exception of `row`: columns first, the body for what they lack and for the
/// backtrace, causes, `handled` and `source_context`.
pub(super) fn exception_json(row: &Row) -> Value {
    let parsed: Option<Value> = row
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let own = parsed.as_ref().and_then(Value::as_object);
    let (found_in, body): (&str, Option<std::borrow::Cow<'_, Map<String, Value>>>) = match own {
        Some(b) if describes_exception(b) => ("body", Some(std::borrow::Cow::Borrowed(b))),
        Some(b) => match in_request_error(b) {
            Some((_, inner)) => ("body.logs", Some(std::borrow::Cow::Owned(inner))),
            None => ("columns", None),
        },
        None => ("columns", None),
    };
    let empty = Map::new();
    let b: &Map<String, Value> = body.as_deref().unwrap_or(&empty);
    let at = places(b);
    let class = row
        .error_class
        .as_deref()
        .filter(|c| !c.is_empty())
        .or_else(|| first_str(&at, CLASS_KEYS));
    let message = row
        .error_message
        .as_deref()
        .filter(|m| !m.is_empty())
        .or_else(|| first_str(&at, MESSAGE_KEYS))
        .unwrap_or(&row.message);
    let mut out = json!({
        "class": class,
        "message": cut(message, MESSAGE_CHARS).0,
        "fingerprint": row.error_fingerprint,
        "source_file": row.source_file,
        "source_line": row.source_line,
        "handled": at.iter().flatten().find_map(|m| m.get("handled").and_then(Value::as_bool)),
        "found_in": found_in,
    });
    put_frames(&mut out, trace_value(b), MAX_FRAMES, FRAMES_BYTES);
    match causes_json(&at) {
        Some((list, total)) => {
            if total > list.len() {
                out["causes_omitted"] = json!(total - list.len());
            }
            out["causes"] = json!(list);
        }
        None => out["causes"] = json!([]),
    }
    if let Some(sc) = at.iter().flatten().find_map(|m| m.get("source_context")) {
        let text = sc.to_string();
        if text.chars().count() <= SOURCE_CONTEXT_CHARS {
            out["source_context"] = sc.clone();
        } else {
            out["source_context_omitted"] =
                json!("too large to show; read the row's body with logs context");
        }
    }
    if row.body.is_some() && own.is_none() {
        out["note"] = json!(
            "the row's body is not a JSON object (it may have been cut at ingest); only the columns are shown"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentrace_shared::Level;

    fn row(body: Option<&str>) -> Row {
        Row {
            level: Level::Error,
            message: "boom".into(),
            body: body.map(str::to_string),
            ..Row::default()
        }
    }

    // The SDK fixtures of the workspace (`tests/fixtures/sdk/`).
    /// The error row of the Node 0.2.0 capture (`body.exception` with a `stack` string and
    /// camelCase `causes`), with the columns ingestd derives.
    const NODE: &str =
        include_str!("../../../../../tests/fixtures/sdk/node-0.2.0-request-and-error.json");
    /// The Ruby 0.17 request row with an in-request error under `body.logs`.
    const RUBY: &str = include_str!("../../../../../tests/fixtures/sdk/ruby-0.17-request.json");

    fn fixture_body(text: &str, index: usize) -> String {
        let v: Value = serde_json::from_str(text).unwrap();
        v[index]["body"].to_string()
    }

    #[test]
    fn node_shape() {
        let mut r = row(Some(&fixture_body(NODE, 1)));
        r.error_class = Some("TypeError".into());
        r.message = "Cannot read properties of undefined (reading 'total')".into();
        let e = exception_json(&r);
        assert_eq!(e["class"], "TypeError");
        assert_eq!(
            e["message"],
            "Cannot read properties of undefined (reading 'total')"
        );
        assert_eq!(e["found_in"], "body");
        assert_eq!(e["frames_total"], 2);
        assert_eq!(
            e["backtrace"][0],
            json!({"file": "/app/routes/orders.mjs", "line": 46, "in_app": true})
        );
        assert_eq!(
            e["backtrace"][1],
            json!({"raw": "at opentraceMiddleware (...)"})
        );
        assert_eq!(e["causes"][0]["class"], "Error");
        assert_eq!(e["causes"][0]["message"], "upstream 502");
        assert_eq!(
            e["causes"][0]["backtrace"][0]["file"],
            "/app/routes/orders.mjs"
        );
        assert_eq!(e["causes"][0]["frames_total"], 1);
        assert_eq!(e["handled"], Value::Null);
    }

    #[test]
    fn ruby_shape_standalone_and_in_request() {
        let body = json!({"context": {
            "exception_class": "Stripe::CardError",
            "exception_message": "Your card was declined",
            "backtrace": [
                "/usr/lib/ruby/gems/3.3.0/gems/stripe-10/lib/stripe.rb:88:in `request'",
                "app/services/charge.rb:27:in `call'",
                "app/controllers/invoices_controller.rb:12:in `block in create'"
            ],
            "exception_causes": [{"class": "Net::ReadTimeout", "message": "timed out",
                "backtrace": ["app/http.rb:5:in `get'"], "origin": "app/http.rb:5"}],
            "handled": true,
            "source_context": {"file": "app/services/charge.rb", "line": 27}
        }});
        let e = exception_json(&row(Some(&body.to_string())));
        assert_eq!(e["class"], "Stripe::CardError");
        assert_eq!(e["message"], "Your card was declined");
        assert_eq!(
            e["backtrace"],
            json!([
                {"file": "/usr/lib/ruby/gems/3.3.0/gems/stripe-10/lib/stripe.rb", "line": 88, "method": "request", "in_app": false},
                {"file": "app/services/charge.rb", "line": 27, "method": "call", "in_app": true},
                {"file": "app/controllers/invoices_controller.rb", "line": 12, "method": "create", "in_app": true}
            ])
        );
        assert_eq!(e["causes"][0]["class"], "Net::ReadTimeout");
        assert_eq!(e["causes"][0]["origin"], "app/http.rb:5");
        assert_eq!(e["handled"], true);
        assert_eq!(e["source_context"]["line"], 27);

        // The request row itself: the error is in body.logs[0].metadata.
        let e = exception_json(&row(Some(&fixture_body(RUBY, 0))));
        assert_eq!(e["found_in"], "body.logs");
        assert_eq!(e["class"], "Stripe::CardError");
        assert_eq!(e["message"], "Your card was declined");
        assert_eq!(e["backtrace"][0]["file"], "app/services/charge.rb");
        assert_eq!(e["backtrace"][1]["method"], "create");
        assert_eq!(e["frames_total"], 2);
    }

    #[test]
    fn frames_are_capped_in_order() {
        let lines: Vec<String> = (0..120)
            .map(|i| format!("app/f{i}.rb:{i}:in `m{i}'"))
            .collect();
        let body = json!({"context": {"exception_class": "X", "backtrace": lines}});
        let e = exception_json(&row(Some(&body.to_string())));
        assert_eq!(e["backtrace"].as_array().unwrap().len(), MAX_FRAMES);
        assert_eq!(e["frames_total"], 120);
        assert_eq!(e["frames_omitted"], 120 - MAX_FRAMES);
        assert_eq!(e["backtrace"][0]["file"], "app/f0.rb");
        assert_eq!(e["backtrace"][49]["file"], "app/f49.rb");
    }

    #[test]
    fn long_frames_and_causes_stay_within_budget() {
        let long = "x".repeat(1_000);
        let lines: Vec<String> = (0..500)
            .map(|i| format!("/{long}/f{i}.rb:{i}:in `{long}'"))
            .collect();
        let causes: Vec<Value> = (0..9)
            .map(|i| json!({"class": format!("C{i}"), "message": long, "backtrace": lines}))
            .collect();
        let body = json!({"context": {"exception_class": "X", "exception_message": long,
            "backtrace": lines, "exception_causes": causes}});
        let e = exception_json(&row(Some(&body.to_string())));
        let n = e["backtrace"].as_array().unwrap().len();
        assert!(n > 0 && n < MAX_FRAMES, "{n}");
        assert_eq!(e["frames_omitted"], 500 - n);
        assert_eq!(e["causes"].as_array().unwrap().len(), MAX_CAUSES);
        assert_eq!(e["causes_omitted"], 9 - MAX_CAUSES);
        assert!(e["causes"][0]["frames_omitted"].as_u64().unwrap() > 0);
        assert!(e.to_string().len() < 18_000, "{}", e.to_string().len());
    }

    #[test]
    fn missing_or_malformed_body_does_not_panic() {
        for body in [
            None,
            Some(""),
            Some("{\"exception\": {\"class\": \"X\", \"stack\": \"at a (b:1:2)"),
            Some("[1,2,3]"),
            Some("\"just a string\""),
            Some("{\"exception\": 7, \"context\": [1], \"backtrace\": {\"a\": 1}}"),
            Some("{\"exception\": {\"stack\": 12, \"causes\": \"no\"}}"),
            Some("{\"context\": {\"exception_causes\": [1, null, {\"backtrace\": 3}]}}"),
            Some("{\"logs\": [{\"level\": 5}, {\"level\": \"ERROR\", \"metadata\": 2}]}"),
        ] {
            let mut r = row(body);
            r.error_class = Some("Col".into());
            let e = exception_json(&r);
            assert_eq!(e["class"], "Col", "{body:?}");
            assert_eq!(e["message"], "boom");
            assert!(e["backtrace"].is_array());
        }
        let e = exception_json(&row(Some("{not json")));
        assert!(e["note"].is_string());
        assert_eq!(e["class"], Value::Null);
    }
}
