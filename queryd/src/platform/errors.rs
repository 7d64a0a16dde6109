//! Error groups as maintained by the [`crate::follower`]: reads for the `errors` and
//! `overview` tools (list with sort and cursor, detail, affected users, lifecycle events,
//! counts) and the status actions resolve / ignore / reopen.
//!
//! Every read takes an [`EnvRestriction`]: rows of environments outside it are never
//! returned, whatever the other arguments say.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use opentrace_shared::Seq;

use super::audit::{Actor, record};
use super::{Platform, PlatformError, Result, UnixMicros, UserId};
use crate::query::EnvRestriction;

/// Lifecycle status of an error group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupStatus {
    /// New or recurring; needs attention.
    Unresolved,
    /// Marked fixed; a later occurrence reopens it.
    Resolved,
    /// Muted; occurrences are still counted but never reopen it.
    Ignored,
}

impl GroupStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::Unresolved => "unresolved",
            GroupStatus::Resolved => "resolved",
            GroupStatus::Ignored => "ignored",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<GroupStatus> {
        match s {
            "unresolved" => Some(GroupStatus::Unresolved),
            "resolved" => Some(GroupStatus::Resolved),
            "ignored" => Some(GroupStatus::Ignored),
            _ => None,
        }
    }
}

/// One error group: all error rows of one fingerprint in one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorGroup {
    /// Error fingerprint (computed by ingestd).
    pub fingerprint: String,
    /// Environment of the rows.
    pub environment: String,
    /// Service of the first occurrence.
    pub service: String,
    /// Exception class of the first occurrence (empty when the row had none).
    pub exception_class: String,
    /// Error message of the first occurrence (its log message when it had none).
    pub message: String,
    /// Source file of the first occurrence that had one.
    pub source_file: Option<String>,
    /// Source line of the first occurrence that had one.
    pub source_line: Option<i64>,
    /// Lifecycle status.
    pub status: GroupStatus,
    /// Earliest event time of an occurrence.
    pub first_seen_at: UnixMicros,
    /// Latest event time of an occurrence.
    pub last_seen_at: UnixMicros,
    /// Number of occurrences (each error row once).
    pub occurrence_count: i64,
    /// Seq of the last applied occurrence (a log id for `logs` lookups).
    #[serde(serialize_with = "ser_opt_seq")]
    pub last_seq: Option<Seq>,
    /// How many times the group went from resolved back to unresolved.
    pub reopened_count: i64,
    /// When it was resolved (absent unless resolved).
    pub resolved_at: Option<UnixMicros>,
    /// When it was ignored (absent unless ignored).
    pub ignored_at: Option<UnixMicros>,
    /// Distinct `user_id`s among the occurrences.
    pub unique_users: i64,
    /// `unique_users × log2(occurrence_count + 1) × recency`, as of the read (see
    /// [`impact_score`]).
    pub impact_score: f64,
    /// Linked issue, if any.
    pub issue_url: Option<String>,
}

/// Sort order of [`Platform::list_error_groups`]; every order is descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupSort {
    /// Most recently seen first.
    #[default]
    LastSeen,
    /// Most occurrences first.
    Count,
    /// Highest impact score (as of now) first.
    Impact,
    /// Newest groups first.
    FirstSeen,
    /// Most affected users first.
    UniqueUsers,
}

impl GroupSort {
    /// Parses a tool argument (`last_seen`, `count`/`occurrence_count`, `impact`/
    /// `impact_score`, `first_seen`, `unique_users`).
    pub fn parse(s: &str) -> Option<GroupSort> {
        Some(match s {
            "last_seen" | "last_seen_at" => GroupSort::LastSeen,
            "count" | "occurrence_count" | "occurrences" => GroupSort::Count,
            "impact" | "impact_score" => GroupSort::Impact,
            "first_seen" | "first_seen_at" | "new" => GroupSort::FirstSeen,
            "unique_users" | "users" => GroupSort::UniqueUsers,
            _ => return None,
        })
    }
}

