#!/usr/bin/env bash
# Installs OpenTrace on a Linux VM: binaries, the `opentrace` user, /var/lib/opentrace, the
# configuration /etc/opentrace/opentrace.env (with a generated SDK API key in
# /var/lib/opentrace/ingest.key), the systemd units, and optionally Caddy for HTTPS.
# Safe to run again (upgrades binaries and units, keeps the key and the configuration).
#
#   sudo deploy/install.sh [--bin-dir DIR] [--domain NAME] [--listen-all] [--no-start]
#   deploy/install.sh --root /tmp/fake-root --bin-dir target/debug     # dry install, no root
#
# --bin-dir DIR  take opentrace-ingestd and opentrace-queryd from DIR (default: build them
#                with `cargo build --profile dist`: release plus LTO)
# --domain NAME  serve https://NAME through Caddy (installs the `caddy` package); the
#                daemons then listen on loopback only
# --listen-all   without --domain: listen on all interfaces over plain HTTP (not advised)
# --no-start     install everything but do not enable/start the units
# --root DIR     install under DIR instead of /: no useradd, chown, apt-get or systemctl
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_src=""
domain=""
root=""
listen_all=0
start=1

while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_src="${2:?--bin-dir needs a directory}"; shift 2 ;;
    --domain) domain="${2:?--domain needs a name}"; shift 2 ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --listen-all) listen_all=1; shift ;;
    --no-start) start=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "$domain" ] && ! printf '%s' "$domain" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$'; then
  echo "install.sh: --domain $domain is not a DNS name" >&2
  exit 2
fi
if [ -n "$root" ]; then
  mkdir -p "$root"
  root="$(cd "$root" && pwd)"
  echo "==> --root $root: installing into a throwaway root (no useradd, chown, apt-get, systemctl)"
