//! Hooks that change the generated traffic at known moments: deploys and incidents.
//!
//! A later test injects an incident ("after the deploy, `POST /api/checkout` fails with a new
//! error class at `app/services/charge.rb:27` for 10 % of users") and then checks that the
//! server finds it. Everything here is deterministic: which requests fail depends only on the
//! entry index, the service version and the user id.

use super::entry::EntryIndex;

/// A version change of one service at a given entry index (the server derives deploy markers
/// from new `(service, env, version)` triples).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deploy {
    /// From this entry on, `service` reports `version`.
    pub at: EntryIndex,
    /// Service name.
    pub service: String,
    /// The new version string (a git SHA).
    pub version: String,
}

/// What the generator knows about a request before drawing its outcome.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Index of the request row.
    pub index: EntryIndex,
    /// Service name.
    pub service: &'a str,
    /// The version the service is running.
    pub version: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Route template, e.g. `/api/orders/:id`.
    pub route: &'a str,
    /// Numeric user id (sent as a string).
    pub user: u32,
    /// Environment.
    pub env: &'a str,
}

/// A failure a scenario forces on a request. The generator renders it the way the service's
/// SDK would: Node adds a separate error row with `error_class` and a stack; Ruby puts it in
/// the request row's `body.logs[]` with `metadata.exception_class` and a backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedFailure {
    /// Response status (e.g. 500).
    pub status: u16,
    /// Exception class, e.g. `"Checkout::GatewayTimeout"`.
    pub error_class: String,
    /// Exception message.
    pub message: String,
    /// Source file of the raising frame, e.g. `"app/services/charge.rb"`.
    pub file: String,
    /// Line of the raising frame.
    pub line: u32,
    /// Method name of the raising frame.
    pub function: String,
}

/// A hook consulted for every request row.
pub trait Scenario: Send {
    /// Returns a failure to force on this request, or `None` to let the generator decide.
    fn request_failure(&mut self, req: &RequestView<'_>) -> Option<InjectedFailure>;
}

/// The standard incident: one route of one service fails for a subset of users, from an entry
/// index on, optionally only while the service runs a given version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Service name.
    pub service: String,
    /// HTTP method of the failing route.
    pub method: String,
    /// Route template of the failing route (`/api/checkout`).
    pub route: String,
    /// First entry index at which the incident can happen.
    pub from: EntryIndex,
    /// If set, only requests served by this version fail (an incident caused by a deploy).
    pub version: Option<String>,
    /// Affected users: those with `user_id % 100 < user_percent`.
    pub user_percent: u32,
    /// The failure.
    pub failure: InjectedFailure,
}

impl Incident {
    /// Whether `user` is in the affected subset.
    pub fn affects_user(&self, user: u32) -> bool {
        user % 100 < self.user_percent
    }
}

impl Scenario for Incident {
    fn request_failure(&mut self, req: &RequestView<'_>) -> Option<InjectedFailure> {
        let hit = req.index >= self.from
            && req.service == self.service
            && req.method == self.method
            && req.route == self.route
            && self.version.as_deref().is_none_or(|v| v == req.version)
            && self.affects_user(req.user);
        hit.then(|| self.failure.clone())
    }
}
