//! Exception data in SDK bodies: where the SDKs put the class, message and backtrace of an
//! error, and backtrace frame parsing for Ruby (`file:line:in 'method'`) and Node
//! (`at method (file:line:col)` / `at file:line:col`) stack formats.
//!
//! Shared by both daemons so they read a body the same way: ingestd fills `source_file`/
//! `source_line` and gives the error fingerprint a stable location (file and method, never
//! the line number); queryd shows stack traces to agents frame by frame.
//!
//! # Where exceptions are in `body`
//!
//! - Node 0.2: `body.exception{class, message?, stack (one string), causes?}`;
//! - Ruby 0.17 (and Ruby in-request errors, whose metadata becomes the child row's
//!   `body.context`): `body.context{exception_class, exception_message, backtrace (array),
//!   exception_causes?}`;
//! - legacy rows: `body.context.stack_trace` or a top-level `backtrace`/`stack_trace`.

use serde_json::{Map, Value};

/// One parsed stack frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The file, with a `file://` scheme removed.
    pub file: String,
    /// The line number, when the frame has one.
    pub line: Option<i64>,
    /// The method or function name, normalised (`block in`, `async `, `new ` removed).
    pub method: Option<String>,
}

/// Parses one frame; `None` for lines that are not frames (e.g. Node's `TypeError: msg`
/// header or `at fn (...)` placeholders).
pub fn parse_frame(line: &str) -> Option<Frame> {
    let s = line.trim();
    if let Some(rest) = s.strip_prefix("at ") {
        let (method, loc) = match rest.strip_suffix(')').and_then(|r| r.split_once(" (")) {
            Some((m, loc)) => (Some(m), loc),
            None => (None, rest),
        };
        let (file, line) = split_location(loc)?;
        return Some(Frame {
            file,
            line,
            method: method.map(normalize_method).filter(|m| !m.is_empty()),
        });
    }
    let (loc, method) = match s.split_once(":in ") {
        Some((loc, m)) => (
            loc,
            Some(m.trim_matches(|c| c == '`' || c == '\'' || c == '"')),
        ),
        None => (s, None),
    };
    let (file, line) = split_location(loc)?;
    line?; // a Ruby-style frame always has a line number; this filters out prose
    Some(Frame {
        file,
        line,
        method: method.map(normalize_method).filter(|m| !m.is_empty()),
    })
}

/// Splits `file:line[:col]` into file and line. `None` when there is no usable file.
fn split_location(loc: &str) -> Option<(String, Option<i64>)> {
    let loc = loc.strip_prefix("file://").unwrap_or(loc).trim();
    if loc.is_empty()
        || loc == "..."
        || loc == "native"
        || loc == "<anonymous>"
        || loc.contains(' ')
    {
        return None;
    }
    let is_num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts: Vec<&str> = loc.rsplitn(3, ':').collect();
    // parts are reversed: [last, middle, rest]
    match parts.len() {
        3 if is_num(parts[0]) && is_num(parts[1]) => {
            let line = parts[1].parse().ok();
            Some((parts.swap_remove(2).to_string(), line))
        }
        n if n >= 2 && is_num(parts[0]) => {
            let line = parts[0].parse().ok();
            let file = &loc[..loc.len() - parts[0].len() - 1];
            Some((file.to_string(), line))
        }
        _ => Some((loc.to_string(), None)),
    }
}

fn normalize_method(m: &str) -> String {
    let mut m = m.trim();
    for prefix in ["async ", "new "] {
        if let Some(r) = m.strip_prefix(prefix) {
            m = r;
        }
    }
    // Ruby: "block (2 levels) in foo", "rescue in foo", "ensure in foo".
    if let Some((head, tail)) = m.split_once(" in ")
        && (head.starts_with("block") || head == "rescue" || head == "ensure")
    {
        m = tail;
    }
    m.to_string()
}

/// Whether a frame belongs to the application rather than a library or the runtime.
pub fn is_in_app(file: &str) -> bool {
    const LIBRARY_MARKERS: [&str; 9] = [
        "/gems/",
        "/ruby/",
        "/vendor/bundle/",
        "node_modules",
        "node:",
        "<internal",
        "internal/",
        "/usr/lib/",
        "/rubygems/",
    ];
    !LIBRARY_MARKERS.iter().any(|m| file.contains(m))
}

/// Collects frame lines from a backtrace value: an array of strings, or one string with a
/// frame per line.
pub fn frame_lines(v: &Value) -> Vec<&str> {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.lines().collect(),
        _ => Vec::new(),
    }
}

/// Keys naming the exception class, per place (`body.exception`, `body.context`, `body`).
pub const CLASS_KEYS: [&[&str]; 3] = [
    &["class", "className", "name"],
    &["exception_class", "error_class"],
    &["exception_class", "error_class"],
];

