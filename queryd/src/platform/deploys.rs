//! Deploys detected by the [`crate::follower`]: the first sight of a (service, environment,
//! version) triple. Reads for `overview` and the `last_deploy` time window.

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde::Serialize;

use super::errors::Where;
use super::{Platform, Result, UnixMicros};
use crate::query::EnvRestriction;

/// One deploy: a version first seen for a service in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    /// Row id.
    pub id: i64,
    /// Service.
    pub service: String,
    /// Environment.
    pub environment: String,
    /// Version (commit hash or release name) as sent by the SDK.
    pub version: String,
    /// Event time of the earliest row seen with this version.
    pub first_seen_at: UnixMicros,
}

/// What [`Platform::list_deploys`] selects.
#[derive(Debug, Clone, Default)]
pub struct DeployQuery {
    /// Only this service.
    pub service: Option<String>,
    /// Only deploys first seen at or after this time.
    pub since: Option<UnixMicros>,
    /// Only deploys first seen before this time.
    pub until: Option<UnixMicros>,
    /// Most rows, 1..=200 (0 means 20).
    pub limit: u32,
}

const DEPLOY_COLS: &str = "id, service, environment, version, first_seen_at";

fn deploy_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Deploy> {
    Ok(Deploy {
        id: r.get(0)?,
        service: r.get(1)?,
        environment: r.get(2)?,
        version: r.get(3)?,
        first_seen_at: UnixMicros(r.get(4)?),
    })
}

impl Platform {
    fn deploys_where(&self, sql: &str, w: &Where) -> Result<Vec<Deploy>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(params_from_iter(w.params.iter()), deploy_from_row)?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Deploys of the allowed environments matching `q`, newest first.
    pub fn list_deploys(&self, envs: &EnvRestriction, q: &DeployQuery) -> Result<Vec<Deploy>> {
        let mut w = Where::default();
        w.envs("environment", envs);
        if let Some(s) = &q.service {
            w.and("service = ?", [SqlValue::Text(s.clone())]);
        }
        if let Some(t) = q.since {
            w.and("first_seen_at >= ?", [SqlValue::Integer(t.0)]);
        }
        if let Some(t) = q.until {
            w.and("first_seen_at < ?", [SqlValue::Integer(t.0)]);
        }
        let limit = if q.limit == 0 { 20 } else { q.limit.min(200) };
        let sql = format!(
            "SELECT {DEPLOY_COLS} FROM deploys {} ORDER BY first_seen_at DESC, id DESC LIMIT {limit}",
            w.sql()
        );
        self.deploys_where(&sql, &w)
    }

    /// The latest deploy of every (service, environment) in the allowed environments
    /// (optionally one service), newest first.
    pub fn last_deploys(
        &self,
        envs: &EnvRestriction,
        service: Option<&str>,
    ) -> Result<Vec<Deploy>> {
        let mut w = Where::default();
        w.envs("d.environment", envs);
        if let Some(s) = service {
            w.and("d.service = ?", [SqlValue::Text(s.to_string())]);
        }
        w.and(
            "NOT EXISTS (SELECT 1 FROM deploys n WHERE n.service = d.service
               AND n.environment = d.environment
               AND (n.first_seen_at > d.first_seen_at
                    OR (n.first_seen_at = d.first_seen_at AND n.id > d.id)))",
            [],
        );
        let sql = format!(
            "SELECT d.id, d.service, d.environment, d.version, d.first_seen_at FROM deploys d {}
             ORDER BY d.first_seen_at DESC, d.id DESC",
            w.sql()
        );
        self.deploys_where(&sql, &w)
    }

    /// The latest deploy of `service` in `env`, if the caller may see `env` and there is one
    /// (resolves the `last_deploy` time token).
    pub fn last_deploy(
        &self,
        envs: &EnvRestriction,
        service: &str,
        env: &str,
    ) -> Result<Option<Deploy>> {
        if !envs.allows(env) {
            return Ok(None);
        }
        let mut w = Where::default();
        w.and(
            "service = ? AND environment = ?",
            [
                SqlValue::Text(service.to_string()),
                SqlValue::Text(env.to_string()),
            ],
        );
        let sql = format!(
            "SELECT {DEPLOY_COLS} FROM deploys {} ORDER BY first_seen_at DESC, id DESC LIMIT 1",
            w.sql()
        );
        Ok(self.deploys_where(&sql, &w)?.into_iter().next())
    }
}
