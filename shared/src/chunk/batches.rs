//! The batch-id section: which client batches (`X-Batch-ID`) the chunk's rows came from, so
//! that ingestd can answer a retried batch "deduplicated" after a restart.
//!
//! Section payload (stored as a [`super::encoding::zstd_block`] section):
//! `uvarint count`, then per batch: `u8 kind` (0 = string: `uvarint len` + UTF-8 bytes;
//! 1 = canonical lowercase UUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`: its 16 bytes),
//! `ivarint first_seq - expected` (expected = previous batch's `first_seq + rows`, 0 for the
//! first; wrapping 64-bit arithmetic), `uvarint rows`.

use super::encoding::varint::{put_ivarint, put_uvarint};
use super::encoding::zstd_block::{Zstd, put_section, read_section};
use super::encoding::{Corrupt, Cursor, MAX_SECTION_BYTES};
use crate::ids::{BatchId, Seq};

const KIND_STRING: u8 = 0;
const KIND_UUID: u8 = 1;

/// One batch: its id, the sequence number of its first row, its row count.
pub type BatchRecord = (BatchId, Seq, u32);

/// The 16 bytes of a canonical lowercase UUID string, or `None` for any other string.
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0usize;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        let byte = out.get_mut(nibbles / 2)?;
        *byte = (*byte << 4) | v;
        nibbles += 1;
    }
    Some(out)
}

fn format_uuid(b: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Appends the batch section.
pub fn put_batches(out: &mut Vec<u8>, batches: &[BatchRecord], z: &mut Zstd) {
    let mut raw = Vec::new();
    put_uvarint(&mut raw, batches.len() as u64);
    let mut expected: u64 = 0;
    for (id, first, rows) in batches {
        match parse_uuid(&id.0) {
            Some(u) => {
                raw.push(KIND_UUID);
                raw.extend_from_slice(&u);
            }
            None => {
                raw.push(KIND_STRING);
                put_uvarint(&mut raw, id.0.len() as u64);
                raw.extend_from_slice(id.0.as_bytes());
            }
        }
        put_ivarint(&mut raw, first.0.wrapping_sub(expected) as i64);
        put_uvarint(&mut raw, u64::from(*rows));
        expected = first.0.wrapping_add(u64::from(*rows));
    }
    put_section(out, &raw, Some(z));
}

/// Reads the batch section.
pub fn read_batches(bytes: &[u8]) -> Result<Vec<BatchRecord>, Corrupt> {
    let mut c = Cursor::new(bytes);
    let raw = read_section(&mut c, MAX_SECTION_BYTES)?;
    c.finish()?;
    let mut c = Cursor::new(&raw);
    let count = c.len_varint(c.remaining())?;
    let mut out = Vec::with_capacity(count);
    let mut expected: u64 = 0;
    for _ in 0..count {
        let id = match c.u8()? {
            KIND_UUID => format_uuid(c.take(16)?),
            KIND_STRING => {
                let len = c.len_varint(c.remaining())?;
                std::str::from_utf8(c.take(len)?)
                    .map_err(|_| Corrupt("batch id is not UTF-8"))?
                    .to_owned()
            }
            _ => return Err(Corrupt("unknown batch id kind")),
        };
        let first = expected.wrapping_add(c.ivarint()? as u64);
        let rows =
            u32::try_from(c.uvarint()?).map_err(|_| Corrupt("batch row count out of range"))?;
        expected = first.wrapping_add(u64::from(rows));
        out.push((BatchId(id), Seq(first), rows));
    }
    c.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn uuid_string(b: [u8; 16]) -> String {
        format_uuid(&b)
    }

    proptest! {
        #[test]
        fn round_trip(batches in proptest::collection::vec(
            (prop_oneof![any::<[u8; 16]>().prop_map(uuid_string), "\\PC{0,40}"], any::<u64>(), any::<u32>()),
            0..50,
        )) {
            let batches: Vec<BatchRecord> = batches.into_iter().map(|(s, q, r)| (BatchId(s), Seq(q), r)).collect();
            let mut out = Vec::new();
            put_batches(&mut out, &batches, &mut Zstd::new(3));
            prop_assert_eq!(read_batches(&out).unwrap(), batches);
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>) {
            let _ = read_batches(&bytes);
        }
    }

    #[test]
    fn uuids_are_compact_but_exact() {
        let u = "9c1e0a52-6b0e-4f57-9d1e-3c2f1b7a8e11";
        assert!(parse_uuid(u).is_some());
        assert_eq!(format_uuid(&parse_uuid(u).unwrap()), u);
        // Upper case is kept as a string so it round-trips byte for byte.
        assert!(parse_uuid(&u.to_uppercase()).is_none());
        assert!(parse_uuid("9c1e0a52x6b0e-4f57-9d1e-3c2f1b7a8e11").is_none());
    }
}
