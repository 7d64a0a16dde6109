//! Tool registry: each tool declares its actions (with the role each needs), its extra
//! parameters' JSON schema and its annotations. `tools/list` is built per caller role, so
//! a member never sees an admin-only tool or action, and calls are checked against the
//! same declarations before a handler runs.

use std::sync::Arc;

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use super::caller::Caller;
use super::response::{ToolError, ToolResult};
use super::tools::params::check_params;
use crate::catalog::Catalog;
use crate::platform::{Platform, Role};

/// One action of a tool.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    /// Value of the `action` argument.
    pub name: &'static str,
    /// One line for the tool description.
    pub summary: &'static str,
    /// Least role allowed to call it.
    pub min_role: Role,
}

/// Annotation hints of a tool (all tools here have `openWorldHint: false`).
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    /// No action changes state.
    pub read_only: bool,
    /// Some action can delete or overwrite.
    pub destructive: bool,
    /// Repeating a call has no further effect.
    pub idempotent: bool,
}

/// The static description of a tool.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// Tool name (`[a-z_]+`).
    pub name: &'static str,
    /// What the tool is for (one or two sentences).
    pub description: &'static str,
    /// Its actions.
    pub actions: &'static [ActionSpec],
    /// JSON-schema `properties` of the parameters other than `action`.
    pub params: Value,
    /// Annotation hints.
    pub hints: Hints,
}

/// What a handler gets for one call.
pub struct ToolCall<'a> {
    /// The caller.
    pub caller: &'a Caller,
    /// The validated action.
    pub action: &'static str,
    /// All arguments (including `action`).
    pub args: &'a Map<String, Value>,
    /// The platform store.
    pub platform: &'a Platform,
    /// The log store catalog (take one snapshot per call).
    pub catalog: &'a Catalog,
    /// Public URL of this server (for connect commands in responses).
    pub public_url: &'a str,
    /// Base URL SDKs send logs to (for setup guides).
    pub ingest_url: &'a str,
}

/// A tool implementation. Handlers are synchronous and run on the blocking pool: they read
/// SQLite and (later) mmapped column files, both blocking work.
pub trait ToolHandler: Send + Sync {
    /// The tool's declaration.
    fn spec(&self) -> &ToolSpec;
    /// Parameter names accepted besides the schema's, as (alias, canonical name).
    fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// Runs one call whose action has been checked against the caller's role.
    fn call(&self, call: &ToolCall<'_>) -> ToolResult;
}

/// All registered tools.
#[derive(Clone, Default)]
pub struct Registry {
    tools: Vec<Arc<dyn ToolHandler>>,
}

fn role_allows(role: Role, min: Role) -> bool {
    role == Role::Admin || min == Role::Member
}

impl Registry {
    /// Adds a tool.
    pub fn register(mut self, tool: Arc<dyn ToolHandler>) -> Self {
        self.tools.push(tool);
        self
    }

    /// The tools a caller with `role` may see, with the actions it may call.
    pub fn list(&self, role: Role) -> Vec<Tool> {
        self.tools
            .iter()
            .filter_map(|t| describe(t.spec(), role))
            .collect()
    }

    /// Finds the handler and checks the action for `caller` and the parameter names against
    /// the tool's schema (and aliases). Unknown tools, unknown actions, actions above the
    /// caller's role and unknown parameters come back as fixable errors; admin-only names are
    /// reported as unknown to members, as they are absent from their list.
    pub fn resolve(
        &self,
        caller: &Caller,
        tool: &str,
        args: &Map<String, Value>,
    ) -> Result<(Arc<dyn ToolHandler>, &'static str), ToolError> {
        let visible: Vec<&str> = self
            .tools
            .iter()
            .filter(|t| describe(t.spec(), caller.role).is_some())
            .map(|t| t.spec().name)
            .collect();
        let handler = self
            .tools
            .iter()
            .find(|t| t.spec().name == tool)
            .filter(|t| describe(t.spec(), caller.role).is_some())
            .ok_or_else(|| {
                ToolError::NotFound(format!(
                    "unknown tool {tool:?}; available tools: {}",
                    visible.join(", ")
                ))
            })?;
        let spec = handler.spec();
        let allowed: Vec<&'static str> = spec
            .actions
            .iter()
            .filter(|a| role_allows(caller.role, a.min_role))
            .map(|a| a.name)
            .collect();
        let action = match args.get("action") {
            Some(Value::String(a)) => a.as_str(),
            Some(_) => {
                return Err(ToolError::InvalidArguments(format!(
                    "`action` must be a string, one of: {}",
                    allowed.join(", ")
                )));
            }
            None => {
                return Err(ToolError::InvalidArguments(format!(
                    "missing `action`; pass one of: {}",
                    allowed.join(", ")
                )));
            }
        };
        let found = allowed.iter().find(|a| **a == action).copied();
        if found.is_some() {
            check_params(spec, args, handler.aliases())?;
        }
        match found {
            Some(a) => Ok((handler.clone(), a)),
            None => Err(ToolError::InvalidArguments(format!(
                "unknown action {action:?} for tool {}; pass one of: {}",
                spec.name,
                allowed.join(", ")
            ))),
        }
    }
}

/// The MCP description of `spec` for `role`, or `None` if no action is visible to it.
fn describe(spec: &ToolSpec, role: Role) -> Option<Tool> {
    let actions: Vec<&ActionSpec> = spec
        .actions
        .iter()
        .filter(|a| role_allows(role, a.min_role))
        .collect();
    if actions.is_empty() {
        return None;
    }
    let names: Vec<&str> = actions.iter().map(|a| a.name).collect();
    let lines: Vec<String> = actions
        .iter()
        .map(|a| format!("{}: {}", a.name, a.summary))
        .collect();
    let description = format!("{} Actions: {}.", spec.description, lines.join("; "));
    let mut properties = Map::new();
    properties.insert(
        String::from("action"),
        json!({"type": "string", "enum": names}),
    );
    if let Value::Object(p) = &spec.params {
        properties.extend(p.clone());
    }
    let mut schema = Map::new();
    schema.insert(String::from("type"), json!("object"));
    schema.insert(String::from("properties"), Value::Object(properties));
    schema.insert(String::from("required"), json!(["action"]));
    let annotations = ToolAnnotations::new()
        .read_only(spec.hints.read_only)
        .destructive(spec.hints.destructive)
        .idempotent(spec.hints.idempotent)
        .open_world(false);
    Some(Tool::new(spec.name, description, Arc::new(schema)).with_annotations(annotations))
}
