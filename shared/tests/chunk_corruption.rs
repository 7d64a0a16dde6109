//! Damaged files: every truncation of a small chunk and random bit flips in a bigger one are
//! given to the reader and to every column decode. Nothing may panic; every failure is a
//! typed [`ChunkError`], and a flip that is not detected must leave the data intact.

use opentrace_shared::chunk::ZoneMap;
use opentrace_shared::chunk::encoding::Cursor;
use opentrace_shared::chunk::encoding::varint::put_uvarint;
use opentrace_shared::chunk::format::{DirEntry, SectionRef, TRAILER_LEN, Trailer};
use opentrace_shared::chunk::{ChunkBuilder, ChunkError, ChunkOptions, ChunkReader};
use opentrace_shared::{BatchId, Col, Row, ValueRef, testdata};

fn chunk(n: usize) -> (Vec<Row>, Vec<u8>) {
    let msgs = testdata::load_messages(&testdata::default_loghub_dir());
    let rows = testdata::generate(n, 9, &msgs);
    // Small frames, so that long string columns are framed (`StrFramed`) here too.
    let mut b = ChunkBuilder::with_options(ChunkOptions {
        text_frame_rows: 64,
        ..ChunkOptions::default()
    });
    b.push_batch(
        &BatchId("9c1e0a52-6b0e-4f57-9d1e-3c2f1b7a8e11".into()),
        rows[0].seq,
        n as u32,
    );
    rows.iter().for_each(|r| b.push(r));
    (rows, b.finish().unwrap())
}

/// Opens and decodes everything; returns the rows if every step succeeded.
fn decode_everything(bytes: &[u8]) -> Result<Vec<Row>, ChunkError> {
    let r = ChunkReader::open(bytes)?;
    let mut first_err = None;
    for c in Col::all() {
        // Each call on its own, so that one bad column does not hide a panic in another.
        if let Err(e) = r.column(c) {
            first_err.get_or_insert(e);
        }
        let _ = r.dictionary(c);
        let n = r.row_count();
        if let Ok(point) = r.values_at(c, &[n.saturating_sub(1), 0, n / 2]) {
            assert_eq!(point.len(), 3);
        }
        let _ = r.filter_eq(c, ValueRef::Str("info"));
        let _ = r.filter_eq(c, ValueRef::Int(200));
        let _ = r.filter_eq(c, ValueRef::Null);
    }
    let _ = r.batches();
    let _ = r.row(0);
    match first_err {
        Some(e) => Err(e),
        None => {
            r.batches()?;
            r.rows()
        }
    }
}

#[test]
fn every_truncation_is_a_typed_error() {
    let (_, bytes) = chunk(20);
    for len in 0..bytes.len() {
        let res = ChunkReader::open(&bytes[..len]);
        assert!(res.is_err(), "truncated to {len} bytes but opened");
        // Also: the prefix followed by the original trailer (a "lost middle").
        let mut spliced = bytes[..len].to_vec();
        spliced.extend_from_slice(&bytes[bytes.len() - 20..]);
        let _ = decode_everything(&spliced);
    }
}

#[test]
fn random_bit_flips_never_panic_and_never_lie() {
    let (rows, bytes) = chunk(400);
    let mut rng = testdata::Rng::new(77);
    let (mut detected, mut harmless) = (0, 0);
    for _ in 0..1500 {
        let mut damaged = bytes.clone();
        let flips = 1 + rng.below(3);
        for _ in 0..flips {
            let i = rng.below(damaged.len() as u64) as usize;
            damaged[i] ^= 1 << rng.below(8);
        }
        match decode_everything(&damaged) {
            Err(_) => detected += 1,
            Ok(back) => {
                // Undetected flips can only be in bits that do not carry data.
                assert_eq!(back, rows);
                harmless += 1;
            }
        }
    }
    assert!(detected > 0);
    println!("detected {detected}, harmless {harmless}");
}