/// What [`Platform::list_error_groups`] selects.
#[derive(Debug, Clone, Default)]
pub struct GroupQuery {
    /// Only groups with this status.
    pub status: Option<GroupStatus>,
    /// Only groups of this service.
    pub service: Option<String>,
    /// Only groups seen at or after this time (`last_seen_at >= since`).
    pub since: Option<UnixMicros>,
    /// Only groups first seen at or after this time (new errors).
    pub first_seen_since: Option<UnixMicros>,
    /// Order.
    pub sort: GroupSort,
    /// Page size, 1..=100 (0 means 20).
    pub limit: u32,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of error groups.
#[derive(Debug, Clone, Serialize)]
pub struct GroupPage {
    /// The groups, in the requested order.
    pub groups: Vec<ErrorGroup>,
    /// Groups matching the query in total (all pages).
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A user affected by an error group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AffectedUser {
    /// The application's user id (the row's `user_id`).
    pub user_id: String,
    /// Environment of the group.
    pub environment: String,
    /// Service of the user's first occurrence.
    pub service: String,
    /// Occurrences for this user.
    pub occurrence_count: i64,
    /// First occurrence for this user.
    pub first_seen_at: UnixMicros,
    /// Last occurrence for this user.
    pub last_seen_at: UnixMicros,
    /// Seq of the user's last occurrence.
    #[serde(serialize_with = "ser_seq")]
    pub last_seq: Seq,
}

/// An error group one user ran into (for `errors user_errors`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserGroup {
    /// The group.
    pub group: ErrorGroup,
    /// This user's occurrences of it.
    pub user_occurrences: i64,
    /// This user's last occurrence.
    pub user_last_seen_at: UnixMicros,
}

/// One lifecycle event of a group (`resolved`, `ignored`, `reopened`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupEvent {
    /// Row id.
    pub id: i64,
    /// Group fingerprint.
    pub fingerprint: String,
    /// Group environment.
    pub environment: String,
    /// `resolved`, `ignored` or `reopened`.
    pub action: String,
    /// Why (`recurred` for automatic reopens).
    pub reason: Option<String>,
    /// Acting account; absent for automatic events.
    pub user_id: Option<UserId>,
    /// When (for `recurred`: the event time of the recurring row).
    pub created_at: UnixMicros,
}

/// Number of groups per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GroupCounts {
    /// Unresolved groups.
    pub unresolved: i64,
    /// Resolved groups.
    pub resolved: i64,
    /// Ignored groups.
    pub ignored: i64,
}

/// A status change requested by a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    /// Mark fixed.
    Resolve,
    /// Mute.
    Ignore,
    /// Back to unresolved.
    Reopen,
}

impl StatusAction {
    fn event(self) -> &'static str {
        match self {
            StatusAction::Resolve => "resolved",
            StatusAction::Ignore => "ignored",
            StatusAction::Reopen => "reopened",
        }
    }
}

fn ser_seq<S: serde::Serializer>(s: &Seq, ser: S) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_u64(s.0)
}

fn ser_opt_seq<S: serde::Serializer>(
    s: &Option<Seq>,
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    match s {
        Some(s) => ser.serialize_some(&s.0),
        None => ser.serialize_none(),
    }
}

const HOUR_US: i64 = 3_600_000_000;

/// Recency factor of the impact score: 1.0 if the group was seen less than an hour ago,
/// 0.8 under a day, 0.5 under a week, else 0.2.
pub fn recency(age_us: i64) -> f64 {
    if age_us < HOUR_US {
        1.0
    } else if age_us < 24 * HOUR_US {
        0.8
    } else if age_us < 7 * 24 * HOUR_US {
        0.5
    } else {
        0.2
    }
}

/// `unique_users × log2(occurrences + 1)`: the part of the impact score that only changes
/// when occurrences arrive (stored as `error_groups.impact_base`).
pub fn impact_base(unique_users: i64, occurrences: i64) -> f64 {
    unique_users.max(0) as f64 * ((occurrences.max(0) as f64) + 1.0).log2()
}

