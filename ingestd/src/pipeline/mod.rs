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

use crate::wire::stream;
use crate::wire::{BatchError, Body, DecodeCtx, DecodedEntry, flat, split_batch};
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

/// Runs every entry of a request body through the pipeline, parsing the body in one pass
/// when it can ([`stream::for_each_entry`]) and with [`split_batch`] and
/// [`process_batch`] when it cannot; both give the same outcome. Returns the outcome and
/// the number of entries in the body.
pub fn process_body(
    bytes: &[u8],
    max_entries: usize,
    ctx: &DecodeCtx<'_>,
    scrubber: &Scrubber,
) -> Result<(BatchOutcome, usize), BatchError> {
    // The entry count is not known before the pass: guess it from the SDKs' entries of a
    // few hundred bytes. A body of smaller entries only costs the row vector a copy.
    let mut b = Batch::new((bytes.len() / 400).min(max_entries));
    if let Ok(n) = stream::for_each_entry(bytes, max_entries, |index, e| {
        b.add(index, e.and_then(|e| flat::decode_wire(e, ctx)), scrubber);
    }) {
        return Ok((b.out, n));
    }
    drop(b);
    let entries = split_batch(bytes, max_entries)?;
    Ok((process_batch(&entries, ctx, scrubber), entries.len()))
}

/// Runs every entry of a request, already split into raw entries, through the pipeline.
pub fn process_batch(
    entries: &[&RawValue],
    ctx: &DecodeCtx<'_>,
    scrubber: &Scrubber,
) -> BatchOutcome {
    let mut b = Batch::new(entries.len());
    for (index, raw) in entries.iter().enumerate() {
        b.add(index, flat::decode_entry(raw, ctx), scrubber);
    }
    b.out
}

/// One request's outcome as its entries arrive.
struct Batch {
    out: BatchOutcome,
    child_budget: usize,
}

impl Batch {
    /// An empty outcome for up to `entries` entries (more only cost a copy).
    fn new(entries: usize) -> Batch {
        // Room for the children `body.logs[]` expands into as well (the Ruby SDK sends them
        // with many requests): a `Row` is about 900 bytes, so growing the vector past a
        // batch of 1000 would copy close to a megabyte into freshly mapped pages on every
        // such request. Room never written costs no memory.
        Batch {
            out: BatchOutcome {
                rows: Vec::with_capacity(entries + entries / 4 + 8),
                ..BatchOutcome::default()
            },
            child_budget: expand::MAX_PER_BATCH,
        }
    }

    /// Adds entry `index`, decoded (or rejected).
    fn add(
        &mut self,
        index: usize,
        decoded: Result<DecodedEntry<'_>, String>,
        scrubber: &Scrubber,
    ) {
        let out = &mut self.out;
        match decoded {
            Ok(mut d) => {
                let kids =
                    expand::children(&d.row, &mut d.body, &mut self.child_budget, &mut d.warnings);
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
