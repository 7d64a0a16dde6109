//! `opentrace-ingestd`: parse the configuration, open the store, serve.

use anyhow::Context;
use clap::Parser;
use opentrace_ingestd::config::{Config, load_dotenv};
use opentrace_ingestd::{server, storage};

fn main() -> anyhow::Result<()> {
    tune_allocator();
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    for (k, v) in load_dotenv(&cwd) {
        // SAFETY: no other thread exists yet (the runtime is built below), so nothing can
        // read the environment concurrently.
        unsafe { std::env::set_var(k, v) };
    }
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let store = storage::open(&config)?;
        server::serve(config, store).await?;
        Ok(())
    })
}

/// Serves every allocation of 1 MiB or more with its own mapping. glibc otherwise raises
/// that threshold as large blocks are freed (up to 32 MiB), after which a chunk build's
/// growing column and term buffers come from the heap: each growth copies the buffer while
/// the old copy is still resident, and the freed space stays mapped. Measured with
/// `loadgen` (1M entries, batch 50), peak RSS fell from 98 to 78 MiB at the same
/// throughput. `MALLOC_MMAP_THRESHOLD_` in the environment still overrides this.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: called first thing in main, before any other thread exists; mallopt only
        // changes the allocator's policy for future allocations.
        unsafe {
            nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}
