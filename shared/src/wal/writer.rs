//! The appending side: creates a WAL, recovers one after a crash, appends framed records.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::WalError;
use super::header::{HEADER_LEN, WalHeader};
use super::reader::{TailStop, is_whole_frames, read_wal};
use super::record::{WalRecord, encode_record};
use crate::ids::{BatchId, ChunkId, HourId, Seq};

/// What [`WalWriter::open_existing`] found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The file header.
    pub header: WalHeader,
    /// Every complete record, in file order. These are the only batches that can have been
    /// acknowledged.
    pub records: Vec<WalRecord>,
    /// The highest seq in the file, if any record has rows.
    pub last_seq: Option<Seq>,
    /// Length of the file after recovery (header plus complete records).
    pub good_len: u64,
    /// Bytes of torn or corrupt tail that were cut off (0 after a clean shutdown).
    pub torn_bytes: u64,
    /// Why the valid prefix ended.
    pub stop: TailStop,
}

impl Recovered {
    /// The batch ids recorded in the file, in order (to answer retries "deduplicated").
    pub fn batch_ids(&self) -> impl Iterator<Item = &BatchId> {
        self.records.iter().filter_map(|r| r.batch_id.as_ref())
    }

    /// Total rows in the recovered records.
    pub fn row_count(&self) -> usize {
        self.records.iter().map(|r| r.rows.len()).sum()
    }
}

/// Appends records to one `wal_NNN.log`.
///
/// Appends are not durable until [`WalWriter::sync`] returns; ingestd batches many appends
/// per sync (group commit). After a failed write the file is cut back to its last good
/// length, so it never holds a half record followed by good ones. If that cut, or a sync,
/// fails, the writer is poisoned and refuses further work: start a new WAL.
#[derive(Debug)]
pub struct WalWriter {
    file: File,
    path: PathBuf,
    header: WalHeader,
    len: u64,
    poisoned: bool,
    scratch: Vec<u8>,
}

fn sync_parent_dir(path: &Path) -> Result<(), WalError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| WalError::io(parent, e))
}

impl WalWriter {
    /// Creates a new WAL file (failing if it exists), writes its header and makes both the
    /// file and its directory entry durable.
    pub fn create(path: &Path, hour: HourId, chunk: ChunkId) -> Result<WalWriter, WalError> {
        let header = WalHeader { hour, chunk };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| WalError::io(path, e))?;
        let written = file
            .write_all(&header.encode())
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            drop(file);
            // Best effort: a header-less file would only be rejected at the next start.
            let _ = std::fs::remove_file(path);
            return Err(WalError::io(path, e));
        }
        sync_parent_dir(path)?;
        Ok(WalWriter {
            file,
            path: path.to_path_buf(),
            header,
            len: HEADER_LEN as u64,
            poisoned: false,
            scratch: Vec::new(),
        })
    }

    /// Opens an existing WAL for appending after a restart.
    ///
    /// Reads every complete record, cuts off a torn or corrupt tail (an incomplete frame, an
    /// impossible length or a CRC mismatch: never-acknowledged bytes) and syncs the cut.
    /// A record with a valid CRC that does not decode is not a torn write and is reported
    /// as [`WalError::Corrupt`] without modifying the file.
    pub fn open_existing(path: &Path) -> Result<(WalWriter, Recovered), WalError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| WalError::io(path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| WalError::io(path, e))?;
        let contents = read_wal(&bytes)?;
        let good_len = contents.tail.good_len as u64;
        if let TailStop::Undecodable(reason) = contents.tail.stop {
            return Err(WalError::Corrupt {
                offset: good_len,
                reason,
            });
        }
        let torn_bytes = contents.tail.torn_bytes as u64;
        if torn_bytes > 0 {
            file.set_len(good_len)
                .and_then(|()| file.sync_all())
                .map_err(|e| WalError::io(path, e))?;
        }
        file.seek(SeekFrom::Start(good_len))
            .map_err(|e| WalError::io(path, e))?;
        let last_seq = contents.records.iter().rev().find_map(WalRecord::last_seq);
        let recovered = Recovered {
            header: contents.header,
            records: contents.records,
            last_seq,
            good_len,
            torn_bytes,
            stop: contents.tail.stop,
        };
        let writer = WalWriter {
            file,
            path: path.to_path_buf(),
            header: contents.header,
            len: good_len,
            poisoned: false,
            scratch: Vec::new(),
        };
        Ok((writer, recovered))
    }

    /// Appends one or more complete frames produced by [`encode_record`].
    ///
    /// On a failed or short write the file is truncated back to its previous length.
    pub fn append_encoded(&mut self, frames: &[u8]) -> Result<(), WalError> {
        if self.poisoned {
            return Err(WalError::Poisoned {
                path: self.path.clone(),
            });
        }
        if !is_whole_frames(frames) {
            return Err(WalError::NotAFrame);
        }
        match self.file.write_all(frames) {
            Ok(()) => {
                self.len += frames.len() as u64;
                Ok(())
            }
            Err(e) => {
                let restored = self
                    .file
                    .set_len(self.len)
                    .and_then(|()| self.file.seek(SeekFrom::Start(self.len)));
                if restored.is_err() {
                    self.poisoned = true;
                }
                Err(WalError::io(&self.path, e))
            }
        }
    }

    /// Encodes and appends one record.
    pub fn append(&mut self, rec: &WalRecord) -> Result<(), WalError> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let result = encode_record(rec, &mut buf).and_then(|()| self.append_encoded(&buf));
        self.scratch = buf;
        result
    }

    /// Makes every append so far durable (`fdatasync`). A failure poisons the writer: after
    /// a failed fsync the kernel may have dropped the dirty pages, so the file's contents
    /// can no longer be trusted.
    pub fn sync(&mut self) -> Result<(), WalError> {
        if self.poisoned {
            return Err(WalError::Poisoned {
                path: self.path.clone(),
            });
        }
        self.file.sync_data().map_err(|e| {
            self.poisoned = true;
            WalError::io(&self.path, e)
        })
    }

    /// The file's length in bytes (header plus appended records).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no records yet.
    pub fn is_empty(&self) -> bool {
        self.len == HEADER_LEN as u64
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's header.
    pub fn header(&self) -> WalHeader {
        self.header
    }
}
