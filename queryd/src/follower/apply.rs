//! Applying one batch of rows to the derived state in SQLite, in the same transaction as
//! the cursor: error groups (with reopen on recurrence), per-user impact, deploys.

use std::collections::HashMap;

use opentrace_shared::{Row, Seq};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::FollowerError;
use crate::platform::errors::{impact_base, impact_score};

/// State of one error group while a batch is applied.
struct Group {
    service: String,
    class: String,
    message: String,
    file: Option<String>,
    line: Option<i64>,
    status: String,
    first: i64,
    last: i64,
    count: i64,
    last_seq: i64,
    reopened: i64,
    resolved_at: Option<i64>,
    users: i64,
    /// Reopen events to write: the event time of each recurring row.
    reopens: Vec<i64>,
}

/// State of one (group, user) impact row while a batch is applied.
struct Impact {
    service: String,
    first: i64,
    last: i64,
    count: i64,
    last_seq: i64,
}

type GroupKey = (String, String);
type ImpactKey = (String, String, String);

/// What one applied batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    /// Rows in the batch.
    pub rows: u64,
    /// Rows with an error fingerprint.
    pub error_rows: u64,
    /// Groups reopened by recurrence.
    pub reopened: u64,
}

/// Reads the committed cursor (0 before the first batch).
pub(crate) fn read_cursor(conn: &Connection) -> Result<Seq, FollowerError> {
    let v: Option<i64> = conn
        .query_row(
            "SELECT last_seq FROM follower_cursor WHERE singleton = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(Seq(v.unwrap_or(0).max(0) as u64))
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

fn load_group(tx: &Connection, fp: &str, env: &str) -> Result<Option<Group>, FollowerError> {
    let g = tx
        .query_row(
            "SELECT service, exception_class, message, source_file, source_line, status,
                    first_seen_at, last_seen_at, occurrence_count, last_seq, reopened_count,
                    resolved_at, unique_users
             FROM error_groups WHERE fingerprint = ?1 AND environment = ?2",
            params![fp, env],
            |r| {
                Ok(Group {
                    service: r.get(0)?,
                    class: r.get(1)?,
                    message: r.get(2)?,
                    file: r.get(3)?,
                    line: r.get(4)?,
                    status: r.get(5)?,
                    first: r.get(6)?,
                    last: r.get(7)?,
                    count: r.get(8)?,
                    last_seq: r.get::<_, Option<i64>>(9)?.unwrap_or(0),
                    reopened: r.get(10)?,
                    resolved_at: r.get(11)?,
                    users: r.get(12)?,
                    reopens: Vec::new(),
                })
            },
        )
        .optional()?;
    Ok(g)
}

fn load_impact(
    tx: &Connection,
    fp: &str,
    env: &str,
    user: &str,
) -> Result<Option<Impact>, FollowerError> {
    let i = tx
        .query_row(
            "SELECT service, first_seen_at, last_seen_at, occurrence_count, last_seq
             FROM error_impacts WHERE fingerprint = ?1 AND environment = ?2 AND user_id = ?3",
            params![fp, env, user],
            |r| {
                Ok(Impact {
                    service: r.get(0)?,
                    first: r.get(1)?,
                    last: r.get(2)?,
                    count: r.get(3)?,
                    last_seq: r.get(4)?,
                })
            },
        )
        .optional()?;
    Ok(i)
}

/// Applies `rows` (contiguous in seq, in seq order, all after `expected`) and moves the
/// cursor to the last row's seq, in one IMMEDIATE transaction. Fails with
/// [`FollowerError::CursorMoved`] (and changes nothing) if the committed cursor is not
/// `expected`. With `commit == false` everything is done and then rolled back (fault
/// injection: a crash just before the commit).
///
/// Rows come with only the columns of `source::FOLLOWED_COLUMNS` filled in: a field read
/// here must be listed there.
pub(crate) fn apply_batch(
    conn: &mut Connection,
    expected: Seq,
    rows: &[Row],
    now: i64,
    commit: bool,
) -> Result<Applied, FollowerError> {
    let Some(last) = rows.last() else {
        return Ok(Applied::default());
    };
    let new_cursor = last.seq;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let committed = read_cursor(&tx)?;
    if committed != expected {
        return Err(FollowerError::CursorMoved {
            expected,
            found: committed,
        });
    }
    let mut groups: HashMap<GroupKey, Group> = HashMap::new();
    let mut impacts: HashMap<ImpactKey, Impact> = HashMap::new();
    let mut deploys: HashMap<(String, String, String), i64> = HashMap::new();
    let mut applied = Applied {
        rows: rows.len() as u64,
        ..Applied::default()
    };
    for row in rows {
        if let Some(v) = non_empty(row.version.as_deref()) {
            let k = (row.service.clone(), row.env.clone(), v.to_string());
            let e = deploys.entry(k).or_insert(row.ts);
            *e = (*e).min(row.ts);
        }
        let Some(fp) = non_empty(row.error_fingerprint.as_deref()) else {
            continue;
        };
        applied.error_rows += 1;
        let seq = row.seq.0 as i64;
        let key = (fp.to_string(), row.env.clone());
        if !groups.contains_key(&key) {
            let g = match load_group(&tx, fp, &row.env)? {
                Some(g) => g,
                None => Group {
                    service: row.service.clone(),
                    class: row.error_class.clone().unwrap_or_default(),
                    message: non_empty(row.error_message.as_deref())
                        .unwrap_or(&row.message)
                        .to_string(),
                    file: None,
                    line: None,
                    status: "unresolved".into(),
                    first: row.ts,
                    last: row.ts,
                    count: 0,
                    last_seq: seq,
                    reopened: 0,
                    resolved_at: None,
                    users: 0,
                    reopens: Vec::new(),
                },
            };
            groups.insert(key.clone(), g);
        }
        let Some(g) = groups.get_mut(&key) else {
            continue;
        };
        g.count += 1;
        g.first = g.first.min(row.ts);
        g.last = g.last.max(row.ts);
        g.last_seq = g.last_seq.max(seq);
        if g.file.is_none()
            && let Some(f) = non_empty(row.source_file.as_deref())
        {
            g.file = Some(f.to_string());
            g.line = row.source_line;
        }
        if g.status == "resolved" && g.resolved_at.is_none_or(|t| row.ts > t) {
            g.status = "unresolved".into();
            g.reopened += 1;
            g.resolved_at = None;
            g.reopens.push(row.ts);
            applied.reopened += 1;
        }
        if let Some(user) = non_empty(row.user_id.as_deref()) {
            let ik = (key.0.clone(), key.1.clone(), user.to_string());
            if !impacts.contains_key(&ik) {
                let i = match load_impact(&tx, &key.0, &key.1, user)? {
                    Some(i) => i,
                    None => {
                        g.users += 1;
                        Impact {
                            service: row.service.clone(),
                            first: row.ts,
                            last: row.ts,
                            count: 0,
                            last_seq: seq,
                        }
                    }
                };
                impacts.insert(ik.clone(), i);
            }
            if let Some(i) = impacts.get_mut(&ik) {
                i.count += 1;
                i.first = i.first.min(row.ts);
                i.last = i.last.max(row.ts);
                i.last_seq = i.last_seq.max(seq);
            }
        }
    }
    write_groups(&tx, &groups, now)?;
    write_impacts(&tx, &impacts)?;
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO deploys (service, environment, version, first_seen_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(service, environment, version)
             DO UPDATE SET first_seen_at = min(first_seen_at, excluded.first_seen_at)",
        )?;
        for ((svc, env, ver), ts) in &deploys {
            st.execute(params![svc, env, ver, ts])?;
        }
    }
    tx.execute(
        "INSERT INTO follower_cursor (singleton, last_seq, updated_at) VALUES (1, ?1, ?2)
         ON CONFLICT(singleton) DO UPDATE SET last_seq = excluded.last_seq,
                                               updated_at = excluded.updated_at",
        params![new_cursor.0 as i64, now],
    )?;
    if commit {
        tx.commit()?;
    } else {
        tx.rollback()?;
    }
    Ok(applied)
}

fn write_groups(
    tx: &Connection,
    groups: &HashMap<GroupKey, Group>,
    now: i64,
) -> Result<(), FollowerError> {
    // Service, class and message keep the values of the group's first occurrence.
    let mut upsert = tx.prepare_cached(
        "INSERT INTO error_groups (fingerprint, environment, service, exception_class, message,
            source_file, source_line, status, first_seen_at, last_seen_at, occurrence_count,
            last_seq, reopened_count, resolved_at, unique_users, impact_base, impact_score)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (fingerprint, environment) DO UPDATE SET
            source_file = excluded.source_file, source_line = excluded.source_line,
            status = excluded.status, first_seen_at = excluded.first_seen_at,
            last_seen_at = excluded.last_seen_at, occurrence_count = excluded.occurrence_count,
            last_seq = excluded.last_seq, reopened_count = excluded.reopened_count,
            resolved_at = excluded.resolved_at, unique_users = excluded.unique_users,
            impact_base = excluded.impact_base, impact_score = excluded.impact_score",
    )?;
    let mut ev = tx.prepare_cached(
        "INSERT INTO error_group_events (fingerprint, environment, action, reason, created_at)
         VALUES (?1, ?2, 'reopened', 'recurred', ?3)",
    )?;
    for ((fp, env), g) in groups {
        let base = impact_base(g.users, g.count);
        let score = impact_score(g.users, g.count, g.last, now);
        upsert.execute(params![
            fp,
            env,
            g.service,
            g.class,
            g.message,
            g.file,
            g.line,
            g.status,
            g.first,
            g.last,
            g.count,
            g.last_seq,
            g.reopened,
            g.resolved_at,
            g.users,
            base,
            score
        ])?;
        for ts in &g.reopens {
            ev.execute(params![fp, env, ts])?;
        }
    }
    Ok(())
}

fn write_impacts(
    tx: &Connection,
    impacts: &HashMap<ImpactKey, Impact>,
) -> Result<(), FollowerError> {
    // The service keeps the value of the user's first occurrence.
    let mut upsert = tx.prepare_cached(
        "INSERT INTO error_impacts (fingerprint, environment, user_id, service, first_seen_at,
            last_seen_at, occurrence_count, last_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (fingerprint, environment, user_id) DO UPDATE SET
            first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
            occurrence_count = excluded.occurrence_count, last_seq = excluded.last_seq",
    )?;
    for ((fp, env, user), i) in impacts {
        upsert.execute(params![
            fp, env, user, i.service, i.first, i.last, i.count, i.last_seq
        ])?;
    }
    Ok(())
}
