//! The `/connect` script over the real binary: non-interactive run creates the admin and a
//! working `.mcp.json`, merging keeps other servers (python3, jq and pure-bash paths),
//! `.gitignore` gets one line, and the rendered script passes shellcheck.

mod common;

use std::process::Command;

use common::*;
use serde_json::{Value, json};

const PW: &str = "correct-horse-battery";

#[tokio::test(flavor = "multi_thread")]
async fn script_creates_admin_and_working_mcp_json() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (ok, err) = run_connect_script(
        &server,
        dir.path(),
        "/connect",
        &[
            ("OPENTRACE_EMAIL", "admin@example.com"),
            ("OPENTRACE_PASSWORD", PW),
        ],
    );
    assert!(ok, "script failed: {err}");
    let (url, token) = mcp_entry(dir.path());
    assert_eq!(url, format!("{}/mcp", server.url));
    assert!(token.starts_with("otq_") && token.len() == 68);

    let client = mcp_client(&url, &token).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("opentrace")
    );
    let tools = client.list_all_tools().await.unwrap();
    let admin = tools
        .iter()
        .find(|t| t.name == "admin")
        .expect("admin tool listed");
    let ann = admin.annotations.as_ref().unwrap();
    assert_eq!(ann.open_world_hint, Some(false));
    let (is_err, users) = call(&client, "admin", json!({"action": "users"})).await;
    assert!(!is_err, "{users}");
    assert_eq!(users["users"][0]["email"], "admin@example.com");
    assert_eq!(users["users"][0]["role"], "admin");
    client.cancel().await.unwrap();

    let gitignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert_eq!(gitignore.lines().filter(|l| *l == ".mcp.json").count(), 1);

    // Second run: same account logs in, gets a NEW token; .gitignore still has one line.
    let (ok, err) = run_connect_script(
        &server,
        dir.path(),
        "/connect",
        &[
            ("OPENTRACE_EMAIL", "admin@example.com"),
            ("OPENTRACE_PASSWORD", PW),
        ],
    );
    assert!(ok, "{err}");
    let (_, token2) = mcp_entry(dir.path());
    assert_ne!(token, token2);
    let gitignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert_eq!(gitignore.lines().filter(|l| *l == ".mcp.json").count(), 1);

    // Wrong password through the script fails with the server's message.
    let (ok, err) = run_connect_script(
        &server,
        dir.path(),
        "/connect",
        &[
            ("OPENTRACE_EMAIL", "admin@example.com"),
            ("OPENTRACE_PASSWORD", "wrong-password-123"),
        ],
    );
    assert!(!ok);
    assert!(err.contains("not accepted"), "{err}");
}

#[test]
fn merge_keeps_other_servers_with_each_json_tool() {
    let server = Server::start(&[]);
    let first = server.connect("admin@example.com", PW, None);
    assert_eq!(first.status, 201);
    let existing = r#"{
  "mcpServers": {
    "other": {"type": "stdio", "command": "other-mcp", "args": ["--x"]}
  },
  "extra": true
}
"#;
    for tool in ["python3", "jq", "bash"] {
        if tool != "bash" && Command::new(tool).arg("--version").output().is_err() {
            assert!(std::env::var("CI").is_err(), "{tool} missing on CI");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".mcp.json"), existing).unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/").unwrap();
        let (ok, err) = run_connect_script(
            &server,
            dir.path(),
            "/connect",
            &[
                ("OPENTRACE_EMAIL", "admin@example.com"),
                ("OPENTRACE_PASSWORD", PW),
                ("OPENTRACE_JSON_TOOL", tool),
            ],
        );
        assert!(ok, "{tool}: {err}");
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(".mcp.json")).unwrap())
                .unwrap_or_else(|e| panic!("{tool} wrote invalid JSON: {e}"));
        assert_eq!(v["mcpServers"]["other"]["command"], "other-mcp", "{tool}");
        assert_eq!(v["mcpServers"]["opentrace"]["type"], "http", "{tool}");
        let (_, token) = mcp_entry(dir.path());
        let r = server.post_json(
            "/mcp",
            &[("Authorization", &format!("Bearer {token}"))],
            &serde_json::from_str(INIT).unwrap(),
        );
        assert_eq!(r.status, 200, "{tool}: token from merged file must work");
        if tool != "bash" {
            assert_eq!(v["extra"], true, "{tool} keeps other top-level keys");
        }
        let gi = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(gi, "target/\n.mcp.json\n", "{tool}");
    }
}

#[test]
fn bash_path_writes_fresh_file_and_refuses_unmergeable_one() {
    let server = Server::start(&[]);
    assert_eq!(server.connect("admin@example.com", PW, None).status, 201);
    let env = [
        ("OPENTRACE_EMAIL", "admin@example.com"),
        ("OPENTRACE_PASSWORD", PW),
        ("OPENTRACE_JSON_TOOL", "bash"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (ok, err) = run_connect_script(&server, dir.path(), "/connect", &env);
    assert!(ok, "{err}");
    let (url, _) = mcp_entry(dir.path());
    assert!(url.ends_with("/mcp"));

    // Already has an opentrace entry: the pure-bash path cannot replace it safely.
    let (ok, err) = run_connect_script(&server, dir.path(), "/connect", &env);
    assert!(!ok);
    assert!(err.contains(".mcp.json.opentrace"), "{err}");
    let side: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".mcp.json.opentrace")).unwrap(),
    )
    .unwrap();
    assert_eq!(side["mcpServers"]["opentrace"]["type"], "http");
}

#[test]
fn rendered_script_passes_shellcheck() {
    let server = Server::start(&[]);
    let script = server.get("/connect?invite=oti_0123456789abcdef0123456789abcdef", &[]);
    assert_eq!(
        script.header("content-type"),
        Some("text/x-shellscript; charset=utf-8")
    );
    assert!(
        script
            .body
            .contains("INVITE='oti_0123456789abcdef0123456789abcdef'")
    );
    let path = server.data_dir().join("connect.sh");
    std::fs::write(&path, &script.body).unwrap();
    match Command::new("shellcheck").arg(&path).output() {
        Ok(out) => assert!(
            out.status.success(),
            "shellcheck: {}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) => assert!(std::env::var("CI").is_err(), "shellcheck missing on CI"),
    }
}
