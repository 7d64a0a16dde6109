//! `backup` / `restore` over the real binary: accounts and tokens, sealed and unsealed hours,
//! a writer publishing chunks and the server handing out invites while the backup runs;
//! then restore into a new directory, serve it, and check what came back.

mod common;
mod datafix;

use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use datafix::{BASE_HOUR, Store};
use opentrace_queryd::catalog::{Catalog, CatalogOptions};
use opentrace_shared::datadir::DataDir;
use opentrace_shared::{ChunkId, Col, HourId};
use rand::SeedableRng;
use serde_json::Value;

const PW: &str = "correct-horse-battery";

fn init_body() -> Value {
    serde_json::from_str(INIT).unwrap()
}

fn cli_in(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("OPENTRACE_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Seqs of the committed chunks (WAL rows excluded), sorted.
fn chunk_seqs(dir: &std::path::Path) -> Vec<u64> {
    let catalog = Catalog::open(
        DataDir::new(dir),
        CatalogOptions {
            watch: false,
            ..CatalogOptions::default()
        },
    )
    .unwrap();
    let snap = catalog.snapshot();
    let mut seqs = Vec::new();
    for h in snap.hours() {
        for c in &h.chunks {
            let r = c.reader().unwrap();
            let col = r.column(Col::Seq).unwrap();
            seqs.extend(col.ints().map(|v| v.unwrap() as u64));
        }
    }
    seqs.sort_unstable();
    seqs
}

#[test]
fn backup_while_running_then_restore_and_serve() {
    // Data: a sealed hour of 2 chunks, an unsealed hour with one chunk and a live WAL.
    let mut store = Store::new(11);
    store.add_chunk(BASE_HOUR, ChunkId(0), 300);
    store.add_chunk(BASE_HOUR, ChunkId(1), 200);
    datafix::seal(&store.dd, BASE_HOUR);
    let open_hour = HourId(BASE_HOUR.0 + 1);
    store.add_chunk(open_hour, ChunkId(0), 150);
    let _live_wal = store.add_wal(open_hour, ChunkId(1), 40);
    let wal_seqs: HashSet<u64> = store.rows[store.rows.len() - 40..]
        .iter()
        .map(|r| r.seq.0)
        .collect();
    let dd = store.dd.clone();
    let before = chunk_seqs(dd.root());
    assert_eq!(before.len(), 650, "chunk rows before the backup");

    let Store { tmp, .. } = store;
    let server = Server::start_in(tmp, &[]);
    let admin = server.connect("admin@example.com", PW, None);
    assert_eq!(admin.status, 201, "{}", admin.body);
    let admin_token = admin.json()["token"].as_str().unwrap().to_string();
    let cli_token = server.cli(&[
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--env",
        "production",
        "--password",
        PW,
    ]);

    // While the backup runs: a writer publishes chunks of a third hour (as ingestd's
    // builder does), and the server's database keeps changing (invites).
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (dd, stop) = (dd.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut w = Store {
                tmp: tempfile::tempdir().unwrap(),
                dd,
                rng: rand::rngs::StdRng::seed_from_u64(5),
                next_seq: 100_000,
                rows: Vec::new(),
            };
            let hour = HourId(BASE_HOUR.0 + 2);
            let mut c = 0;
            while !stop.load(Ordering::Acquire) && c < 200 {
                w.add_chunk(hour, ChunkId(c), 20);
                c += 1;
            }
        })
    };
    let inviter = {
        let (data, stop) = (server.data_dir().to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Acquire) && n < 50 {
                let out = cli_in(&data, &["invite", "create"]);
                assert!(out.status.success());
                n += 1;
            }
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let backup_dir = tempfile::tempdir().unwrap().path().join("bk");
    let out = cli_in(
        server.data_dir(),
        &["backup", "--to", backup_dir.to_str().unwrap()],
    );
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    inviter.join().unwrap();
    assert!(
        out.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = chunk_seqs(server.data_dir());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup_dir.join("backup.json")).unwrap()).unwrap();
    assert_eq!(manifest["summary"]["platform_db"], true);
    assert_eq!(manifest["summary"]["sealed_hours"], 1);
    // The live WAL of the open hour, plus any the writer had not yet built.
    assert!(manifest["summary"]["wals_skipped"].as_u64().unwrap() >= 1);
    // A second backup into the same directory is refused.
    let again = cli_in(
        server.data_dir(),
        &["backup", "--to", backup_dir.to_str().unwrap()],
    );
    assert!(!again.status.success());

    // Restore into a fresh directory.
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let out = cli_in(
        &target,
        &["restore", "--from", backup_dir.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not over a non-empty directory without --force; with --force it replaces it.
    let out = cli_in(
        &target,
        &["restore", "--from", backup_dir.to_str().unwrap()],
    );
    assert!(!out.status.success(), "restore over data must need --force");
    std::fs::write(target.join("platform.db-wal"), b"stale").unwrap();
    let out = cli_in(
        &target,
        &["restore", "--force", "--from", backup_dir.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "restore --force failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!target.join("platform.db-wal").exists());

    // Rows: everything committed before the backup, nothing that was only in a WAL, and
    // nothing that did not exist after it; each row once.
    let got = chunk_seqs(&target);
    let set: HashSet<u64> = got.iter().copied().collect();
    assert_eq!(set.len(), got.len(), "a row restored twice");
    for s in &before {
        assert!(
            set.contains(s),
            "row {s} committed before the backup is missing"
        );
    }
    let after_set: HashSet<u64> = after.iter().copied().collect();
    for s in &got {
        assert!(
            after_set.contains(s),
            "row {s} restored but never committed"
        );
        assert!(!wal_seqs.contains(s), "row {s} came from a WAL");
    }
    // The writer's chunks hold 20 rows each; the 3 chunks made first hold 650.
    assert_eq!((got.len() - before.len()) % 20, 0, "a writer chunk was cut");
    assert_eq!(
        manifest["summary"]["chunks"].as_u64().unwrap() as usize,
        3 + (got.len() - before.len()) / 20,
        "manifest chunk count vs restored rows"
    );
    drop(server);

    // Serve the restored directory: accounts and tokens work.
    let restored_dir = tempfile::TempDir::with_prefix("restored").unwrap();
    let out = cli_in(
        restored_dir.path(),
        &["restore", "--from", backup_dir.to_str().unwrap()],
    );
    assert!(out.status.success());
    let server = Server::start_in(restored_dir, &[]);
    for token in [&admin_token, &cli_token] {
        let auth = format!("Bearer {token}");
        let r = server.post_json("/mcp", &[("Authorization", &auth)], &init_body());
        assert_eq!(r.status, 200, "token from before the backup: {}", r.body);
    }
    let r = server.post_json(
        "/mcp",
        &[("Authorization", "Bearer ot_not_a_real_token")],
        &init_body(),
    );
    assert_eq!(r.status, 401);
    // The password still logs in; a second admin cannot sign up without an invite.
    let r = server.connect("admin@example.com", PW, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["created"], false);
    assert_eq!(r.json()["role"], "admin");
    let r = server.connect("intruder@example.com", PW, None);
    assert_eq!(r.status, 401);
    assert_eq!(chunk_seqs(server.data_dir()), got);
}
