//! The query engine against brute force over every row written: random filters (seeded),
//! cursor paging, aggregates, exact percentiles, the meta.json fast path, env scoping,
//! and a corrupt chunk skipped and reported once.

mod datafix;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;

use datafix::{BASE_HOUR, ENVS, PATHS, SERVICES, Store, chunk_bytes, pick, seal};
use opentrace_queryd::catalog::{Catalog, CatalogOptions};
use opentrace_queryd::query::{
    AggMode, AggSpec, Cursor, EnvRestriction, Filter, GroupKey, IntRange, Metric, MetricValue,
    Order, SearchOpts, aggregate, around, distinct_values, get_by_seq, search,
};
use opentrace_shared::fts::Query;
use opentrace_shared::wal::WalWriter;
use opentrace_shared::{ChunkId, Col, HourId, Level, Row, Seq, Value, ValueRef};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Fixture {
    store: Store,
    catalog: Catalog,
    wal: WalWriter,
    live_hour: HourId,
}

/// Hours 0 and 1 sealed (chunks + meta.json), hour 2 open with a chunk, a corrupt chunk,
/// a stray `.tmp` and a live WAL.
fn fixture(seed: u64) -> Fixture {
    let mut store = Store::new(seed);
    let h0 = BASE_HOUR;
    let h1 = h0.next();
    let h2 = h1.next();
    store.add_chunk(h0, ChunkId(0), 300);
    store.add_chunk(h0, ChunkId(1), 250);
    seal(&store.dd, h0);
    store.add_chunk(h1, ChunkId(0), 400);
    seal(&store.dd, h1);
    store.add_chunk(h2, ChunkId(0), 300);
    // A corrupt chunk: valid .idx, .col with a damaged trailer. Its rows are not "written".
    let bad = store.make_rows(h2, 50);
    let (mut col, idx) = chunk_bytes(&bad);
    let n = col.len();
    col[n - 3] ^= 0xff;
    let dir = store.dd.hour_dir(h2);
    fs::write(dir.join("chunk_001.idx"), idx).unwrap();
    fs::write(dir.join("chunk_001.col"), col).unwrap();
    fs::write(dir.join("chunk_002.col.tmp"), b"half written").unwrap();
    let wal = store.add_wal(h2, ChunkId(2), 200);
    let catalog = Catalog::open(
        store.dd.clone(),
        CatalogOptions {
            watch: false,
            ..CatalogOptions::default()
        },
    )
    .unwrap();
    catalog.refresh_now();
    Fixture {
        store,
        catalog,
        wal,
        live_hour: h2,
    }
}

/// Independent reference implementation of a filter (written from the field docs).
fn brute(f: &Filter, r: &Row) -> bool {
    let eq =
        |want: &Option<String>, got: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == got);
    let ge = |min: Option<i64>, got: Option<i64>| min.is_none_or(|m| got.is_some_and(|g| g >= m));
    f.envs().allows(&r.env)
        && f.ts_from.is_none_or(|t| r.ts >= t)
        && f.ts_to.is_none_or(|t| r.ts < t)
        && f.levels.as_ref().is_none_or(|l| l.contains(&r.level))
        && f.min_level.is_none_or(|m| r.level >= m)
        && eq(&f.service, Some(&r.service))
        && eq(&f.trace_id, r.trace_id.as_deref())
        && eq(&f.span_id, r.span_id.as_deref())
        && eq(&f.request_id, r.request_id.as_deref())
        && eq(&f.user_id, r.user_id.as_deref())
        && eq(&f.tenant_id, r.tenant_id.as_deref())
        && eq(&f.event_type, r.event_type.as_deref())
        && eq(&f.kind, Some(&r.kind))
        && eq(&f.error_class, r.error_class.as_deref())
        && eq(&f.fingerprint, r.error_fingerprint.as_deref())
        && eq(&f.version, r.version.as_deref())
        && eq(&f.method, r.method.as_deref())
        && eq(&f.path, r.path.as_deref())
        && f.path_prefix
            .as_ref()
            .is_none_or(|p| r.path.as_ref().is_some_and(|x| x.starts_with(p.as_str())))
        && eq(&f.route, r.route.as_deref())
        && eq(&f.handler, r.handler.as_deref())
        && f.status.is_none_or(|s| {
            r.status
                .is_some_and(|x| s.min.is_none_or(|m| x >= m) && s.max.is_none_or(|m| x <= m))
        })
        && ge(f.min_duration_ms, r.duration_ms)
        && ge(f.min_db_count, r.db_count)
        && f.n_plus_one.is_none_or(|b| r.n_plus_one == Some(b))
        && f.has_error
            .is_none_or(|b| (r.level.is_error() || r.error_class.is_some()) == b)
        && f.seq_min.is_none_or(|s| r.seq >= s)
        && f.seq_max.is_none_or(|s| r.seq <= s)
        && f.text.as_ref().is_none_or(|q| q.matches_row(r))
}

