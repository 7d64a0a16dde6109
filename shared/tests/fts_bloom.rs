//! Bloom filters of id columns in the `.idx` (version 3): never a false negative, few false
//! positives, damage is a typed error, and version 2 files (no filters) still read the same.

use opentrace_shared::fts::{BLOOM_COLUMNS, IndexBuilder, IndexReader};
use opentrace_shared::{Col, Row, testdata};

fn rows() -> Vec<Row> {
    let messages = testdata::load_messages(&testdata::default_loghub_dir());
    testdata::generate(4000, 11, &messages)
}

fn build(rows: &[Row]) -> Vec<u8> {
    let mut b = IndexBuilder::new();
    for (i, r) in rows.iter().enumerate() {
        b.add_row(i as u32, r);
    }
    b.finish().unwrap()
}

/// The same index in the version 2 layout: no bloom section, 56-byte footer.
fn as_version_2(v3: &[u8]) -> Vec<u8> {
    let n = v3.len();
    let footer = &v3[n - 76..n - 4];
    let u64_at = |o: usize| u64::from_le_bytes(footer[o..o + 8].try_into().unwrap()) as usize;
    let (p, d, i, l) = (u64_at(16), u64_at(24), u64_at(32), u64_at(56));
    assert_eq!(8 + p + d + i + l + 76, n);
    let mut header = [0u8; 8];
    header.copy_from_slice(&v3[..8]);
    header[4..6].copy_from_slice(&2u16.to_le_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(&v3[8..8 + p + d + i]);
    let mut f2 = footer[..52].to_vec();
    let crc = crc32c::crc32c_append(crc32c::crc32c(&header), &f2);
    f2.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&f2);
    out.extend_from_slice(b"OTIX");
    out
}

#[test]
fn filters_hold_every_value_and_few_others() {
    let rows = rows();
    let file = build(&rows);
    let r = IndexReader::open(&file).unwrap();
    assert_eq!(r.version(), 3);
    for &col in BLOOM_COLUMNS {
        let values: Vec<&str> = rows
            .iter()
            .filter_map(|x| x.get(col).as_str())
            .filter(|v| !v.is_empty())
            .collect();
        assert!(!values.is_empty(), "test data has {} values", col.name());
        for v in &values {
            assert_eq!(r.may_contain(col, v), Some(true), "{} = {v}", col.name());
        }
        let false_pos = (0..10_000)
            .filter(|i| r.may_contain(col, &format!("absent-{i}")) == Some(true))
            .count();
        assert!(
            false_pos < 300,
            "{}: {false_pos} false positives in 10000",
            col.name()
        );
    }
    // Columns without a filter cannot answer.
    assert_eq!(r.may_contain(Col::SessionId, "x"), None);
    assert_eq!(r.may_contain(Col::Message, "x"), None);
}

#[test]
fn version_2_files_read_the_same_without_filters() {
    let rows = rows();
    let v3 = build(&rows);
    let v2 = as_version_2(&v3);
    let (a, b) = (
        IndexReader::open(&v3).unwrap(),
        IndexReader::open(&v2).unwrap(),
    );
    assert_eq!(b.version(), 2);
    assert_eq!(a.term_count(), b.term_count());
    for term in ["error", "timeout", "connection", "nosuchterm", "api"] {
        let (x, y) = (a.term_info(term).unwrap(), b.term_info(term).unwrap());
        assert_eq!(x, y, "{term}");
    }
    let trace = rows
        .iter()
        .find_map(|r| r.trace_id.clone())
        .expect("a trace id");
    assert_eq!(b.may_contain(Col::TraceId, &trace), None);
}

#[test]
fn damaged_filters_are_errors_never_panics() {
    let file = build(&rows());
    let n = file.len();
    let footer = &file[n - 76..n - 4];
    let bloom_len = u64::from_le_bytes(footer[56..64].try_into().unwrap()) as usize;
    assert!(bloom_len > 0);
    let bloom_start = n - 76 - bloom_len;
    let rows = rows();
    let traces: Vec<&str> = rows.iter().filter_map(|r| r.trace_id.as_deref()).collect();
    for at in (bloom_start..bloom_start + bloom_len).step_by(97) {
        let mut bad = file.clone();
        bad[at] ^= 0x20;
        assert!(
            IndexReader::open(&bad).is_err(),
            "a flipped bit at {at} in the bloom section went unnoticed"
        );
        // The trusted open defers the check to the lookup, which then never rules a
        // present value out (or the damage hit a filter header and the open fails).
        if let Ok(r) = IndexReader::open_trusted(&bad) {
            for t in &traces {
                assert_ne!(r.may_contain(Col::TraceId, t), Some(false), "{t} at {at}");
            }
        }
    }
}
