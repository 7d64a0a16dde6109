//! Damaged `.idx` files: truncation and bit flips never panic and always yield a typed
//! error (or, for the unchecked open, data that is still bounds-checked).

mod fts_support;

use fts_support::{Rng, corpus_rows, loghub_lines};
use opentrace_shared::fts::{IndexBuilder, IndexError, IndexReader, Section, tokenize};

fn sample_index() -> (Vec<u8>, Vec<String>) {
    let lines = loghub_lines();
    let sample: Vec<String> = lines.iter().step_by(160).take(200).cloned().collect();
    let rows = corpus_rows(&sample);
    let mut b = IndexBuilder::new();
    for (i, r) in rows.iter().enumerate() {
        b.add_row(i as u32, r);
    }
    let mut terms: Vec<String> = sample.iter().take(10).flat_map(|l| tokenize(l)).collect();
    terms.extend(["zzz", "", "a", "~~~"].map(String::from));
    (b.finish().unwrap(), terms)
}

/// Exercises every read path; returns the first error, if any.
fn read_all(r: &IndexReader<'_>, terms: &[String]) -> Result<(), IndexError> {
    for t in terms {
        if let Some(info) = r.term_info(t)? {
            r.read_postings(&info)?;
        }
    }
    let mut infos = Vec::new();
    r.for_each_term(|_, i| infos.push(*i))?;
    for i in infos {
        r.read_postings(&i)?;
    }
    Ok(())
}

#[test]
fn every_truncation_is_a_typed_error() {
    let (file, terms) = sample_index();
    assert!(read_all(&IndexReader::open(&file).unwrap(), &terms).is_ok());
    for len in 0..file.len() {
        let cut = &file[..len];
        let err = IndexReader::open(cut).expect_err("truncated file opened");
        assert!(
            matches!(
                err,
                IndexError::Truncated { .. }
                    | IndexError::BadMagic { .. }
                    | IndexError::Checksum { .. }
                    | IndexError::Corrupt { .. }
            ),
            "len {len}: {err:?}"
        );
        if let Ok(r) = IndexReader::open_trusted(cut) {
            let _ = read_all(&r, &terms);
        }
    }
    assert!(matches!(
        IndexReader::open(&file[..10]),
        Err(IndexError::Truncated { .. })
    ));
}

#[test]
fn every_single_bit_flip_is_detected() {
    let (file, terms) = sample_index();
    let mut rng = Rng(42);
    let mut damaged = file.clone();
    for pos in 0..file.len() {
        let bit = 1u8 << rng.below(8);
        damaged[pos] ^= bit;
        // CRC32C detects every single-bit error, so the checked open always fails.
        let err = IndexReader::open(&damaged).expect_err("bit flip not detected");
        let _ = err.to_string();
        // The trusted open skips two checksums: it must still never panic (sampled: a
        // full read per position is slow in debug builds).
        if pos % 16 == 0
            && let Ok(r) = IndexReader::open_trusted(&damaged)
        {
            let _ = read_all(&r, &terms);
        }
        damaged[pos] ^= bit;
    }
    assert_eq!(damaged, file);
}

#[test]
fn random_multi_byte_damage_never_panics() {
    let (file, terms) = sample_index();
    let mut rng = Rng(7);
    for _ in 0..400 {
        let mut d = file.clone();
        for _ in 0..1 + rng.below(8) {
            let p = rng.below(d.len());
            d[p] = rng.next() as u8;
        }
        if let Ok(r) = IndexReader::open(&d) {
            // Only undamaged content can pass all checksums.
            assert!(read_all(&r, &terms).is_ok());
        }
        if let Ok(r) = IndexReader::open_trusted(&d) {
            let _ = read_all(&r, &terms);
        }
    }
}

#[test]
fn header_errors_are_specific() {
    let (file, _) = sample_index();
    let mut d = file.clone();
    d[0] = b'X';
    assert!(matches!(
        IndexReader::open(&d),
        Err(IndexError::BadMagic {
            section: Section::Header,
            ..
        })
    ));
    let mut d = file.clone();
    d[4] = 9;
    assert!(matches!(
        IndexReader::open(&d),
        Err(IndexError::UnsupportedVersion {
            found: 9,
            supported: 3
        })
    ));
    let mut d = file.clone();
    d[9] ^= 1;
    assert!(matches!(
        IndexReader::open(&d),
        Err(IndexError::Checksum {
            section: Section::Postings,
            ..
        })
    ));
    let garbage: Vec<u8> = (0..500u32).map(|i| (i * 31 % 251) as u8).collect();
    assert!(IndexReader::open(&garbage).is_err());
}
