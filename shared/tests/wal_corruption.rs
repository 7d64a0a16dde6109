//! Corrupted and random input never panics: it yields typed errors or a clean stop, and
//! never yields a record that was not written.

mod wal_support;

use opentrace_shared::wal::{
    FRAME_HEADER_LEN, HEADER_LEN, TailStop, WalHeader, WalRecord, WalWriter, decode_payload,
    encode_record, for_each_wal_record, read_records, read_wal, summarize_wal,
};
use opentrace_shared::{ChunkId, HourId};
use proptest::prelude::*;
use wal_support::{record_strategy, sample_records};

/// A valid WAL image (header and records) and the records in it.
fn valid_image() -> (Vec<u8>, Vec<WalRecord>) {
    let recs = sample_records(21, 12, 4);
    let mut bytes = WalHeader {
        hour: HourId(491_000),
        chunk: ChunkId(12),
    }
    .encode()
    .to_vec();
    for r in &recs {
        encode_record(r, &mut bytes).unwrap();
    }
    (bytes, recs)
}

/// The records read from a damaged image must be a prefix of what was written.
fn assert_prefix(got: &[WalRecord], written: &[WalRecord]) -> Result<(), TestCaseError> {
    prop_assert!(got.len() <= written.len());
    prop_assert_eq!(got, &written[..got.len()]);
    Ok(())
}

#[derive(Debug, Clone)]
enum Damage {
    /// XOR one byte at a relative position (0..1) with a non-zero mask.
    Flip(f64, u8),
    /// Overwrite from a relative position with these bytes.
    Overwrite(f64, Vec<u8>),
    /// Insert these bytes at a relative position.
    Insert(f64, Vec<u8>),
    /// Cut the file at a relative position.
    Truncate(f64),
}

