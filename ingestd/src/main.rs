//! `opentrace-ingestd`: parse the configuration, open the store, serve.

use anyhow::Context;
use clap::Parser;
use opentrace_ingestd::config::{Config, load_dotenv};
use opentrace_ingestd::{server, storage};

fn main() -> anyhow::Result<()> {
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
