//! The MCP tools, and argument helpers shared by them.

pub mod admin;
pub mod errors;
pub mod groups;
pub mod logs;
pub mod notes;
pub mod overview;
pub mod params;
pub mod setup;

use std::sync::Arc;

use serde_json::{Map, Value};

use super::registry::Registry;
use super::response::ToolError;
use crate::platform::PlatformError;

/// Every tool this build serves.
pub fn registry() -> Registry {
    Registry::default()
        .register(Arc::new(logs::LogsTool))
        .register(Arc::new(errors::ErrorsTool))
        .register(Arc::new(overview::OverviewTool))
        .register(Arc::new(setup::SetupTool))
        .register(Arc::new(admin::AdminTool))
}

/// Maps a store error to a tool error the agent can act on.
pub fn platform_error(e: PlatformError) -> ToolError {
    match e {
        PlatformError::NotFound(what) => ToolError::NotFound(format!(
            "{what} not found; list them first to get a valid id"
        )),
        PlatformError::Conflict(m) => ToolError::Conflict(m),
        PlatformError::Invalid(m) => ToolError::InvalidArguments(m),
        other => ToolError::Internal(other.to_string()),
    }
}

/// An optional string argument.
pub fn opt_str<'a>(args: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ToolError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ToolError::InvalidArguments(format!(
            "`{name}` must be a string"
        ))),
    }
}

/// A required string argument.
pub fn req_str<'a>(
    args: &'a Map<String, Value>,
    name: &str,
    hint: &str,
) -> Result<&'a str, ToolError> {
    opt_str(args, name)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ToolError::InvalidArguments(format!("missing `{name}`: {hint}")))
}

/// An optional integer argument (numbers or numeric strings).
pub fn opt_i64(args: &Map<String, Value>, name: &str) -> Result<Option<i64>, ToolError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
        Some(_) => Err(ToolError::InvalidArguments(format!(
            "`{name}` must be an integer"
        ))),
    }
}

/// An optional boolean argument (`true`/`false` or those strings).
pub fn opt_bool(args: &Map<String, Value>, name: &str) -> Result<Option<bool>, ToolError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(_) => Err(ToolError::InvalidArguments(format!(
            "`{name}` must be true or false"
        ))),
    }
}

/// An optional list of strings, given as an array or a comma-separated string.
pub fn opt_list(args: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, ToolError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        )),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                ToolError::InvalidArguments(format!("`{name}` must be a list of strings"))
            }),
        Some(_) => Err(ToolError::InvalidArguments(format!(
            "`{name}` must be a list of strings"
        ))),
    }
}
