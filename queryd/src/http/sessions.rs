//! Binds each MCP session to the user whose token created it, so another user's token
//! presenting that `Mcp-Session-Id` is refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::platform::UserId;

/// Entries older than this are forgotten when the table is full (rmcp expires idle
/// sessions well before).
const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Table size that triggers pruning.
const PRUNE_AT: usize = 10_000;

/// Session id → (owner, created).
#[derive(Debug, Default)]
pub struct SessionBindings {
    map: Mutex<HashMap<String, (UserId, Instant)>>,
}

/// Whether a request may use a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCheck {
    /// Unknown here (rmcp decides: unknown sessions get 404).
    Unknown,
    /// Owned by the caller.
    Owner,
    /// Owned by someone else.
    Foreign,
}

impl SessionBindings {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (UserId, Instant)>> {
        match self.map.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Records that `user` created session `id`.
    pub fn bind(&self, id: &str, user: UserId) {
        let mut map = self.lock();
        if map.len() >= PRUNE_AT {
            let now = Instant::now();
            map.retain(|_, (_, at)| now.duration_since(*at) < MAX_AGE);
        }
        map.insert(id.to_string(), (user, Instant::now()));
    }

    /// Checks `user` against the owner of session `id`.
    pub fn check(&self, id: &str, user: UserId) -> SessionCheck {
        match self.lock().get(id) {
            None => SessionCheck::Unknown,
            Some((owner, _)) if *owner == user => SessionCheck::Owner,
            Some(_) => SessionCheck::Foreign,
        }
    }

    /// Forgets a session (after DELETE).
    pub fn unbind(&self, id: &str) {
        self.lock().remove(id);
    }
}
