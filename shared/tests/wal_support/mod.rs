//! Helpers shared by the `wal_*` integration tests: record generators (deterministic and
//! proptest) and small file utilities.

#![allow(dead_code)]

use opentrace_shared::schema::{COLUMNS, LogicalType};
use opentrace_shared::wal::{WalRecord, encode_record};
use opentrace_shared::{BatchId, Col, Level, Row, Seq, Value};
use proptest::prelude::*;

/// A tiny deterministic PRNG (xorshift64*), so tests need no extra dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }

    pub fn words(&mut self, n: usize) -> String {
        const W: &[&str] = &[
            "user",
            "request",
            "completed",
            "failed",
            "timeout",
            "connection",
            "db",
            "cache",
            "miss",
            "héllo",
            "日本",
            "retry",
            "upstream",
            "order",
            "payment",
            "session",
        ];
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(W[self.below(W.len() as u64) as usize]);
        }
        s
    }
}

/// A realistic request-log row of roughly 400 bytes of field data.
pub fn sample_row(rng: &mut Rng, seq: u64, base_ts: i64) -> Row {
    let status = [200i64, 200, 200, 201, 302, 404, 500][rng.below(7) as usize];
    Row {
        seq: Seq(seq),
        ts: base_ts + rng.below(2_000_000) as i64,
        received_at: base_ts + 1_000_000 + rng.below(1000) as i64,
        level: if status >= 500 {
            Level::Error
        } else {
            Level::Info
        },
        service: "checkout-api".into(),
        message: format!("GET /orders/{} {}", rng.below(100_000), rng.words(12)),
        env: "production".into(),
        version: Some("v1.42.0".into()),
        host: Some(format!("web-{}", rng.below(8))),
        kind: "request".into(),
        event_type: None,
        trace_id: Some(rng.hex(32)),
        span_id: Some(rng.hex(16)),
        parent_span_id: rng.chance(50).then(|| rng.hex(16)),
        request_id: Some(rng.hex(36)),
        user_id: Some(format!("user_{}", rng.below(10_000))),
        tenant_id: Some(format!("tenant_{}", rng.below(20))),
        session_id: None,
        method: Some("GET".into()),
        path: Some(format!("/orders/{}", rng.below(100_000))),
        route: Some("/orders/:id".into()),
        handler: Some("OrdersController#show".into()),
        status: Some(status),
        duration_ms: Some(rng.below(3000) as i64),
        db_ms: Some(rng.below(500) as i64),
        db_count: Some(rng.below(40) as i64),
        cache_ms: Some(rng.below(20) as i64),
        cache_hits: Some(rng.below(10) as i64),
        cache_misses: Some(rng.below(3) as i64),
        ext_ms: None,
        ext_count: None,
        render_ms: Some(rng.below(200) as i64),
        alloc_count: Some(rng.below(1_000_000) as i64),
        mem_delta_mb: Some(rng.below(2000) as i64 - 1000),
        n_plus_one: Some(rng.chance(10)),
        slow_queries: Some(0),
        dup_queries: Some(rng.below(3) as i64),
        error_class: (status >= 500).then(|| "ActiveRecord::StatementInvalid".into()),
        error_message: (status >= 500).then(|| rng.words(8)),
        source_file: None,
        source_line: None,
        error_fingerprint: None,
        job_class: None,
        job_queue: None,
        job_id: None,
        queue_ms: None,
        body: Some(format!(
            "{{\"cart_items\":{},\"coupon\":\"{}\",\"region\":\"eu-west-1\"}}",
            rng.below(20),
            rng.hex(8)
        )),
    }
}

/// A record of `n_rows` sample rows starting at `first_seq`; every third has a batch id.
pub fn sample_record(rng: &mut Rng, first_seq: u64, n_rows: usize) -> WalRecord {
    let base_ts = 1_780_000_000_000_000 + first_seq as i64 * 1000;
    let batch_id = first_seq
        .is_multiple_of(3)
        .then(|| BatchId(format!("batch-{first_seq}")));
    WalRecord {
        batch_id,
        rows: (0..n_rows as u64)
            .map(|i| sample_row(rng, first_seq + i, base_ts))
            .collect(),
    }
}

/// `count` records with varied sizes (0 to `max_rows` rows) and consecutive seqs.
pub fn sample_records(seed: u64, count: usize, max_rows: u64) -> Vec<WalRecord> {
    let mut rng = Rng::new(seed);
    let mut seq = 1u64;
    (0..count)
        .map(|_| {
            let n = rng.below(max_rows + 1) as usize;
            let first = if n == 0 { 0 } else { seq };
            let r = sample_record(&mut rng, first, n);
            seq += n as u64;
            r
        })
        .collect()
}

/// The framed encoding of one record.
pub fn frame(rec: &WalRecord) -> Vec<u8> {
    let mut b = Vec::new();
    encode_record(rec, &mut b).unwrap();
    b
}

// ---- proptest strategies ----

fn string_strategy() -> BoxedStrategy<String> {
    prop_oneof![
        6 => Just(String::new()),
        12 => "[a-zA-Z0-9 _./:-]{0,40}",
        6 => any::<String>(),
        4 => "\\PC{0,30}",
        1 => prop::collection::vec(any::<char>(), 1000..6000).prop_map(String::from_iter),
        1 => (1usize..70_000).prop_map(|n| "x".repeat(n)),
    ]
    .boxed()
}

fn int_strategy() -> BoxedStrategy<i64> {
    prop_oneof![
        Just(0i64),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(-1i64),
        -1000i64..1000,
        any::<i64>(),
    ]
    .boxed()
}

fn value_strategy(ty: LogicalType, col: Col) -> BoxedStrategy<Value> {
    if col == Col::Level {
        return prop::sample::select(Level::ALL.to_vec())
            .prop_map(|l| Value::Str(l.as_str().to_string()))
            .boxed();
    }
    match ty {
        LogicalType::U64 | LogicalType::TimestampMicros | LogicalType::Int => {
            int_strategy().prop_map(Value::Int).boxed()
        }
        LogicalType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        LogicalType::Str | LogicalType::Json => string_strategy().prop_map(Value::Str).boxed(),
    }
}

/// Any row: every column drawn by its logical type, nullable columns absent half the time.
pub fn row_strategy() -> impl Strategy<Value = Row> {
    let per_col: Vec<BoxedStrategy<Value>> = COLUMNS
        .iter()
        .map(|d| {
            let v = value_strategy(d.ty, d.col);
            if d.nullable {
                prop_oneof![Just(Value::Null), v].boxed()
            } else {
                v
            }
        })
        .collect();
    per_col.prop_map(|values| {
        let mut row = Row::default();
        for (d, v) in COLUMNS.iter().zip(values) {
            if d.col != Col::Seq {
                row.set(d.col, v).unwrap();
            }
        }
        row
    })
}

/// Any record: optional batch id (possibly empty or non-ASCII), 0..max_rows rows with
/// consecutive seqs from an arbitrary start (including the very top of the u64 range).
pub fn record_strategy(max_rows: usize) -> impl Strategy<Value = WalRecord> {
    let first = prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), 1u64..1000];
    (
        prop::option::of(string_strategy().prop_map(BatchId)),
        first,
        prop::collection::vec(row_strategy(), 0..max_rows),
    )
        .prop_map(|(batch_id, first, mut rows)| {
            let n = rows.len() as u64;
            let first = if n == 0 {
                0
            } else {
                first.min(u64::MAX - (n - 1))
            };
            for (i, r) in rows.iter_mut().enumerate() {
                r.seq = Seq(first + i as u64);
            }
            WalRecord { batch_id, rows }
        })
}
