//! The size floor: the NDJSON of the run compressed with zstd at levels 3 and 19.
//!
//! A log store that keeps rows queryable should still be compared with what a plain
//! compressed file of the same rows costs.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

/// One compression result.
#[derive(Debug, Clone, Serialize)]
pub struct ZstdSize {
    /// zstd level.
    pub level: i32,
    /// NDJSON bytes compressed (a whole-line prefix of the file when capped).
    pub input_bytes: u64,
    /// Lines (rows) in those bytes.
    pub input_rows: u64,
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

/// Compresses the whole lines of `file` up to `max_bytes` (level 19 runs at well under
/// 1 MB/s on a busy 2-core machine, so it is measured on a prefix) at `level`.
pub fn zstd_size(file: &Path, level: i32, max_bytes: u64) -> std::io::Result<ZstdSize> {
    let t = Instant::now();
    let mut input = BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
    let mut enc = zstd::stream::Encoder::new(Counter(0), level)?;
    let (mut input_bytes, mut input_rows) = (0u64, 0u64);
    let mut line = Vec::with_capacity(4096);
    while input_bytes < max_bytes {
        line.clear();
        let n = input.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        enc.write_all(&line)?;
        input_bytes += n as u64;
        input_rows += 1;
    }
    let out = enc.finish()?;
    Ok(ZstdSize {
        level,
        input_bytes,
        input_rows,
        bytes: out.0,
        secs: t.elapsed().as_secs_f64(),
    })
}

impl ZstdSize {
    /// Compressed bytes per row.
    pub fn bytes_per_row(&self) -> f64 {
        self.bytes as f64 / self.input_rows.max(1) as f64
    }
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
        let z = zstd_size(&p, 3, u64::MAX).unwrap();
        assert!(z.bytes > 0 && z.bytes < 2000, "{z:?}");
        assert_eq!(z.input_rows, 1000);
        let half = zstd_size(&p, 3, 35 * 500).unwrap();
        assert_eq!(half.input_rows, 500);
    }
}
