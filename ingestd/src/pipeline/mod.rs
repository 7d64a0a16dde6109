//! The ingest pipeline: raw entries of one request → rows ready for storage.
//!
//! Per entry, in order: decode ([`crate::wire`]) → expand `body.logs[]` into children
//! ([`expand`]) → for the entry and each child: promote error details from the body
//! ([`normalize`]) → PII scrubbing ([`scrub`]) → field caps ([`caps`]) → `kind`
//! ([`kind`]) → error fingerprint ([`fingerprint`]) → body to compact text (capped).
//! An entry that fails to decode is reported by index; it never costs its siblings.

pub mod caps;
pub mod expand;
pub mod fingerprint;
pub mod kind;
pub mod normalize;
pub mod scrub;

use opentrace_shared::Row;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::wire::{Body, DecodeCtx, flat};
use scrub::Scrubber;

/// An entry that was not stored, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Index of the entry in the request.
    pub index: usize,
    /// Why it was rejected.
    pub error: String,
}

/// Non-fatal remarks about one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryWarnings {
    /// Index of the entry in the request.
    pub index: usize,
    /// The remarks.
    pub warnings: Vec<String>,
}

/// The result of running one request's entries through the pipeline.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Rows to store: each accepted entry followed by its expanded children.
    pub rows: Vec<Row>,
    /// Number of entries accepted (children not counted).
    pub accepted_entries: usize,
    /// Entries rejected, by index.
    pub rejected: Vec<Rejected>,
    /// Remarks on accepted entries, by index (only entries that have some).
    pub warnings: Vec<EntryWarnings>,
}

/// Runs every entry of a request through the pipeline.
pub fn process_batch(
    entries: &[&RawValue],
    ctx: &DecodeCtx<'_>,
    scrubber: &Scrubber,
) -> BatchOutcome {
    // Room for the children `body.logs[]` expands into as well (the Ruby SDK sends them
    // with many requests): a `Row` is about 900 bytes, so growing the vector past a
    // batch of 1000 would copy close to a megabyte into freshly mapped pages on every
    // such request. Room never written costs no memory.
    let mut out = BatchOutcome {
        rows: Vec::with_capacity(entries.len() + entries.len() / 4 + 8),
        ..BatchOutcome::default()
    };
    let mut child_budget = expand::MAX_PER_BATCH;
    for (index, raw) in entries.iter().enumerate() {
        match flat::decode_entry(raw, ctx) {
            Ok(mut d) => {
                let kids =
                    expand::children(&d.row, &mut d.body, &mut child_budget, &mut d.warnings);
                out.rows.push(finish(d.row, d.body, scrubber));
                for (row, body) in kids {
                    out.rows.push(finish(row, body, scrubber));
                }
                out.accepted_entries += 1;
                if !d.warnings.is_empty() {
                    out.warnings.push(EntryWarnings {
                        index,
                        warnings: d.warnings,
                    });
                }
            }
            Err(error) => out.rejected.push(Rejected { index, error }),
        }
    }
    out
}

/// The per-row stages after decoding.
pub fn finish(mut row: Row, mut body: Body<'_>, scrubber: &Scrubber) -> Row {
    normalize::promote_host(&mut row, &mut body);
    let frame = normalize::promote_error_details(&mut row, &mut body);
    scrubber.scrub_row(&mut row, &mut body);
    caps::apply(&mut row);
    row.kind = kind::derive(&row);
    row.error_fingerprint = fingerprint::compute(&row, frame.as_ref());
    row.body = body.into_text().map(|t| caps::cap_body(t, caps::BODY_CAP));
    row
}
