//! `opentrace-queryd` entry point: parses the command line, then serves or runs an operator
//! subcommand.

use anyhow::Context;
use clap::Parser;
use opentrace_queryd::commands::backup::{BackupOptions, RestoreOptions, backup, restore};
use opentrace_queryd::commands::{invite_create, run_serve, user_create};
use opentrace_queryd::config::{
    Cli, Command, InviteCommand, ServeConfig, UserCommand, default_data_dir,
};
use opentrace_queryd::platform::{Platform, Role};

fn main() -> anyhow::Result<()> {
    // `.env` in the working directory; real environment variables win.
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let data_dir = cli.data_dir.clone();
    match cli.command {
        None => serve(data_dir, &cli.serve),
        Some(Command::Serve(args)) => serve(data_dir, &args),
        Some(Command::User(UserCommand::Create {
            email,
            admin,
            member: _,
            envs,
            password,
        })) => {
            let platform = Platform::open(&data_dir.unwrap_or_else(default_data_dir))
                .context("opening the platform database")?;
            let role = if admin { Role::Admin } else { Role::Member };
            let created = user_create(&platform, &email, role, &envs, password.as_deref())?;
            platform
                .publish_settings()
                .context("publishing settings.json")?;
            eprintln!(
                "created {} {} (id {}), environments {:?}",
                created.user.role.as_str(),
                created.user.email,
                created.user.id,
                created.user.environments
            );
            if let Some(pw) = &created.generated_password {
                eprintln!("generated password (shown once): {pw}");
            }
            println!("{}", created.token);
            Ok(())
        }
        Some(Command::Invite(InviteCommand::Create {
            role,
            envs,
            expires,
        })) => {
            let platform = Platform::open(&data_dir.unwrap_or_else(default_data_dir))
                .context("opening the platform database")?;
            let inv = invite_create(&platform, &role, &envs, &expires)?;
            eprintln!(
                "invite for a {} with environments {:?}, expires {} (single use)",
                inv.role.as_str(),
                inv.environments,
                inv.expires_at
            );
            println!("{}", inv.code);
            Ok(())
        }
        Some(Command::Backup { to, copy }) => {
            let data_dir = data_dir.unwrap_or_else(default_data_dir);
            let m = backup(&BackupOptions {
                data_dir,
                to: to.clone(),
                copy,
            })?;
            let s = &m.summary;
            eprintln!(
                "backup in {}: platform.db {}, {} hours ({} sealed), {} chunks, {} bytes; {} WALs not copied, {} hours removed by retention meanwhile",
                to.display(),
                if s.platform_db { "copied" } else { "absent" },
                s.hours,
                s.sealed_hours,
                s.chunks,
                s.bytes,
                s.wals_skipped,
                s.vanished_hours
            );
            Ok(())
        }
        Some(Command::Restore { from, force }) => {
            let data_dir = data_dir.unwrap_or_else(default_data_dir);
            let s = restore(&RestoreOptions {
                from,
                data_dir: data_dir.clone(),
                force,
            })?;
            eprintln!(
                "restored into {}: platform.db {}, {} hours, {} chunks",
                data_dir.display(),
                if s.platform_db { "restored" } else { "absent" },
                s.hours,
                s.chunks
            );
            Ok(())
        }
    }
}

fn serve(
    data_dir: Option<std::path::PathBuf>,
    args: &opentrace_queryd::config::ServeArgs,
) -> anyhow::Result<()> {
    let config = ServeConfig::resolve(data_dir, args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(run_serve(config))?;
    Ok(())
}
