//! Data-directory layout, the atomic publish protocol and the directory scanner.
//! Layout: `docs/FORMAT.md` §Data directory.
