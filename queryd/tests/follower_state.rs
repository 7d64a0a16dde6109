//! The follower against brute force: error groups, per-user impact and deploys computed
//! from every row written equal what the follower committed; reopen on recurrence; exactly
//! once across crashes before and after commit while rows keep arriving; gaps; env
//! restriction of every read.

mod datafix;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafix::{BASE_HOUR, Store, build_from_wal, seal};
use opentrace_queryd::catalog::{Catalog, CatalogOptions};
use opentrace_queryd::follower::{self, Follower, FollowerOptions, Step};
use opentrace_queryd::platform::audit::Actor;
use opentrace_queryd::platform::deploys::DeployQuery;
use opentrace_queryd::platform::errors::{GroupQuery, GroupSort, GroupStatus, StatusAction};
use opentrace_queryd::platform::{Platform, PlatformError, UnixMicros};
use opentrace_queryd::query::EnvRestriction;
use opentrace_shared::wal::{WalRecord, WalWriter};
use opentrace_shared::{ChunkId, HourId, Level, Row, Seq};
use rand::{Rng, SeedableRng};

#[derive(Debug, Default, PartialEq)]
struct TGroup {
    service: String,
    class: String,
    message: String,
    count: i64,
    first: i64,
    last: i64,
    last_seq: u64,
    users: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct Truth {
    groups: BTreeMap<(String, String), TGroup>,
    impacts: BTreeMap<(String, String, String), (i64, i64, i64)>,
    deploys: BTreeMap<(String, String, String), i64>,
}

fn truth(rows: &[Row]) -> Truth {
    let mut rows: Vec<&Row> = rows.iter().collect();
    rows.sort_by_key(|r| r.seq);
    let mut t = Truth::default();
    for r in rows {
        if let Some(v) = r.version.as_deref().filter(|v| !v.is_empty()) {
            let e = t
                .deploys
                .entry((r.service.clone(), r.env.clone(), v.to_string()))
                .or_insert(r.ts);
            *e = (*e).min(r.ts);
        }
        let Some(fp) = r.error_fingerprint.as_deref().filter(|f| !f.is_empty()) else {
            continue;
        };
        let g = t
            .groups
            .entry((fp.to_string(), r.env.clone()))
            .or_insert_with(|| TGroup {
                service: r.service.clone(),
                class: r.error_class.clone().unwrap_or_default(),
                message: r
                    .error_message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| r.message.clone()),
                first: r.ts,
                last: r.ts,
                ..TGroup::default()
            });
        g.count += 1;
        g.first = g.first.min(r.ts);
        g.last = g.last.max(r.ts);
        g.last_seq = r.seq.0;
        if let Some(u) = r.user_id.as_deref().filter(|u| !u.is_empty()) {
            g.users.insert(u.to_string());
            let i = t
                .impacts
                .entry((fp.to_string(), r.env.clone(), u.to_string()))
                .or_insert((0, r.ts, r.ts));
            i.0 += 1;
            i.1 = i.1.min(r.ts);
            i.2 = i.2.max(r.ts);
        }
    }
    t
}