fn damage_strategy() -> impl Strategy<Value = Damage> {
    prop_oneof![
        4 => (0.0..1.0f64, 1u8..=255).prop_map(|(p, m)| Damage::Flip(p, m)),
        2 => (0.0..1.0f64, prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(p, b)| Damage::Overwrite(p, b)),
        1 => (0.0..1.0f64, prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(p, b)| Damage::Insert(p, b)),
        1 => (0.0..1.0f64).prop_map(Damage::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, d: &Damage) {
    let at = |p: f64, len: usize| ((p * len as f64) as usize).min(len.saturating_sub(1));
    match d {
        Damage::Flip(p, m) => {
            let i = at(*p, bytes.len());
            if let Some(x) = bytes.get_mut(i) {
                *x ^= m;
            }
        }
        Damage::Overwrite(p, b) => {
            let i = at(*p, bytes.len());
            for (k, v) in b.iter().enumerate() {
                if let Some(x) = bytes.get_mut(i + k) {
                    *x = *v;
                }
            }
        }
        Damage::Insert(p, b) => {
            let i = at(*p, bytes.len());
            bytes.splice(i..i, b.iter().copied());
        }
        Damage::Truncate(p) => {
            let i = at(*p, bytes.len());
            bytes.truncate(i);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn damaged_images_read_a_prefix_or_fail_typed(damage in prop::collection::vec(damage_strategy(), 1..4)) {
        let (mut bytes, written) = valid_image();
        for d in &damage {
            apply(&mut bytes, d);
        }
        // The record-head scan recovery uses stops exactly where the full decode stops.
        match (read_wal(&bytes), summarize_wal(&bytes)) {
            (Ok(c), Ok((heads, tail))) => {
                prop_assert_eq!(heads.len(), c.records.len());
                for (h, r) in heads.iter().zip(&c.records) {
                    prop_assert_eq!(&h.batch_id, &r.batch_id);
                    prop_assert_eq!(h.rows, r.rows.len() as u64);
                    prop_assert_eq!(h.last_seq(), r.last_seq());
                }
                prop_assert_eq!(tail.good_len, c.tail.good_len);
            }
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "read_wal {:?} but summarize_wal {:?}", a.is_ok(), b.is_ok()),
        }
        // The chunk builder's in-place reader yields the same rows and stops at the same
        // place as the owned one.
        if let Ok(c) = read_wal(&bytes) {
            let mut streamed = Vec::new();
            let (_, tail) = for_each_wal_record(&bytes, |head, rows, _| {
                streamed.push(WalRecord {
                    batch_id: head.batch_id.clone(),
                    rows: rows.iter().map(|r| r.to_row().unwrap()).collect(),
                });
            })
            .unwrap();
            prop_assert_eq!(&streamed, &c.records);
            prop_assert_eq!(tail, c.tail);
        }
        match read_wal(&bytes) {
            Ok(c) => {
                assert_prefix(&c.records, &written)?;
                prop_assert_eq!(c.tail.good_len + c.tail.torn_bytes, bytes.len());
                prop_assert!(c.tail.good_len >= HEADER_LEN);
                // Only a CRC collision could make a damaged record decode-but-invalid.
                prop_assert!(!matches!(c.tail.stop, TailStop::Undecodable(_)), "{:?}", c.tail.stop);
            }
            Err(e) => {
                // Only the header can fail the whole read.
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_wal(&bytes);
        let (recs, tail) = read_records(&bytes);
        prop_assert_eq!(tail.good_len + tail.torn_bytes, bytes.len());
        prop_assert!(recs.is_empty() || tail.good_len > 0);
        let _ = decode_payload(&bytes);
        // Same bytes behind a valid header.
        let mut img = WalHeader { hour: HourId(0), chunk: ChunkId(0) }.encode().to_vec();
        img.extend_from_slice(&bytes);
        let c = read_wal(&img).unwrap();
        prop_assert_eq!(c.tail.good_len + c.tail.torn_bytes, img.len());
    }

    /// Damage the payload and then fix the CRC, so the decoder's own validation is what is
    /// tested: it must return a typed error, or a record whose encoding is exactly the
    /// damaged payload (the encoding is canonical).
    #[test]
    fn crc_fixed_payload_damage_is_validated(
        rec in record_strategy(3),
        damage in prop::collection::vec(damage_strategy(), 1..3),
    ) {
        let mut f = Vec::new();
        encode_record(&rec, &mut f).unwrap();
        let mut payload = f[FRAME_HEADER_LEN..].to_vec();
        for d in &damage {
            apply(&mut payload, d);
        }
        match decode_payload(&payload) {
            Ok(back) => {
                let mut again = Vec::new();
                encode_record(&back, &mut again).unwrap();
                prop_assert_eq!(&again[FRAME_HEADER_LEN..], &payload[..]);
            }
            Err(reason) => prop_assert!(!reason.to_string().is_empty()),
        }
        let mut framed = (payload.len() as u32).to_le_bytes().to_vec();
        framed.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
        framed.extend_from_slice(&payload);
        let (recs, tail) = read_records(&framed);
        prop_assert!(recs.len() <= 1);
        prop_assert_eq!(recs.is_empty(), tail.good_len == 0);
    }
}

#[test]
fn damaged_files_recover_a_prefix_through_open_existing() {
    let dir = tempfile::tempdir().unwrap();
    let (clean, written) = valid_image();
    let mut rng = wal_support::Rng::new(77);
    let path = dir.path().join("wal_012.log");
    for round in 0..60 {
        let mut bytes = clean.clone();
        let d = match round % 3 {
            0 => Damage::Flip(rng.below(1000) as f64 / 1000.0, 1 + rng.below(255) as u8),
            1 => Damage::Overwrite(rng.below(1000) as f64 / 1000.0, vec![0xff; 9]),
            _ => Damage::Truncate(rng.below(1000) as f64 / 1000.0),
        };
        apply(&mut bytes, &d);
        std::fs::write(&path, &bytes).unwrap();
        match WalWriter::open_existing(&path) {
            Ok((w, rec)) => {
                assert!(rec.records.len() <= written.len());
                assert_eq!(rec.records, &written[..rec.records.len()], "{d:?}");
                assert_eq!(std::fs::metadata(&path).unwrap().len(), rec.good_len);
                assert_eq!(w.len(), rec.good_len);
                assert_eq!(rec.good_len + rec.torn_bytes, bytes.len() as u64);
            }
            Err(e) => {
                // Damage inside the header.
                let header_damaged =
                    bytes.len() < HEADER_LEN || bytes[..HEADER_LEN] != clean[..HEADER_LEN];
                assert!(header_damaged, "{d:?}: {e}");
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
}
