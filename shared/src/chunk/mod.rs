//! Columnar chunk files (`chunk_NNN.col`): per-column encodings, writer, lazy reader, zone map.
//! Format: `docs/FORMAT.md` §Chunk.
