//! End to end over both real binaries: `opentrace-ingestd` accepts SDK-shaped batches into a
//! temporary data directory, `opentrace-queryd` serves them through the `logs` MCP tool to a
//! real rmcp client. Checks every action's content against what was posted, freshness
//! (a row is searchable within 1 s of the ingest 2xx), and environment scoping (a member
//! limited to staging never sees a production row through any action).

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::ingestd::{post, start_ingestd, ts};
use common::{INIT, Server, mcp_client, request};
use serde_json::{Value, json};

/// A deterministic pseudo-random sequence (LCG), so durations are varied but reproducible.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Nearest-rank percentile, computed independently of the server.
fn nearest_rank(values: &[i64], p: f64) -> i64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank - 1]
}

struct Dataset {
    prod: Vec<Value>,
    staging: Vec<Value>,
    prod_durations: Vec<i64>,
    orders_durations: Vec<i64>,
    checkout_durations: Vec<i64>,
    staging_errors: usize,
}

fn dataset(now: chrono::DateTime<Utc>) -> Dataset {
    let mut seed = 42u64;
    let mut prod = Vec::new();
    let mut prod_durations = Vec::new();
    for i in 0..40 {
        let d = (lcg(&mut seed) % 900) as i64 + 5;
        prod_durations.push(d);
        prod.push(json!({
            "ts": ts(now, 20 * 60_000 - i * 1000), "level": "info", "service": "billing",
            "env": "production", "message": format!("GET /invoices/{i} 200 prodsecret"),
            "method": "GET", "path": format!("/invoices/{i}"), "route": "/invoices/:id",
            "status": 200, "duration_ms": d, "trace_id": format!("ptrace-{i}"),
            "request_id": format!("preq-{i}"), "version": "prod111"
        }));
    }
    for i in 0..5 {
        prod.push(json!({
            "ts": ts(now, 19 * 60_000 - i * 1000), "level": "error", "service": "billing",
            "env": "production", "message": format!("Invoice {i} failed prodsecret"),
            "error_class": "PaymentError", "trace_id": "ptrace-0", "version": "prod111"
        }));
    }
    let mut staging = Vec::new();
    let (mut orders, mut checkout) = (Vec::new(), Vec::new());
    for i in 0..100 {
        let d = (lcg(&mut seed) % 2000) as i64 + 1;
        let (method, route, path) = if i % 5 < 3 {
            orders.push(d);
            ("GET", "/orders/:id", format!("/orders/{i}"))
        } else {
            checkout.push(d);
            ("POST", "/checkout", String::from("/checkout"))
        };
        staging.push(json!({
            "ts": ts(now, 25 * 60_000 - i * 3000), "level": "info", "service": "web",
            "env": "staging", "message": format!("{method} {path} 200"),
            "method": method, "path": path, "route": route, "status": 200, "duration_ms": d,
            "db_ms": d / 3, "db_count": i % 7, "dup_queries": i % 4,
            "trace_id": format!("strace-{i}"), "version": "stg222"
        }));
    }
    for i in 0..8 {
        staging.push(json!({
            "ts": ts(now, 10 * 60_000 - i * 2000), "level": "error", "service": "web",
            "env": "staging", "message": format!("Order {} not found", 1000 + i * 37),
            "error_class": "NotFound", "trace_id": format!("strace-{i}"), "version": "stg222"
        }));
    }
    for i in 0..4 {
        staging.push(json!({
            "ts": ts(now, 9 * 60_000 - i * 2000), "level": "error", "service": "worker",
            "env": "staging", "message": format!("Timeout after {}ms calling payments", 3000 + i),
            "error_class": "Timeout", "version": "stg222"
        }));
    }
    for i in 0..30 {
        staging.push(json!({
            "ts": ts(now, 8 * 60_000 - i * 1500), "level": "info", "service": "worker",
            "env": "staging", "message": format!("cache warmed {i}"), "version": "stg222"
        }));
    }
    // One trace across two services, with an 800 ms gap before the first error.
    let base = 5 * 60_000;
    for (off, svc, level, msg) in [
        (0, "web", "info", "start checkout"),
        (100, "worker", "info", "job enqueued"),
        (900, "worker", "error", "charge failed: card declined"),
        (950, "web", "error", "checkout failed"),
    ] {
        staging.push(json!({
            "ts": ts(now, base - off), "level": level, "service": svc, "env": "staging",
            "message": msg, "trace_id": "strace-special", "version": "stg222"
        }));
    }
    Dataset {
        prod,
        staging,
        prod_durations,
        orders_durations: orders,
        checkout_durations: checkout,
        staging_errors: 8 + 4 + 2,
    }
}

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// Calls `logs` and returns (is_error, body, response bytes).
async fn logs(client: &Client, args: Value) -> (bool, Value, usize) {
    common::call_sized(client, "logs", args).await
}