/// The impact score `unique_users × log2(occurrences + 1) × recency(now − last_seen)`,
/// rounded to 2 decimals.
pub fn impact_score(unique_users: i64, occurrences: i64, last_seen: i64, now: i64) -> f64 {
    round2(impact_base(unique_users, occurrences) * recency(now.saturating_sub(last_seen)))
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// SQL of the recency factor for a group row, as of `now` (an integer we produce).
fn recency_sql(now: i64) -> String {
    format!(
        "(CASE WHEN {now} - last_seen_at < {h} THEN 1.0 WHEN {now} - last_seen_at < {d} THEN 0.8 \
         WHEN {now} - last_seen_at < {w} THEN 0.5 ELSE 0.2 END)",
        h = HOUR_US,
        d = 24 * HOUR_US,
        w = 7 * 24 * HOUR_US
    )
}

/// A growing WHERE clause with positional parameters.
#[derive(Default)]
pub(crate) struct Where {
    terms: Vec<String>,
    pub(crate) params: Vec<SqlValue>,
}

impl Where {
    /// Adds `term` (with `?` placeholders) and its parameters.
    pub(crate) fn and(&mut self, term: &str, ps: impl IntoIterator<Item = SqlValue>) {
        self.terms.push(term.to_string());
        self.params.extend(ps);
    }

    /// Restricts `col` to the allowed environments (an empty list matches nothing).
    pub(crate) fn envs(&mut self, col: &str, envs: &EnvRestriction) {
        if let EnvRestriction::Only(list) = envs {
            let json = serde_json::Value::from(list.clone()).to_string();
            self.and(
                &format!("{col} IN (SELECT value FROM json_each(?))"),
                [SqlValue::Text(json)],
            );
        }
    }

    /// `WHERE a AND b ...`, or nothing.
    pub(crate) fn sql(&self) -> String {
        if self.terms.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.terms.join(" AND "))
        }
    }
}

const GROUP_COLS: &str = "fingerprint, environment, service, exception_class, message, \
    source_file, source_line, status, first_seen_at, last_seen_at, occurrence_count, last_seq, \
    reopened_count, resolved_at, ignored_at, unique_users, issue_url";

fn group_from_row(r: &rusqlite::Row<'_>, now: i64) -> rusqlite::Result<ErrorGroup> {
    let status: String = r.get(7)?;
    let occurrence_count: i64 = r.get(10)?;
    let unique_users: i64 = r.get(15)?;
    let last_seen: i64 = r.get(9)?;
    Ok(ErrorGroup {
        fingerprint: r.get(0)?,
        environment: r.get(1)?,
        service: r.get(2)?,
        exception_class: r.get(3)?,
        message: r.get(4)?,
        source_file: r.get(5)?,
        source_line: r.get(6)?,
        status: GroupStatus::parse(&status).unwrap_or(GroupStatus::Unresolved),
        first_seen_at: UnixMicros(r.get(8)?),
        last_seen_at: UnixMicros(last_seen),
        occurrence_count,
        last_seq: r.get::<_, Option<i64>>(11)?.map(|s| Seq(s.max(0) as u64)),
        reopened_count: r.get(12)?,
        resolved_at: r.get::<_, Option<i64>>(13)?.map(UnixMicros),
        ignored_at: r.get::<_, Option<i64>>(14)?.map(UnixMicros),
        unique_users,
        impact_score: impact_score(unique_users, occurrence_count, last_seen, now),
        issue_url: r.get(16)?,
    })
}

/// Cursor of [`GroupPage`]: the offset of the next page, as `o<offset>` (0 without one).
/// Callers use it to number the rows of a page.
pub fn parse_cursor(c: Option<&str>) -> Result<i64> {
    match c {
        None | Some("") => Ok(0),
        Some(c) => c
            .strip_prefix('o')
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                PlatformError::Invalid(format!(
                    "invalid cursor {c:?}: pass back the next_cursor of the previous page"
                ))
            }),
    }
}

