//! Round-trip properties of the WAL record codec, over every column type.

mod wal_support;

use opentrace_shared::wal::{
    FRAME_HEADER_LEN, PreparedRecord, TailStop, WalRecord, WalWriter, decode_payload,
    encode_record, read_records, read_wal,
};
use opentrace_shared::{ChunkId, HourId, Seq};
use proptest::prelude::*;
use wal_support::{frame, record_strategy, sample_records};

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn record_round_trips(rec in record_strategy(6)) {
        let f = frame(&rec);
        let len = u32::from_le_bytes(f[0..4].try_into().unwrap()) as usize;
        prop_assert_eq!(len + FRAME_HEADER_LEN, f.len());
        let crc = u32::from_le_bytes(f[4..8].try_into().unwrap());
        prop_assert_eq!(crc, crc32c::crc32c(&f[FRAME_HEADER_LEN..]));
        let back = decode_payload(&f[FRAME_HEADER_LEN..]).unwrap();
        prop_assert_eq!(&back, &rec);
    }

    /// A record encoded ahead and finished with its seqs and receive time is byte for byte
    /// the record encoded with them, for receive times of the same varint length as the
    /// encoding time and for ones that are not (those keep the encoding time).
    #[test]
    fn a_prepared_record_finishes_into_the_plain_encoding(
        rec in record_strategy(6),
        first in prop_oneof![Just(0u64), 1u64..1_000_000_000, Just(u64::MAX - 10)],
        encoded_at in prop_oneof![Just(1_776_507_330_000_000i64), any::<i64>()],
        now in prop_oneof![1_700_000_000_000_000i64..1_900_000_000_000_000, any::<i64>()],
    ) {
        let mut prepared =
            PreparedRecord::encode(rec.batch_id.clone(), rec.rows.clone(), encoded_at).unwrap();
        prop_assert_eq!(prepared.rows() as usize, rec.rows.len());
        let got = prepared.finish(Seq(first), now).to_vec();
        let stored = prepared.received_at();
        prop_assert!(stored == now || stored == encoded_at);
        if (1i64 << 48..1i64 << 55).contains(&encoded_at) && (1i64 << 48..1i64 << 55).contains(&now) {
            prop_assert_eq!(stored, now);
        }
        let mut want_rec = rec.clone();
        for (i, r) in want_rec.rows.iter_mut().enumerate() {
            r.seq = Seq(first + i as u64);
            r.received_at = stored;
        }
        let mut want = Vec::new();
        encode_record(&want_rec, &mut want).unwrap();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(decode_payload(&got[FRAME_HEADER_LEN..]).unwrap(), want_rec);
        // Finishing again (a retried append) gives a valid frame for the new values.
        let again = prepared.finish(Seq(first / 2), now).to_vec();
        let back = decode_payload(&again[FRAME_HEADER_LEN..]).unwrap();
        prop_assert_eq!(back.rows.first().map(|r| r.seq), rec.rows.first().map(|_| Seq(first / 2)));
    }

    #[test]
    fn concatenated_frames_read_back_in_order(recs in prop::collection::vec(record_strategy(3), 0..6)) {
        let mut bytes = Vec::new();
        for r in &recs {
            encode_record(r, &mut bytes).unwrap();
        }
        let (back, tail) = read_records(&bytes);
        prop_assert_eq!(back, recs);
        prop_assert_eq!(tail.stop, TailStop::End);
        prop_assert_eq!(tail.good_len, bytes.len());
        prop_assert_eq!(tail.torn_bytes, 0);
    }
}

#[test]
fn writer_file_round_trip_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_007.log");
    let recs = sample_records(7, 40, 20);
    let mut w = WalWriter::create(&path, HourId(493_000), ChunkId(7)).unwrap();
    assert!(w.is_empty());
    for (i, r) in recs.iter().enumerate() {
        if i % 2 == 0 {
            w.append(r).unwrap();
        } else {
            let mut buf = Vec::new();
            encode_record(r, &mut buf).unwrap();
            w.append_encoded(&buf).unwrap();
        }
        if i % 7 == 0 {
            w.sync().unwrap();
        }
    }
    w.sync().unwrap();
    let len = w.len();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    drop(w);

    let bytes = std::fs::read(&path).unwrap();
    let contents = read_wal(&bytes).unwrap();
    assert_eq!(contents.header.hour, HourId(493_000));
    assert_eq!(contents.header.chunk, ChunkId(7));
    assert_eq!(contents.records, recs);
    assert_eq!(contents.tail.good_len as u64, len);

    let (mut w, rec) = WalWriter::open_existing(&path).unwrap();
    assert_eq!(rec.records, recs);
    assert_eq!(rec.torn_bytes, 0);
    assert_eq!(rec.good_len, len);
    let expected_last = recs.iter().rev().find_map(WalRecord::last_seq);
    assert_eq!(rec.last_seq, expected_last);
    let expected_ids: Vec<_> = recs.iter().filter_map(|r| r.batch_id.clone()).collect();
    assert_eq!(rec.batch_ids().cloned().collect::<Vec<_>>(), expected_ids);
    assert_eq!(
        rec.row_count(),
        recs.iter().map(|r| r.rows.len()).sum::<usize>()
    );

    // Appending after reopen extends the same file.
    let more = sample_records(8, 3, 5);
    for r in &more {
        w.append(r).unwrap();
    }
    w.sync().unwrap();
    let all = read_wal(&std::fs::read(&path).unwrap()).unwrap().records;
    assert_eq!(all.len(), recs.len() + more.len());
    assert_eq!(&all[recs.len()..], &more[..]);
}

#[test]
fn create_refuses_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_000.log");
    WalWriter::create(&path, HourId(1), ChunkId(0)).unwrap();
    let err = WalWriter::create(&path, HourId(1), ChunkId(0)).unwrap_err();
    assert!(
        matches!(err, opentrace_shared::wal::WalError::Io { .. }),
        "{err}"
    );
}

#[test]
fn append_encoded_rejects_partial_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal_001.log");
    let mut w = WalWriter::create(&path, HourId(1), ChunkId(1)).unwrap();
    let f = frame(&sample_records(1, 1, 3)[0]);
    let err = w.append_encoded(&f[..f.len() - 1]).unwrap_err();
    assert!(matches!(err, opentrace_shared::wal::WalError::NotAFrame));
    assert!(w.is_empty());
    w.append_encoded(&f).unwrap();
    assert_eq!(
        w.len(),
        (opentrace_shared::wal::HEADER_LEN + f.len()) as u64
    );
}
