//! Deterministic load generator: SDK-shaped log entries in the proportions of a real app.
//!
//! [`Generator`] turns a [`GenConfig`] (seed, mix, error rate, fleet size, deploys) and a
//! [`Corpus`] of real log text into an endless, reproducible stream of [`Entry`] values in the
//! flat v2 wire format. The same seed and config always give byte-identical JSON. Every entry
//! carries a marker (`body.lg_seq` and the token `lg-<seed>-<index>` at the end of its message)
//! so a test can find it again in the store. [`wire`] turns batches into request bodies,
//! [`send`] posts them to a loopback server and builds a [`report::Report`].
//! See `docs/LOADGEN.md`.

pub mod app;
pub mod corpus;
pub mod entry;
pub mod generator;
pub mod ids;
pub mod report;
pub mod scenario;
pub mod send;
pub mod ts;
pub mod wire;

pub use corpus::{Corpus, CorpusError, CorpusLevel, CorpusLine};
pub use entry::{Entry, EntryIndex, EntryKind, Num};
pub use generator::{Batch, Generator};
pub use scenario::{Deploy, Incident, InjectedFailure, RequestView, Scenario};
pub use ts::{Micros, TsPrecision};

/// Relative weights of the entry kinds drawn for each new entry (they need not sum to 100).
///
/// Error rows that a Node service sends right after a failed request are *follow-ups*: they
/// come on top of the mix (their number follows from `error_rate`), like in a real app.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// Request summary rows.
    pub request: u32,
    /// Plain log rows.
    pub log: u32,
    /// Standalone error rows.
    pub error: u32,
    /// Custom events and runtime metrics.
    pub event: u32,
}

impl Default for Mix {
    /// 20 % requests, 70 % logs, 4 % errors, 6 % events.
    fn default() -> Self {
        Mix {
            request: 20,
            log: 70,
            error: 4,
            event: 6,
        }
    }
}

impl Mix {
    /// The sum of the weights.
    pub fn total(&self) -> u32 {
        self.request + self.log + self.error + self.event
    }
}

/// 2026-04-18T10:00:00Z, the default start of the simulated clock.
pub const DEFAULT_START: Micros = Micros(1_776_506_400_000_000);

/// Everything that shapes the generated stream. Same config → same bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// RNG seed; also part of every marker token.
    pub seed: u64,
    /// Kind proportions.
    pub mix: Mix,
    /// Share of request rows answered 5xx (0.0..=1.0).
    pub error_rate: f64,
    /// Share of request rows answered 4xx.
    pub client_error_rate: f64,
    /// Number of services (default 8).
    pub services: usize,
    /// Number of routes across all services (default 60).
    pub endpoints: usize,
    /// Number of distinct users (default 5000).
    pub users: u32,
    /// Share of traffic from `staging` (the rest is `production`).
    pub staging_share: f64,
    /// Timestamp of entry 0.
    pub start: Micros,
    /// Simulated entries per second: entry `i` is stamped about `start + i / rate` seconds.
    pub sim_rate: f64,
    /// Version changes.
    pub deploys: Vec<Deploy>,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 1,
            mix: Mix::default(),
            error_rate: 0.02,
            client_error_rate: 0.03,
            services: 8,
            endpoints: 60,
            users: 5000,
            staging_share: 0.15,
            start: DEFAULT_START,
            sim_rate: 1000.0,
            deploys: Vec::new(),
        }
    }
}
