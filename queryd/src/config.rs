//! Command line and environment: `serve` (default), `user create`, `invite create`, `backup`,
//! `restore`.
//! Every option also reads an `OPENTRACE_*` variable; `.env` in the working directory is
//! loaded first without overriding variables already set.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::auth::client_ip::IpCidr;

/// `opentrace-queryd`: MCP, onboarding and accounts over an OpenTrace data directory.
#[derive(Debug, Parser)]
#[command(
    name = "opentrace-queryd",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Data directory shared with ingestd (default `~/.opentrace`).
    #[arg(long, env = "OPENTRACE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve` when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage invites.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Copy platform.db and the committed chunks into a new directory while both daemons run
    /// (WALs are not copied; see docs/OPERATIONS.md).
    Backup {
        /// Directory to create (must not exist or be empty).
        #[arg(long)]
        to: PathBuf,
        /// Copy chunk files instead of hard-linking them when on the same file system.
        #[arg(long)]
        copy: bool,
    },
    /// Put a backup into the data directory (stop both daemons first).
    Restore {
        /// Directory written by `backup`.
        #[arg(long)]
        from: PathBuf,
        /// Replace platform.db, settings.json, ingest.key and logs/ of a non-empty data
        /// directory.
        #[arg(long)]
        force: bool,
    },
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print a new MCP token for it.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        /// Make the account an admin.
        #[arg(long, conflicts_with = "member")]
        admin: bool,
        /// Make the account a member (the default).
        #[arg(long)]
        member: bool,
        /// Environments the account may query, comma separated.
        #[arg(long = "env", value_delimiter = ',')]
        envs: Vec<String>,
        /// Password (at least 12 characters); a random one is generated and printed if unset.
        #[arg(long, env = "OPENTRACE_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// `invite` subcommands.
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Create a single-use invite code and print it.
    Create {
        /// Role of the invited account: `member` or `admin`.
        #[arg(long, default_value = "member")]
        role: String,
        /// Environments the invited account may query, comma separated.
        #[arg(long = "env", value_delimiter = ',')]
        envs: Vec<String>,
        /// Validity, e.g. `7d`, `12h`, `30m`.
        #[arg(long, default_value = "7d")]
        expires: String,
    },
}

/// Options of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OPENTRACE_LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen_addr: SocketAddr,
    /// URL agents and the connect script use to reach this server (default derived from
    /// the listen address), e.g. `https://opentrace.example.com`.
    #[arg(long, env = "OPENTRACE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Base URL SDKs send logs to (their `endpoint` option), shown by the `setup` tool
    /// (default: the public URL's origin, as the reverse proxy serves `/api/*` there).
    #[arg(long, env = "OPENTRACE_INGEST_URL")]
    pub ingest_url: Option<String>,
    /// Proxies whose X-Forwarded-For is trusted: IPs or CIDRs, comma separated.
    #[arg(long, env = "OPENTRACE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// Extra Host names accepted on /mcp (loopback names and the public URL's host always are).
    #[arg(long, env = "OPENTRACE_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Extra Origins accepted on /mcp, e.g. `https://app.example.com`.
    #[arg(long, env = "OPENTRACE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Attempts per minute per client IP on the auth endpoints.
    #[arg(
        long,
        env = "OPENTRACE_AUTH_RATE_LIMIT_PER_MINUTE",
        default_value_t = 10
    )]
    pub auth_rate_limit_per_minute: u32,
    /// Test-only: serve /mcp without authentication (as a member with no environments).
    /// Refused unless the listen address is loopback. For the MCP conformance suite.
    #[arg(long, hide = true)]
    pub insecure_no_auth_for_conformance: bool,
}

/// Configuration errors (reported at start-up).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value did not parse.
    #[error("{0}")]
    Invalid(String),
}

/// Fully resolved server configuration.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Listen address.
    pub listen_addr: SocketAddr,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// Ingest base URL for SDKs (`scheme://host[:port][/prefix]`, no trailing slash).
    pub ingest_url: String,
    /// Trusted proxy ranges.
    pub trusted_proxies: Vec<IpCidr>,
    /// Host names (no port, lowercase) accepted in `Host` on /mcp.
    pub allowed_hosts: Vec<String>,
    /// Origins (`scheme://host[:port]`, lowercase) accepted in `Origin` on /mcp, besides
    /// any origin whose host is a loopback name.
    pub allowed_origins: Vec<String>,
    /// Auth attempts per minute per client IP.
    pub auth_rate_limit_per_minute: u32,
    /// Conformance-only: no authentication on /mcp.
    pub insecure_no_auth: bool,
}

/// Names always accepted as `Host` and as the host of an `Origin`.
pub const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// Default data directory: `$HOME/.opentrace`, or `./.opentrace` without a home.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".opentrace")
}

/// Splits a URL like `https://host:port/path` into (scheme, host, port-or-default).
pub fn split_url(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = split_host_port(authority)?;
    let port = match port {
        Some(p) => p,
        None => match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        },
    };
    Some((scheme, host, port))
}

/// Splits `host[:port]` / `[v6][:port]` into a lowercase host (brackets removed) and port.
pub fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let authority = authority.trim();
    if authority.is_empty() {
        return None;
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_ascii_lowercase(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_ascii_lowercase(), Some(p.parse().ok()?))),
        Some(_) => Some((authority.to_ascii_lowercase(), None)), // bare IPv6
        None => Some((authority.to_ascii_lowercase(), None)),
    }
}

