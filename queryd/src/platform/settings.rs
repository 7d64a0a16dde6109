//! Settings: key/value rows in `settings`, written through to `DATA_DIR/settings.json`,
//! the file ingestd watches (PII rules, retention). The file is published atomically:
//! `settings.json.tmp` is written and fsynced, renamed over `settings.json`, and the
//! directory is fsynced, so a reader sees the old or the new document, never a torn one.
//!
//! Shape: `{"pii": {"enabled": true, "extra_patterns": [], "extra_keys": []},
//! "retention_days": null}`. Keys this version does not know (found in the existing file
//! or in the table) are kept, so a newer writer's keys survive an older one.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

use super::audit::{Actor, record};
use super::{Platform, PlatformError, Result, UnixMicros};

/// File name of the published settings, relative to the data directory.
pub const SETTINGS_FILE: &str = "settings.json";

/// The document used when nothing has been set.
pub fn default_settings() -> Value {
    json!({
        "pii": {"enabled": true, "extra_patterns": [], "extra_keys": []},
        "retention_days": null
    })
}

fn db_settings(conn: &Connection) -> Result<Map<String, Value>> {
    let mut stmt = conn.prepare("SELECT key, value FROM settings ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Map::new();
    for row in rows {
        let (k, v) = row?;
        out.insert(k, serde_json::from_str(&v)?);
    }
    Ok(out)
}

/// Builds the full document: defaults, overlaid by the keys of the current file (unknown
/// keys kept), overlaid by the table.
fn merged(conn: &Connection, data_dir: &Path) -> Result<Value> {
    let mut doc = match default_settings() {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Ok(bytes) = std::fs::read(data_dir.join(SETTINGS_FILE))
        && let Ok(Value::Object(existing)) = serde_json::from_slice::<Value>(&bytes)
    {
        doc.extend(existing);
    }
    doc.extend(db_settings(conn)?);
    Ok(Value::Object(doc))
}

/// Writes `bytes` to `dir/name` atomically: tmp file, fsync, rename, fsync of the directory.
pub fn publish_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn validate(key: &str, value: &Value) -> Result<()> {
    match key {
        "retention_days" => match value {
            Value::Null => Ok(()),
            Value::Number(n) if n.as_u64().is_some_and(|d| (1..=3650).contains(&d)) => Ok(()),
            _ => Err(PlatformError::Invalid(String::from(
                "retention_days must be an integer from 1 to 3650, or null for no limit",
            ))),
        },
        "pii" => {
            let ok = value.as_object().is_some_and(|o| {
                o.get("enabled").is_none_or(Value::is_boolean)
                    && ["extra_patterns", "extra_keys"].iter().all(|k| {
                        o.get(*k).is_none_or(|v| {
                            v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
                        })
                    })
            });
            if ok {
                Ok(())
            } else {
                Err(PlatformError::Invalid(String::from(
                    "pii must be {\"enabled\": bool, \"extra_patterns\": [string], \"extra_keys\": [string]}",
                )))
            }
        }
        _ => Ok(()),
    }
}

impl Platform {
    /// The current settings document (what settings.json holds).
    pub fn settings(&self) -> Result<Value> {
        merged(&self.conn(), self.data_dir())
    }

    /// Sets one top-level key, audits it and republishes settings.json, all before the
    /// transaction commits (a failed publish rolls the change back).
    pub fn set_setting(&self, key: &str, value: Value, actor: &Actor) -> Result<Value> {
        validate(key, &value)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let before = merged(&tx, self.data_dir())?.get(key).cloned();
        tx.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![key, value.to_string(), UnixMicros::now().0],
        )?;
        record(
            &tx,
            actor,
            "settings.updated",
            Some(&format!("setting:{key}")),
            &json!({"from": before, "to": value}),
        )?;
        let doc = merged(&tx, self.data_dir())?;
        publish_atomically(
            self.data_dir(),
            SETTINGS_FILE,
            serde_json::to_string_pretty(&doc)?.as_bytes(),
        )?;
        tx.commit()?;
        Ok(doc)
    }

    /// Republishes settings.json from the table (at start-up, so the file always exists and
    /// matches the database).
    pub fn publish_settings(&self) -> Result<Value> {
        let conn = self.conn();
        let doc = merged(&conn, self.data_dir())?;
        publish_atomically(
            self.data_dir(),
            SETTINGS_FILE,
            serde_json::to_string_pretty(&doc)?.as_bytes(),
        )?;
        Ok(doc)
    }
}
