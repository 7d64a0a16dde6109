//! The fixed 24-byte file header of `wal_NNN.log`.

use super::error::WalError;
use crate::ids::{ChunkId, HourId};

/// The first four bytes of every WAL file.
pub const WAL_MAGIC: [u8; 4] = *b"OTWL";

/// The WAL format version this build writes and reads.
pub const WAL_VERSION: u16 = 1;

/// Size of the file header in bytes; records start at this offset.
pub const HEADER_LEN: usize = 24;

/// The decoded file header: which hour and chunk this WAL will become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalHeader {
    /// The hour directory the WAL lives in.
    pub hour: HourId,
    /// The chunk number the WAL turns into (`wal_NNN.log` -> `chunk_NNN.col`).
    pub chunk: ChunkId,
}

impl WalHeader {
    /// The header's 24 bytes: magic, version, reserved flags, hour, chunk, CRC32C.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&WAL_MAGIC);
        b[4..6].copy_from_slice(&WAL_VERSION.to_le_bytes());
        // 6..8: reserved flags, zero.
        b[8..16].copy_from_slice(&self.hour.0.to_le_bytes());
        b[16..20].copy_from_slice(&self.chunk.0.to_le_bytes());
        let crc = crc32c::crc32c(&b[0..20]);
        b[20..24].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and validates a header from the start of `bytes`.
    ///
    /// Fails with [`WalError::TruncatedHeader`] when fewer than [`HEADER_LEN`] bytes are given.
    pub fn decode(bytes: &[u8]) -> Result<WalHeader, WalError> {
        let Some(h) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(WalError::TruncatedHeader {
                len: bytes.len() as u64,
            });
        };
        // `h` is a fixed-size array: every index below is checked at compile time.
        let magic = [h[0], h[1], h[2], h[3]];
        if magic != WAL_MAGIC {
            return Err(WalError::BadMagic { found: magic });
        }
        let version = u16::from_le_bytes([h[4], h[5]]);
        if version != WAL_VERSION {
            return Err(WalError::UnsupportedVersion {
                found: version,
                supported: WAL_VERSION,
            });
        }
        let stored_crc = u32::from_le_bytes([h[20], h[21], h[22], h[23]]);
        if stored_crc != crc32c::crc32c(&h[0..20]) {
            return Err(WalError::BadHeader {
                detail: "header checksum mismatch",
            });
        }
        if h[6] != 0 || h[7] != 0 {
            return Err(WalError::BadHeader {
                detail: "reserved flags are not zero",
            });
        }
        let hour = i64::from_le_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
        let chunk = u32::from_le_bytes([h[16], h[17], h[18], h[19]]);
        Ok(WalHeader {
            hour: HourId(hour),
            chunk: ChunkId(chunk),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_rejects() {
        let h = WalHeader {
            hour: HourId(-3),
            chunk: ChunkId(u32::MAX),
        };
        let b = h.encode();
        assert_eq!(WalHeader::decode(&b).unwrap(), h);
        assert!(matches!(
            WalHeader::decode(&b[..HEADER_LEN - 1]),
            Err(WalError::TruncatedHeader { .. })
        ));
        let mut bad = b;
        bad[0] = b'X';
        assert!(matches!(
            WalHeader::decode(&bad),
            Err(WalError::BadMagic { .. })
        ));
        let mut bad = b;
        bad[4] = 9;
        assert!(matches!(
            WalHeader::decode(&bad),
            Err(WalError::UnsupportedVersion { found: 9, .. })
        ));
        let mut bad = b;
        bad[9] ^= 1;
        assert!(matches!(
            WalHeader::decode(&bad),
            Err(WalError::BadHeader { .. })
        ));
    }
}
