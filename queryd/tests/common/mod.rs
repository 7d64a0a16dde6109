//! Test harness: starts the real `opentrace-queryd` binary on a free loopback port with a
//! temporary data directory, and a minimal HTTP/1.1 client over `TcpStream`.
#![allow(dead_code)]

pub mod ingestd;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_opentrace-queryd");

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub url: String,
    pub data: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let data = tempfile::tempdir().unwrap();
        Self::start_in(data, args)
    }

    pub fn start_in(data: tempfile::TempDir, args: &[&str]) -> Server {
        for _ in 0..5 {
            let port = free_port();
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let mut child = Command::new(BIN)
                .args(args)
                .env("OPENTRACE_DATA_DIR", data.path())
                .env("OPENTRACE_LISTEN_ADDR", addr.to_string())
                .env_remove("OPENTRACE_PUBLIC_URL")
                .env("RUST_LOG", "warn")
                .current_dir(data.path())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start opentrace-queryd");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if let Ok(r) = try_request(addr, "GET", "/healthz", &[], b"")
                    && r.status == 200
                {
                    return Server {
                        child,
                        addr,
                        url: format!("http://{addr}"),
                        data,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("opentrace-queryd did not become healthy");
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        request(self.addr, "GET", path, headers, b"")
    }

    pub fn post_json(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
        let mut h = headers.to_vec();
        h.push(("Content-Type", "application/json"));
        h.push(("Accept", "application/json, text/event-stream"));
        request(self.addr, "POST", path, &h, body.to_string().as_bytes())
    }

    /// POST /api/auth/connect.
    pub fn connect(&self, email: &str, password: &str, invite: Option<&str>) -> Response {
        let mut body = json!({"email": email, "password": password});
        if let Some(i) = invite {
            body["invite"] = json!(i);
        }
        self.post_json("/api/auth/connect", &[], &body)
    }

    /// Creates an account with the CLI and returns its MCP token: `role` is `admin` or
    /// `member`, `envs` a comma-separated list (empty: none).
    pub fn create_user(&self, email: &str, role: &str, envs: &str) -> String {
        let role_flag = format!("--{role}");
        let mut args = vec!["user", "create", "--email", email, role_flag.as_str()];
        if !envs.is_empty() {
            args.extend(["--env", envs]);
        }
        self.cli(&args)
    }

    /// Runs the binary's CLI against this server's data directory; returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .args(args)
            .env("OPENTRACE_DATA_DIR", self.data_dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    try_request(addr, method, path, headers, body).expect("http request")
}

pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Runs the connect script (fetched from the server) with bash in `dir`, like
/// `curl -s URL/connect | ENV... bash`. Returns (success, stderr).
pub fn run_connect_script(
    server: &Server,
    dir: &Path,
    path: &str,
    env: &[(&str, &str)],
) -> (bool, String) {
    let script = server.get(path, &[]);
    assert_eq!(script.status, 200);
    let mut child = Command::new("bash")
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The token and URL of the `opentrace` server in a `.mcp.json`.
pub fn mcp_entry(dir: &Path) -> (String, String) {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".mcp.json")).unwrap()).unwrap();
    let e = &v["mcpServers"]["opentrace"];
    assert_eq!(e["type"], "http");
    let auth = e["headers"]["Authorization"].as_str().unwrap();
    let token = auth.strip_prefix("Bearer ").unwrap().to_string();
    (e["url"].as_str().unwrap().to_string(), token)
}

pub fn tmp_path() -> PathBuf {
    tempfile::tempdir().unwrap().keep()
}

pub const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// An rmcp client (Streamable HTTP) connected with `token`.
pub async fn mcp_client(
    url: &str,
    token: &str,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(token),
    );
    ().serve(transport).await.expect("mcp initialize")
}

/// An rmcp client session.
pub type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// The `key` of every item of the array `list`, as a JSON array (for comparing a column
/// of a response with `json!([...])`).
pub fn col(list: &Value, key: &str) -> Value {
    Value::Array(
        list.as_array()
            .map(|a| a.iter().map(|x| x[key].clone()).collect())
            .unwrap_or_default(),
    )
}

/// The `[a, b]` pairs of every item of the array `list`, as a JSON array.
pub fn pairs(list: &Value, a: &str, b: &str) -> Value {
    Value::Array(
        list.as_array()
            .map(|l| l.iter().map(|x| json!([x[a], x[b]])).collect())
            .unwrap_or_default(),
    )
}

/// The account id of `email`, looked up with `admin users` by an admin client.
pub async fn account_id(admin: &Client, email: &str) -> Value {
    let (_, users) = call(admin, "admin", json!({"action": "users"})).await;
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["id"]
        .clone()
}

/// Calls a tool and returns (is_error, parsed JSON text).
pub async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: Value,
) -> (bool, Value) {
    let (err, v, _) = call_sized(client, tool, args).await;
    (err, v)
}

/// Calls a tool and returns (is_error, parsed JSON text, length of the text in bytes).
pub async fn call_sized(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: Value,
) -> (bool, Value, usize) {
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
        text.len(),
    )
}
