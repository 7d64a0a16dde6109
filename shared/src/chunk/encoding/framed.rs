//! `StrFramed` (value encoding 11, `.col` version 2): a long string column cut into frames of
//! a fixed number of values, each frame a self-contained `StrPlain` payload, so that reading
//! one row decompresses one frame instead of the whole column.
//!
//! Compressing frames apart loses the repetition between them (log lines of one template
//! spread over the whole chunk), so text-like columns carry a *prefix*: a sample of values
//! (from the whole column, or from its first frames when [`FrameWriter`] is fed as rows
//! arrive) that every frame's zstd section uses as a raw-content dictionary.
//! Reading a row then costs the prefix (at most [`PREFIX_BYTES`]) plus one frame.
//!
//! Layout, after the `u8` tag (`m` values, known from context):
//! ```text
//! uvarint frame_rows            (>= 1)
//! uvarint frame_count           (= ceil(m / frame_rows))
//! section prefix                (raw or zstd; empty when frames use no dictionary)
//! frame_count x uvarint len     (bytes of each frame)
//! frame_count x frame           (a StrPlain payload of min(frame_rows, rest) values whose
//!                                zstd byte section uses the prefix as its dictionary)
//! ```
//! Specified in `docs/format/col.md`.

use std::borrow::Cow;

use super::strings::{StrValues, put_plain, read_plain_with_dict};
use super::varint::{put_uvarint, uvarint_len};
use super::zstd_block::{Zstd, put_section, read_section};
use super::{Corrupt, Cursor, MAX_SECTION_BYTES};

/// Largest prefix dictionary a writer samples.
pub const PREFIX_BYTES: usize = 128 << 10;

/// Values sampled evenly over `values`, up to [`PREFIX_BYTES`].
pub fn sample_prefix(values: &StrValues) -> Vec<u8> {
    let total = values.byte_len();
    let stride = total.div_ceil(PREFIX_BYTES).max(1);
    let mut out = Vec::with_capacity(total.min(PREFIX_BYTES));
    for s in values.iter().step_by(stride) {
        if out.len() + s.len() > PREFIX_BYTES {
            break;
        }
        out.extend_from_slice(s.as_bytes());
    }
    out
}

/// Whether `sample`, as the prefix dictionary of `frames` frames at zstd `level`, makes
/// `probe` (a frame's worth of the column's values, taken apart from the sample: a frame
/// compresses well against a copy of itself) smaller by more, over all the frames, than storing the prefix costs.
pub fn prefix_pays(level: i32, sample: &[u8], probe: &StrValues, frames: usize) -> bool {
    if sample.len() < 4096 || frames <= 1 {
        return false;
    }
    let probe = probe.bytes();
    let mut plain = Zstd::new(level);
    let size = |c: Option<Vec<u8>>| c.as_ref().map_or(usize::MAX, Vec::len);
    let alone = size(plain.compress(probe));
    let helped = size(Zstd::with_dictionary(level, sample).compress(probe));
    let cost = size(plain.compress(sample));
    helped < alone && (alone - helped).saturating_mul(frames) > cost
}

/// Appends a `StrFramed` payload (without tag): frames of `frame_rows` values, lengths
/// compressed with `zi`, bytes at `zs`'s level (with a prefix dictionary sampled from the
/// whole column when a trial on the middle frame shows it saves more than it costs).
pub fn put_framed(
    out: &mut Vec<u8>,
    values: &StrValues,
    frame_rows: usize,
    zi: &mut Zstd,
    zs: &mut Zstd,
) {
    let frame_rows = frame_rows.max(1);
    let m = values.len();
    let mid = (m.div_ceil(frame_rows) / 2) * frame_rows;
    let probe = values.slice(mid, (mid + frame_rows).min(m));
    let sample = sample_prefix(values);
    let prefix = if prefix_pays(zs.level(), &sample, &probe, m.div_ceil(frame_rows)) {
        sample
    } else {
        Vec::new()
    };
    let mut w = FrameWriter::new(frame_rows, zs.level(), prefix);
    w.push_values(values, zi);
    w.finish(out);
}

/// Writes a `StrFramed` payload one frame at a time, so that a column being built can
/// compress its frames as they fill instead of holding every raw value until the end
/// (the chunk writer does this for long text columns).
#[derive(Debug)]
pub struct FrameWriter {
    frame_rows: usize,
    /// The prefix, already encoded as its section (written first by `finish`).
    prefix_section: Vec<u8>,
    level: i32,
    /// The prefix dictionary frames use (empty: none).
    prefix: Vec<u8>,
    /// Compresses the frames (with the prefix as dictionary when there is one), created on
    /// demand: a zstd context is megabytes, which a streamed column gives back between
    /// frames ([`FrameWriter::release_context`]).
    z: Option<Zstd>,
    frames: Vec<Vec<u8>>,
}

