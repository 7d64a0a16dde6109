//! The size floor: the NDJSON of the run compressed with zstd at levels 3 and 19.
//!
//! A log store that keeps rows queryable should still be compared with what a plain
//! compressed file of the same rows costs.

use std::io::{BufReader, Write};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

/// One compression result.
#[derive(Debug, Clone, Serialize)]
pub struct ZstdSize {
    /// zstd level.
    pub level: i32,
    /// Compressed bytes.
    pub bytes: u64,
    /// Seconds spent compressing (single thread).
    pub secs: f64,
}

/// A writer that only counts.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Compresses `file` at `level` and returns the compressed size.
pub fn zstd_size(file: &Path, level: i32) -> std::io::Result<ZstdSize> {
    let t = Instant::now();
    let input = BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
    let mut out = Counter(0);
    zstd::stream::copy_encode(input, &mut out, level)?;
    Ok(ZstdSize {
        level,
        bytes: out.0,
        secs: t.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_repetitive_text_well() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.ndjson");
        std::fs::write(
            &p,
            "{\"level\":\"info\",\"message\":\"hello\"}\n".repeat(1000),
        )
        .unwrap();
        let z = zstd_size(&p, 3).unwrap();
        assert!(z.bytes > 0 && z.bytes < 2000, "{z:?}");
    }
}