#[test]
fn checksum_errors_name_the_section() {
    let (_, bytes) = chunk(50);
    let r = ChunkReader::open(&bytes).unwrap();
    let z = r.zone_map().clone();
    // Find the message column's block via a fresh reader and damage its first byte.
    let stats = z.column(Col::Message).unwrap();
    assert_eq!(stats.null_count, 0);
    let mut damaged = bytes.clone();
    let offset = (8..bytes.len())
        .find(|&i| {
            let mut d = bytes.clone();
            d[i] ^= 0xff;
            matches!(
                ChunkReader::open(&d).map(|r| r.column(Col::Message)),
                Ok(Err(ChunkError::ChecksumMismatch(_)))
            )
        })
        .unwrap();
    damaged[offset] ^= 0xff;
    let r = ChunkReader::open(&damaged).unwrap();
    let err = r.column(Col::Message).unwrap_err();
    assert_eq!(err.to_string(), "checksum mismatch in column message");
    // Other columns still decode.
    assert!(r.column(Col::Seq).is_ok());

    let mut bad_footer = bytes.clone();
    let n = bad_footer.len();
    bad_footer[n - 21] ^= 1;
    assert!(matches!(
        ChunkReader::open(&bad_footer),
        Err(ChunkError::ChecksumMismatch(_))
    ));

    let mut bad_magic = bytes.clone();
    bad_magic[0] = b'X';
    assert!(matches!(
        ChunkReader::open(&bad_magic),
        Err(ChunkError::BadMagic(_))
    ));
    let mut bad_version = bytes.clone();
    bad_version[4] = 9;
    assert!(matches!(
        ChunkReader::open(&bad_version),
        Err(ChunkError::UnsupportedVersion(9))
    ));
    let mut bad_flags = bytes;
    bad_flags[6] = 1;
    assert!(matches!(
        ChunkReader::open(&bad_flags),
        Err(ChunkError::UnsupportedFlags(1))
    ));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = testdata::Rng::new(5);
    for len in 0..300usize {
        let mut b: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if len >= 8 {
            b[..4].copy_from_slice(b"OTCL");
            b[4] = 1;
            b[5] = 0;
            b[6] = 0;
            b[7] = 0;
        }
        let _ = decode_everything(&b);
    }
}

/// Recomputes every block CRC, the footer and its CRC, so that damage inside blocks reaches
/// the decoders instead of being stopped by the checksums.
fn fix_checksums(bytes: &mut Vec<u8>) {
    let n = bytes.len();
    let Some(t) = Trailer::parse(&bytes[n - TRAILER_LEN..]) else {
        return;
    };
    let start = t.footer_offset as usize;
    let footer = bytes[start..start + t.footer_len as usize].to_vec();
    let mut c = Cursor::new(&footer);
    let zone = ZoneMap::read_ranges(&mut c, usize::MAX).unwrap();
    let k = c.uvarint().unwrap();
    let mut entries: Vec<DirEntry> = (0..k).map(|_| DirEntry::read(&mut c).unwrap()).collect();
    let mut batches = SectionRef::read(&mut c).unwrap();
    batches.crc = crc32c::crc32c(batches.slice(bytes).unwrap());
    for e in &mut entries {
        e.block.crc = crc32c::crc32c(e.block.slice(bytes).unwrap());
    }
    let mut f = Vec::new();
    zone.put_ranges(&mut f);
    put_uvarint(&mut f, k);
    entries.iter().for_each(|e| e.put(&mut f));
    batches.put(&mut f);
    bytes.truncate(start);
    let t = Trailer {
        footer_offset: start as u64,
        footer_len: f.len() as u32,
        footer_crc: crc32c::crc32c(&f),
    };
    bytes.extend_from_slice(&f);
    t.put(bytes);
}

#[test]
fn flips_behind_valid_checksums_reach_decoders_without_panics() {
    let (rows, bytes) = chunk(300);
    let footer_at = Trailer::parse(&bytes[bytes.len() - TRAILER_LEN..])
        .unwrap()
        .footer_offset as usize;
    let mut rng = testdata::Rng::new(3);
    let (mut detected, mut harmless) = (0, 0);
    for _ in 0..1500 {
        let mut damaged = bytes.clone();
        let i = 8 + rng.below(footer_at as u64 - 8) as usize;
        damaged[i] ^= 1 << rng.below(8);
        fix_checksums(&mut damaged);
        match decode_everything(&damaged) {
            Err(ChunkError::CorruptEncoding { .. }) => detected += 1,
            Err(e) => panic!("only encoding errors expected behind valid checksums, got {e}"),
            // Some flips change data in ways no format can detect (a digit inside a
            // message); those must still decode to well-formed rows.
            Ok(back) => {
                assert_eq!(back.len(), rows.len());
                harmless += 1;
            }
        }
    }
    assert!(detected > 0);
    println!("corrupt encoding detected {detected}, decoded {harmless}");
}
