//! The `setup` tool: getting an application to send logs. `status` (is data arriving at
//! all), `detect` (which framework a project uses, from its root files and manifest),
//! `guide` (install command and configuration with the SDKs' real option names, the ingest
//! URL, and the API key for admins), `verify` (are rows arriving now, from which services;
//! a checklist when not).
//!
//! Counts are limited to the caller's environments like every other read.

mod detect;
mod guide;
mod snippets;
mod status;
mod verify;

use std::sync::LazyLock;

use opentrace_shared::time::now_micros;
use serde_json::json;

use super::params::schema;
use crate::mcp::registry::{ActionSpec, Hints, ToolCall, ToolHandler, ToolSpec};
use crate::mcp::response::{ToolError, ToolResult};
use crate::platform::Role;

const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        name: "status",
        summary: "accounts, rows in the last hour / 24 h, whether data is flowing",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "detect",
        summary: "the framework of a project from `files` (root file names) and optionally `package_json` / `gemfile` text, and the SDK to install",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "guide",
        summary: "install command and working configuration for `framework` (rails|ruby|node|express|fastify|hono), with the ingest URL (and the API key for admins)",
        min_role: Role::Member,
    },
    ActionSpec {
        name: "verify",
        summary: "are rows arriving (since 5m and the last hour), from which services and environments; a checklist when not",
        min_role: Role::Member,
    },
];

/// Frameworks with a guide.
pub(crate) const FRAMEWORKS: &[&str] = &["rails", "ruby", "node", "express", "fastify", "hono"];

const PARAMS: &[(&str, &str)] = &[
    ("since", "string"),
    ("until", "string"),
    ("environment", "string"),
    ("files", "array"),
    ("package_json", "string"),
    ("gemfile", "string"),
    ("framework", "string"),
    ("service", "string"),
];

/// The `setup` tool.
pub struct SetupTool;

/// The tool's declaration.
static SPEC: LazyLock<ToolSpec> = LazyLock::new(|| ToolSpec {
    name: "setup",
    description: "Connect an application to OpenTrace: detect its framework, get the SDK configuration (Ruby gem `opentrace`, Node `@opentrace-sdk/node`), then verify that logs arrive.",
    actions: ACTIONS,
    params: schema(
        PARAMS,
        vec![
            (
                "files",
                json!({"items": {"type": "string"}, "description": "file names at the project root, e.g. [\"Gemfile\", \"config.ru\", \"package.json\"]"}),
            ),
            (
                "package_json",
                json!({"description": "text of package.json (for detect)"}),
            ),
            (
                "gemfile",
                json!({"description": "text of the Gemfile (for detect)"}),
            ),
            ("framework", json!({"enum": FRAMEWORKS})),
            (
                "service",
                json!({"description": "service name to put in the guide's configuration"}),
            ),
            (
                "environment",
                json!({"description": "status/verify: environment to check; guide: the environment name to configure"}),
            ),
        ],
    ),
    hints: Hints {
        read_only: true,
        destructive: false,
        idempotent: true,
    },
});

impl ToolHandler for SetupTool {
    fn spec(&self) -> &ToolSpec {
        &SPEC
    }

    fn call(&self, call: &ToolCall<'_>) -> ToolResult {
        match call.action {
            "status" => status::run(call, now_micros()),
            "detect" => detect::run(call),
            "guide" => guide::run(call),
            "verify" => verify::run(call, now_micros()),
            other => Err(ToolError::InvalidArguments(format!(
                "unknown action {other:?}"
            ))),
        }
    }
}

/// How the newest row is shown: its time, service and environment.
fn last_row_json(r: &opentrace_shared::Row) -> serde_json::Value {
    json!({"ts": crate::mcp::args::fmt_ts(r.ts), "service": r.service, "environment": r.env})
}
