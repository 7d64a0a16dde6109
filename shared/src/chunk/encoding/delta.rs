//! Integer sequences: constant, zigzag varints (optionally zstd), frame-of-reference
//! bit-packing, and delta + frame-of-reference bit-packing; plus the chooser that measures
//! every candidate and keeps the smallest. Integer dictionaries live in [`super::dict`].
//!
//! Layouts, after the `u8` [`ValueEncoding`] tag (`n` = value count, known from context):
//! - `None` (0): nothing; only valid for `n == 0`.
//! - `IntConst` (1): `ivarint v`.
//! - `IntVarint` (2): a section holding `n` zigzag varints.
//! - `IntFor` (3): `ivarint min`, then bit-packed `v - min` (wrapping, as `u64`).
//! - `IntDeltaFor` (4): `ivarint first`, `ivarint min_delta`, then the `n - 1` bit-packed
//!   `(v[i] - v[i-1]) - min_delta` (wrapping). Sequential ids cost one byte in total.

use super::bitpack::{Packed, pack, packed_len, width_for};
use super::dict;
use super::varint::{put_ivarint, uvarint_len, zigzag};
use super::zstd_block::{Zstd, put_section, read_section};
use super::{Corrupt, Cursor, ValueEncoding};

/// Integer dictionaries are only tried for at most this many distinct values.
const MAX_INT_DICT: usize = 4096;

/// Appends `values` in the smallest of the integer encodings and returns the one chosen.
pub fn encode_ints(out: &mut Vec<u8>, values: &[i64], z: &mut Zstd) -> ValueEncoding {
    let Some((&first, _)) = values.split_first() else {
        out.push(ValueEncoding::None as u8);
        return ValueEncoding::None;
    };
    let (min, max) = values
        .iter()
        .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if min == max {
        out.push(ValueEncoding::IntConst as u8);
        put_ivarint(out, first);
        return ValueEncoding::IntConst;
    }
    let n = values.len();
    let for_width = width_for(max.wrapping_sub(min) as u64);
    let for_size = uvarint_len(zigzag(min)) + 1 + packed_len(n, for_width).unwrap_or(usize::MAX);

    let (dmin, dmax) = delta_range(values);
    let d_width = width_for(dmax.wrapping_sub(dmin) as u64);
    let delta_size = uvarint_len(zigzag(first))
        + uvarint_len(zigzag(dmin))
        + 1
        + packed_len(n - 1, d_width).unwrap_or(usize::MAX);

    let mut best = (for_size, ValueEncoding::IntFor);
    if delta_size < best.0 {
        best = (delta_size, ValueEncoding::IntDeltaFor);
    }
    if let Some(distinct) = dict::distinct_ints(values, MAX_INT_DICT) {
        let size = dict::int_dict_size(&distinct, n);
        if size < best.0 {
            best = (size, ValueEncoding::IntDict);
        }
        if best.1 == ValueEncoding::IntDict {
            out.push(ValueEncoding::IntDict as u8);
            dict::put_int_dict(out, values, &distinct);
            return ValueEncoding::IntDict;
        }
    }
    // Varints under zstd win on skewed distributions where one outlier widens the packing.
    if n >= 64 {
        let mut raw = Vec::with_capacity(n * 2);
        for &v in values {
            super::varint::put_uvarint(&mut raw, zigzag(v));
        }
        let mut candidate = vec![ValueEncoding::IntVarint as u8];
        put_section(&mut candidate, &raw, Some(z));
        if candidate.len() < best.0 + 1 {
            out.extend_from_slice(&candidate);
            return ValueEncoding::IntVarint;
        }
    }
    match best.1 {
        ValueEncoding::IntDeltaFor => {
            out.push(ValueEncoding::IntDeltaFor as u8);
            put_ivarint(out, first);
            put_ivarint(out, dmin);
            pack(
                out,
                d_width,
                values
                    .windows(2)
                    .map(|w| w[1].wrapping_sub(w[0]).wrapping_sub(dmin) as u64),
            );
            ValueEncoding::IntDeltaFor
        }
        _ => {
            out.push(ValueEncoding::IntFor as u8);
            put_ivarint(out, min);
            pack(
                out,
                for_width,
                values.iter().map(|v| v.wrapping_sub(min) as u64),
            );
            ValueEncoding::IntFor
        }
    }
}

/// Minimum and maximum of consecutive differences (wrapping); `(0, 0)` for fewer than two.
fn delta_range(values: &[i64]) -> (i64, i64) {
    let mut it = values.windows(2).map(|w| w[1].wrapping_sub(w[0]));
    let Some(d0) = it.next() else {
        return (0, 0);
    };
    it.fold((d0, d0), |(lo, hi), d| (lo.min(d), hi.max(d)))
}

/// Reads an integer sequence of `n` values written by [`encode_ints`] (tag byte included).
pub fn decode_ints(cur: &mut Cursor<'_>, n: usize) -> Result<Vec<i64>, Corrupt> {
    let tag = ValueEncoding::from_u8(cur.u8()?).ok_or(Corrupt("unknown value encoding"))?;
    decode_ints_as(cur, tag, n)
}