/// The groups of `fingerprint` within `envs` (and `env`, when given), newest first.
fn find_groups(
    conn: &Connection,
    envs: &EnvRestriction,
    fingerprint: &str,
    env: Option<&str>,
    now: i64,
) -> Result<Vec<ErrorGroup>> {
    let mut w = Where::default();
    w.and("fingerprint = ?", [SqlValue::Text(fingerprint.to_string())]);
    if let Some(e) = env {
        w.and("environment = ?", [SqlValue::Text(e.to_string())]);
    }
    w.envs("environment", envs);
    let sql = format!(
        "SELECT {GROUP_COLS} FROM error_groups {} ORDER BY last_seen_at DESC, environment",
        w.sql()
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(w.params.iter()), |r| {
        group_from_row(r, now)
    })?;
    Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
}

impl Platform {
    /// Lists error groups of the allowed environments matching `q`, sorted and paged.
    pub fn list_error_groups(&self, envs: &EnvRestriction, q: &GroupQuery) -> Result<GroupPage> {
        let limit = i64::from(if q.limit == 0 { 20 } else { q.limit.min(100) });
        let offset = parse_cursor(q.cursor.as_deref())?;
        let now = UnixMicros::now().0;
        let mut w = Where::default();
        w.envs("environment", envs);
        if let Some(s) = q.status {
            w.and("status = ?", [SqlValue::Text(s.as_str().into())]);
        }
        if let Some(s) = &q.service {
            w.and("service = ?", [SqlValue::Text(s.clone())]);
        }
        if let Some(t) = q.since {
            w.and("last_seen_at >= ?", [SqlValue::Integer(t.0)]);
        }
        if let Some(t) = q.first_seen_since {
            w.and("first_seen_at >= ?", [SqlValue::Integer(t.0)]);
        }
        let order = match q.sort {
            GroupSort::LastSeen => "last_seen_at DESC".to_string(),
            GroupSort::Count => "occurrence_count DESC, last_seen_at DESC".to_string(),
            GroupSort::FirstSeen => "first_seen_at DESC".to_string(),
            GroupSort::UniqueUsers => "unique_users DESC, occurrence_count DESC".to_string(),
            GroupSort::Impact => format!(
                "round(impact_base * {} * 100.0) DESC, last_seen_at DESC",
                recency_sql(now)
            ),
        };
        let conn = self.conn();
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM error_groups {}", w.sql()),
            params_from_iter(w.params.iter()),
            |r| r.get(0),
        )?;
        let sql = format!(
            "SELECT {GROUP_COLS} FROM error_groups {} ORDER BY {order}, fingerprint, environment \
             LIMIT {} OFFSET {offset}",
            w.sql(),
            limit + 1
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.params.iter()), |r| {
            group_from_row(r, now)
        })?;
        let mut groups = rows.collect::<std::result::Result<Vec<_>, _>>()?;
        let next_cursor = if groups.len() as i64 > limit {
            groups.truncate(limit as usize);
            Some(format!("o{}", offset + limit))
        } else {
            None
        };
        Ok(GroupPage {
            groups,
            total,
            next_cursor,
        })
    }

    /// The group of `fingerprint` in `env` (or, without `env`, the most recently seen one
    /// among the allowed environments). `None` if there is none the caller may see.
    pub fn get_error_group(
        &self,
        envs: &EnvRestriction,
        fingerprint: &str,
        env: Option<&str>,
    ) -> Result<Option<ErrorGroup>> {
        let conn = self.conn();
        let mut v = find_groups(&conn, envs, fingerprint, env, UnixMicros::now().0)?;
        Ok(if v.is_empty() {
            None
        } else {
            Some(v.swap_remove(0))
        })
    }

    /// Users affected by the group (`fingerprint`, `env` or the most recently seen allowed
    /// one), most occurrences first, at most `limit` (1..=100).
    pub fn error_group_users(
        &self,
        envs: &EnvRestriction,
        fingerprint: &str,
        env: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AffectedUser>> {
        let conn = self.conn();
        let groups = find_groups(&conn, envs, fingerprint, env, UnixMicros::now().0)?;
        let Some(g) = groups.first() else {
            return Ok(Vec::new());
        };
        let mut stmt = conn.prepare(
            "SELECT user_id, environment, service, occurrence_count, first_seen_at, last_seen_at,
                    last_seq
             FROM error_impacts WHERE fingerprint = ?1 AND environment = ?2
             ORDER BY occurrence_count DESC, last_seen_at DESC, user_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![g.fingerprint, g.environment, limit.clamp(1, 100)],
            |r| {
                Ok(AffectedUser {
                    user_id: r.get(0)?,
                    environment: r.get(1)?,
                    service: r.get(2)?,
                    occurrence_count: r.get(3)?,
                    first_seen_at: UnixMicros(r.get(4)?),
                    last_seen_at: UnixMicros(r.get(5)?),
                    last_seq: Seq(r.get::<_, i64>(6)?.max(0) as u64),
                })
            },
        )?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Error groups one application user ran into since `since`, most recent first.
    pub fn user_error_groups(
        &self,
        envs: &EnvRestriction,
        user_id: &str,
        since: Option<UnixMicros>,
        limit: u32,
    ) -> Result<Vec<UserGroup>> {
        let now = UnixMicros::now().0;
        let mut w = Where::default();
        w.and("i.user_id = ?", [SqlValue::Text(user_id.to_string())]);
        w.envs("i.environment", envs);
        if let Some(t) = since {
            w.and("i.last_seen_at >= ?", [SqlValue::Integer(t.0)]);
        }
        let cols: String = GROUP_COLS
            .split(", ")
            .map(|c| format!("g.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, i.occurrence_count, i.last_seen_at FROM error_impacts i
             JOIN error_groups g ON g.fingerprint = i.fingerprint AND g.environment = i.environment
             {} ORDER BY i.last_seen_at DESC LIMIT {}",
            w.sql(),
            limit.clamp(1, 100)
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.params.iter()), |r| {
            Ok(UserGroup {
                group: group_from_row(r, now)?,
                user_occurrences: r.get(17)?,
                user_last_seen_at: UnixMicros(r.get(18)?),
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Lifecycle events of the group, newest first, at most `limit` (1..=200).
    pub fn error_group_events(
        &self,
        envs: &EnvRestriction,
        fingerprint: &str,
        env: Option<&str>,
        limit: u32,
    ) -> Result<Vec<GroupEvent>> {
        let mut w = Where::default();
        w.and("fingerprint = ?", [SqlValue::Text(fingerprint.to_string())]);
        if let Some(e) = env {
            w.and("environment = ?", [SqlValue::Text(e.to_string())]);
        }
        w.envs("environment", envs);
        self.events_where(&w, limit)
    }

    /// Lifecycle events of every allowed group within `[from, to)`, newest first (for
    /// timelines).
    pub fn error_events_between(
        &self,
        envs: &EnvRestriction,
        from: UnixMicros,
        to: UnixMicros,
        limit: u32,
    ) -> Result<Vec<GroupEvent>> {
        let mut w = Where::default();
        w.and(
            "created_at >= ? AND created_at < ?",
            [SqlValue::Integer(from.0), SqlValue::Integer(to.0)],
        );
        w.envs("environment", envs);
        self.events_where(&w, limit)
    }

    fn events_where(&self, w: &Where, limit: u32) -> Result<Vec<GroupEvent>> {
        let sql = format!(
            "SELECT id, fingerprint, environment, action, reason, user_id, created_at
             FROM error_group_events {} ORDER BY created_at DESC, id DESC LIMIT {}",
            w.sql(),
            limit.clamp(1, 200)
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.params.iter()), |r| {
            Ok(GroupEvent {
                id: r.get(0)?,
                fingerprint: r.get(1)?,
                environment: r.get(2)?,
                action: r.get(3)?,
                reason: r.get(4)?,
                user_id: r.get::<_, Option<i64>>(5)?.map(UserId),
                created_at: UnixMicros(r.get(6)?),
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Number of groups per status in the allowed environments (optionally one service).
    pub fn error_group_counts(
        &self,
        envs: &EnvRestriction,
        service: Option<&str>,
    ) -> Result<GroupCounts> {
        let mut w = Where::default();
        w.envs("environment", envs);
        if let Some(s) = service {
            w.and("service = ?", [SqlValue::Text(s.to_string())]);
        }
        let sql = format!(
            "SELECT status, COUNT(*) FROM error_groups {} GROUP BY status",
            w.sql()
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(w.params.iter()), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut c = GroupCounts::default();
        for row in rows {
            let (s, n) = row?;
            match GroupStatus::parse(&s) {
                Some(GroupStatus::Unresolved) => c.unresolved = n,
                Some(GroupStatus::Resolved) => c.resolved = n,
                Some(GroupStatus::Ignored) => c.ignored = n,
                None => {}
            }
        }
        Ok(c)
    }

    /// Resolves, ignores or reopens the group(s) of `fingerprint` (in `env`, or in every
    /// allowed environment that has it), writing a lifecycle event and an audit row in the
    /// same transaction. `reason` is required. Returns the updated groups.
    pub fn set_error_group_status(
        &self,
        envs: &EnvRestriction,
        fingerprint: &str,
        env: Option<&str>,
        action: StatusAction,
        reason: &str,
        actor: &Actor,
    ) -> Result<Vec<ErrorGroup>> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(PlatformError::Invalid(
                "reason is required: say why (e.g. \"fixed in a1b2c3\")".into(),
            ));
        }
        let now = UnixMicros::now().0;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let groups = find_groups(&tx, envs, fingerprint, env, now)?;
        if groups.is_empty() {
            return Err(PlatformError::NotFound("error group"));
        }
        for g in &groups {
            let key = params![g.fingerprint, g.environment, now];
            match action {
                StatusAction::Resolve => tx.execute(
                    "UPDATE error_groups SET status = 'resolved', resolved_at = ?3,
                     ignored_at = NULL WHERE fingerprint = ?1 AND environment = ?2",
                    key,
                )?,
                StatusAction::Ignore => tx.execute(
                    "UPDATE error_groups SET status = 'ignored', ignored_at = ?3,
                     resolved_at = NULL WHERE fingerprint = ?1 AND environment = ?2",
                    key,
                )?,
                StatusAction::Reopen => tx.execute(
                    "UPDATE error_groups SET status = 'unresolved', resolved_at = NULL,
                     ignored_at = NULL,
                     reopened_count = reopened_count + (CASE WHEN status = 'unresolved'
                        THEN 0 ELSE 1 END)
                     WHERE fingerprint = ?1 AND environment = ?2",
                    params![g.fingerprint, g.environment],
                )?,
            };
            tx.execute(
                "INSERT INTO error_group_events
                 (fingerprint, environment, action, reason, user_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    g.fingerprint,
                    g.environment,
                    action.event(),
                    reason,
                    actor.user_id.map(|u| u.0),
                    now
                ],
            )?;
            record(
                &tx,
                actor,
                &format!("error_group.{}", action.event()),
                Some(&format!("error_group:{}@{}", g.fingerprint, g.environment)),
                &serde_json::json!({ "reason": reason, "previous_status": g.status.as_str() }),
            )?;
        }
        let updated = find_groups(&tx, envs, fingerprint, env, now)?;
        tx.commit()?;
        Ok(updated)
    }

    /// The follower's cursor: the last seq whose derived state is applied (`None` before
    /// the first batch).
    pub fn follower_cursor(&self) -> Result<Option<Seq>> {
        let v: Option<i64> = self
            .conn()
            .query_row(
                "SELECT last_seq FROM follower_cursor WHERE singleton = 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.map(|s| Seq(s.max(0) as u64)))
    }
}
