//! Reading a request body within limits, and gzip/deflate decompression with a hard cap.
//!
//! The wire body is read frame by frame through [`http_body_util::Limited`], so a client
//! cannot make the server buffer more than `max_body_bytes`. Decompression writes into a
//! buffer whose capacity never exceeds `max_decompressed_bytes`: a gzip bomb that declares its
//! size in the trailer is refused before inflating, and one that lies is cut off at the cap
//! (→ 413) having cost at most `hint + cap` bytes (see [`read_capped`]).

use std::io::Read;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

/// Body size limits.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Largest body on the wire.
    pub max_body_bytes: usize,
    /// Largest body after decompression.
    pub max_decompressed_bytes: usize,
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    /// The body on the wire is over the limit.
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The decompressed body is over the limit.
    #[error("decompressed request body is larger than {0} bytes")]
    DecompressedTooLarge(usize),
    /// The body claims gzip/deflate but is not.
    #[error("invalid {0} body: {1}")]
    BadEncoding(&'static str, String),
    /// A `Content-Encoding` this server does not speak.
    #[error("unsupported Content-Encoding {0:?}; use gzip or none")]
    UnsupportedEncoding(String),
    /// The connection failed while reading.
    #[error("failed to read the request body: {0}")]
    Read(String),
}

/// Reads the whole body, refusing more than `max` bytes.
pub async fn read_limited(body: Incoming, max: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(BodyError::TooLarge(max))
        }
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}

/// The content coding of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Not compressed.
    Identity,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// zlib-wrapped deflate (HTTP's `deflate`).
    Deflate,
}

/// The encoding named by a `Content-Encoding` header value (absent means identity). A body
/// that starts with the gzip magic number is treated as gzip whatever the header says.
pub fn encoding(header: Option<&str>, body: &[u8]) -> Result<Encoding, BodyError> {
    if body.starts_with(&[0x1f, 0x8b]) {
        return Ok(Encoding::Gzip);
    }
    match header.map(|h| h.trim().to_ascii_lowercase()) {
        None => Ok(Encoding::Identity),
        Some(h) => match h.as_str() {
            "" | "identity" => Ok(Encoding::Identity),
            "gzip" | "x-gzip" => Ok(Encoding::Gzip),
            "deflate" => Ok(Encoding::Deflate),
            _ => Err(BodyError::UnsupportedEncoding(h)),
        },
    }
}

/// Decodes a body; identity bodies are returned as they are.
pub fn decode(body: Bytes, enc: Encoding, max: usize) -> Result<Bytes, BodyError> {
    match enc {
        Encoding::Identity => {
            if body.len() > max {
                return Err(BodyError::DecompressedTooLarge(max));
            }
            Ok(body)
        }
        Encoding::Gzip => {
            // The gzip trailer's ISIZE (size mod 2^32 of the last member) is exact for the
            // SDKs' single-member bodies: a body that declares more than the cap is refused
            // without inflating anything, and an honest body is inflated into one allocation.
            let declared = gzip_isize(&body);
            if declared.is_some_and(|n| n > max) {
                return Err(BodyError::DecompressedTooLarge(max));
            }
            let hint = declared.unwrap_or(body.len().saturating_mul(4));
            read_capped(
                flate2::read::MultiGzDecoder::new(&body[..]),
                max,
                hint,
                "gzip",
            )
            .map(Bytes::from)
        }
        Encoding::Deflate => read_capped(
            flate2::read::ZlibDecoder::new(&body[..]),
            max,
            body.len().saturating_mul(4),
            "deflate",
        )
        .map(Bytes::from),
    }
}

/// The ISIZE field of a gzip trailer (last 4 bytes, little endian).
fn gzip_isize(body: &[u8]) -> Option<usize> {
    // 10-byte header + 8-byte trailer is the smallest gzip member.
    if body.len() < 18 || !body.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let start = body.len().checked_sub(4)?;
    let b: [u8; 4] = body.get(start..)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(b)).ok()
}

/// Reads a decoder to the end into one buffer whose capacity never exceeds `max`.
///
/// The buffer starts at `hint` (clamped to `max`); if the data outgrows it, it is grown once,
/// straight to `max`. Peak memory is therefore at most `hint + max` during that one
/// reallocation, and exactly the output size when the hint is right.
pub fn read_capped<R: Read>(
    mut r: R,
    max: usize,
    hint: usize,
    what: &'static str,
) -> Result<Vec<u8>, BodyError> {
    let mut out: Vec<u8> = Vec::with_capacity(hint.clamp(1, max.max(1)));
    let mut chunk = [0u8; 32 * 1024];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BodyError::BadEncoding(what, e.to_string())),
        };
        let needed = out.len() + n;
        if needed > max {
            return Err(BodyError::DecompressedTooLarge(max));
        }
        if needed > out.capacity() {
            out.reserve_exact(max - out.len());
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip_and_sniffing() {
        let z = gzip(b"[{\"a\":1}]");
        assert_eq!(encoding(None, &z), Ok(Encoding::Gzip));
        assert_eq!(
            encoding(Some("br"), b"[]"),
            Err(BodyError::UnsupportedEncoding("br".into()))
        );
        assert_eq!(
            &decode(Bytes::from(z), Encoding::Gzip, 1024).unwrap()[..],
            b"[{\"a\":1}]"
        );
        assert!(matches!(
            decode(Bytes::from_static(b"nope"), Encoding::Gzip, 1024),
            Err(BodyError::BadEncoding("gzip", _))
        ));
    }

    #[test]
    fn bomb_is_cut_at_the_cap_without_growing_past_it() {
        let bomb = gzip(&vec![b' '; 20 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        let max = 1024 * 1024;
        let err = read_capped(
            flate2::read::MultiGzDecoder::new(&bomb[..]),
            max,
            bomb.len(),
            "gzip",
        );
        assert_eq!(err, Err(BodyError::DecompressedTooLarge(max)));
        // Exactly at the cap is fine, and the buffer never holds more than the cap.
        let exact = gzip(&vec![b'x'; max]);
        let out = read_capped(
            flate2::read::MultiGzDecoder::new(&exact[..]),
            max,
            exact.len(),
            "gzip",
        )
        .unwrap();
        assert_eq!(out.len(), max);
        assert!(out.capacity() <= max);
    }
}