/// Checks everything the follower committed against brute force over `rows`.
fn check(platform: &Platform, rows: &[Row]) {
    let t = truth(rows);
    let all = EnvRestriction::All;
    let mut got = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = platform
            .list_error_groups(
                &all,
                &GroupQuery {
                    limit: 7,
                    cursor: cursor.clone(),
                    sort: GroupSort::Count,
                    ..GroupQuery::default()
                },
            )
            .unwrap();
        assert_eq!(page.total as usize, t.groups.len());
        for g in page.groups {
            assert!(
                got.insert((g.fingerprint.clone(), g.environment.clone()), g)
                    .is_none(),
                "a group listed twice"
            );
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(got.len(), t.groups.len());
    for (k, tg) in &t.groups {
        let g = got.get(k).unwrap_or_else(|| panic!("group {k:?} missing"));
        assert_eq!(g.occurrence_count, tg.count, "count of {k:?}");
        assert_eq!(g.first_seen_at.0, tg.first, "first_seen of {k:?}");
        assert_eq!(g.last_seen_at.0, tg.last, "last_seen of {k:?}");
        assert_eq!(g.last_seq, Some(Seq(tg.last_seq)), "last_seq of {k:?}");
        assert_eq!(g.unique_users, tg.users.len() as i64, "users of {k:?}");
        assert_eq!(g.service, tg.service);
        assert_eq!(g.exception_class, tg.class);
        assert_eq!(g.message, tg.message);
        let users = platform
            .error_group_users(&all, &k.0, Some(&k.1), 100)
            .unwrap();
        assert_eq!(users.len(), tg.users.len());
        for u in users {
            let ti = t
                .impacts
                .get(&(k.0.clone(), k.1.clone(), u.user_id.clone()))
                .unwrap();
            assert_eq!(
                (u.occurrence_count, u.first_seen_at.0, u.last_seen_at.0),
                *ti
            );
        }
    }
    let deploys = platform
        .list_deploys(
            &all,
            &DeployQuery {
                limit: 200,
                ..DeployQuery::default()
            },
        )
        .unwrap();
    let got: BTreeMap<_, _> = deploys
        .into_iter()
        .map(|d| ((d.service, d.environment, d.version), d.first_seen_at.0))
        .collect();
    assert_eq!(got, t.deploys);
}

fn catalog(store: &Store) -> Arc<Catalog> {
    Arc::new(
        Catalog::open(
            store.dd.clone(),
            CatalogOptions {
                poll_interval: Duration::from_millis(5),
                rescan_interval: Duration::from_millis(50),
                watch: false,
            },
        )
        .unwrap(),
    )
}

fn db_path(store: &Store) -> PathBuf {
    store.tmp.path().join("platform.db")
}

fn opts(page: usize) -> FollowerOptions {
    FollowerOptions {
        page_rows: page,
        poll_interval: Duration::from_millis(5),
        gap_grace: Duration::from_millis(300),
        ..FollowerOptions::default()
    }
}

/// Steps until idle; returns the number of applied batches.
fn drain(f: &mut Follower) -> usize {
    let mut n = 0;
    loop {
        match f.step().unwrap() {
            Step::Applied { .. } => n += 1,
            Step::Idle => return n,
            Step::WaitingOnGap { from, to } => panic!("unexpected gap {from:?}..{to:?}"),
        }
    }
}

/// Several hours: sealed ones, published chunks of the open hour and a live WAL.
fn mixed_store(seed: u64) -> (Store, WalWriter) {
    let mut s = Store::new(seed);
    let h0 = BASE_HOUR;
    let h1 = h0.next();
    let h2 = h1.next();
    s.add_chunk(h0, ChunkId(0), 400);
    s.add_chunk(h0, ChunkId(1), 300);
    seal(&s.dd, h0);
    s.add_chunk(h1, ChunkId(0), 500);
    seal(&s.dd, h1);
    s.add_chunk(h2, ChunkId(0), 350);
    let w = s.add_wal(h2, ChunkId(1), 420);
    (s, w)
}

#[test]
fn groups_users_and_deploys_equal_brute_force() {
    let (store, _w) = mixed_store(11);
    let cat = catalog(&store);
    let platform = Platform::open(store.tmp.path()).unwrap();
    let mut f = Follower::open(cat, &db_path(&store), opts(173)).unwrap();
    let batches = drain(&mut f);
    assert!(batches >= store.rows.len() / 173);
    assert_eq!(f.cursor(), Seq(store.rows.len() as u64));
    assert_eq!(platform.follower_cursor().unwrap(), Some(f.cursor()));
    check(&platform, &store.rows);
    // Sorted orders are really sorted.
    for (sort, key) in [
        (GroupSort::LastSeen, 0),
        (GroupSort::Count, 1),
        (GroupSort::FirstSeen, 2),
        (GroupSort::UniqueUsers, 3),
        (GroupSort::Impact, 4),
    ] {
        let page = platform
            .list_error_groups(
                &EnvRestriction::All,
                &GroupQuery {
                    sort,
                    limit: 100,
                    ..GroupQuery::default()
                },
            )
            .unwrap();
        let keys: Vec<f64> = page
            .groups
            .iter()
            .map(|g| match key {
                0 => g.last_seen_at.0 as f64,
                1 => g.occurrence_count as f64,
                2 => g.first_seen_at.0 as f64,
                3 => g.unique_users as f64,
                _ => g.impact_score,
            })
            .collect();
        assert!(!keys.is_empty());
        assert!(keys.windows(2).all(|w| w[0] >= w[1]), "{sort:?}: {keys:?}");
    }
}

fn error_row(seq: u64, fp: &str, env: &str, ts: i64, user: Option<&str>) -> Row {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seq);
    let mut r = datafix::gen_row(&mut rng, seq, HourId::from_micros(ts));
    r.ts = ts;
    r.level = Level::Error;
    r.env = env.into();
    r.error_class = Some("RuntimeError".into());
    r.error_message = Some(format!("boom {fp}"));
    r.error_fingerprint = Some(fp.into());
    r.user_id = user.map(str::to_string);
    r
}

