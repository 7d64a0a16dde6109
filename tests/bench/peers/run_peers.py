#!/usr/bin/env python3
"""Peers of the OpenTrace benchmark: the same NDJSON rows loaded into ClickHouse (chdb),
DuckDB and SQLite FTS5, the same agent-style queries timed on each.

Run by the harness (`cargo run --release -p opentrace-tests --bin bench -- all`), which passes
the NDJSON written by the load generator and the probe values (needle term, trace id, service,
time range) it also uses for OpenTrace's own queries. Prints one JSON object on stdout:

    {"python": "...", "peers": {"clickhouse": {...}, "duckdb": {...}, "sqlite_fts5": {...}}}

each peer with version, load_s, rows, rows_per_s, disk_bytes, bytes_per_row and
queries[key] = {cold_ms, p50_ms, p99_ms, result}, or {"error": "..."} if it failed.
Progress goes to stderr.

Every peer derives the same columns at load time, in its own SQL where possible:
kind (request / error / log / event), route (path with numeric segments -> :id; stored but
not queried: "per endpoint" groups by path in every store, see queries.rs),
error_class (top-level, else body.context.exception_class), fingerprint (= error_class: a user
of these stores has no stack-trace fingerprinting; OpenTrace computes one at ingest), is_error
(level error/fatal or an error class). body is kept as JSON text, like OpenTrace keeps it.
"""

import argparse
import json
import math
import os
import sqlite3
import sys
import time
import traceback
from datetime import datetime

WEEK_US = 7 * 86_400_000_000


def log(msg):
    print(f"[peers] {msg}", file=sys.stderr, flush=True)


def dir_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def pct(samples, p):
    s = sorted(samples)
    if not s:
        return 0.0
    rank = min(max(math.ceil(p * len(s)), 1), len(s))
    return s[rank - 1]


def time_queries(run, queries, iters):
    """run(sql) -> number of result rows. Returns {key: timings}."""
    out = {}
    for key, sql in queries.items():
        if sql is None:
            continue
        try:
            t = time.perf_counter()
            result = run(sql)
            cold = (time.perf_counter() - t) * 1000
            warm = []
            for _ in range(max(iters, 1)):
                t = time.perf_counter()
                run(sql)
                warm.append((time.perf_counter() - t) * 1000)
            out[key] = {"cold_ms": cold, "p50_ms": pct(warm, 0.50), "p99_ms": pct(warm, 0.99),
                        "result": result}
        except Exception as e:  # one query failing must not hide the others
            out[key] = {"error": f"{type(e).__name__}: {e}"}
    return out


def us_to_ts(us):
    return datetime.utcfromtimestamp(us / 1e6).strftime("%Y-%m-%d %H:%M:%S.%f")


# ---------------------------------------------------------------- ClickHouse (chdb)

CH_SCHEMA = """
CREATE TABLE logs (
    ts DateTime64(6, 'UTC') CODEC(Delta, ZSTD(3)),
    level LowCardinality(String),
    service LowCardinality(String),
    env LowCardinality(Nullable(String)),
    version LowCardinality(Nullable(String)),
    event_type LowCardinality(Nullable(String)),
    kind LowCardinality(String),
    message String CODEC(ZSTD(3)),
    method LowCardinality(Nullable(String)),
    path Nullable(String) CODEC(ZSTD(3)),
    route LowCardinality(Nullable(String)),
    status Nullable(UInt16),
    duration_ms Nullable(Float64) CODEC(ZSTD(3)),
    request_id Nullable(String) CODEC(ZSTD(3)),
    trace_id Nullable(String) CODEC(ZSTD(3)),
    span_id Nullable(String) CODEC(ZSTD(3)),
    user_id Nullable(String) CODEC(ZSTD(3)),
    error_class LowCardinality(Nullable(String)),
    fingerprint LowCardinality(Nullable(String)),
    is_error UInt8,
    body String CODEC(ZSTD(3)),
    INDEX idx_message message TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1,
    INDEX idx_trace trace_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree ORDER BY (service, ts)
"""