impl ServeConfig {
    /// Resolves command-line/environment options into a configuration.
    pub fn resolve(data_dir: Option<PathBuf>, args: &ServeArgs) -> Result<Self, ConfigError> {
        let data_dir = data_dir.unwrap_or_else(default_data_dir);
        let public_url = match &args.public_url {
            Some(u) => u.trim().trim_end_matches('/').to_string(),
            None => {
                let ip = args.listen_addr.ip();
                let port = args.listen_addr.port();
                match ip {
                    IpAddr::V4(v4) if !v4.is_unspecified() => format!("http://{v4}:{port}"),
                    IpAddr::V6(v6) if !v6.is_unspecified() => format!("http://[{v6}]:{port}"),
                    _ => format!("http://localhost:{port}"),
                }
            }
        };
        let (scheme, public_host, public_port) = split_url(&public_url).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "OPENTRACE_PUBLIC_URL {public_url:?} is not an http(s) URL like https://opentrace.example.com"
            ))
        })?;
        let trusted_proxies = args
            .trusted_proxies
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                IpCidr::parse(s).ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "OPENTRACE_TRUSTED_PROXIES entry {s:?} is not an IP or CIDR"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut allowed_hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|s| s.to_string()).collect();
        allowed_hosts.push(public_host.clone());
        for h in &args.allowed_hosts {
            if let Some((host, _)) = split_host_port(h) {
                allowed_hosts.push(host);
            }
        }
        allowed_hosts.sort();
        allowed_hosts.dedup();
        let default_port = if scheme == "https" { 443 } else { 80 };
        let public_origin = if public_port == default_port {
            format!("{scheme}://{}", bracket(&public_host))
        } else {
            format!("{scheme}://{}:{public_port}", bracket(&public_host))
        };
        let ingest_url = match args.ingest_url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => {
                let u = u.trim_end_matches('/').to_string();
                split_url(&u).ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "OPENTRACE_INGEST_URL {u:?} is not an http(s) URL like https://opentrace.example.com"
                    ))
                })?;
                u
            }
            _ => public_origin.clone(),
        };
        let mut allowed_origins = vec![public_origin];
        for o in &args.allowed_origins {
            let o = o.trim().trim_end_matches('/').to_ascii_lowercase();
            if !o.is_empty() {
                allowed_origins.push(o);
            }
        }
        if args.insecure_no_auth_for_conformance && !args.listen_addr.ip().is_loopback() {
            return Err(ConfigError::Invalid(String::from(
                "--insecure-no-auth-for-conformance is only allowed on a loopback listen address",
            )));
        }
        if args.auth_rate_limit_per_minute == 0 {
            return Err(ConfigError::Invalid(String::from(
                "OPENTRACE_AUTH_RATE_LIMIT_PER_MINUTE must be at least 1",
            )));
        }
        Ok(Self {
            data_dir,
            listen_addr: args.listen_addr,
            public_url,
            ingest_url,
            trusted_proxies,
            allowed_hosts,
            allowed_origins,
            auth_rate_limit_per_minute: args.auth_rate_limit_per_minute,
            insecure_no_auth: args.insecure_no_auth_for_conformance,
        })
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ServeArgs {
        ServeArgs {
            listen_addr: "127.0.0.1:9000".parse().unwrap(),
            public_url: None,
            ingest_url: None,
            trusted_proxies: vec![],
            allowed_hosts: vec![],
            allowed_origins: vec![],
            auth_rate_limit_per_minute: 10,
            insecure_no_auth_for_conformance: false,
        }
    }

    #[test]
    fn public_url_defaults_to_listen_address() {
        let c = ServeConfig::resolve(Some("/tmp/x".into()), &args()).unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:9000");
        assert_eq!(c.allowed_origins, vec!["http://127.0.0.1:9000"]);
        assert!(c.allowed_hosts.contains(&"localhost".to_string()));
    }

    #[test]
    fn public_url_host_is_allowed() {
        let mut a = args();
        a.public_url = Some("https://Trace.Example.com/".into());
        let c = ServeConfig::resolve(None, &a).unwrap();
        assert_eq!(c.public_url, "https://Trace.Example.com");
        assert!(c.allowed_hosts.contains(&"trace.example.com".to_string()));
        assert_eq!(c.allowed_origins, vec!["https://trace.example.com"]);
        assert_eq!(c.ingest_url, "https://trace.example.com");
    }

    #[test]
    fn ingest_url_defaults_to_public_origin_and_can_be_set() {
        let mut a = args();
        a.public_url = Some("https://trace.example.com:8443/ot/".into());
        let c = ServeConfig::resolve(None, &a).unwrap();
        assert_eq!(c.ingest_url, "https://trace.example.com:8443");
        a.ingest_url = Some("https://ingest.example.com/".into());
        let c = ServeConfig::resolve(None, &a).unwrap();
        assert_eq!(c.ingest_url, "https://ingest.example.com");
        a.ingest_url = Some("ingest.example.com".into());
        assert!(ServeConfig::resolve(None, &a).is_err());
        a.ingest_url = Some(" ".into());
        let c = ServeConfig::resolve(None, &a).unwrap();
        assert_eq!(c.ingest_url, "https://trace.example.com:8443");
    }

    #[test]
    fn insecure_mode_needs_loopback() {
        let mut a = args();
        a.insecure_no_auth_for_conformance = true;
        assert!(ServeConfig::resolve(None, &a).is_ok());
        a.listen_addr = "0.0.0.0:9000".parse().unwrap();
        assert!(ServeConfig::resolve(None, &a).is_err());
    }

    #[test]
    fn host_port_split() {
        assert_eq!(
            split_host_port("[::1]:80"),
            Some(("::1".to_string(), Some(80)))
        );
        assert_eq!(
            split_host_port("LocalHost"),
            Some(("localhost".into(), None))
        );
        assert_eq!(split_host_port("a:b"), None);
        assert_eq!(
            split_url("http://x.y:81/mcp"),
            Some(("http".into(), "x.y".into(), 81))
        );
    }
}