elif [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (sudo), or use --root DIR for a dry install" >&2
  exit 1
fi

say() { echo "==> $*"; }
skip() { echo "    (skipped: $*)"; }
real() { [ -z "$root" ]; }

bin_dir="$root/usr/local/bin"
etc_dir="$root/etc/opentrace"
env_file="$etc_dir/opentrace.env"
data_dir="$root/var/lib/opentrace"
unit_dir="$root/etc/systemd/system"
doc_dir="$root/usr/local/share/doc/opentrace"

# ---- binaries -------------------------------------------------------------------------
if [ -z "$bin_src" ]; then
  command -v cargo >/dev/null 2>&1 || {
    echo "install.sh: cargo not found: install Rust (rustup) or pass --bin-dir with prebuilt binaries" >&2
    exit 1
  }
  say "building (cargo build --profile dist: release plus LTO, a few minutes)"
  (cd "$repo" && cargo build --profile dist --locked -p opentrace-ingestd -p opentrace-queryd --bins)
  bin_src="${CARGO_TARGET_DIR:-$repo/target}/dist"
fi
for b in opentrace-ingestd opentrace-queryd; do
  [ -x "$bin_src/$b" ] || { echo "install.sh: $bin_src/$b not found or not executable" >&2; exit 1; }
done
say "installing binaries into $bin_dir"
mkdir -p "$bin_dir"
for b in opentrace-ingestd opentrace-queryd; do
  # Copy then rename, so a running daemon keeps its old inode until restarted.
  install -m 0755 "$bin_src/$b" "$bin_dir/.$b.new"
  mv -f "$bin_dir/.$b.new" "$bin_dir/$b"
done

# ---- user -------------------------------------------------------------------------------
if real; then
  if id -u opentrace >/dev/null 2>&1; then
    say "user opentrace exists"
  else
    say "creating system user opentrace"
    useradd --system --user-group --home-dir /var/lib/opentrace --no-create-home \
      --shell /usr/sbin/nologin opentrace
  fi
else
  say "user opentrace"; skip "--root mode"
fi
own() { # owner path...
  local who="$1"; shift
  if real; then chown "$who" "$@"; fi
}

# ---- data directory and key -------------------------------------------------------------
say "data directory $data_dir"
mkdir -p "$data_dir/logs"
chmod 0750 "$data_dir" "$data_dir/logs"
own opentrace:opentrace "$data_dir" "$data_dir/logs"
key_file="$data_dir/ingest.key"
if [ -s "$key_file" ]; then
  say "SDK API key kept ($key_file)"
else
  say "generating the SDK API key ($key_file)"
  key="ot_$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
  (umask 077 && printf '%s\n' "$key" > "$key_file.tmp")
  mv -f "$key_file.tmp" "$key_file"
fi
chmod 0600 "$key_file"
own opentrace:opentrace "$key_file"
api_key="$(grep -v '^#' "$key_file" | grep -m1 .)"

# ---- configuration ------------------------------------------------------------------------
if [ -n "$domain" ]; then
  ingest_addr="127.0.0.1:8081"; query_addr="127.0.0.1:8080"
  public_url="https://$domain"; ingest_url="https://$domain"
  trusted="127.0.0.1/32,::1/128"
elif [ "$listen_all" = 1 ]; then
  ingest_addr="0.0.0.0:8081"; query_addr="0.0.0.0:8080"
  host="$(hostname -f 2>/dev/null || hostname)"
  public_url="http://$host:8080"; ingest_url="http://$host:8081"
  trusted=""
else
  ingest_addr="127.0.0.1:8081"; query_addr="127.0.0.1:8080"
  public_url="http://127.0.0.1:8080"; ingest_url="http://127.0.0.1:8081"
  trusted=""
fi
mkdir -p "$etc_dir"
if [ -f "$env_file" ]; then
  say "configuration kept ($env_file; edit it and restart the units to change it)"
else
  say "writing $env_file"
  cat > "$env_file.tmp" <<ENV
# OpenTrace configuration, read by opentrace-ingestd.service and opentrace-queryd.service.
# Every option is documented in docs/CONFIGURATION.md and docs/CONFIGURATION-queryd.md.
# The SDK API key is in /var/lib/opentrace/ingest.key (one key per line; several lines allow
# a rotation). Setting OPENTRACE_API_KEY here would override it.
OPENTRACE_INGEST_ADDR=$ingest_addr
OPENTRACE_LISTEN_ADDR=$query_addr
OPENTRACE_PUBLIC_URL=$public_url
OPENTRACE_TRUSTED_PROXIES=$trusted
OPENTRACE_DEFAULT_ENV=production
RUST_LOG=info
ENV
  chmod 0640 "$env_file.tmp"
  mv -f "$env_file.tmp" "$env_file"
fi
own root:opentrace "$env_file"

# ---- systemd units ------------------------------------------------------------------------
say "installing systemd units into $unit_dir"
mkdir -p "$unit_dir" "$doc_dir"
for u in opentrace-ingestd.service opentrace-queryd.service; do
  install -m 0644 "$repo/deploy/systemd/$u" "$unit_dir/$u"
done
for d in DEPLOY.md OPERATIONS.md CONFIGURATION.md CONFIGURATION-queryd.md; do
  if [ -f "$repo/docs/$d" ]; then install -m 0644 "$repo/docs/$d" "$doc_dir/$d"; fi
done

has_systemd() { command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; }
if ! real; then
  say "systemctl daemon-reload / enable --now"; skip "--root mode"
elif ! has_systemd; then
  say "systemd is not running here"; skip "start the daemons yourself: see docs/DEPLOY.md"
else
  systemctl daemon-reload
  if [ "$start" = 1 ]; then
    say "enabling and (re)starting the units"
    systemctl enable opentrace-ingestd.service opentrace-queryd.service
    systemctl restart opentrace-ingestd.service
    systemctl restart opentrace-queryd.service
  else
    skip "--no-start"
  fi
fi

# ---- Caddy (HTTPS) ------------------------------------------------------------------------
if [ -n "$domain" ]; then
  caddy_dir="$root/etc/caddy"
  caddy_file="$caddy_dir/Caddyfile"
  if real && ! command -v caddy >/dev/null 2>&1; then
    say "installing caddy (apt-get)"
    apt-get update -q && apt-get install -y -q caddy
  elif ! real; then
    say "apt-get install caddy"; skip "--root mode"
  fi
  mkdir -p "$caddy_dir"
  if [ -f "$caddy_file" ] && ! grep -q 'OpenTrace behind Caddy' "$caddy_file" \
      && [ ! -f "$caddy_file.before-opentrace" ]; then
    cp -p "$caddy_file" "$caddy_file.before-opentrace"
    say "saved the previous Caddyfile as $caddy_file.before-opentrace"
  fi
  say "writing $caddy_file for $domain"
  sed -e "s|{\$OPENTRACE_DOMAIN}|$domain|" "$repo/deploy/Caddyfile" > "$caddy_file.tmp"
  chmod 0644 "$caddy_file.tmp"
  mv -f "$caddy_file.tmp" "$caddy_file"
  if real && has_systemd && [ "$start" = 1 ]; then
    systemctl enable caddy.service
    systemctl reload-or-restart caddy.service
  else
    say "reload caddy"; skip "not started here"
  fi
fi

cat <<DONE

OpenTrace is installed.
  Data directory:  /var/lib/opentrace   (config: /etc/opentrace/opentrace.env)
  Ingest URL:      $ingest_url
  SDK API key:     $api_key
  Create a user:   sudo -u opentrace OPENTRACE_DATA_DIR=/var/lib/opentrace opentrace-queryd user create --email you@example.com --admin
  Connect agents:  curl -s $public_url/connect | bash
DONE
