#![no_main]
//! Fuzzes the byte-level WAL reader: arbitrary bytes as a whole file image, as a record area
//! and as a single payload. Nothing may panic; the valid-prefix bookkeeping must add up;
//! every record that decodes must re-encode to exactly the bytes it came from (the
//! encoding is canonical, so a decoder that accepted something the encoder cannot produce
//! would show up here); the builder's in-place reader must agree with the owned one.
use libfuzzer_sys::fuzz_target;
use opentrace_shared::wal::{
    FRAME_HEADER_LEN, HEADER_LEN, WalHeader, decode_payload, decode_summary, encode_record,
    for_each_record, read_records, read_wal, summarize_wal,
};
use opentrace_shared::{ChunkId, HourId};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = read_wal(data) {
        assert_eq!(c.tail.good_len + c.tail.torn_bytes, data.len());
        assert!(c.tail.good_len >= HEADER_LEN);
        // Recovery's head-only scan covers at least every record the full decode accepts.
        let (heads, tail) = summarize_wal(data).expect("the header decoded once already");
        assert!(heads.len() >= c.records.len());
        assert!(tail.good_len >= c.tail.good_len);
        for (h, r) in heads.iter().zip(&c.records) {
            assert_eq!(h.rows, r.rows.len() as u64);
            assert_eq!(h.last_seq(), r.last_seq());
        }
    }
    // A payload head that decodes fully also decodes as a summary, with the same counts.
    if let Ok(rec) = decode_payload(data) {
        let h = decode_summary(data).expect("the full decoder accepted the head");
        assert_eq!(h.rows, rec.rows.len() as u64);
    }

    let (records, tail) = read_records(data);
    assert_eq!(tail.good_len + tail.torn_bytes, data.len());
    let mut again = Vec::new();
    for r in &records {
        encode_record(r, &mut again).expect("a decoded record re-encodes");
    }
    assert_eq!(&again[..], &data[..tail.good_len]);

    // The chunk builder's in-place path sees the same records, rows and stopping point.
    let mut seen = 0usize;
    let streamed = for_each_record(data, |head, rows, _| {
        let r = &records[seen];
        assert_eq!(head.batch_id, r.batch_id);
        assert_eq!(head.rows, r.rows.len() as u64);
        let owned: Vec<_> = rows.iter().map(|x| x.to_row().expect("decoded")).collect();
        assert_eq!(owned, r.rows);
        seen += 1;
    });
    assert_eq!(seen, records.len());
    assert_eq!(streamed, tail);

    // The same bytes as a payload whose CRC is right, reaching the decoder's validation.
    if let Ok(rec) = decode_payload(data) {
        let mut f = Vec::new();
        encode_record(&rec, &mut f).expect("a decoded payload re-encodes");
        assert_eq!(&f[FRAME_HEADER_LEN..], data);
    }

    // Behind a valid header, through the whole-file path.
    let mut img = WalHeader {
        hour: HourId(0),
        chunk: ChunkId(0),
    }
    .encode()
    .to_vec();
    img.extend_from_slice(data);
    let c = read_wal(&img).expect("valid header");
    assert_eq!(c.records, records);
});
