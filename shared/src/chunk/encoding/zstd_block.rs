//! Byte sections stored raw or zstd-compressed, whichever is smaller.
//!
//! Layout: `u8 codec` (0 = raw, 1 = zstd), `uvarint raw_len`, then for raw the `raw_len`
//! bytes; for zstd `uvarint stored_len` and `stored_len` bytes of one zstd frame that
//! decompresses to exactly `raw_len` bytes.

use std::borrow::Cow;
use std::io::Read;

use super::varint::put_uvarint;
use super::{Corrupt, Cursor, MAX_SECTION_BYTES};

const CODEC_RAW: u8 = 0;
const CODEC_ZSTD: u8 = 1;

/// Sections shorter than this are never worth a zstd frame header.
const MIN_COMPRESS: usize = 48;

/// A reusable zstd compressor at one level.
pub struct Zstd {
    level: i32,
    inner: Option<zstd::bulk::Compressor<'static>>,
}

impl std::fmt::Debug for Zstd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zstd").field("level", &self.level).finish()
    }
}

impl Zstd {
    /// A compressor at `level` (1..=22). If zstd cannot set up, sections are stored raw.
    pub fn new(level: i32) -> Zstd {
        Zstd::with_window(level, 0)
    }

    /// A compressor at `level` with long-distance matching over a `2^window_log`-byte
    /// window (`window_log` 0 keeps the level's defaults). Frames with a window above 2^27
    /// would need a special flag to decode, so the window is capped at 2^27.
    pub fn with_window(level: i32, window_log: u32) -> Zstd {
        let inner = zstd::bulk::Compressor::new(level).ok().and_then(|mut c| {
            if window_log > 0 {
                use zstd::zstd_safe::CParameter;
                c.set_parameter(CParameter::EnableLongDistanceMatching(true))
                    .ok()?;
                c.set_parameter(CParameter::WindowLog(window_log.min(27)))
                    .ok()?;
            }
            Some(c)
        });
        Zstd { level, inner }
    }

    /// A compressor at `level` whose frames use `dict` as a raw-content dictionary (a
    /// sample of the data that later frames can refer to); readers must pass the same bytes
    /// to [`read_section_with_dict`]. An empty `dict` is no dictionary.
    pub fn with_dictionary(level: i32, dict: &[u8]) -> Zstd {
        let inner = zstd::bulk::Compressor::with_dictionary(level, dict).ok();
        Zstd { level, inner }
    }

    /// The configured level.
    pub fn level(&self) -> i32 {
        self.level
    }

    /// Compresses `raw` into one frame; `None` if zstd failed.
    pub fn compress(&mut self, raw: &[u8]) -> Option<Vec<u8>> {
        self.inner.as_mut()?.compress(raw).ok()
    }
}

/// Appends `raw` as a section, zstd-compressed with `z` if that is smaller.
pub fn put_section(out: &mut Vec<u8>, raw: &[u8], z: Option<&mut Zstd>) {
    if let Some(z) = z
        && raw.len() >= MIN_COMPRESS
        && let Some(c) = z.compress(raw)
        && c.len() < raw.len()
    {
        out.push(CODEC_ZSTD);
        put_uvarint(out, raw.len() as u64);
        put_uvarint(out, c.len() as u64);
        out.extend_from_slice(&c);
        return;
    }
    out.push(CODEC_RAW);
    put_uvarint(out, raw.len() as u64);
    out.extend_from_slice(raw);
}

/// Reads a section, refusing a declared size above `max_len` (and above
/// [`MAX_SECTION_BYTES`]). Raw sections borrow from the input.
pub fn read_section<'a>(cur: &mut Cursor<'a>, max_len: usize) -> Result<Cow<'a, [u8]>, Corrupt> {
    read_section_with_dict(cur, max_len, &[])
}

/// [`read_section`] for sections whose zstd frame was compressed with the raw-content
/// dictionary `dict` ([`Zstd::with_dictionary`]); an empty `dict` is none.
pub fn read_section_with_dict<'a>(
    cur: &mut Cursor<'a>,
    max_len: usize,
    dict: &[u8],
) -> Result<Cow<'a, [u8]>, Corrupt> {
    let codec = cur.u8()?;
    let raw_len = cur.len_varint(max_len.min(MAX_SECTION_BYTES))?;
    match codec {
        CODEC_RAW => Ok(Cow::Borrowed(cur.take(raw_len)?)),
        CODEC_ZSTD => {
            let stored = cur.len_varint(cur.remaining())?;
            let frame = cur.take(stored)?;
            let dec = zstd::stream::read::Decoder::with_dictionary(frame, dict)
                .map_err(|_| Corrupt("zstd decoder setup failed"))?;
            // Grow with the data actually produced, not with the declared length.
            let hint = raw_len.min(stored.saturating_mul(16).saturating_add(4096));
            let mut v = Vec::with_capacity(hint);
            let mut limited = dec.take(raw_len as u64);
            limited
                .read_to_end(&mut v)
                .map_err(|_| Corrupt("invalid zstd frame"))?;
            if v.len() != raw_len {
                return Err(Corrupt("zstd frame shorter than declared"));
            }
            let mut extra = [0u8; 1];
            if limited.into_inner().read(&mut extra).unwrap_or(1) != 0 {
                return Err(Corrupt("zstd frame longer than declared"));
            }
            Ok(Cow::Owned(v))
        }
        _ => Err(Corrupt("unknown section codec")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn section_round_trip(raw in proptest::collection::vec(0u8..4, 0..2000), compress: bool) {
            let mut z = Zstd::new(3);
            let mut out = Vec::new();
            put_section(&mut out, &raw, if compress { Some(&mut z) } else { None });
            let mut cur = Cursor::new(&out);
            let back = read_section(&mut cur, usize::MAX).unwrap();
            prop_assert_eq!(&back[..], &raw[..]);
            prop_assert!(cur.is_empty());
        }

        #[test]
        fn garbage_never_panics(bytes: Vec<u8>) {
            let _ = read_section(&mut Cursor::new(&bytes), 1 << 20);
        }
    }

    #[test]
    fn compressible_data_is_compressed_and_bounded() {
        let raw = vec![7u8; 100_000];
        let mut out = Vec::new();
        put_section(&mut out, &raw, Some(&mut Zstd::new(3)));
        assert!(out.len() < 1000);
        assert_eq!(out[0], CODEC_ZSTD);
        assert!(read_section(&mut Cursor::new(&out), 99_999).is_err());
        // The declared raw length (varint at bytes 1..4) must match the frame exactly.
        assert_eq!(&out[1..4], &[0xa0, 0x8d, 0x06]);
        for declared in [[0x9f, 0x8d, 0x06], [0xa1, 0x8d, 0x06]] {
            let mut lying = out.clone();
            lying[1..4].copy_from_slice(&declared);
            assert!(read_section(&mut Cursor::new(&lying), usize::MAX).is_err());
        }
    }
}
