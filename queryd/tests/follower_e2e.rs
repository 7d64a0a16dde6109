//! End to end: the real `opentrace-ingestd` binary receives error rows over HTTP while the
//! follower runs; ingestd is SIGKILLed and restarted, and the follower stopped and
//! restarted, in the middle. The final error-group counts equal the number of acknowledged
//! error rows exactly (requests are sent one at a time and ingestd is only killed between
//! them, so every durable row was acknowledged).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opentrace_queryd::follower::{self, FollowerOptions};
use opentrace_queryd::platform::Platform;
use opentrace_queryd::platform::errors::GroupQuery;
use opentrace_queryd::query::EnvRestriction;

const KEY: &str = "follower-e2e-key-0123456789";

/// `target/<profile>/opentrace-ingestd`, built with cargo if missing.
fn ingestd_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap()
    } else {
        deps
    };
    let path = dir.join("opentrace-ingestd");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "-p",
            "opentrace-ingestd",
            "--bin",
            "opentrace-ingestd",
        ]);
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().unwrap().success(),
            "building opentrace-ingestd"
        );
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

struct Ingestd {
    child: Child,
    addr: SocketAddr,
}

impl Ingestd {
    fn start(bin: &Path, data: &Path, log: &Path) -> Ingestd {
        let addr = free_addr();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(bin)
            .args([
                "--data-dir",
                data.to_str().unwrap(),
                "--addr",
                &addr.to_string(),
                "--api-key",
                KEY,
                "--chunk-max-rows",
                "150",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let t = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "ingestd did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ingestd { child, addr }
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Ingestd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// POSTs a JSON body; returns (status, body).
fn post(addr: SocketAddr, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let req = format!(
        "POST /api/v2/logs HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let status: u16 = resp.split(' ').nth(1)?.parse().ok()?;
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Some((status, body))
}

const CLASSES: &[&str] = &["NoMethodError", "Timeout::Error", "PG::ConnectionBad"];
const ENVS: &[&str] = &["production", "staging"];

#[test]
fn error_group_counts_equal_acknowledged_rows_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let bin = ingestd_binary();
    let log = data.join("ingestd.log");
    let db = data.join("platform.db");
    let platform = Platform::open(data).unwrap();
    let opts = || {
        let mut o = FollowerOptions {
            page_rows: 64,
            poll_interval: Duration::from_millis(20),
            gap_grace: Duration::from_secs(1),
            ..FollowerOptions::default()
        };
        o.catalog.poll_interval = Duration::from_millis(20);
        o.catalog.rescan_interval = Duration::from_millis(200);
        o
    };
    let mut ingestd = Ingestd::start(&bin, data, &log);
    let mut handle = Some(follower::spawn(data, &db, None, opts()).unwrap());
    // (class, env) -> acknowledged error rows.
    let mut acked: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut acked_total = 0i64;
    let (mut kills, mut follower_restarts) = (0, 0);
    for round in 0..30u32 {
        let mut entries = Vec::new();
        let mut errors: Vec<(String, String)> = Vec::new();
        for i in 0..12u32 {
            let class = CLASSES[((round + i) % 3) as usize];
            let env = ENVS[((round * 7 + i) % 2) as usize];
            if i % 3 == 2 {
                entries.push(serde_json::json!({
                    "level": "info", "service": "checkout", "env": env,
                    "message": format!("request {round}/{i} done"), "version": "v1",
                }));
                continue;
            }
            errors.push((class.to_string(), env.to_string()));
            entries.push(serde_json::json!({
                "level": "error", "service": "checkout", "env": env, "version": "v1",
                "message": format!("{class}: failed for order {round}{i}"),
                "error_class": class,
                "error_message": format!("failed for order {round}{i}"),
                "user_id": format!("user{}", (round + i) % 5),
                "body": { "backtrace": [format!("app/models/{}.rb:{}:in `call'",
                    class.to_lowercase().replace("::", "_"), 10 + i)] },
            }));
        }
        let body = serde_json::Value::from(entries.clone()).to_string();
        let (status, resp) = post(ingestd.addr, &body).expect("ingestd answers");
        assert!((200..300).contains(&status), "{status} {resp}");
        let v: serde_json::Value = serde_json::from_str(&resp).unwrap();
        assert_eq!(v["count"].as_u64(), Some(entries.len() as u64), "{resp}");
        for e in errors {
            *acked.entry(e).or_default() += 1;
            acked_total += 1;
        }
        if round % 7 == 3 {
            // No request is in flight: every durable row was acknowledged.
            ingestd.kill9();
            kills += 1;
            ingestd = Ingestd::start(&bin, data, &log);
        }
        if round % 5 == 1 {
            drop(handle.take());
            handle = Some(follower::spawn(data, &db, None, opts()).unwrap());
            follower_restarts += 1;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    let sum = |p: &Platform| -> BTreeMap<(String, String), i64> {
        let page = p
            .list_error_groups(
                &EnvRestriction::All,
                &GroupQuery {
                    limit: 100,
                    ..GroupQuery::default()
                },
            )
            .unwrap();
        let mut m = BTreeMap::new();
        for g in page.groups {
            *m.entry((g.exception_class, g.environment)).or_default() += g.occurrence_count;
        }
        m
    };
    let t = Instant::now();
    while sum(&platform).values().sum::<i64>() < acked_total
        && t.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let it run a little longer: nothing may be counted twice.
    std::thread::sleep(Duration::from_millis(500));
    let got = sum(&platform);
    assert_eq!(
        got,
        acked,
        "ingestd log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(kills >= 3 && follower_restarts >= 5);
    let users = platform
        .error_group_users(
            &EnvRestriction::All,
            &platform
                .list_error_groups(&EnvRestriction::All, &GroupQuery::default())
                .unwrap()
                .groups[0]
                .fingerprint,
            None,
            10,
        )
        .unwrap();
    assert!(!users.is_empty());
    let deploys = platform.last_deploys(&EnvRestriction::All, None).unwrap();
    assert_eq!(deploys.len(), ENVS.len());
    handle.take().unwrap().stop();
}
