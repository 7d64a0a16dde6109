//! Agent notes attached to an entity (`service`, `endpoint`, `error`, ...), one per entity,
//! re-surfaced in later tool responses.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Platform, Result, UnixMicros, UserId};

/// One note.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// Entity kind, e.g. `service`.
    pub entity_type: String,
    /// Entity key, e.g. `checkout`.
    pub entity_id: String,
    /// The text.
    pub note: String,
    /// Last change, RFC 3339 UTC.
    pub updated_at: String,
}

fn note_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    Ok(Note {
        entity_type: r.get(0)?,
        entity_id: r.get(1)?,
        note: r.get(2)?,
        updated_at: UnixMicros(r.get(3)?).to_rfc3339(),
    })
}

impl Platform {
    /// Creates or replaces the note on an entity.
    pub fn upsert_note(
        &self,
        entity_type: &str,
        entity_id: &str,
        note: &str,
        by: Option<UserId>,
    ) -> Result<Note> {
        let now = UnixMicros::now().0;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO notes (entity_type, entity_id, note, created_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT(entity_type, entity_id)
             DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at",
            params![entity_type, entity_id, note, by.map(|u| u.0), now],
        )?;
        Ok(Note {
            entity_type: entity_type.to_string(),
            entity_id: entity_id.to_string(),
            note: note.to_string(),
            updated_at: UnixMicros(now).to_rfc3339(),
        })
    }

    /// The note on an entity, if any.
    pub fn note(&self, entity_type: &str, entity_id: &str) -> Result<Option<Note>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT entity_type, entity_id, note, updated_at FROM notes
                 WHERE entity_type = ?1 AND entity_id = ?2",
                params![entity_type, entity_id],
                note_from_row,
            )
            .optional()?)
    }

    /// Notes, newest first, optionally of one entity type.
    pub fn list_notes(&self, entity_type: Option<&str>, limit: u32) -> Result<Vec<Note>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT entity_type, entity_id, note, updated_at FROM notes
             WHERE (?1 IS NULL OR entity_type = ?1) ORDER BY updated_at DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![entity_type, limit.clamp(1, 200)], note_from_row)?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Deletes the note on an entity; returns whether one existed.
    pub fn delete_note(&self, entity_type: &str, entity_id: &str) -> Result<bool> {
        Ok(self.conn().execute(
            "DELETE FROM notes WHERE entity_type = ?1 AND entity_id = ?2",
            params![entity_type, entity_id],
        )? > 0)
    }
}
