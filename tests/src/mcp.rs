//! A real MCP client for end-to-end tests: rmcp over Streamable HTTP with a bearer token,
//! and a tool call that returns the parsed JSON text of the result.

use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::Value;

/// A connected MCP client session.
pub type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// Connects to `url` (the server's `/mcp`) with `token` and completes `initialize`.
///
/// # Panics
/// If the handshake fails: this is test code.
pub async fn mcp_client(url: &str, token: &str) -> Client {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(token),
    );
    ().serve(transport).await.expect("mcp initialize")
}

/// Calls `tool` with `args`; returns whether the result is an error and its JSON text.
///
/// # Panics
/// If the transport fails: this is test code.
pub async fn call(client: &Client, tool: &str, args: Value) -> (bool, Value) {
    let params = rmcp::model::CallToolRequestParams::new(tool.to_string())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    let r = client.call_tool(params).await.expect("tools/call");
    let text = r
        .content
        .iter()
        .find_map(|c| c.as_text().map(|t| t.text.clone()))
        .unwrap_or_default();
    (
        r.is_error == Some(true),
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}
