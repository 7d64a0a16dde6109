//! `deploy/run-local.sh --demo` end to end with the workspace's binaries (`--bin-dir`, so the
//! test does not do a release build): both daemons come up on one data directory, the
//! printed key is the one ingestd created, the demo traffic reaches the store, and SIGINT
//! stops everything with exit status 0.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opentrace_tests::daemon::{Lines, binary, free_addr_pair, wait_for_port};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Bytes in WAL and chunk files under `logs/`.
fn stored_bytes(data: &Path) -> u64 {
    let mut total = 0;
    let Ok(hours) = std::fs::read_dir(data.join("logs")) else {
        return 0;
    };
    for h in hours.flatten() {
        let Ok(files) = std::fs::read_dir(h.path()) else {
            continue;
        };
        for f in files.flatten() {
            let n = f.file_name().to_string_lossy().into_owned();
            if n.starts_with("wal_") || n.ends_with(".col") {
                total += f.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total
}

#[test]
fn run_local_demo_starts_streams_and_stops_cleanly() {
    let ingestd = binary("opentrace-ingestd").unwrap();
    binary("opentrace-queryd").unwrap();
    let bin_dir = ingestd.parent().unwrap().to_path_buf();
    let loadgen = PathBuf::from(env!("CARGO_BIN_EXE_loadgen"));
    assert_eq!(
        loadgen.parent().unwrap(),
        bin_dir,
        "loadgen next to the daemons"
    );

    let data = tempfile::tempdir().unwrap();
    let (ingest, query) = free_addr_pair().unwrap();
    let mut child = Command::new("bash")
        .arg(repo().join("deploy/run-local.sh"))
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--data")
        .arg(data.path())
        .args(["--ingest-port", &ingest.port().to_string()])
        .args(["--query-port", &query.port().to_string()])
        .args(["--demo", "--demo-rate", "100"])
        .env_remove("OPENTRACE_API_KEY")
        .env_remove("OPENTRACE_PUBLIC_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let banner = match Lines::of(&mut child)
        .unwrap()
        .wait_for("Demo traffic", Duration::from_secs(120))
    {
        Ok(b) => b,
        Err(e) => {
            let _ = child.kill();
            panic!("run-local.sh printed no banner: {e}");
        }
    };
    let key = std::fs::read_to_string(data.path().join("ingest.key")).unwrap();
    let key = key.lines().find(|l| !l.starts_with('#')).unwrap().trim();
    assert!(
        banner.contains(&format!("Ingest API key:     {key}")),
        "{banner}"
    );
    assert!(banner.contains(&format!(
        "Ingest URL (SDKs):  http://127.0.0.1:{}",
        ingest.port()
    )));
    assert!(banner.contains(&format!("http://127.0.0.1:{}/mcp", query.port())));
    assert!(banner.contains(&format!(
        "curl -s http://127.0.0.1:{}/connect | bash",
        query.port()
    )));
    wait_for_port(ingest, Duration::from_secs(5)).unwrap();
    wait_for_port(query, Duration::from_secs(5)).unwrap();
    assert!(
        data.path().join("platform.db").exists(),
        "queryd shares the data dir"
    );

    // Demo traffic arrives in the store.
    let t = Instant::now();
    while stored_bytes(data.path()) < 20_000 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "demo traffic did not reach the store; loadgen log:\n{}",
            std::fs::read_to_string(data.path().join("run-local/loadgen.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Ctrl-C: SIGINT to the script stops loadgen and both daemons; exit status 0.
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("run-local.sh did not stop after SIGINT");
        }
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