fn random_envs(rng: &mut StdRng) -> EnvRestriction {
    match rng.random_range(0..4) {
        0 => EnvRestriction::All,
        1 => EnvRestriction::Only(vec![]),
        _ => EnvRestriction::Only(
            ENVS.iter()
                .filter(|_| rng.random_bool(0.5))
                .map(|e| e.to_string())
                .collect(),
        ),
    }
}

fn random_filter(rng: &mut StdRng, envs: EnvRestriction) -> Filter {
    let mut f = Filter::new(envs);
    let p = 0.15;
    let base = BASE_HOUR.start_micros();
    if rng.random_bool(0.4) {
        f.ts_from = Some(base + rng.random_range(-60_000_000..3 * 3_600_000_000));
    }
    if rng.random_bool(0.4) {
        f.ts_to = Some(base + rng.random_range(0..3 * 3_600_000_000));
    }
    if rng.random_bool(p) {
        f.levels = Some(
            Level::ALL
                .into_iter()
                .filter(|_| rng.random_bool(0.4))
                .collect(),
        );
    }
    if rng.random_bool(p) {
        f.min_level = Some(Level::ALL[rng.random_range(0..6)]);
    }
    macro_rules! s {
        ($rng:expr, $p:expr, $v:expr) => {
            if $rng.random_bool($p) { Some($v) } else { None }
        };
    }
    f.service = s!(rng, 0.3, pick(rng, SERVICES).into());
    f.trace_id = s!(rng, p, format!("t{}", rng.random_range(0..40)));
    f.span_id = s!(rng, 0.05, format!("s{}", rng.random_range(0..200)));
    f.request_id = s!(rng, p, format!("r{}", rng.random_range(0..60)));
    f.user_id = s!(rng, p, format!("u{}", rng.random_range(0..25)));
    f.tenant_id = s!(rng, p, format!("acme{}", rng.random_range(0..4)));
    f.event_type = s!(
        rng,
        p,
        pick(rng, &["deploy", "signup", "job", "nope"]).into()
    );
    f.kind = s!(rng, p, pick(rng, &["request", "log"]).into());
    f.error_class = s!(
        rng,
        p,
        pick(rng, &["NoMethodError", "Timeout::Error"]).into()
    );
    f.fingerprint = s!(rng, p, format!("fp{}", rng.random_range(0..6)));
    f.version = s!(rng, p, format!("v{}", rng.random_range(0..4)));
    f.method = s!(rng, p, pick(rng, &["GET", "POST"]).into());
    f.path = s!(rng, 0.05, pick(rng, PATHS).into());
    f.path_prefix = s!(rng, p, pick(rng, &["/users", "/orders/", "/h"]).into());
    f.route = s!(rng, p, pick(rng, &["/users/:id", "/orders"]).into());
    f.handler = s!(rng, 0.05, "UsersController#show".into());
    if rng.random_bool(p) {
        f.status = Some(if rng.random_bool(0.5) {
            IntRange::exact([200, 404, 500][rng.random_range(0..3)])
        } else {
            IntRange::at_least(500)
        });
    }
    if rng.random_bool(p) {
        f.min_duration_ms = Some(rng.random_range(0..2000));
    }
    if rng.random_bool(p) {
        f.min_db_count = Some(rng.random_range(0..30));
    }
    if rng.random_bool(p) {
        f.n_plus_one = Some(rng.random_bool(0.5));
    }
    if rng.random_bool(p) {
        f.has_error = Some(rng.random_bool(0.5));
    }
    if rng.random_bool(p) {
        f.seq_min = Some(Seq(rng.random_range(1..1500)));
    }
    if rng.random_bool(p) {
        f.seq_max = Some(Seq(rng.random_range(1..1500)));
    }
    if rng.random_bool(0.25) {
        let q = pick(
            rng,
            &[
                "timeout",
                "\"connection reset\"",
                "zebracorn",
                "sku3",
                "boom",
                "payment declined",
                "nosuchword",
            ],
        );
        f.text = Some(Query::parse(q).unwrap());
    }
    f
}