CH_LOAD = """
INSERT INTO logs
SELECT
    parseDateTime64BestEffort(ts, 6, 'UTC') AS ts,
    level, service, env, version, event_type,
    multiIf(event_type = 'http.request', 'request',
            event_type = 'error' OR error_class IS NOT NULL, 'error',
            event_type IS NULL OR event_type = 'log', 'log', 'event') AS kind,
    message, method, path,
    if(path IS NULL, NULL, replaceRegexpAll(path, '/[0-9]+', '/:id')) AS route,
    status, duration_ms, request_id, trace_id, span_id, user_id,
    coalesce(error_class, nullIf(JSONExtractString(body, 'context', 'exception_class'), '')) AS ec,
    ec AS fingerprint,
    (level IN ('error', 'fatal') OR ec IS NOT NULL) AS is_error,
    body
FROM file('{path}', JSONEachRow,
    'ts String, level String, service String, env Nullable(String), version Nullable(String),
     event_type Nullable(String), message String, method Nullable(String), path Nullable(String),
     status Nullable(UInt16), duration_ms Nullable(Float64), request_id Nullable(String),
     trace_id Nullable(String), span_id Nullable(String), user_id Nullable(String),
     error_class Nullable(String), body String')
SETTINGS input_format_json_read_objects_as_strings = 1, input_format_skip_unknown_fields = 1
"""


def ch_queries(a):
    f, t = us_to_ts(a.ts_from_us), us_to_ts(a.ts_to_us)
    wk = us_to_ts(a.ts_to_us - WEEK_US)
    return {
        "needle": f"SELECT * FROM logs WHERE message LIKE '%{a.needle}%' ORDER BY ts DESC LIMIT 50",
        "trace_id": f"SELECT * FROM logs WHERE trace_id = '{a.trace_id}' ORDER BY ts LIMIT 1000",
        "level_service_24h": f"SELECT * FROM logs WHERE service = '{a.service}' AND level = 'error' "
                             f"AND ts >= '{f}' AND ts < '{t}' ORDER BY ts DESC LIMIT 50",
        "error_groups_7d": f"SELECT fingerprint, count() c FROM logs WHERE is_error AND ts >= '{wk}' "
                           f"AND ts < '{t}' GROUP BY fingerprint ORDER BY c DESC LIMIT 20",
        "p95_per_endpoint": "SELECT path, count(), quantileExact(0.95)(duration_ms) FROM logs "
                            "WHERE kind = 'request' GROUP BY path",
        "count_by_minute": f"SELECT toStartOfMinute(ts) m, count(), countIf(level IN ('error','fatal')) "
                           f"FROM logs WHERE ts >= '{f}' AND ts < '{t}' GROUP BY m ORDER BY m",
    }


def run_clickhouse(a, work):
    import chdb
    from chdb import session

    path = os.path.join(work, "clickhouse")
    s = session.Session(path)

    def q(sql):
        r = s.query(sql, "TabSeparated")
        if r.has_error():
            raise RuntimeError(r.error_message())
        return r

    q("CREATE DATABASE IF NOT EXISTS bench")
    q("USE bench")
    q("DROP TABLE IF EXISTS logs")
    q(CH_SCHEMA)
    t = time.perf_counter()
    q(CH_LOAD.format(path=os.path.abspath(a.ndjson)))
    q("OPTIMIZE TABLE logs FINAL")
    load_s = time.perf_counter() - t
    rows = int(str(q("SELECT count() FROM logs")).strip())
    disk = int(str(q("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = 'bench' "
                     "AND table = 'logs' AND active")).strip())
    s.close()
    s = session.Session(path)  # reopen: "cold" = first query after opening
    q("USE bench")
    queries = time_queries(lambda sql: str(q(sql)).count("\n"), ch_queries(a), a.iters)
    s.close()
    return {"version": chdb.__version__, "load_s": load_s, "rows": rows, "disk_bytes": disk,
            "disk_note": "sum(bytes_on_disk) of active parts after OPTIMIZE FINAL",
            "queries": queries}


# ---------------------------------------------------------------- DuckDB

