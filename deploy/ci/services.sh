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
