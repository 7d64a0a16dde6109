//! The reading side for a WAL that another process is still appending to.

use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::error::WalError;
use super::header::{HEADER_LEN, WalHeader};
use super::reader::{TailStop, read_records};
use super::record::WalRecord;

/// Identity of an open file, to notice that its path now names another file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
fn identity(m: &Metadata) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    Some(FileIdentity {
        dev: m.dev(),
        ino: m.ino(),
    })
}

#[cfg(not(unix))]
fn identity(_m: &Metadata) -> Option<FileIdentity> {
    None
}

/// Follows a growing WAL file and yields each complete record exactly once.
///
/// Each [`WalTailer::poll`] re-reads the file from the end of the last complete record, so
/// a record that was partial (or failed its CRC because it was mid-write) on one poll is
/// picked up whole on a later one, and a tail the writer cut back and rewrote is read anew.
#[derive(Debug)]
pub struct WalTailer {
    file: File,
    path: PathBuf,
    identity: Option<FileIdentity>,
    header: Option<WalHeader>,
    offset: u64,
    buf: Vec<u8>,
    pending: usize,
}

impl WalTailer {
    /// Opens `path` for tailing. A missing file is reported as [`WalError::Vanished`] (it
    /// may have been turned into a chunk between listing the directory and opening it).
    /// The header may not be written yet; it is read by the first poll that finds it.
    pub fn open(path: &Path) -> Result<WalTailer, WalError> {
        let file = File::open(path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => WalError::Vanished {
                path: path.to_path_buf(),
            },
            _ => WalError::io(path, e),
        })?;
        let meta = file.metadata().map_err(|e| WalError::io(path, e))?;
        Ok(WalTailer {
            file,
            path: path.to_path_buf(),
            identity: identity(&meta),
            header: None,
            offset: 0,
            buf: Vec::new(),
            pending: 0,
        })
    }

    /// Returns every complete record appended since the previous poll, in order.
    ///
    /// Stops without advancing at a partial record or a CRC mismatch (the writer may be in
    /// the middle of it) and resumes there on the next poll. When nothing new is readable
    /// and the path no longer names the opened file, returns [`WalError::Vanished`]: all
    /// records have been delivered and the WAL has been replaced (normally by its chunk).
    /// A CRC-valid record that does not decode is [`WalError::Corrupt`] (after the records
    /// before it have been returned by an earlier poll).
    pub fn poll(&mut self) -> Result<Vec<WalRecord>, WalError> {
        self.buf.clear();
        self.file
            .seek(SeekFrom::Start(self.offset))
            .and_then(|_| self.file.read_to_end(&mut self.buf))
            .map_err(|e| WalError::io(&self.path, e))?;
        let mut start = 0usize;
        if self.header.is_none() {
            if self.buf.len() < HEADER_LEN {
                self.pending = self.buf.len();
                self.check_still_there()?;
                return Ok(Vec::new());
            }
            self.header = Some(WalHeader::decode(&self.buf)?);
            self.offset = HEADER_LEN as u64;
            start = HEADER_LEN;
        }
        let (records, tail) = read_records(self.buf.get(start..).unwrap_or(&[]));
        let frame_offset = self.offset + tail.good_len as u64;
        self.offset = frame_offset;
        self.pending = tail.torn_bytes;
        if !records.is_empty() {
            return Ok(records);
        }
        if let TailStop::Undecodable(reason) = tail.stop {
            return Err(WalError::Corrupt {
                offset: frame_offset,
                reason,
            });
        }
        self.check_still_there()?;
        Ok(records)
    }

    fn check_still_there(&self) -> Result<(), WalError> {
        match std::fs::metadata(&self.path) {
            Ok(m) => match (identity(&m), self.identity) {
                (Some(now), Some(then)) if now != then => Err(WalError::Vanished {
                    path: self.path.clone(),
                }),
                _ => Ok(()),
            },
            Err(e) if e.kind() == ErrorKind::NotFound => Err(WalError::Vanished {
                path: self.path.clone(),
            }),
            Err(e) => Err(WalError::io(&self.path, e)),
        }
    }

    /// The file header, once a poll has read it.
    pub fn header(&self) -> Option<WalHeader> {
        self.header
    }

    /// File offset just past the last record returned: where the next poll resumes.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes seen after `offset` at the last poll that did not (yet) form a complete, valid
    /// record. Staying non-zero while the writer is idle points at a corrupt record.
    pub fn pending_bytes(&self) -> usize {
        self.pending
    }

    /// The tailed path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