fn key(r: &Row) -> (i64, Seq) {
    (r.ts, r.seq)
}

fn expected(rows: &[Row], f: &Filter, order: Order) -> Vec<u64> {
    let mut m: Vec<&Row> = rows.iter().filter(|r| brute(f, r)).collect();
    m.sort_by_key(|r| key(r));
    if order == Order::NewestFirst {
        m.reverse();
    }
    m.iter().map(|r| r.seq.0).collect()
}

fn seqs(rows: &[Row]) -> Vec<u64> {
    rows.iter().map(|r| r.seq.0).collect()
}

#[test]
fn random_filters_match_brute_force_and_never_leak_envs() {
    let fx = fixture(11);
    let snap = fx.catalog.snapshot();
    assert_eq!(snap.row_count(), fx.store.rows.len() as u64);
    let mut rng = StdRng::seed_from_u64(99);
    let mut nonempty = 0;
    for case in 0..300 {
        let envs = random_envs(&mut rng);
        let f = random_filter(&mut rng, envs.clone());
        let order = if case % 2 == 0 {
            Order::NewestFirst
        } else {
            Order::OldestFirst
        };
        let want = expected(&fx.store.rows, &f, order);
        let got = search(
            &snap,
            &f,
            SearchOpts {
                limit: 10_000,
                order,
                cursor: None,
            },
        );
        assert!(got.stats.errors.is_empty(), "{:?}", got.stats.errors);
        assert_eq!(seqs(&got.rows), want, "case {case}: {f:?}");
        for r in &got.rows {
            assert!(envs.allows(&r.env), "env leak: {} under {envs:?}", r.env);
            assert_eq!(
                Some(r),
                fx.store.rows.iter().find(|x| x.seq == r.seq),
                "row content"
            );
        }
        // Aggregates obey the same restriction.
        let agg = aggregate(
            &snap,
            &f,
            &AggSpec {
                group_by: vec![GroupKey::Column(Col::Env)],
                metrics: vec![Metric::Count],
                limit_groups: 0,
            },
            AggMode::Auto,
        );
        assert_eq!(agg.total_count, want.len() as u64, "case {case}: {f:?}");
        for g in &agg.groups {
            let Value::Str(e) = &g.key[0] else {
                panic!("env key")
            };
            assert!(envs.allows(e), "aggregate leaks env {e}");
        }
        for (v, _) in distinct_values(&snap, &f, Col::Env, 10) {
            assert!(envs.allows(&v));
        }
        nonempty += usize::from(!want.is_empty());
    }
    assert!(
        nonempty > 60,
        "too few filters matched anything ({nonempty})"
    );
}