fn append_rows(store: &mut Store, w: &mut WalWriter, rows: Vec<Row>) {
    w.append(&WalRecord {
        batch_id: None,
        rows: rows.clone(),
    })
    .unwrap();
    w.sync().unwrap();
    store.next_seq = rows.last().map_or(store.next_seq, |r| r.seq.0 + 1);
    store.rows.extend(rows);
}

#[test]
fn resolved_group_reopens_on_recurrence_only() {
    let mut store = Store::new(3);
    let hour = HourId::from_micros(UnixMicros::now().0);
    std::fs::create_dir_all(store.dd.hour_dir(hour)).unwrap();
    let mut w = WalWriter::create(&store.dd.wal_path(hour, ChunkId(0)), hour, ChunkId(0)).unwrap();
    let now = UnixMicros::now().0;
    append_rows(
        &mut store,
        &mut w,
        vec![
            error_row(1, "fpA", "production", now - 10_000_000, Some("alice")),
            error_row(2, "fpB", "production", now - 9_000_000, None),
        ],
    );
    let cat = catalog(&store);
    let platform = Platform::open(store.tmp.path()).unwrap();
    let mut f = Follower::open(cat.clone(), &db_path(&store), opts(100)).unwrap();
    cat.refresh_now();
    drain(&mut f);
    let all = EnvRestriction::All;
    let actor = Actor::operator();
    let err = platform
        .set_error_group_status(&all, "fpA", None, StatusAction::Resolve, " ", &actor)
        .unwrap_err();
    assert!(matches!(err, PlatformError::Invalid(_)));
    platform
        .set_error_group_status(&all, "fpA", None, StatusAction::Resolve, "fixed", &actor)
        .unwrap();
    platform
        .set_error_group_status(&all, "fpB", None, StatusAction::Ignore, "noise", &actor)
        .unwrap();
    let resolved_at = platform
        .get_error_group(&all, "fpA", None)
        .unwrap()
        .unwrap()
        .resolved_at
        .unwrap();
    // A late-arriving occurrence from before the resolution counts but does not reopen.
    append_rows(
        &mut store,
        &mut w,
        vec![error_row(
            3,
            "fpA",
            "production",
            now - 5_000_000,
            Some("bob"),
        )],
    );
    cat.refresh_now();
    drain(&mut f);
    let g = platform
        .get_error_group(&all, "fpA", None)
        .unwrap()
        .unwrap();
    assert_eq!(g.status, GroupStatus::Resolved);
    assert_eq!(g.occurrence_count, 2);
    assert_eq!(g.unique_users, 2);
    // A recurrence after the resolution reopens; ignored groups stay ignored.
    let later = resolved_at.0 + 1_000_000;
    append_rows(
        &mut store,
        &mut w,
        vec![
            error_row(4, "fpA", "production", later, Some("alice")),
            error_row(5, "fpA", "production", later + 1, Some("alice")),
            error_row(6, "fpB", "production", later, None),
        ],
    );
    cat.refresh_now();
    drain(&mut f);
    let g = platform
        .get_error_group(&all, "fpA", None)
        .unwrap()
        .unwrap();
    assert_eq!(g.status, GroupStatus::Unresolved);
    assert_eq!(g.reopened_count, 1);
    assert_eq!(g.resolved_at, None);
    assert_eq!(g.occurrence_count, 4);
    assert_eq!(g.unique_users, 2);
    let b = platform
        .get_error_group(&all, "fpB", None)
        .unwrap()
        .unwrap();
    assert_eq!(b.status, GroupStatus::Ignored);
    assert_eq!(b.reopened_count, 0);
    let events = platform.error_group_events(&all, "fpA", None, 10).unwrap();
    let kinds: Vec<(String, Option<String>)> = events
        .iter()
        .map(|e| (e.action.clone(), e.reason.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("reopened".to_string(), Some("recurred".to_string())),
            ("resolved".to_string(), Some("fixed".to_string())),
        ]
    );
    assert_eq!(events[0].created_at.0, later);
    assert_eq!(platform.audit_count("error_group.resolved").unwrap(), 1);
    // Manual reopen of the ignored group.
    platform
        .set_error_group_status(&all, "fpB", None, StatusAction::Reopen, "real bug", &actor)
        .unwrap();
    let b = platform
        .get_error_group(&all, "fpB", None)
        .unwrap()
        .unwrap();
    assert_eq!(b.status, GroupStatus::Unresolved);
    check(&platform, &store.rows);
}