impl FrameWriter {
    /// A writer of frames of `frame_rows` values at zstd `level`, with `prefix` as the
    /// frames' dictionary (none when empty; see [`prefix_pays`]).
    pub fn new(frame_rows: usize, level: i32, prefix: Vec<u8>) -> FrameWriter {
        // Frames are small: long-distance matching would only cost setup time on each of
        // them, so they are compressed at the level without it.
        let mut prefix_section = Vec::new();
        if prefix.is_empty() {
            put_section(&mut prefix_section, &[], None);
        } else {
            put_section(&mut prefix_section, &prefix, Some(&mut Zstd::new(level)));
        }
        FrameWriter {
            frame_rows: frame_rows.max(1),
            prefix_section,
            level,
            prefix,
            z: None,
            frames: Vec::new(),
        }
    }

    /// Values per frame.
    pub fn frame_rows(&self) -> usize {
        self.frame_rows
    }

    /// Compresses `values` as the next frames, cut every `frame_rows` values. Every call
    /// but the last must bring a multiple of `frame_rows` values (only the last frame of a
    /// column may be short).
    pub fn push_values(&mut self, values: &StrValues, zi: &mut Zstd) {
        if values.len() <= self.frame_rows {
            if !values.is_empty() {
                self.push_frame(values, zi);
            }
            return;
        }
        let mut start = 0;
        while start < values.len() {
            let end = start + self.frame_rows;
            self.push_frame(&values.slice(start, end), zi);
            start = end;
        }
    }

    /// Compresses one frame.
    fn push_frame(&mut self, part: &StrValues, zi: &mut Zstd) {
        let (level, prefix) = (self.level, &self.prefix);
        let z = self.z.get_or_insert_with(|| {
            if prefix.is_empty() {
                Zstd::new(level)
            } else {
                Zstd::with_dictionary(level, prefix)
            }
        });
        let mut f = Vec::new();
        put_plain(&mut f, part, zi, z);
        self.frames.push(f);
    }

    /// Frees the frame compressor until the next [`FrameWriter::push_values`], which sets
    /// it up again (a fraction of a millisecond against the seconds a frame takes to fill).
    pub fn release_context(&mut self) {
        self.z = None;
    }

    /// Bytes [`FrameWriter::finish`] would append now.
    pub fn encoded_len(&self) -> usize {
        uvarint_len(self.frame_rows as u64)
            + uvarint_len(self.frames.len() as u64)
            + self.prefix_section.len()
            + self
                .frames
                .iter()
                .map(|f| uvarint_len(f.len() as u64) + f.len())
                .sum::<usize>()
    }

    /// Appends the payload (without tag) of the frames pushed so far.
    pub fn finish(self, out: &mut Vec<u8>) {
        put_uvarint(out, self.frame_rows as u64);
        put_uvarint(out, self.frames.len() as u64);
        out.extend_from_slice(&self.prefix_section);
        for f in &self.frames {
            put_uvarint(out, f.len() as u64);
        }
        for f in &self.frames {
            out.extend_from_slice(f);
        }
    }
}

/// A parsed `StrFramed` payload: where each frame lies, decoded on demand.
#[derive(Debug, Clone)]
pub struct Framed<'a> {
    frame_rows: usize,
    m: usize,
    prefix: Cow<'a, [u8]>,
    frames: Vec<&'a [u8]>,
}