#[test]
fn cursor_paging_returns_each_row_once_while_rows_arrive() {
    let mut fx = fixture(12);
    let mut rng = StdRng::seed_from_u64(5);
    for case in 0..20 {
        let f = random_filter(&mut rng, EnvRestriction::All);
        let order = if case % 2 == 0 {
            Order::NewestFirst
        } else {
            Order::OldestFirst
        };
        let snap0 = fx.catalog.snapshot();
        let first = search(
            &snap0,
            &f,
            SearchOpts {
                limit: usize::MAX / 2,
                order,
                cursor: None,
            },
        );
        let before_max = fx.store.rows.iter().map(key).max().unwrap();
        let mut cursor = None;
        let mut got = Vec::new();
        loop {
            let page = search(
                &fx.catalog.snapshot(),
                &f,
                SearchOpts {
                    limit: 7,
                    order,
                    cursor,
                },
            );
            got.extend(seqs(&page.rows));
            // New rows arrive between pages.
            let (hour, n) = (fx.live_hour, 5);
            fx.store.append(&mut fx.wal, hour, n);
            fx.catalog.refresh_now();
            match page.next_cursor {
                Some(c) => cursor = Some(Cursor::decode(&c.encode()).unwrap()),
                None => break,
            }
        }
        let mut uniq = got.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), got.len(), "a row appeared on two pages");
        // Every row that matched at the start is there, in order; rows that arrived later
        // may only appear after the start set (oldest-first) or not at all (newest-first).
        let want = seqs(&first.rows);
        let new_rows: HashSet<u64> = fx
            .store
            .rows
            .iter()
            .filter(|r| key(r) > before_max || !want.contains(&r.seq.0))
            .map(|r| r.seq.0)
            .collect();
        let kept: Vec<u64> = got.iter().copied().filter(|s| want.contains(s)).collect();
        assert_eq!(kept, want, "case {case}");
        assert!(got.iter().all(|s| want.contains(s) || new_rows.contains(s)));
    }
}

#[test]
fn lookups_and_context() {
    let fx = fixture(13);
    let snap = fx.catalog.snapshot();
    let all = Filter::new(EnvRestriction::All);
    for r in fx.store.rows.iter().step_by(37) {
        assert_eq!(get_by_seq(&snap, &all, r.seq).as_ref(), Some(r));
        let other: Vec<String> = ENVS
            .iter()
            .filter(|e| **e != r.env)
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            get_by_seq(&snap, &Filter::new(EnvRestriction::Only(other)), r.seq),
            None
        );
    }
    assert_eq!(get_by_seq(&snap, &all, Seq(999_999)), None);
    let anchor = &fx.store.rows[420];
    let mut same = Filter::new(EnvRestriction::All);
    same.service = Some(anchor.service.clone());
    let ctx = around(&snap, anchor.seq, 5, 4, &same).unwrap();
    assert_eq!(&ctx.anchor, anchor);
    let mut m: Vec<&Row> = fx
        .store
        .rows
        .iter()
        .filter(|r| r.service == anchor.service)
        .collect();
    m.sort_by_key(|r| key(r));
    let pos = m.iter().position(|r| r.seq == anchor.seq).unwrap();
    let want_before: Vec<u64> = m[pos.saturating_sub(5)..pos]
        .iter()
        .map(|r| r.seq.0)
        .collect();
    let want_after: Vec<u64> = m[pos + 1..(pos + 5).min(m.len())]
        .iter()
        .map(|r| r.seq.0)
        .collect();
    assert_eq!(seqs(&ctx.before), want_before);
    assert_eq!(seqs(&ctx.after), want_after);
}

fn brute_agg<'a>(rows: &'a [Row], f: &Filter, col: Col) -> BTreeMap<String, Vec<&'a Row>> {
    let mut m: BTreeMap<String, Vec<&'a Row>> = BTreeMap::new();
    for r in rows.iter().filter(|r| brute(f, r)) {
        let k = r.get(col).as_str().unwrap_or("<null>").to_string();
        m.entry(k).or_default().push(r);
    }
    m
}