DUCK_LOAD = """
CREATE TABLE logs AS
SELECT
    CAST(replace(ts, 'Z', '') AS TIMESTAMP) AS ts,
    level, service, env, version, event_type,
    CASE WHEN event_type = 'http.request' THEN 'request'
         WHEN event_type = 'error' OR ec IS NOT NULL THEN 'error'
         WHEN event_type IS NULL OR event_type = 'log' THEN 'log' ELSE 'event' END AS kind,
    message, method, path,
    regexp_replace(path, '/[0-9]+', '/:id', 'g') AS route,
    status, duration_ms, request_id, trace_id, span_id, user_id,
    ec AS error_class, ec AS fingerprint,
    (level IN ('error', 'fatal') OR ec IS NOT NULL) AS is_error,
    CAST(body AS VARCHAR) AS body
FROM (
    SELECT *, coalesce(error_class, json_extract_string(body, '$.context.exception_class')) AS ec
    FROM read_json('{path}', format = 'newline_delimited', columns = {{
        ts: 'VARCHAR', level: 'VARCHAR', service: 'VARCHAR', env: 'VARCHAR', version: 'VARCHAR',
        event_type: 'VARCHAR', message: 'VARCHAR', method: 'VARCHAR', path: 'VARCHAR',
        status: 'USMALLINT', duration_ms: 'DOUBLE', request_id: 'VARCHAR', trace_id: 'VARCHAR',
        span_id: 'VARCHAR', user_id: 'VARCHAR', error_class: 'VARCHAR', body: 'JSON'}})
)
"""


def std_queries(a, ts_expr, f, t, wk, minute, p95):
    return {
        "needle": f"SELECT * FROM logs WHERE message LIKE '%{a.needle}%' ORDER BY ts DESC LIMIT 50",
        "trace_id": f"SELECT * FROM logs WHERE trace_id = '{a.trace_id}' ORDER BY ts LIMIT 1000",
        "level_service_24h": f"SELECT * FROM logs WHERE service = '{a.service}' AND level = 'error' "
                             f"AND {ts_expr} >= {f} AND {ts_expr} < {t} ORDER BY ts DESC LIMIT 50",
        "error_groups_7d": f"SELECT fingerprint, count(*) c FROM logs WHERE is_error AND {ts_expr} >= {wk} "
                           f"AND {ts_expr} < {t} GROUP BY fingerprint ORDER BY c DESC LIMIT 20",
        "p95_per_endpoint": p95,
        "count_by_minute": f"SELECT {minute} m, count(*), sum(CASE WHEN level IN ('error','fatal') "
                           f"THEN 1 ELSE 0 END) FROM logs WHERE {ts_expr} >= {f} AND {ts_expr} < {t} "
                           f"GROUP BY m ORDER BY m",
    }


