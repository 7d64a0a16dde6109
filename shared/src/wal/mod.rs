//! Write-ahead log: CRC-framed batch records, an appending writer and a tailing reader.
//! Format: `docs/FORMAT.md` §WAL.
