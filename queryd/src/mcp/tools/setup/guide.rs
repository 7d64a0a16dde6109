//! `setup guide`: how to connect one framework: the install command, the API key as an
//! environment variable, the configuration files with the SDK's real option names, and how
//! to check the result.
//!
//! The ingest URL is the server's `--ingest-url` (default: the public URL's origin). The API
//! key is the first key line of `DATA_DIR/ingest.key`; it is shown to admins only, members
//! get a placeholder and are told to ask an admin.

use std::path::Path;

use serde_json::json;

use super::FRAMEWORKS;
use super::snippets::{Fill, Sdk, configuration};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::tools::opt_str;

/// Placeholder shown instead of the key to members.
pub(super) const KEY_PLACEHOLDER: &str = "<ask an OpenTrace admin for the ingest API key>";

/// The ingest key ingestd uses from `DATA_DIR/ingest.key` (first line that is not empty
/// or a `#` comment), if the file exists and is readable.
fn ingest_key(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join("ingest.key")).ok()?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let framework = opt_str(call.args, "framework")?
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "missing `framework`: one of {} (setup detect finds it from the project's files)",
                FRAMEWORKS.join(", ")
            ))
        })?;
    let sdk = Sdk::for_framework(&framework).ok_or_else(|| {
        ToolError::InvalidArguments(format!(
            "`framework` {framework:?} has no guide: use one of {}",
            FRAMEWORKS.join(", ")
        ))
    })?;
    let service_arg = opt_str(call.args, "service")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let environment = opt_str(call.args, "environment")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let fill = Fill {
        endpoint: call.ingest_url,
        service: service_arg.unwrap_or("my-app"),
        environment,
    };
    let (key, key_note) = if call.caller.is_admin() {
        match ingest_key(call.platform.data_dir()) {
            Some(k) => (
                k,
                "the ingest API key of this server (admins only): keep it out of source control"
                    .to_string(),
            ),
            None => (
                String::from("<the value of ingestd's OPENTRACE_API_KEY>"),
                String::from(
                    "no DATA_DIR/ingest.key on this server, so ingestd runs with OPENTRACE_API_KEY: use that value",
                ),
            ),
        }
    } else {
        (
            KEY_PLACEHOLDER.to_string(),
            String::from("only admins can see the ingest API key: ask one for it"),
        )
    };
    let mut notes = vec![
        format!(
            "`endpoint` is the base URL {}; the SDK appends {} itself",
            call.ingest_url, sdk.ingest_path
        ),
        format!(
            "endpoint, {} and service are required: without one of them the SDK disables itself without an error",
            sdk.api_key_option
        ),
        format!(
            "set REVISION or GIT_SHA at deploy time (option `{}`): each new version becomes a deploy in OpenTrace",
            sdk.version_option
        ),
    ];
    if service_arg.is_none() {
        notes.push(String::from(
            "replace \"my-app\" with the service name (or pass `service`)",
        ));
    }
    let body = json!({
        "framework": framework,
        "sdk": sdk.package,
        "ingest_url": call.ingest_url,
        "steps": [
            {"step": 1, "title": "install the SDK", "command": sdk.install},
            {"step": 2, "title": "give the app the API key (environment or secrets manager)", "env": format!("OPENTRACE_API_KEY={key}"), "note": key_note},
            {"step": 3, "title": "configure it", "files": configuration(&framework, &fill)},
            {"step": 4, "title": "restart the app, make a request, then call setup verify"},
        ],
        "options": {
            "endpoint": call.ingest_url,
            "api_key_option": sdk.api_key_option,
            "service_option": "service",
            "environment_option": "environment",
            "version_option": sdk.version_option,
        },
        "notes": notes,
    });
    Ok(ToolOutput::new(body).suggest(
        "setup",
        json!({"action": "verify"}),
        "check that rows arrive after the app restarts",
    ))
}
