//! The rmcp server handler: server info and instructions, `tools/list` filtered by the
//! caller's role, `tools/call` through the registry (on the blocking pool, with metrics),
//! prompts, and an empty resource list.

use std::sync::Arc;
use std::time::Instant;

use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ErrorData, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer};

use super::caller::Caller;
use super::prompts;
use super::registry::ToolCall;
use super::response::{ToolError, render, render_error};
use crate::state::AppState;

/// Instructions sent to agents at initialisation.
pub const INSTRUCTIONS: &str = "OpenTrace gives you production logs, request traces and errors of the user's applications. \
Every tool takes an `action` argument; responses are compact JSON with `suggested_tools` for next calls. \
Times are UTC RFC 3339 with Z; windows like 15m, 24h, 7d. Lists take `limit` and `cursor`; when a response says it was truncated, narrow the call. \
Pass `environment` when you know it; otherwise your account's environments are used.";

/// One MCP server instance (rmcp creates one per session); all share the app state.
#[derive(Clone)]
pub struct McpServer {
    state: Arc<AppState>,
}

impl McpServer {
    /// A handler over the shared state.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(
            Implementation::new("opentrace", env!("CARGO_PKG_VERSION")).with_title("OpenTrace"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = Caller::from_context(&context)?;
        Ok(ListToolsResult::with_all_items(
            self.state.registry.list(caller.role),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = Caller::from_context(&context)?;
        let started = Instant::now();
        let args = request.arguments.unwrap_or_default();
        let name = request.name.to_string();
        let state = self.state.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let (handler, action) = match state.registry.resolve(&caller, &name, &args) {
                Ok(found) => found,
                Err(e) => return (None, Err(e)),
            };
            let call = ToolCall {
                caller: &caller,
                action,
                args: &args,
                platform: &state.platform,
                catalog: &state.catalog,
                public_url: &state.config.public_url,
                ingest_url: &state.config.ingest_url,
            };
            (Some(handler.spec().name), handler.call(&call))
        })
        .await;
        let (tool, outcome) = match joined {
            Ok(r) => r,
            Err(e) => (
                None,
                Err(ToolError::Internal(format!("tool task failed: {e}"))),
            ),
        };
        let ok = outcome.is_ok();
        self.state
            .metrics
            .record_tool(tool.unwrap_or("unknown"), ok, started.elapsed());
        let result = match outcome {
            Ok(out) => render(out),
            Err(e) => render_error(&e),
        };
        Ok(CallToolResponse::Complete(result))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        prompts::get(&request.name, &args)
            .map(GetPromptResponse::Complete)
            .ok_or_else(|| {
                ErrorData::invalid_params(
                    format!("unknown prompt {:?}; see prompts/list", request.name),
                    None,
                )
            })
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(Vec::new()))
    }
}
