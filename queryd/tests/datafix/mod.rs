//! Test support: a seeded row generator and a data directory written with the shared
//! writers exactly as ingestd writes it (WAL → chunk `.idx` then `.col` → WAL deleted;
//! `meta.json` when an hour is sealed).
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use opentrace_shared::chunk::{ChunkBuilder, ChunkReader};
use opentrace_shared::datadir::{DataDir, fsync_dir, publish_chunk, publish_file};
use opentrace_shared::fts::IndexBuilder;
use opentrace_shared::meta::HourMetaBuilder;
use opentrace_shared::wal::{WalRecord, WalWriter, read_records};
use opentrace_shared::{ChunkId, Col, HourId, Level, Row, Seq};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const SERVICES: &[&str] = &["api", "worker", "billing", "auth"];
pub const ENVS: &[&str] = &["production", "staging", "dev"];
pub const PATHS: &[&str] = &[
    "/users",
    "/users/42",
    "/orders",
    "/orders/7/items",
    "/health",
];
pub const WORDS: &[&str] = &[
    "connection",
    "reset",
    "timeout",
    "user",
    "login",
    "payment",
    "declined",
    "cache",
    "miss",
    "retry",
    "queue",
    "flush",
    "disk",
    "full",
    "request",
    "completed",
];

/// A base hour far from "now" so nothing depends on the clock.
pub const BASE_HOUR: HourId = HourId(490_000);

pub fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

/// A random SDK-shaped row received in `hour`.
pub fn gen_row(rng: &mut StdRng, seq: u64, hour: HourId) -> Row {
    let start = hour.start_micros();
    // Event time mostly inside the receive hour, sometimes a little before it.
    let ts = start + rng.random_range(-60_000_000i64..3_600_000_000);
    let level = Level::ALL[rng.random_range(0..Level::ALL.len())];
    let is_req = rng.random_bool(0.5);
    let words: Vec<&str> = (0..rng.random_range(2..6))
        .map(|_| pick(rng, WORDS))
        .collect();
    let mut message = words.join(" ");
    if seq.is_multiple_of(97) {
        message.push_str(" zebracorn");
    }
    macro_rules! opt {
        ($p:expr, $v:expr) => {
            if rng.random_bool($p) { Some($v) } else { None }
        };
    }
    let err = level.is_error() && rng.random_bool(0.7);
    Row {
        seq: Seq(seq),
        ts,
        received_at: start + rng.random_range(0..3_600_000_000),
        level,
        service: pick(rng, SERVICES).into(),
        message,
        env: pick(rng, ENVS).into(),
        version: opt!(0.8, format!("v{}", rng.random_range(1..4))),
        host: None,
        kind: if is_req {
            "request".into()
        } else {
            "log".into()
        },
        event_type: opt!(0.3, pick(rng, &["deploy", "signup", "job"]).into()),
        trace_id: opt!(0.7, format!("t{}", rng.random_range(0..40))),
        span_id: opt!(0.5, format!("s{}", rng.random_range(0..200))),
        parent_span_id: None,
        request_id: opt!(0.5, format!("r{}", rng.random_range(0..60))),
        user_id: opt!(0.5, format!("u{}", rng.random_range(0..25))),
        tenant_id: opt!(0.3, format!("acme{}", rng.random_range(0..3))),
        session_id: None,
        method: is_req.then(|| pick(rng, &["GET", "POST"]).into()),
        path: is_req.then(|| pick(rng, PATHS).into()),
        route: is_req.then(|| pick(rng, &["/users/:id", "/orders"]).into()),
        handler: is_req
            .then(|| pick(rng, &["UsersController#show", "OrdersController#index"]).into()),
        status: is_req.then(|| [200, 201, 302, 404, 500, 503][rng.random_range(0..6)]),
        duration_ms: is_req.then(|| rng.random_range(0..2000)),
        db_ms: None,
        db_count: is_req.then(|| rng.random_range(0..30)),
        cache_ms: None,
        cache_hits: None,
        cache_misses: None,
        ext_ms: None,
        ext_count: None,
        render_ms: None,
        alloc_count: None,
        mem_delta_mb: None,
        n_plus_one: is_req.then(|| rng.random_bool(0.2)),
        slow_queries: None,
        dup_queries: None,
        error_class: err.then(|| pick(rng, &["NoMethodError", "Timeout::Error"]).into()),
        error_message: err.then(|| "boom undefined method".into()),
        source_file: None,
        source_line: None,
        error_fingerprint: err.then(|| format!("fp{}", rng.random_range(0..5))),
        job_class: None,
        job_queue: None,
        job_id: None,
        queue_ms: None,
        body: opt!(
            0.2,
            format!(
                "{{\"cart\":{{\"item\":\"sku{}\"}}}}",
                rng.random_range(0..9)
            )
        ),
    }
}

