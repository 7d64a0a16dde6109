//! The newcomer's first five minutes, as the README tells them: clone the repository into a
//! temporary directory, run `deploy/run-local.sh --demo` there (it builds in release mode),
//! connect an agent with `curl -s URL/connect | bash` run non-interactively, and ask the MCP
//! endpoint with a real client what is breaking: the demo's error groups must be there. Then
//! Ctrl-C (SIGINT) stops everything and the script reports both daemons exited 0.
//!
//! The clone builds into `target/clone-demo` (its own target directory: cargo's lock on
//! this test's target directory is held while tests run), so a second run is incremental.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opentrace_tests::daemon::{Lines, free_addr_pair, wait_for_port};
use opentrace_tests::mcp::{call, mcp_client};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Kills the script's process group if the test fails half-way.
struct Script(Child);

impl Drop for Script {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.0.try_wait() {
            return;
        }
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `curl -s URL/connect | bash` in `dir` with the non-interactive variables; returns
/// the MCP URL and token the script wrote into `.mcp.json`.
fn connect(query_url: &str, dir: &Path) -> (String, String) {
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(format!("curl -fsS {query_url}/connect | bash"))
        .current_dir(dir)
        .env("OPENTRACE_EMAIL", "newcomer@example.com")
        .env("OPENTRACE_PASSWORD", "a-long-enough-password-1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "connect script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".mcp.json")).unwrap()).unwrap();
    let e = &v["mcpServers"]["opentrace"];
    let auth = e["headers"]["Authorization"].as_str().unwrap();
    (
        e["url"].as_str().unwrap().to_string(),
        auth.strip_prefix("Bearer ").unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_run_demo_and_ask_what_is_breaking() {
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("opentrace");
    let st = Command::new("git")
        .args(["clone", "-q"])
        .arg(repo())
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success(), "git clone of the repository");

    let target = repo().join("target/clone-demo");
    let (ingest, query) = free_addr_pair().unwrap();
    let data = work.path().join("data");
    let mut script = Script(
        Command::new("bash")
            .arg("deploy/run-local.sh")
            .arg("--demo")
            .args(["--demo-rate", "200"])
            .arg("--data")
            .arg(&data)
            .args(["--ingest-port", &ingest.port().to_string()])
            .args(["--query-port", &query.port().to_string()])
            .current_dir(&clone)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("OPENTRACE_API_KEY")
            .env_remove("OPENTRACE_PUBLIC_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    // The release build of a fresh clone takes minutes on two cores.
    let banner = Lines::of(&mut script.0)
        .unwrap()
        .wait_for("Demo traffic", Duration::from_secs(40 * 60))
        .unwrap();
    let query_url = format!("http://127.0.0.1:{}", query.port());
    assert!(
        banner.contains(&format!("curl -s {query_url}/connect | bash")),
        "{banner}"
    );
    wait_for_port(query, Duration::from_secs(5)).unwrap();

    let agent_dir = work.path().join("my-app");
    std::fs::create_dir(&agent_dir).unwrap();
    let (mcp_url, token) = connect(&query_url, &agent_dir);
    assert_eq!(mcp_url, format!("{query_url}/mcp"));
    let client = mcp_client(&mcp_url, &token).await;

    // The demo's failing requests become error groups; the agent finds them.
    let t = Instant::now();
    let groups = loop {
        let (err, v) = call(&client, "errors", json!({"action": "list", "since": "24h"})).await;
        assert!(!err, "errors list: {v}");
        let groups = v["groups"].as_array().cloned().unwrap_or_default();
        if groups.len() >= 2 {
            break groups;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no demo error groups after 2 min: {v}\nloadgen log:\n{}",
            std::fs::read_to_string(data.join("run-local/loadgen.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for g in &groups {
        assert!(g["occurrences"].as_u64().unwrap_or(0) >= 1, "{g}");
        assert!(g["service"].as_str().is_some_and(|s| !s.is_empty()), "{g}");
    }
    let (err, v) = call(
        &client,
        "logs",
        json!({"action": "search", "level": "error", "limit": 5}),
    )
    .await;
    assert!(!err && v["total_matched"].as_u64().unwrap_or(0) > 0, "{v}");
    drop(client);

    // Ctrl-C: the script stops loadgen and both daemons and exits 0 only if both did.
    let st = Command::new("kill")
        .args(["-INT", &script.0.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let t = Instant::now();
    let status = loop {
        if let Some(st) = script.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "run-local.sh did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "run-local.sh exit status");
    for addr in [ingest, query] {
        assert!(
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err(),
            "{addr} still accepts connections after the stop"
        );
    }
}
