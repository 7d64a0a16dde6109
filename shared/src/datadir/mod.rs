//! Data-directory layout, the atomic publish protocol and the directory scanner.
//! Layout: `docs/FORMAT.md` §Data directory.

mod layout;
mod publish;
mod scan;

pub use layout::{DataDir, FileKind, META_FILE, TMP_SUFFIX};
pub use publish::{fsync_dir, publish_chunk, publish_file};
pub use scan::{ChunkFiles, FileInfo, HourScan, Problem, StoreScan, scan, scan_hour};