/// Reads `n` values in the given (already consumed) encoding.
pub fn decode_ints_as(
    cur: &mut Cursor<'_>,
    tag: ValueEncoding,
    n: usize,
) -> Result<Vec<i64>, Corrupt> {
    match tag {
        ValueEncoding::None => {
            if n == 0 {
                Ok(Vec::new())
            } else {
                Err(Corrupt("no values stored for a non-empty column"))
            }
        }
        ValueEncoding::IntConst => Ok(vec![cur.ivarint()?; n]),
        ValueEncoding::IntVarint => {
            let raw = read_section(cur, n.saturating_mul(10))?;
            let mut c = Cursor::new(&raw);
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                out.push(c.ivarint()?);
            }
            c.finish()?;
            Ok(out)
        }
        ValueEncoding::IntFor => {
            let min = cur.ivarint()?;
            let p = Packed::read(cur, n)?;
            let mut out = Vec::with_capacity(n);
            p.for_each(|x| out.push(min.wrapping_add(x as i64)));
            Ok(out)
        }
        ValueEncoding::IntDeltaFor => {
            if n == 0 {
                return Err(Corrupt("delta encoding with no values"));
            }
            let first = cur.ivarint()?;
            let dmin = cur.ivarint()?;
            let p = Packed::read(cur, n - 1)?;
            let mut out = Vec::with_capacity(n);
            out.push(first);
            let mut prev = first;
            p.for_each(|x| {
                prev = prev.wrapping_add(dmin.wrapping_add(x as i64));
                out.push(prev);
            });
            Ok(out)
        }
        ValueEncoding::IntDict => dict::read_int_dict(cur, n),
        _ => Err(Corrupt("string encoding where integers were expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(values: &[i64]) -> ValueEncoding {
        let mut z = Zstd::new(3);
        let mut out = Vec::new();
        let enc = encode_ints(&mut out, values, &mut z);
        let mut cur = Cursor::new(&out);
        assert_eq!(decode_ints(&mut cur, values.len()).unwrap(), values);
        assert!(cur.is_empty());
        enc
    }

    /// Encodes with one fixed encoding, bypassing the chooser, and decodes it back.
    fn forced(values: &[i64], enc: ValueEncoding) -> Vec<i64> {
        let mut out = vec![enc as u8];
        match enc {
            ValueEncoding::IntFor => {
                let min = values.iter().copied().min().unwrap_or(0);
                put_ivarint(&mut out, min);
                let w = width_for(
                    values
                        .iter()
                        .map(|v| v.wrapping_sub(min) as u64)
                        .max()
                        .unwrap_or(0),
                );
                pack(
                    &mut out,
                    w,
                    values.iter().map(|v| v.wrapping_sub(min) as u64),
                );
            }
            ValueEncoding::IntDeltaFor => {
                let (dmin, dmax) = delta_range(values);
                put_ivarint(&mut out, values[0]);
                put_ivarint(&mut out, dmin);
                let w = width_for(dmax.wrapping_sub(dmin) as u64);
                pack(
                    &mut out,
                    w,
                    values
                        .windows(2)
                        .map(|p| p[1].wrapping_sub(p[0]).wrapping_sub(dmin) as u64),
                );
            }
            ValueEncoding::IntVarint => {
                let mut raw = Vec::new();
                for &v in values {
                    super::super::varint::put_ivarint(&mut raw, v);
                }
                put_section(&mut out, &raw, Some(&mut Zstd::new(1)));
            }
            _ => unreachable!(),
        }
        let mut cur = Cursor::new(&out);
        let back = decode_ints(&mut cur, values.len()).unwrap();
        assert!(cur.is_empty());
        back
    }

    proptest! {
        #[test]
        fn chooser_round_trip(values in proptest::collection::vec(any::<i64>(), 0..200)) {
            round_trip(&values);
        }

        #[test]
        fn chooser_round_trip_small(values in proptest::collection::vec(-50i64..50, 0..300)) {
            round_trip(&values);
        }

        #[test]
        fn every_encoding_round_trips(values in proptest::collection::vec(any::<i64>(), 1..200)) {
            for enc in [ValueEncoding::IntFor, ValueEncoding::IntDeltaFor, ValueEncoding::IntVarint] {
                prop_assert_eq!(forced(&values, enc), values.clone());
            }
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>, n in 0usize..300) {
            let _ = decode_ints(&mut Cursor::new(&bytes), n);
        }
    }

    #[test]
    fn sequences_pick_cheap_encodings() {
        let seq: Vec<i64> = (1000..66_536).collect();
        assert_eq!(round_trip(&seq), ValueEncoding::IntDeltaFor);
        let mut out = Vec::new();
        encode_ints(&mut out, &seq, &mut Zstd::new(3));
        assert!(out.len() < 8, "consecutive values cost {} bytes", out.len());
        assert_eq!(round_trip(&[5; 100]), ValueEncoding::IntConst);
        assert_eq!(round_trip(&[]), ValueEncoding::None);
        round_trip(&[i64::MIN, i64::MAX, 0, -1, i64::MAX, i64::MIN]);
        let statuses: Vec<i64> = (0..1000)
            .map(|i| [200, 201, 404, 500, 302][i % 5])
            .collect();
        assert_eq!(round_trip(&statuses), ValueEncoding::IntDict);
    }
}
