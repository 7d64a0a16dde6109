//! Start-up recovery: brings the data directory back to a consistent state after any crash.
//!
//! | found | meaning | action |
//! |---|---|---|
//! | `*.tmp` | a publish did not finish | delete |
//! | `.idx` without `.col` | crash between the two renames | delete the `.idx` (its WAL is still there) |
//! | WAL and committed chunk of the same number | crash after publish, before the WAL delete | delete the WAL |
//! | WAL without chunk, in a past hour or not the newest WAL | build never ran or did not finish | queue a build |
//! | newest WAL of the current hour | the writer was appending to it | truncate a torn tail, keep appending |
//! | WAL without a complete header | a crash while `WalWriter::create` ran (it holds no records) | delete |
//! | past hour without `meta.json` | seal never ran | queue a seal (after its builds) |
//!
//! Recovery also finds the highest sequence number used and the batch ids of the last hours.

use std::fs;

use opentrace_shared::chunk::ChunkReader;
use opentrace_shared::datadir::{FileInfo, Problem, fsync_dir, scan};
use opentrace_shared::meta::HourMeta;
use opentrace_shared::time::now_micros;
use opentrace_shared::wal::{
    HEADER_LEN, RecordSummary, WalHeader, WalRecord, WalWriter, summarize_wal,
};
use opentrace_shared::{HourId, Seq};

use super::EngineConfig;
use super::builder::BuildJob;
use super::dedupe::Dedupe;
use super::error::EngineError;
use super::writer::{ActiveWal, WriterStart};

/// The head of a record already decoded in full.
fn summary_of(r: &WalRecord) -> RecordSummary {
    RecordSummary {
        batch_id: r.batch_id.clone(),
        first_seq: r.rows.first().map_or(Seq(0), |x| x.seq),
        rows: r.rows.len() as u64,
    }
}

/// Whether a WAL file was cut short while it was being created: shorter than its header,
/// or exactly a header that does not decode. `WalWriter::create` syncs the header before
/// any record is appended, so such a file can hold no acknowledged row. A crash (or a
/// SIGKILL) between creating the file and writing its header leaves one behind.
fn header_never_written(info: &FileInfo) -> bool {
    let header_len = HEADER_LEN as u64;
    if info.len < header_len {
        return true;
    }
    if info.len > header_len {
        return false;
    }
    fs::read(&info.path).is_ok_and(|b| WalHeader::decode(&b).is_err())
}

/// What the engine starts from.
pub(crate) struct Recovered {
    pub writer_start: WriterStart,
    pub pending_jobs: Vec<BuildJob>,
    pub dedupe: Dedupe,
}

/// Repairs the data directory and reports where to resume.
pub(crate) fn recover(cfg: &EngineConfig) -> Result<Recovered, EngineError> {
    let dd = &cfg.data_dir;
    fs::create_dir_all(dd.logs_dir())?;
    let s = scan(dd)?;
    for p in &s.problems {
        match p {
            Problem::StrayTmp(path) | Problem::OrphanIndex(path) => {
                tracing::warn!("recovery: removing {}", path.display());
                fs::remove_file(path)?;
            }
            other => tracing::warn!("recovery: leaving {:?}", other),
        }
    }
    let current = HourId::from_micros(now_micros());
    let dedupe_from = HourId(current.0 - i64::from(cfg.dedupe_hours.max(1)) + 1);
    let dedupe = Dedupe::default();
    let mut max_seq: Option<Seq> = None;
    let mut jobs = Vec::new();
    let mut active = None;
    let mut last_hour = None;
    let bump = |m: &mut Option<Seq>, s: Seq| {
        if m.is_none_or(|cur| s > cur) {
            *m = Some(s);
        }
    };
    for h in &s.hours {
        let meta = h
            .meta
            .as_ref()
            .and_then(|m| fs::read(&m.path).ok())
            .and_then(|b| HourMeta::from_json(&b).ok());
        let need_chunks = meta.is_none() || h.hour >= dedupe_from;
        if let Some(range) = meta.as_ref().and_then(|m| m.seq) {
            bump(&mut max_seq, Seq(range.max.max(0) as u64));
        }
        if need_chunks {
            for c in h.committed_chunks() {
                let Some(col) = &c.col else { continue };
                let bytes = match fs::read(&col.path) {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::error!("recovery: cannot read {}: {e}", col.path.display());
                        continue;
                    }
                };
                let reader = match ChunkReader::open(&bytes) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("recovery: corrupt chunk {}: {e}", col.path.display());
                        continue;
                    }
                };
                if let Some(seq) = reader.zone_map().seq {
                    bump(&mut max_seq, seq.max);
                }
                if h.hour >= dedupe_from
                    && let Ok(batches) = reader.batches()
                {
                    for (id, _first, n) in batches {
                        dedupe.insert(id, n, h.hour);
                    }
                }
            }
        }
        let (headerless, wals): (Vec<_>, Vec<_>) = h
            .wals
            .iter()
            .partition(|(_, info)| header_never_written(info));
        for (cid, info) in &headerless {
            tracing::warn!(
                "recovery: WAL {cid} of {} is {} bytes, its header was never written \
                 (a crash while it was created); it holds no rows, removing it",
                h.hour,
                info.len
            );
            fs::remove_file(&info.path)?;
        }
        if !headerless.is_empty() {
            fsync_dir(&dd.hour_dir(h.hour))?;
        }
        let newest_wal = wals.last().map(|(c, _)| *c);
        for &(cid, info) in &wals {
            if h.chunks.iter().any(|c| c.id == *cid && c.is_committed()) {
                tracing::warn!(
                    "recovery: chunk {cid} of {} already built, removing its WAL",
                    h.hour
                );
                fs::remove_file(&info.path)?;
                continue;
            }
            // Only each record's head is needed (last seq, batch id, row count): the rows
            // are decoded later by the builder, so start-up does not wait for that.
            let records: Vec<RecordSummary>;
            if h.hour == current && Some(*cid) == newest_wal && !h.is_sealed() {
                let (w, rec) = WalWriter::open_existing(&info.path)?;
                records = rec.records.iter().map(summary_of).collect();
                let rows = records.iter().map(|r| r.rows).sum();
                active = Some(ActiveWal {
                    hour: h.hour,
                    chunk: *cid,
                    wal: w,
                    rows,
                });
            } else {
                let bytes = fs::read(&info.path)?;
                records = summarize_wal(&bytes)?.0;
                jobs.push(BuildJob::Build {
                    hour: h.hour,
                    chunk: *cid,
                });
            }
            for r in records {
                if let Some(last) = r.last_seq() {
                    bump(&mut max_seq, last);
                }
                if let Some(id) = r.batch_id
                    && h.hour >= dedupe_from
                {
                    dedupe.insert(id, r.rows as u32, h.hour);
                }
            }
        }
        if h.hour < current && (!h.is_sealed() || !wals.is_empty()) {
            jobs.push(BuildJob::Seal { hour: h.hour });
        }
        if h.hour == current {
            last_hour = Some(h.hour);
        }
    }
    Ok(Recovered {
        writer_start: WriterStart {
            next_seq: max_seq.map_or(Seq(1), Seq::next),
            active,
            last_hour,
        },
        pending_jobs: jobs,
        dedupe,
    })
}