/// Keys holding the exception message, per place (`body.exception`, `body.context`, `body`).
pub const MESSAGE_KEYS: [&[&str]; 3] = [
    &["message"],
    &["exception_message", "error_message"],
    &["exception_message", "error_message"],
];

/// The places of a body that can describe an exception, in lookup order:
/// `body.exception`, `body.context`, `body` itself.
pub fn places(body: &Map<String, Value>) -> [Option<&Map<String, Value>>; 3] {
    [
        body.get("exception").and_then(Value::as_object),
        body.get("context").and_then(Value::as_object),
        Some(body),
    ]
}

/// The first non-empty string under `keys` of the places (see [`CLASS_KEYS`]).
pub fn first_str<'v>(
    places: &[Option<&'v Map<String, Value>>; 3],
    keys: [&[&str]; 3],
) -> Option<&'v str> {
    places.iter().zip(keys).find_map(|(m, keys)| {
        let m = (*m)?;
        keys.iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
    })
}

/// The backtrace of a body: the first non-empty one of `exception.backtrace`,
/// `exception.stack`, `context.backtrace`, `context.stack_trace`, `backtrace`,
/// `stack_trace`. `None` when the body has none.
pub fn trace_value(body: &Map<String, Value>) -> Option<&Value> {
    let [exc, ctx, _] = places(body);
    [
        exc.and_then(|e| e.get("backtrace")),
        exc.and_then(|e| e.get("stack")),
        ctx.and_then(|c| c.get("backtrace")),
        ctx.and_then(|c| c.get("stack_trace")),
        body.get("backtrace"),
        body.get("stack_trace"),
    ]
    .into_iter()
    .flatten()
    .find(|v| !frame_lines(v).is_empty())
}

/// The first in-app frame, or the first frame at all when none is in-app.
pub fn top_frame<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<Frame> {
    let mut first = None;
    for l in lines {
        if let Some(f) = parse_frame(l) {
            if is_in_app(&f.file) {
                return Some(f);
            }
            if first.is_none() {
                first = Some(f);
            }
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_frames() {
        let f = parse_frame("app/services/charge.rb:27:in `call'").unwrap();
        assert_eq!(f.file, "app/services/charge.rb");
        assert_eq!(f.line, Some(27));
        assert_eq!(f.method.as_deref(), Some("call"));
        let f = parse_frame("app/models/x.rb:9:in 'block (2 levels) in Invoice#total'").unwrap();
        assert_eq!(f.method.as_deref(), Some("Invoice#total"));
        assert_eq!(
            parse_frame("Stripe::CardError: Your card was declined"),
            None
        );
    }

    #[test]
    fn node_frames() {
        let f = parse_frame("    at file:///app/routes/orders.mjs:46:19").unwrap();
        assert_eq!(f.file, "/app/routes/orders.mjs");
        assert_eq!(f.line, Some(46));
        assert_eq!(f.method, None);
        let f = parse_frame("at async Router.handle (/app/node_modules/express/router.js:10:5)")
            .unwrap();
        assert_eq!(f.method.as_deref(), Some("Router.handle"));
        assert!(!is_in_app(&f.file));
        assert_eq!(parse_frame("at opentraceMiddleware (...)"), None);
        assert_eq!(
            parse_frame("TypeError: Cannot read properties of undefined"),
            None
        );
    }

    #[test]
    fn body_lookup_finds_both_sdk_shapes() {
        let node = serde_json::json!({"exception": {"class": "TypeError",
            "stack": "TypeError: x\n    at f (/app/a.js:1:2)"}, "context": {"pid": 1}});
        let node = node.as_object().unwrap();
        assert_eq!(first_str(&places(node), CLASS_KEYS), Some("TypeError"));
        assert_eq!(first_str(&places(node), MESSAGE_KEYS), None);
        assert_eq!(frame_lines(trace_value(node).unwrap()).len(), 2);
        let ruby = serde_json::json!({"context": {"exception_class": "KeyError",
            "exception_message": "key not found", "backtrace": ["app/a.rb:3:in `x'"]}});
        let ruby = ruby.as_object().unwrap();
        assert_eq!(first_str(&places(ruby), CLASS_KEYS), Some("KeyError"));
        assert_eq!(
            first_str(&places(ruby), MESSAGE_KEYS),
            Some("key not found")
        );
        assert_eq!(
            frame_lines(trace_value(ruby).unwrap()),
            ["app/a.rb:3:in `x'"]
        );
        let none = serde_json::json!({"backtrace": [], "context": {"backtrace": 7}});
        assert_eq!(trace_value(none.as_object().unwrap()), None);
    }

    #[test]
    fn top_frame_skips_libraries() {
        let lines = [
            "/usr/lib/ruby/gems/3.3.0/gems/rack-3.0/lib/rack.rb:10:in `call'",
            "app/controllers/a_controller.rb:5:in `show'",
        ];
        assert_eq!(
            top_frame(lines).unwrap().file,
            "app/controllers/a_controller.rb"
        );
    }
}