impl<'a> Framed<'a> {
    /// Reads the frame directory of a payload of `m` values and takes every frame's bytes;
    /// only the prefix (if any) is decompressed, frames are decoded on demand.
    pub fn read(cur: &mut Cursor<'a>, m: usize) -> Result<Framed<'a>, Corrupt> {
        let frame_rows = cur.len_varint(usize::MAX)?;
        if frame_rows == 0 {
            return Err(Corrupt("zero rows per frame"));
        }
        let count = cur.len_varint(cur.remaining())?;
        if count != m.div_ceil(frame_rows) {
            return Err(Corrupt("frame count does not cover the values"));
        }
        let prefix = read_section(cur, MAX_SECTION_BYTES)?;
        let mut lens = Vec::with_capacity(count);
        for _ in 0..count {
            lens.push(cur.len_varint(cur.remaining())?);
        }
        let mut frames = Vec::with_capacity(count);
        for len in lens {
            frames.push(cur.take(len)?);
        }
        Ok(Framed {
            frame_rows,
            m,
            prefix,
            frames,
        })
    }

    /// Number of frames.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// The frame holding value `k`, and `k`'s position inside it.
    pub fn locate(&self, k: usize) -> (usize, usize) {
        (k / self.frame_rows, k % self.frame_rows)
    }

    /// Decodes frame `f` (its bytes must be consumed exactly).
    pub fn frame(&self, f: usize) -> Result<StrValues, Corrupt> {
        let bytes = self.frames.get(f).ok_or(Corrupt("frame out of range"))?;
        let n = self
            .m
            .saturating_sub(f.saturating_mul(self.frame_rows))
            .min(self.frame_rows);
        let mut c = Cursor::new(bytes);
        let v = read_plain_with_dict(&mut c, n, &self.prefix)?;
        c.finish()?;
        Ok(v)
    }

    /// Decodes every frame into one list of the `m` values.
    pub fn all(&self) -> Result<StrValues, Corrupt> {
        let mut out = StrValues::new();
        for f in 0..self.frames.len() {
            let part = self.frame(f)?;
            for s in part.iter() {
                out.push(s);
            }
        }
        Ok(out)
    }
}

/// Reads a whole `StrFramed` payload (without tag) of `m` strings.
pub fn read_framed(cur: &mut Cursor<'_>, m: usize) -> Result<StrValues, Corrupt> {
    Framed::read(cur, m)?.all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(values: &[String], frame_rows: usize) -> Vec<u8> {
        let mut sv = StrValues::new();
        for v in values {
            sv.push(v);
        }
        let mut out = Vec::new();
        put_framed(
            &mut out,
            &sv,
            frame_rows,
            &mut Zstd::new(1),
            &mut Zstd::new(3),
        );
        out
    }

    proptest! {
        #[test]
        fn framed_round_trip(
            values in proptest::collection::vec("\\PC{0,40}", 0..200),
            frame_rows in 1usize..70,
        ) {
            let out = encode(&values, frame_rows);
            let mut cur = Cursor::new(&out);
            let back = read_framed(&mut cur, values.len()).unwrap();
            prop_assert!(cur.is_empty());
            prop_assert_eq!(back.iter().collect::<Vec<_>>(), values.iter().map(String::as_str).collect::<Vec<_>>());
            // Every value through its own frame.
            let f = Framed::read(&mut Cursor::new(&out), values.len()).unwrap();
            for (k, v) in values.iter().enumerate() {
                let (fi, pos) = f.locate(k);
                let frame = f.frame(fi).unwrap();
                prop_assert_eq!(frame.get(pos), v.as_str());
            }
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>, m in 0usize..50) {
            let _ = read_framed(&mut Cursor::new(&bytes), m);
            if let Ok(f) = Framed::read(&mut Cursor::new(&bytes), m) {
                for i in 0..f.frame_count() + 1 {
                    let _ = f.frame(i);
                }
            }
        }

        #[test]
        fn bit_flips_never_panic(
            values in proptest::collection::vec("[a-z ]{0,30}", 1..60),
            at in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let mut out = encode(&values, 7);
            let i = at.index(out.len());
            out[i] ^= 1 << bit;
            let _ = read_framed(&mut Cursor::new(&out), values.len());
        }
    }

    #[test]
    fn frame_count_must_cover_the_values() {
        let out = encode(&["a".into(), "b".into(), "c".into()], 2);
        assert!(read_framed(&mut Cursor::new(&out), 3).is_ok());
        assert!(read_framed(&mut Cursor::new(&out), 5).is_err());
        assert!(read_framed(&mut Cursor::new(&out), 1).is_err());
    }

    #[test]
    fn text_columns_get_a_prefix_and_ids_do_not() {
        let messages = crate::testdata::load_messages(&crate::testdata::default_loghub_dir());
        assert!(messages.len() > 1000, "the loghub corpus is in tests/data");
        // Interleaved like a real service's log lines.
        let mut rng = crate::testdata::Rng::new(7);
        let text: Vec<String> = (0..65_536).map(|_| rng.pick(&messages).clone()).collect();
        let ids: Vec<String> = (0..65_536u64)
            .map(|i| format!("{:016x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        for (values, want_prefix) in [(&text, true), (&ids, false)] {
            let out = encode(values, 4096);
            let f = Framed::read(&mut Cursor::new(&out), values.len()).unwrap();
            assert_eq!(
                !f.prefix.is_empty(),
                want_prefix,
                "prefix expected: {want_prefix}"
            );
            let back = f.all().unwrap();
            assert!(back.iter().eq(values.iter().map(String::as_str)));
        }
    }

    #[test]
    fn empty_column_has_no_frames() {
        let out = encode(&[], 4);
        let f = Framed::read(&mut Cursor::new(&out), 0).unwrap();
        assert_eq!(f.frame_count(), 0);
        assert!(f.all().unwrap().is_empty());
    }
}