#[test]
fn aggregates_and_exact_percentiles_match_brute_force() {
    let fx = fixture(14);
    let snap = fx.catalog.snapshot();
    let mut rng = StdRng::seed_from_u64(8);
    let ps = vec![0.0, 50.0, 95.0, 99.0, 100.0];
    for case in 0..40 {
        let f = if case == 0 {
            Filter::new(EnvRestriction::All)
        } else {
            let e = random_envs(&mut rng);
            random_filter(&mut rng, e)
        };
        let spec = AggSpec {
            group_by: vec![GroupKey::Column(Col::Route)],
            metrics: vec![
                Metric::Count,
                Metric::CountErrors,
                Metric::Sum(Col::DurationMs),
                Metric::Avg(Col::DbCount),
                Metric::Max(Col::DurationMs),
                Metric::Min(Col::DurationMs),
                Metric::Percentiles(Col::DurationMs, ps.clone()),
                Metric::CountDistinct(Col::UserId),
            ],
            limit_groups: 2,
        };
        let got = aggregate(&snap, &f, &spec, AggMode::Auto);
        let want = brute_agg(&fx.store.rows, &f, Col::Route);
        assert_eq!(
            got.total_count,
            want.values().map(|v| v.len() as u64).sum::<u64>()
        );
        assert_eq!(
            got.groups.len() as u64 + got.other_groups,
            want.len() as u64
        );
        assert_eq!(
            got.groups.iter().map(|g| g.count).sum::<u64>() + got.other_count,
            got.total_count
        );
        for g in &got.groups {
            let k = match &g.key[0] {
                Value::Str(s) => s.clone(),
                Value::Null => "<null>".into(),
                v => panic!("{v:?}"),
            };
            let rows = &want[&k];
            let d: Vec<i64> = rows.iter().filter_map(|r| r.duration_ms).collect();
            let mut sorted = d.clone();
            sorted.sort();
            let db: Vec<i64> = rows.iter().filter_map(|r| r.db_count).collect();
            let pct = |p: f64| {
                (!sorted.is_empty()).then(|| {
                    sorted[(((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize) - 1]
                })
            };
            let users: HashSet<&str> = rows.iter().filter_map(|r| r.user_id.as_deref()).collect();
            assert_eq!(g.count, rows.len() as u64);
            assert_eq!(g.metrics[0], MetricValue::Count(rows.len() as u64));
            assert_eq!(
                g.metrics[1],
                MetricValue::Count(rows.iter().filter(|r| r.level.is_error()).count() as u64)
            );
            assert_eq!(
                g.metrics[2],
                MetricValue::Int((!d.is_empty()).then(|| d.iter().sum()))
            );
            assert_eq!(
                g.metrics[3],
                MetricValue::Float(
                    (!db.is_empty()).then(|| db.iter().sum::<i64>() as f64 / db.len() as f64)
                )
            );
            assert_eq!(g.metrics[4], MetricValue::Int(d.iter().copied().max()));
            assert_eq!(g.metrics[5], MetricValue::Int(d.iter().copied().min()));
            assert_eq!(
                g.metrics[6],
                MetricValue::Percentiles(ps.iter().map(|&p| (p, pct(p))).collect())
            );
            assert_eq!(g.metrics[7], MetricValue::Count(users.len() as u64));
        }
    }
}

#[test]
fn meta_path_equals_scan_path() {
    let fx = fixture(15);
    let snap = fx.catalog.snapshot();
    let base = BASE_HOUR.start_micros();
    let h = 3_600_000_000i64;
    let envsets = [
        EnvRestriction::All,
        EnvRestriction::Only(ENVS.iter().map(|e| e.to_string()).collect()),
        EnvRestriction::Only(vec!["production".into()]),
    ];
    let mut used_meta = 0;
    let mut used_rollup = 0;
    for envs in envsets {
        for (from, to) in [
            (None, None),
            (Some(base - 2 * h), Some(base + 4 * h)),
            (Some(base + h - 120_000_000), None),
            (Some(base + 1), Some(base + 2 * h)),
        ] {
            for g in [
                vec![],
                vec![GroupKey::Column(Col::Level)],
                vec![GroupKey::Column(Col::Service)],
                vec![GroupKey::Column(Col::Env)],
                vec![GroupKey::Column(Col::Status)],
                vec![GroupKey::Column(Col::ErrorFingerprint)],
                vec![GroupKey::TimeBucket {
                    width_us: 60_000_000,
                }],
                vec![GroupKey::TimeBucket {
                    width_us: 300_000_000,
                }],
                vec![GroupKey::Column(Col::Level), GroupKey::Column(Col::Service)],
                vec![
                    GroupKey::Column(Col::Level),
                    GroupKey::Column(Col::Service),
                    GroupKey::TimeBucket {
                        width_us: 3 * 3_600_000_000,
                    },
                ],
                vec![
                    GroupKey::Column(Col::Env),
                    GroupKey::TimeBucket {
                        width_us: 3_600_000_000,
                    },
                ],
            ] {
                for (metrics, text, narrow) in [
                    (vec![Metric::Count], None, 0),
                    (vec![Metric::Count, Metric::CountErrors], None, 0),
                    // A text query is a predicate too: meta.json cannot answer it.
                    (vec![Metric::Count], Some("timeout"), 0),
                    // Level and service filters: the env/service/level counts answer.
                    (vec![Metric::Count, Metric::CountErrors], None, 1),
                    (vec![Metric::Count, Metric::CountErrors], None, 2),
                    (vec![Metric::Count], None, 3),
                ] {
                    let mut f = Filter::new(envs.clone());
                    f.ts_from = from;
                    f.ts_to = to;
                    f.text = text.map(|q| Query::parse(q).unwrap());
                    match narrow {
                        1 => f.levels = Some(vec![Level::Error, Level::Warn]),
                        2 => f.service = Some(SERVICES[0].to_string()),
                        3 => {
                            f.min_level = Some(Level::Warn);
                            f.service = Some(SERVICES[1].to_string());
                        }
                        _ => {}
                    }
                    let spec = AggSpec {
                        group_by: g.clone(),
                        metrics,
                        limit_groups: 0,
                    };
                    let a = aggregate(&snap, &f, &spec, AggMode::Auto);
                    let b = aggregate(&snap, &f, &spec, AggMode::ScanOnly);
                    assert_eq!(a.groups, b.groups, "{g:?} {f:?}");
                    assert_eq!(b.stats.hours_from_meta, 0);
                    if text.is_some() {
                        assert_eq!(a.stats.hours_from_meta, 0, "{f:?}");
                    }
                    if narrow > 0 || g.len() > 1 {
                        used_rollup += a.stats.hours_from_meta;
                    }
                    used_meta += a.stats.hours_from_meta;
                }
            }
        }
    }
    assert!(
        used_meta > 50,
        "the meta path was hardly used ({used_meta})"
    );
    assert!(
        used_rollup > 20,
        "the env/service/level counts were hardly used ({used_rollup})"
    );
    // Counts by minute over everything equal brute force.
    let spec = AggSpec {
        group_by: vec![GroupKey::TimeBucket {
            width_us: 60_000_000,
        }],
        metrics: vec![Metric::Count],
        limit_groups: 0,
    };
    let a = aggregate(
        &snap,
        &Filter::new(EnvRestriction::All),
        &spec,
        AggMode::Auto,
    );
    let mut want: HashMap<i64, u64> = HashMap::new();
    for r in &fx.store.rows {
        *want
            .entry(r.ts.div_euclid(60_000_000) * 60_000_000)
            .or_default() += 1;
    }
    let got: HashMap<i64, u64> = a
        .groups
        .iter()
        .map(|g| {
            (
                match g.key[0] {
                    Value::Int(t) => t,
                    _ => panic!(),
                },
                g.count,
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn corrupt_chunk_is_skipped_and_reported_once() {
    let fx = fixture(16);
    for _ in 0..5 {
        fx.catalog.refresh_now();
    }
    assert_eq!(
        fx.catalog
            .stats()
            .corrupt_files
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let snap = fx.catalog.snapshot();
    assert_eq!(snap.row_count(), fx.store.rows.len() as u64);
    let r = search(
        &snap,
        &Filter::new(EnvRestriction::All),
        SearchOpts {
            limit: 5,
            order: Order::NewestFirst,
            cursor: None,
        },
    );
    assert_eq!(r.rows.len(), 5);
    assert!(r.stats.errors.is_empty());
}

/// Counts grouped by dictionary columns, integer and boolean columns, time buckets and
/// combinations of them (the dense per-chunk path, and the env/service/level counts of
/// `meta.json`) equal brute force over the rows written, under random filters.
#[test]
fn count_aggregates_equal_brute_force() {
    let fx = fixture(23);
    let snap = fx.catalog.snapshot();
    let mut rng = StdRng::seed_from_u64(23);
    let minute = 60_000_000i64;
    let keysets: Vec<Vec<GroupKey>> = vec![
        vec![],
        vec![GroupKey::Column(Col::Level)],
        vec![GroupKey::Column(Col::Status)],
        vec![GroupKey::Column(Col::NPlusOne)],
        vec![GroupKey::Column(Col::Route)],
        vec![GroupKey::Column(Col::TraceId)],
        vec![GroupKey::TimeBucket { width_us: minute }],
        vec![
            GroupKey::Column(Col::Level),
            GroupKey::Column(Col::Service),
            GroupKey::TimeBucket {
                width_us: 15 * minute,
            },
        ],
        vec![
            GroupKey::Column(Col::Env),
            GroupKey::Column(Col::Status),
            GroupKey::TimeBucket {
                width_us: 60 * minute,
            },
        ],
    ];
    for case in 0..90 {
        let f = if case < keysets.len() {
            Filter::new(EnvRestriction::All)
        } else {
            let e = random_envs(&mut rng);
            random_filter(&mut rng, e)
        };
        let group_by = keysets[case % keysets.len()].clone();
        let spec = AggSpec {
            group_by: group_by.clone(),
            metrics: vec![Metric::Count, Metric::CountErrors],
            limit_groups: 0,
        };
        let mut want: HashMap<Vec<Value>, (u64, u64)> = HashMap::new();
        for r in fx.store.rows.iter().filter(|r| brute(&f, r)) {
            let key: Vec<Value> = group_by
                .iter()
                .map(|k| match k {
                    GroupKey::Column(c) => match r.get(*c) {
                        ValueRef::Null => Value::Null,
                        ValueRef::Int(x) => Value::Int(x),
                        ValueRef::Bool(b) => Value::Bool(b),
                        ValueRef::Str(s) => Value::Str(s.to_string()),
                    },
                    GroupKey::TimeBucket { width_us } => {
                        Value::Int(r.ts.div_euclid(*width_us) * width_us)
                    }
                })
                .collect();
            let e = want.entry(key).or_default();
            e.0 += 1;
            e.1 += u64::from(matches!(r.level, Level::Error | Level::Fatal));
        }
        for mode in [AggMode::Auto, AggMode::ScanOnly] {
            let got = aggregate(&snap, &f, &spec, mode);
            let got: HashMap<Vec<Value>, (u64, u64)> = got
                .groups
                .iter()
                .map(|g| {
                    let errors = match g.metrics.get(1) {
                        Some(MetricValue::Count(e)) => *e,
                        other => panic!("CountErrors gave {other:?}"),
                    };
                    (g.key.clone(), (g.count, errors))
                })
                .collect();
            assert_eq!(got, want, "case {case} {mode:?} {group_by:?} {f:?}");
        }
    }
}