fn has_prod(v: &Value) -> bool {
    let s = v.to_string();
    s.contains("production")
        || s.contains("billing")
        || s.contains("prodsecret")
        || s.contains("ptrace")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_tool_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let ingest = start_ingestd(data.path());
    let server = Server::start_in(data, &[]);
    let admin_token = server.create_user("admin@example.com", "admin", "production,staging");
    let member_token = server.create_user("member@example.com", "member", "staging");
    let now = Utc::now();
    let ds = dataset(now);
    post(&ingest, &ds.prod);
    post(&ingest, &ds.staging);
    let total_rows = (ds.prod.len() + ds.staging.len()) as u64;

    let url = format!("{}/mcp", server.url);
    let admin = mcp_client(&url, &admin_token).await;
    let member = mcp_client(&url, &member_token).await;

    // Wait until everything posted is visible.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, v, _) = logs(&admin, json!({"action": "search", "limit": 1})).await;
        if v["total_matched"].as_u64() == Some(total_rows) {
            break;
        }
        assert!(Instant::now() < deadline, "rows not visible: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut sizes: Vec<(&str, usize)> = Vec::new();

    // tools/list and auth.
    let member_tools = member.list_all_tools().await.unwrap();
    let names: Vec<&str> = member_tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"logs") && !names.contains(&"admin"),
        "{names:?}"
    );
    let logs_tool = member_tools.iter().find(|t| t.name == "logs").unwrap();
    let ann = logs_tool.annotations.as_ref().unwrap();
    assert_eq!(ann.read_only_hint, Some(true));
    assert_eq!(ann.open_world_hint, Some(false));
    let list_bytes = serde_json::to_string(&member_tools).unwrap().len();
    sizes.push(("tools/list (member)", list_bytes));
    let unauth = request(
        server.addr,
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        INIT.as_bytes(),
    );
    assert_eq!(unauth.status, 401);

    // --- search ---
    let (err, v, n) = logs(&admin, json!({"action": "search"})).await;
    sizes.push(("search (admin, default)", n));
    assert!(!err, "{v}");
    assert_eq!(v["total_matched"], total_rows);
    assert!(v["window"]["from"].as_str().unwrap().ends_with('Z'));
    assert!(v["window"]["to"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["by_level"]["error"], 5 + ds.staging_errors as u64);
    assert_eq!(v["returned"], 30);
    assert!(v["next_cursor"].is_string());
    // Paging with the cursor returns the next rows, no overlap.
    let first_ids: Vec<u64> = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["log_id"].as_u64().unwrap())
        .collect();
    let (_, p2, _) = logs(
        &admin,
        json!({"action": "search", "cursor": v["next_cursor"], "since": v["window"]["from"], "until": v["window"]["to"]}),
    )
    .await;
    let p2_ids: Vec<u64> = p2["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["log_id"].as_u64().unwrap())
        .collect();
    assert_eq!(p2_ids.len(), 30);
    assert!(p2_ids.iter().all(|id| !first_ids.contains(id)));

    let (_, v, n) = logs(&member, json!({"action": "search"})).await;
    sizes.push(("search (member, default)", n));
    assert_eq!(v["total_matched"], ds.staging.len() as u64);
    assert!(!has_prod(&v), "member saw production: {v}");
    assert_eq!(v["environment"], "staging");

    let (_, v, _) = logs(&admin, json!({"action": "search", "query": "prodsecret"})).await;
    assert_eq!(v["total_matched"], 45);
    let (_, v, _) = logs(&member, json!({"action": "search", "query": "prodsecret"})).await;
    assert_eq!(v["total_matched"], 0);
    assert!(v["hint"].is_string() && v["data_range"]["rows"] == ds.staging.len() as u64);
    assert!(!has_prod(&v["logs"]));
    let (err, v, _) = logs(
        &member,
        json!({"action": "search", "environment": "production"}),
    )
    .await;
    assert!(err, "member must not pick production: {v}");

    let (_, v, _) = logs(
        &member,
        json!({"action": "search", "level": "error", "service": "web", "limit": 50}),
    )
    .await;
    assert_eq!(v["total_matched"], 9);
    assert!(
        v["logs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["level"] == "error" && r["service"] == "web")
    );
    let (_, v, _) = logs(
        &member,
        json!({"action": "search", "query": "worker", "since": "1m"}),
    )
    .await;
    assert_eq!(v["total_matched"], 0);
    assert!(v["hint"].as_str().unwrap().contains("service name"), "{v}");
    assert!(v["data_range"]["first"].as_str().unwrap().ends_with('Z'));

    let (_, v, _) = logs(
        &member,
        json!({"action": "search", "min_duration_ms": 1500, "route": "/checkout", "limit": 200}),
    )
    .await;
    let expect = ds.checkout_durations.iter().filter(|d| **d >= 1500).count();
    assert_eq!(v["total_matched"], expect as u64);
    // Errors: bad window, bad query, unknown parameter.
    let (err, v, _) = logs(
        &member,
        json!({"action": "search", "since": "yesterday-ish"}),
    )
    .await;
    assert!(err && v["message"].as_str().unwrap().contains("24h"));
    let (err, v, _) = logs(&member, json!({"action": "search", "query": "\"open"})).await;
    assert!(
        err && v["message"].as_str().unwrap().contains("quote"),
        "{v}"
    );
    let (err, v, _) = logs(&member, json!({"action": "search", "servce": "web"})).await;
    assert!(err && v["message"].as_str().unwrap().contains("unknown parameter"));

    // --- context ---
    let (_, v, _) = logs(
        &admin,
        json!({"action": "search", "environment": "production", "level": "error", "limit": 1}),
    )
    .await;
    let prod_id = v["logs"][0]["log_id"].as_u64().unwrap();
    let (err, v, _) = logs(
        &admin,
        json!({"action": "context", "log_id": prod_id, "before": 3, "after": 3}),
    )
    .await;
    assert!(!err && v["anchor"]["log_id"] == prod_id && v["anchor"]["env"] == "production");
    let (err, v, _) = logs(&member, json!({"action": "context", "log_id": prod_id})).await;
    assert!(err && v["error"] == "not_found", "{v}");
    assert!(!has_prod(&v));
    let (_, v, _) = logs(
        &member,
        json!({"action": "search", "query": "\"charge failed\""}),
    )
    .await;
    let stg_id = v["logs"][0]["log_id"].as_u64().unwrap();
    let (err, v, n) = logs(
        &member,
        json!({"action": "context", "log_id": stg_id, "same_service": true}),
    )
    .await;
    sizes.push(("context (member)", n));
    assert!(!err, "{v}");
    assert_eq!(v["anchor"]["message"], "charge failed: card declined");
    let neighbours: Vec<&Value> = v["before"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["after"].as_array().unwrap())
        .collect();
    assert!(!neighbours.is_empty() && neighbours.iter().all(|r| r["service"] == "worker"));
    assert!(!has_prod(&v));
    let (err, v, _) = logs(&member, json!({"action": "context"})).await;
    assert!(err && v["message"].as_str().unwrap().contains("log_id"));

    // --- attributes ---
    let (_, v, n) = logs(&member, json!({"action": "attributes", "field": "service"})).await;
    sizes.push(("attributes service (member)", n));
    let vals: Vec<(String, u64)> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["value"].as_str().unwrap().to_string(),
                x["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let web = ds.staging.iter().filter(|r| r["service"] == "web").count() as u64;
    let worker = ds
        .staging
        .iter()
        .filter(|r| r["service"] == "worker")
        .count() as u64;
    assert_eq!(
        vals,
        vec![("web".to_string(), web), ("worker".to_string(), worker)]
    );
    let (_, v, _) = logs(
        &member,
        json!({"action": "attributes", "field": "environment"}),
    )
    .await;
    assert_eq!(
        v["values"],
        json!([{"value": "staging", "count": ds.staging.len()}])
    );
    let (_, v, _) = logs(
        &admin,
        json!({"action": "attributes", "field": "environment"}),
    )
    .await;
    assert_eq!(v["distinct_values"], 2);
    let (_, v, _) = logs(
        &member,
        json!({"action": "attributes", "field": "route", "limit": 1}),
    )
    .await;
    assert_eq!(v["returned"], 1);
    let (_, v2, _) = logs(
        &member,
        json!({"action": "attributes", "field": "route", "limit": 1, "cursor": v["next_cursor"]}),
    )
    .await;
    assert_eq!(v2["returned"], 1);
    assert_ne!(v["values"][0]["value"], v2["values"][0]["value"]);
    let (err, v, _) = logs(&member, json!({"action": "attributes", "field": "colour"})).await;
    assert!(err && v["message"].as_str().unwrap().contains("service"));

    // --- stats ---
    let (_, v, n) = logs(&member, json!({"action": "stats"})).await;
    sizes.push(("stats level (member)", n));
    assert_eq!(v["total"], ds.staging.len() as u64);
    assert_eq!(v["by_level"]["error"], ds.staging_errors as u64);
    let buckets: u64 = v["time_distribution"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(buckets, ds.staging.len() as u64);
    let (_, v, _) = logs(&member, json!({"action": "stats", "group_by": "service"})).await;
    assert!(!has_prod(&v));
    assert_eq!(v["by_service"].as_array().unwrap().len(), 2);
    let (_, v, n) = logs(&member, json!({"action": "stats", "group_by": "pattern"})).await;
    sizes.push(("stats pattern (member)", n));
    assert_eq!(v["patterns"][0]["pattern"], "Order <n> not found");
    assert_eq!(v["patterns"][0]["count"], 8);
    assert_eq!(
        v["patterns"][1]["pattern"],
        "Timeout after <n>ms calling payments"
    );
    assert_eq!(v["patterns"][1]["count"], 4);
    assert!(!has_prod(&v));

    // --- summary ---
    let (_, v, n) = logs(&member, json!({"action": "summary"})).await;
    sizes.push(("summary (member)", n));
    assert_eq!(v["total"], ds.staging.len() as u64);
    assert_eq!(v["errors"], ds.staging_errors as u64);
    assert!(!has_prod(&v), "{v}");
    let (_, v, _) = logs(&admin, json!({"action": "summary"})).await;
    assert_eq!(v["total"], total_rows);
    assert!(v["warnings"].to_string().contains("commits"));

    // --- performance: exact percentiles over every request ---
    let (_, v, n) = logs(&member, json!({"action": "performance"})).await;
    sizes.push(("performance (member)", n));
    let all: Vec<i64> = ds
        .orders_durations
        .iter()
        .chain(&ds.checkout_durations)
        .copied()
        .collect();
    assert_eq!(v["summary"]["requests"], 100);
    assert_eq!(v["summary"]["p95_ms"], nearest_rank(&all, 95.0));
    assert_eq!(v["summary"]["p50_ms"], nearest_rank(&all, 50.0));
    assert_eq!(v["summary"]["p99_ms"], nearest_rank(&all, 99.0));
    let ep = |route: &str| {
        v["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["route"] == route)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        ep("/orders/:id")["p95_ms"],
        nearest_rank(&ds.orders_durations, 95.0)
    );
    assert_eq!(
        ep("/checkout")["p95_ms"],
        nearest_rank(&ds.checkout_durations, 95.0)
    );
    assert_eq!(
        ep("/checkout")["requests"],
        ds.checkout_durations.len() as u64
    );
    let top = v["requests"][0]["duration_ms"].as_i64().unwrap();
    assert_eq!(top, *all.iter().max().unwrap());
    assert!(!has_prod(&v));
    let (_, v, _) = logs(
        &member,
        json!({"action": "performance", "sort_by": "duplicate_queries", "limit": 5}),
    )
    .await;
    assert_eq!(v["requests"][0]["dup_queries"], 3);
    let (_, v, _) = logs(
        &admin,
        json!({"action": "performance", "environment": "production"}),
    )
    .await;
    assert_eq!(
        v["summary"]["p95_ms"],
        nearest_rank(&ds.prod_durations, 95.0)
    );
    assert_eq!(v["summary"]["requests"], 40);

    // --- trace ---
    let (err, v, n) = logs(
        &member,
        json!({"action": "trace", "trace_id": "strace-special"}),
    )
    .await;
    sizes.push(("trace (member)", n));
    assert!(!err, "{v}");
    assert_eq!(v["rows"], 4);
    assert_eq!(v["root_cause"]["message"], "charge failed: card declined");
    assert_eq!(v["gaps"].as_array().unwrap().len(), 1);
    assert_eq!(v["gaps"][0]["gap_ms"], 800.0);
    assert_eq!(v["timeline"][1]["offset_ms"], 100.0);
    assert_eq!(v["services"].as_array().unwrap().len(), 2);
    let (err, v, _) = logs(&member, json!({"action": "trace", "trace_id": "ptrace-0"})).await;
    assert!(err && v["error"] == "not_found");
    assert!(!v.to_string().contains("billing"));
    let (err, v, _) = logs(&admin, json!({"action": "trace", "trace_id": "ptrace-0"})).await;
    assert!(!err);
    assert_eq!(v["rows"], 6);
    let (err, v, _) = logs(&member, json!({"action": "trace"})).await;
    assert!(err && v["message"].as_str().unwrap().contains("trace_id"));

    // --- compare ---
    let (_, v, n) = logs(
        &member,
        json!({"action": "compare", "metric": "log_volume"}),
    )
    .await;
    sizes.push(("compare (member)", n));
    assert_eq!(v["current"]["count"], ds.staging.len() as u64);
    assert_eq!(v["baseline"]["count"], 0);
    assert!(!has_prod(&v));
    let (_, v, _) = logs(&member, json!({"action": "compare", "metric": "errors"})).await;
    assert_eq!(v["current"]["count"], ds.staging_errors as u64);
    assert!(!has_prod(&v));
    let (_, v, _) = logs(&admin, json!({"action": "compare", "metric": "errors"})).await;
    assert_eq!(v["current"]["count"], ds.staging_errors as u64 + 5);
    let (err, _, _) = logs(&member, json!({"action": "compare"})).await;
    assert!(err);

    // --- freshness: a new row is searchable within 1 s of the ingest 2xx ---
    let mut delays = Vec::new();
    for k in 0..5 {
        let word = format!("freshmark{}x{k}", now.timestamp_micros());
        let acked = post(
            &ingest,
            &[
                json!({"ts": ts(Utc::now(), 0), "level": "info", "service": "web", "env": "staging", "message": format!("fresh row {word}")}),
            ],
        );
        loop {
            let (_, v, _) = logs(
                &member,
                json!({"action": "search", "query": word, "since": "5m"}),
            )
            .await;
            if v["total_matched"] == 1 {
                break;
            }
            assert!(
                acked.elapsed() < Duration::from_secs(10),
                "row never visible"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        delays.push(acked.elapsed());
    }
    println!("freshness (ingest 2xx -> visible in logs search): {delays:?}");
    let worst = delays.iter().max().copied().unwrap_or_default();
    assert!(worst < Duration::from_secs(1), "freshness {worst:?}");

    // /healthz and /metrics report the catalog.
    let h = server.get("/healthz", &[]).json();
    assert!(h["catalog"]["rows"].as_u64().unwrap() >= total_rows);
    let m = server.get("/metrics", &[]).body;
    assert!(m.contains("opentrace_catalog_rows "));

    for (what, bytes) in &sizes {
        println!(
            "response size {what}: {bytes} bytes ≈ {} tokens",
            bytes * 10 / 35
        );
        assert!(*bytes < 28_000);
    }
    admin.cancel().await.ok();
    member.cancel().await.ok();
    drop(ingest);
}