#[test]
fn exactly_once_across_crashes_before_and_after_commit() {
    let mut store = Store::new(21);
    let cat = catalog(&store);
    let db = db_path(&store);
    let platform = Platform::open(store.tmp.path()).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let mut hour = BASE_HOUR;
    let mut chunk = ChunkId(0);
    let mut w = store.add_wal(hour, chunk, 30);
    let mut f = Follower::open(cat.clone(), &db, opts(rng.random_range(5..60))).unwrap();
    let (mut restarts, mut aborted) = (0, 0);
    for round in 0..60 {
        // Rows keep arriving: append, sometimes rotate to a chunk, sometimes seal the hour.
        let n = rng.random_range(1..40);
        store.append(&mut w, hour, n);
        if round % 7 == 6 {
            let (old_h, old_c) = (hour, chunk);
            if round % 21 == 20 {
                hour = hour.next();
                chunk = ChunkId(0);
            } else {
                chunk = chunk.next();
            }
            drop(w);
            w = store.add_wal(hour, chunk, rng.random_range(0..20));
            build_from_wal(&store.dd, old_h, old_c);
            if old_h != hour {
                seal(&store.dd, old_h);
            }
        }
        cat.refresh_now();
        for _ in 0..rng.random_range(0..4) {
            if rng.random_bool(0.3) {
                f.step_uncommitted().unwrap();
                aborted += 1;
            } else {
                f.step().unwrap();
            }
        }
        if rng.random_bool(0.4) {
            // Crash after whatever was committed: a new follower reloads the cursor.
            drop(f);
            f = Follower::open(cat.clone(), &db, opts(rng.random_range(5..60))).unwrap();
            restarts += 1;
        }
    }
    drop(w);
    cat.refresh_now();
    drain(&mut f);
    assert!(
        restarts > 10 && aborted > 10,
        "{restarts} restarts, {aborted} aborts"
    );
    assert_eq!(f.cursor(), Seq(store.rows.len() as u64));
    check(&platform, &store.rows);
}

