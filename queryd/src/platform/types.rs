//! Small value types shared by the platform tables.

use serde::{Deserialize, Serialize};

/// Row id of a user in `users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Microseconds since the Unix epoch (UTC), the timestamp unit of every table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMicros(pub i64);

impl UnixMicros {
    /// The current wall-clock time.
    pub fn now() -> Self {
        Self(chrono::Utc::now().timestamp_micros())
    }

    /// This instant as UTC RFC 3339 with a `Z` suffix (the format every tool response uses).
    pub fn to_rfc3339(self) -> String {
        match chrono::DateTime::from_timestamp_micros(self.0) {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            None => String::from("invalid-time"),
        }
    }

    /// This instant plus `secs` seconds, saturating.
    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1_000_000)))
    }
}

/// Account role. Admins manage users, invites and settings and see every environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Full access.
    Admin,
    /// Read access to the environments the account is allowed.
    Member,
}

impl Role {
    /// The name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parses `admin` or `member`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// Normalises and validates a list of environment names (trimmed, non-empty, at most 64
/// characters of `[A-Za-z0-9_.-]`, deduplicated, sorted).
pub fn normalize_envs<I, S>(envs: I) -> std::result::Result<Vec<String>, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = Vec::new();
    for e in envs {
        let e = e.as_ref().trim();
        if e.is_empty() {
            continue;
        }
        let ok = e.len() <= 64
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            return Err(format!(
                "environment name {e:?} is invalid: use up to 64 letters, digits, '_', '-' or '.'"
            ));
        }
        out.push(e.to_string());
    }
    out.sort();
    out.dedup();
    Ok(out)
}