def run_duckdb(a, work):
    import duckdb

    path = os.path.join(work, "duck.db")
    for p in (path, path + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con = duckdb.connect(path)
    t = time.perf_counter()
    con.execute(DUCK_LOAD.format(path=os.path.abspath(a.ndjson)))
    con.execute("CHECKPOINT")
    load_s = time.perf_counter() - t
    rows = con.execute("SELECT count(*) FROM logs").fetchone()[0]
    con.close()
    disk = os.path.getsize(path)
    con = duckdb.connect(path, read_only=True)
    f, t_, wk = (f"TIMESTAMP '{us_to_ts(x)}'" for x in
                 (a.ts_from_us, a.ts_to_us, a.ts_to_us - WEEK_US))
    qs = std_queries(a, "ts", f, t_, wk, "date_trunc('minute', ts)",
                     "SELECT path, count(*), quantile_disc(duration_ms, 0.95) FROM logs "
                     "WHERE kind = 'request' GROUP BY path")
    queries = time_queries(lambda sql: len(con.execute(sql).fetchall()), qs, a.iters)
    con.close()
    return {"version": duckdb.__version__, "load_s": load_s, "rows": rows, "disk_bytes": disk,
            "disk_note": "database file after CHECKPOINT; no full-text index (LIKE scans)",
            "queries": queries}


# ---------------------------------------------------------------- SQLite + FTS5

SQLITE_SCHEMA = """
CREATE TABLE logs (
    id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, level TEXT, service TEXT, env TEXT,
    version TEXT, event_type TEXT, kind TEXT, message TEXT, method TEXT, path TEXT, route TEXT,
    status INTEGER, duration_ms REAL, request_id TEXT, trace_id TEXT, span_id TEXT, user_id TEXT,
    error_class TEXT, fingerprint TEXT, is_error INTEGER, body TEXT);
"""
SQLITE_INDEXES = """
CREATE INDEX logs_service_level_ts ON logs(service, level, ts);
CREATE INDEX logs_ts ON logs(ts);
CREATE INDEX logs_trace ON logs(trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX logs_kind_path ON logs(kind, path);
CREATE VIRTUAL TABLE logs_fts USING fts5(message, content='logs', content_rowid='id');
INSERT INTO logs_fts(logs_fts) VALUES('rebuild');
"""


def parse_us(ts):
    d = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return int(d.timestamp()) * 1_000_000 + d.microsecond


def sqlite_rows(ndjson):
    import re
    num = re.compile(r"/[0-9]+")
    with open(ndjson, "rb") as fh:
        for i, line in enumerate(fh):
            e = json.loads(line)
            body = e.get("body") or {}
            ctx = body.get("context") if isinstance(body, dict) else None
            ec = e.get("error_class") or (ctx or {}).get("exception_class")
            et = e.get("event_type")
            kind = ("request" if et == "http.request" else
                    "error" if et == "error" or ec else
                    "log" if et in (None, "log") else "event")
            path = e.get("path")
            level = e.get("level")
            yield (i + 1, parse_us(e["ts"]), level, e.get("service"), e.get("env"),
                   e.get("version"), et, kind, e.get("message"), e.get("method"), path,
                   num.sub("/:id", path) if path else None, e.get("status"),
                   e.get("duration_ms"), e.get("request_id"), e.get("trace_id"),
                   e.get("span_id"), e.get("user_id"), ec, ec,
                   1 if level in ("error", "fatal") or ec else 0,
                   json.dumps(body, separators=(",", ":")))


def run_sqlite(a, work):
    path = os.path.join(work, "sqlite.db")
    for p in (path, path + "-wal", path + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    con = sqlite3.connect(path)
    con.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + SQLITE_SCHEMA)
    t = time.perf_counter()
    con.executemany("INSERT INTO logs VALUES (" + ",".join("?" * 22) + ")", sqlite_rows(a.ndjson))
    con.executescript(SQLITE_INDEXES)
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    load_s = time.perf_counter() - t
    rows = con.execute("SELECT count(*) FROM logs").fetchone()[0]
    con.close()
    disk = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    phrase = a.needle.replace('"', '""')
    qs = std_queries(
        a, "ts", a.ts_from_us, a.ts_to_us, a.ts_to_us - WEEK_US, "(ts / 60000000)",
        "WITH r AS (SELECT path, duration_ms, ROW_NUMBER() OVER (PARTITION BY path ORDER BY "
        "duration_ms) rn, COUNT(*) OVER (PARTITION BY path) n FROM logs WHERE kind = 'request' "
        "AND duration_ms IS NOT NULL) SELECT path, n, duration_ms FROM r "
        "WHERE rn = CAST((0.95 * n) + 0.999999 AS INTEGER)")
    qs["needle"] = (f"SELECT logs.* FROM logs_fts JOIN logs ON logs.id = logs_fts.rowid "
                    f"WHERE logs_fts MATCH '\"{phrase}\"' ORDER BY logs.ts DESC LIMIT 50")
    queries = time_queries(lambda sql: len(con.execute(sql).fetchall()), qs, a.iters)
    con.close()
    return {"version": sqlite3.sqlite_version, "load_s": load_s, "rows": rows, "disk_bytes": disk,
            "disk_note": "database file (4 indexes + FTS5 external-content index on message)",
            "queries": queries}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ndjson", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--needle", required=True)
    ap.add_argument("--trace-id", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--ts-from-us", type=int, required=True)
    ap.add_argument("--ts-to-us", type=int, required=True)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--only", default="clickhouse,duckdb,sqlite_fts5")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    peers = {}
    runners = {"clickhouse": run_clickhouse, "duckdb": run_duckdb, "sqlite_fts5": run_sqlite}
    for name in a.only.split(","):
        log(f"{name}: loading {a.ndjson}")
        try:
            r = runners[name](a, a.work)
            r["rows_per_s"] = r["rows"] / r["load_s"] if r["load_s"] > 0 else 0.0
            r["bytes_per_row"] = r["disk_bytes"] / max(r["rows"], 1)
            log(f"{name}: {r['rows']} rows in {r['load_s']:.1f}s, {r['bytes_per_row']:.1f} B/row")
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            log(f"!!! {name} FAILED: {type(e).__name__}: {e}")
            r = {"error": f"{type(e).__name__}: {e}"}
        peers[name] = r
    json.dump({"python": sys.version.split()[0], "peers": peers}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
