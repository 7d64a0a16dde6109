//! Crash recovery: a WAL cut anywhere inside its last record recovers exactly the records
//! before it, and the recovered file accepts new appends.

mod wal_support;

use opentrace_shared::wal::{
    FRAME_HEADER_LEN, HEADER_LEN, TailStop, WalError, WalWriter, read_wal,
};
use opentrace_shared::{ChunkId, HourId};
use wal_support::{Rng, frame, sample_record, sample_records};

/// Writes `recs` to a fresh WAL at `path` and returns the file's bytes.
fn write_wal(path: &std::path::Path, recs: &[opentrace_shared::wal::WalRecord]) -> Vec<u8> {
    let mut w = WalWriter::create(path, HourId(490_123), ChunkId(3)).unwrap();
    for r in recs {
        w.append(r).unwrap();
    }
    w.sync().unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn every_cut_inside_the_last_record_recovers_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs = sample_records(11, 6, 2);
    // The last record: two rows and a batch id (first seq 300 is a multiple of 3).
    recs.push(sample_record(&mut Rng::new(12), 300, 2));
    assert!(recs[recs.len() - 1].batch_id.is_some());
    let n = recs.len();
    let full = write_wal(&dir.path().join("wal_003.log"), &recs);
    let last_len = frame(&recs[n - 1]).len();
    let last_start = full.len() - last_len;
    assert!(last_len > 600, "last record is {last_len} bytes");
    assert!(FRAME_HEADER_LEN < last_len);
    let next = sample_records(99, 1, 3).pop().unwrap();

    let copy = dir.path().join("copy.log");
    for cut in last_start..full.len() {
        let torn = &full[..cut];

        // Pure reader.
        let c = read_wal(torn).unwrap();
        assert_eq!(c.records, &recs[..n - 1], "cut {cut}");
        assert_eq!(c.tail.good_len, last_start, "cut {cut}");
        assert_eq!(c.tail.torn_bytes, cut - last_start, "cut {cut}");
        if cut > last_start {
            assert!(c.tail.stop.is_torn(), "cut {cut}: {:?}", c.tail.stop);
        }

        // Recovery for writing.
        std::fs::write(&copy, torn).unwrap();
        let (mut w, rec) = WalWriter::open_existing(&copy).unwrap();
        assert_eq!(rec.records, &recs[..n - 1], "cut {cut}");
        assert_eq!(rec.torn_bytes, (cut - last_start) as u64, "cut {cut}");
        assert_eq!(rec.good_len, last_start as u64);
        assert_eq!(w.len(), last_start as u64);
        assert_eq!(
            std::fs::metadata(&copy).unwrap().len(),
            last_start as u64,
            "cut {cut}"
        );

        // Append after recovery: N-1 old records plus the new one.
        w.append(&next).unwrap();
        w.sync().unwrap();
        drop(w);
        let after = read_wal(&std::fs::read(&copy).unwrap()).unwrap();
        assert_eq!(after.records.len(), n, "cut {cut}");
        assert_eq!(&after.records[..n - 1], &recs[..n - 1]);
        assert_eq!(after.records[n - 1], next);
        assert_eq!(after.tail.stop, TailStop::End);
        std::fs::remove_file(&copy).unwrap();
    }
}

#[test]
fn a_crc_mismatch_in_the_last_record_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_004.log");
    let recs = sample_records(5, 4, 4);
    let mut bytes = write_wal(&path, &recs);
    let last_len = frame(&recs[3]).len();
    let at = bytes.len() - last_len / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let (_, rec) = WalWriter::open_existing(&path).unwrap();
    assert_eq!(rec.records, &recs[..3]);
    assert!(matches!(rec.stop, TailStop::CrcMismatch { .. }));
    assert_eq!(rec.torn_bytes, last_len as u64);
}

#[test]
fn a_zero_filled_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_005.log");
    let recs = sample_records(6, 3, 4);
    let mut bytes = write_wal(&path, &recs);
    let good = bytes.len();
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&path, &bytes).unwrap();
    let (_, rec) = WalWriter::open_existing(&path).unwrap();
    assert_eq!(rec.records, recs);
    assert_eq!(rec.stop, TailStop::BadLength(0));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), good as u64);
}

#[test]
fn a_crc_valid_but_undecodable_record_is_an_error_and_not_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_006.log");
    let recs = sample_records(9, 2, 3);
    let mut bytes = write_wal(&path, &recs);
    let good = bytes.len();
    // Payload: no batch id, first seq 5, zero rows: invalid (an empty record has seq 0).
    let mut payload = vec![0u8];
    payload.extend_from_slice(&5u64.to_le_bytes());
    payload.push(0);
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    std::fs::write(&path, &bytes).unwrap();
    let err = WalWriter::open_existing(&path).unwrap_err();
    match err {
        WalError::Corrupt { offset, .. } => assert_eq!(offset, good as u64),
        other => panic!("unexpected {other}"),
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), bytes.len() as u64);
}

#[test]
fn header_problems_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_008.log");
    let bytes = write_wal(&path, &sample_records(1, 1, 1));
    std::fs::write(&path, &bytes[..HEADER_LEN - 3]).unwrap();
    assert!(matches!(
        WalWriter::open_existing(&path),
        Err(WalError::TruncatedHeader { .. })
    ));
    let mut bad = bytes.clone();
    bad[1] = b'?';
    std::fs::write(&path, &bad).unwrap();
    assert!(matches!(
        WalWriter::open_existing(&path),
        Err(WalError::BadMagic { .. })
    ));
}
