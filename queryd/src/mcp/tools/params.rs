//! Parameter declarations shared by the tools: the JSON schema built from a `(name, type)`
//! table with per-parameter additions, and the check that refuses parameters a tool does
//! not declare (run by the registry before every call), so a typo is reported instead of
//! silently ignored.

use serde_json::{Map, Value, json};

use crate::mcp::registry::ToolSpec;
use crate::mcp::response::ToolError;

/// The `properties` schema of `params` (name, JSON type), each entry extended with the
/// fields of its `extra` object (enum, description, items...).
pub fn schema(params: &[(&str, &str)], extra: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (name, ty) in params {
        m.insert((*name).to_string(), json!({"type": ty}));
    }
    for (name, more) in extra {
        if let (Some(Value::Object(p)), Value::Object(more)) = (m.get_mut(name), more) {
            p.extend(more);
        }
    }
    Value::Object(m)
}

/// Refuses any argument other than `action`, the parameters of `spec` and the alias names
/// in `aliases` (alias, canonical); the error lists the valid names.
pub fn check_params(
    spec: &ToolSpec,
    args: &Map<String, Value>,
    aliases: &[(&str, &str)],
) -> Result<(), ToolError> {
    let known = spec.params.as_object();
    for key in args.keys() {
        let ok = key == "action"
            || known.is_some_and(|k| k.contains_key(key))
            || aliases.iter().any(|(a, _)| a == key);
        if !ok {
            let mut names: Vec<&str> = known
                .map(|k| k.keys().map(String::as_str).collect())
                .unwrap_or_default();
            names.sort_unstable();
            return Err(ToolError::InvalidArguments(format!(
                "unknown parameter `{key}` for tool {}; valid parameters: {}",
                spec.name,
                names.join(", ")
            )));
        }
    }
    Ok(())
}