/// Encodes rows as a chunk's `.col` and `.idx` bytes, as ingestd's builder does.
pub fn chunk_bytes(rows: &[Row]) -> (Vec<u8>, Vec<u8>) {
    let mut cb = ChunkBuilder::new();
    let mut ib = IndexBuilder::new();
    for (i, r) in rows.iter().enumerate() {
        ib.add_row(i as u32, r);
        cb.push(r);
    }
    (cb.finish().unwrap(), ib.finish().unwrap())
}

/// Builds chunk `chunk` of `hour` from its WAL exactly like ingestd: read the records,
/// publish `.idx` then `.col`, delete the WAL, fsync the directory.
pub fn build_from_wal(dd: &DataDir, hour: HourId, chunk: ChunkId) {
    let wal = dd.wal_path(hour, chunk);
    let bytes = fs::read(&wal).unwrap();
    let (records, _) = read_records(&bytes[opentrace_shared::wal::HEADER_LEN..]);
    let rows: Vec<Row> = records.into_iter().flat_map(|r| r.rows).collect();
    let dir = dd.hour_dir(hour);
    if !rows.is_empty() {
        let (col, idx) = chunk_bytes(&rows);
        publish_chunk(&dir, chunk, &idx, &col).unwrap();
    }
    fs::remove_file(&wal).unwrap();
    fsync_dir(&dir).unwrap();
}

/// Writes `meta.json` for an hour from its committed chunks, as ingestd's seal does.
pub fn seal(dd: &DataDir, hour: HourId) {
    let dir = dd.hour_dir(hour);
    let mut mb = HourMetaBuilder::new(hour);
    let mut ids: Vec<(ChunkId, PathBuf)> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            let id = n
                .strip_prefix("chunk_")?
                .strip_suffix(".col")?
                .parse()
                .ok()?;
            Some((ChunkId(id), dir.join(n)))
        })
        .collect();
    ids.sort();
    for (id, p) in ids {
        let bytes = fs::read(&p).unwrap();
        let Ok(r) = ChunkReader::open(&bytes) else {
            continue;
        };
        mb.add_chunk_reader(id, &r, (bytes.len() as u64, 0))
            .unwrap();
    }
    let meta = mb.finish(0);
    publish_file(&dir, "meta.json", &meta.to_json()).unwrap();
}

/// A data directory plus every row written to it (the brute-force truth).
pub struct Store {
    pub tmp: tempfile::TempDir,
    pub dd: DataDir,
    pub rng: StdRng,
    pub next_seq: u64,
    pub rows: Vec<Row>,
}

impl Store {
    pub fn new(seed: u64) -> Store {
        let tmp = tempfile::tempdir().unwrap();
        let dd = DataDir::new(tmp.path());
        fs::create_dir_all(dd.logs_dir()).unwrap();
        Store {
            tmp,
            dd,
            rng: StdRng::seed_from_u64(seed),
            next_seq: 1,
            rows: Vec::new(),
        }
    }

    pub fn make_rows(&mut self, hour: HourId, n: usize) -> Vec<Row> {
        (0..n)
            .map(|_| {
                let s = self.next_seq;
                self.next_seq += 1;
                gen_row(&mut self.rng, s, hour)
            })
            .collect()
    }

    /// Writes `n` rows to WAL `chunk` of `hour` (in batches) and converts it to a chunk.
    pub fn add_chunk(&mut self, hour: HourId, chunk: ChunkId, n: usize) {
        let w = self.add_wal(hour, chunk, n);
        drop(w);
        build_from_wal(&self.dd, hour, chunk);
    }

    /// Writes `n` rows to a new WAL and leaves it live.
    pub fn add_wal(&mut self, hour: HourId, chunk: ChunkId, n: usize) -> WalWriter {
        fs::create_dir_all(self.dd.hour_dir(hour)).unwrap();
        let mut w = WalWriter::create(&self.dd.wal_path(hour, chunk), hour, chunk).unwrap();
        self.append(&mut w, hour, n);
        w
    }

    /// Appends `n` rows (in batches of up to 50) and syncs.
    pub fn append(&mut self, w: &mut WalWriter, hour: HourId, n: usize) {
        let rows = self.make_rows(hour, n);
        for batch in rows.chunks(50) {
            w.append(&WalRecord {
                batch_id: None,
                rows: batch.to_vec(),
            })
            .unwrap();
        }
        w.sync().unwrap();
        self.rows.extend(rows);
    }
}

/// Every seq visible in a snapshot (chunks decoded, WAL views read).
pub fn visible_seqs(s: &opentrace_queryd::catalog::Snapshot) -> Vec<u64> {
    let mut out = Vec::new();
    for h in s.hours() {
        for c in &h.chunks {
            let r = c.reader().unwrap();
            let col = r.column(Col::Seq).unwrap();
            out.extend(col.ints().map(|v| v.unwrap() as u64));
        }
        for w in &h.wals {
            out.extend(w.rows().map(|r| r.seq.0));
        }
    }
    out
}