#[test]
fn spawned_follower_killed_and_restarted_while_rows_arrive() {
    let mut store = Store::new(5);
    let cat = catalog(&store);
    let db = db_path(&store);
    let platform = Platform::open(store.tmp.path()).unwrap();
    let mut hour = BASE_HOUR;
    let mut chunk = ChunkId(0);
    let mut w = store.add_wal(hour, chunk, 10);
    let mut handle = None;
    for round in 0..40 {
        store.append(&mut w, hour, 25);
        if round % 5 == 4 {
            let (old_h, old_c) = (hour, chunk);
            chunk = chunk.next();
            if round % 20 == 19 {
                hour = hour.next();
                chunk = ChunkId(0);
            }
            drop(w);
            w = store.add_wal(hour, chunk, 5);
            build_from_wal(&store.dd, old_h, old_c);
        }
        if round % 3 == 0 {
            // Stop (drop) the running follower mid-stream and start a new one.
            drop(handle.take());
            handle =
                Some(follower::spawn(store.tmp.path(), &db, Some(cat.clone()), opts(17)).unwrap());
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    drop(w);
    let h = handle.take().unwrap();
    let want = Seq(store.rows.len() as u64);
    let t = Instant::now();
    while h.cursor() < want && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(h.cursor(), want);
    h.stop();
    check(&platform, &store.rows);
}

#[test]
fn gaps_wait_for_grace_or_seal_then_are_skipped() {
    let mut store = Store::new(8);
    let cat = catalog(&store);
    let db = db_path(&store);
    let platform = Platform::open(store.tmp.path()).unwrap();
    // Hour 0: seqs 1..=100, then a gap 101..=150, then 151..=200, in a live WAL.
    let hour = BASE_HOUR;
    let mut w = store.add_wal(hour, ChunkId(0), 100);
    store.next_seq = 151;
    store.append(&mut w, hour, 50);
    cat.refresh_now();
    let mut f = Follower::open(cat.clone(), &db, opts(64)).unwrap();
    assert!(matches!(f.step().unwrap(), Step::Applied { .. }));
    assert!(matches!(f.step().unwrap(), Step::Applied { .. }));
    assert_eq!(f.cursor(), Seq(100));
    assert_eq!(
        f.step().unwrap(),
        Step::WaitingOnGap {
            from: Seq(101),
            to: Seq(150)
        }
    );
    assert_eq!(f.cursor(), Seq(100));
    std::thread::sleep(Duration::from_millis(350));
    drain(&mut f);
    assert_eq!(f.cursor(), Seq(200));
    assert_eq!(
        f.stats()
            .gaps_skipped
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        f.stats()
            .seqs_skipped
            .load(std::sync::atomic::Ordering::Relaxed),
        50
    );
    // A big gap (a million seqs) in a sealed hour is final at once, even with a long grace.
    drop(w);
    build_from_wal(&store.dd, hour, ChunkId(0));
    let h1 = hour.next();
    store.next_seq = 1_000_201;
    let w1 = store.add_wal(h1, ChunkId(0), 30);
    drop(w1);
    build_from_wal(&store.dd, h1, ChunkId(0));
    seal(&store.dd, hour);
    seal(&store.dd, h1);
    cat.refresh_now();
    let mut long = opts(64);
    long.gap_grace = Duration::from_secs(3600);
    let mut f = Follower::open(cat.clone(), &db, long).unwrap();
    assert_eq!(f.cursor(), Seq(200));
    drain(&mut f);
    assert_eq!(f.cursor(), Seq(1_000_230));
    check(&platform, &store.rows);
}

#[test]
fn every_read_honours_the_env_restriction() {
    let (store, _w) = mixed_store(17);
    let cat = catalog(&store);
    let platform = Platform::open(store.tmp.path()).unwrap();
    let mut f = Follower::open(cat, &db_path(&store), opts(500)).unwrap();
    drain(&mut f);
    let staging = EnvRestriction::Only(vec!["staging".into()]);
    let none = EnvRestriction::Only(vec![]);
    let t = truth(&store.rows);
    let q = GroupQuery {
        limit: 100,
        ..GroupQuery::default()
    };
    let page = platform.list_error_groups(&staging, &q).unwrap();
    let want = t.groups.keys().filter(|k| k.1 == "staging").count();
    assert!(want > 0);
    assert_eq!(page.groups.len(), want);
    assert_eq!(page.total as usize, want);
    assert!(page.groups.iter().all(|g| g.environment == "staging"));
    assert!(
        platform
            .list_error_groups(&none, &q)
            .unwrap()
            .groups
            .is_empty()
    );
    // A fingerprint present in production only is invisible to a staging caller.
    let prod_only = t.groups.keys().find(|(fp, env)| {
        env == "production" && !t.groups.contains_key(&(fp.clone(), "staging".into()))
    });
    let any_prod = t.groups.keys().find(|k| k.1 == "production").unwrap();
    assert!(
        platform
            .get_error_group(&staging, &any_prod.0, Some("production"))
            .unwrap()
            .is_none()
    );
    assert!(
        platform
            .error_group_users(&staging, &any_prod.0, Some("production"), 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        platform
            .error_group_events(&staging, &any_prod.0, Some("production"), 10)
            .unwrap()
            .is_empty()
    );
    let err = platform
        .set_error_group_status(
            &staging,
            &any_prod.0,
            Some("production"),
            StatusAction::Resolve,
            "nope",
            &Actor::operator(),
        )
        .unwrap_err();
    assert!(matches!(err, PlatformError::NotFound(_)));
    if let Some((fp, _)) = prod_only {
        assert!(
            platform
                .get_error_group(&staging, fp, None)
                .unwrap()
                .is_none()
        );
    }
    // Without an env, the staging group of a shared fingerprint is the one returned.
    let shared = t.groups.keys().find(|k| k.1 == "staging").unwrap();
    let g = platform
        .get_error_group(&staging, &shared.0, None)
        .unwrap()
        .unwrap();
    assert_eq!(g.environment, "staging");
    let counts = platform.error_group_counts(&staging, None).unwrap();
    assert_eq!(counts.unresolved as usize, want);
    let deploys = platform
        .list_deploys(
            &staging,
            &DeployQuery {
                limit: 200,
                ..DeployQuery::default()
            },
        )
        .unwrap();
    assert_eq!(
        deploys.len(),
        t.deploys.keys().filter(|k| k.1 == "staging").count()
    );
    assert!(deploys.iter().all(|d| d.environment == "staging"));
    let last = platform.last_deploys(&staging, None).unwrap();
    assert!(!last.is_empty() && last.iter().all(|d| d.environment == "staging"));
    let pairs: BTreeSet<(String, String)> = last
        .iter()
        .map(|d| (d.service.clone(), d.environment.clone()))
        .collect();
    assert_eq!(pairs.len(), last.len(), "one latest deploy per service/env");
    for d in &last {
        let max = t
            .deploys
            .iter()
            .filter(|(k, _)| k.0 == d.service && k.1 == d.environment)
            .map(|(_, ts)| *ts)
            .max()
            .unwrap();
        assert_eq!(d.first_seen_at.0, max);
    }
    assert!(
        platform
            .last_deploy(&staging, &last[0].service, "production")
            .unwrap()
            .is_none()
    );
    assert!(platform.last_deploys(&none, None).unwrap().is_empty());
    let user = t
        .impacts
        .keys()
        .find(|k| k.1 == "production")
        .map(|k| k.2.clone())
        .unwrap();
    let ug = platform
        .user_error_groups(&staging, &user, None, 100)
        .unwrap();
    assert!(ug.iter().all(|u| u.group.environment == "staging"));
    let want_ug = t
        .impacts
        .keys()
        .filter(|k| k.1 == "staging" && k.2 == user)
        .count();
    assert_eq!(ug.len(), want_ug);
}
