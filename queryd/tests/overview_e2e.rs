//! End to end over both real binaries: `opentrace-ingestd` takes 26 hours of SDK-shaped
//! traffic for two production services (`checkout`, `catalog`) and one staging service
//! (`inventory`); 40 minutes before the end `checkout` ships version ck-v2 and a new error
//! class (InventoryMismatchError) appears. `opentrace-queryd` serves the `overview` tool to
//! real rmcp clients. Checks exact content of every action against numbers computed here
//! from the posted rows, notes and their re-surfacing, and environment scoping: a member
//! limited to staging never sees a production row, group, deploy or count.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::ingestd::{post, start_ingestd, ts};
use common::{Server, call_sized, mcp_client};
use serde_json::{Value, json};

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// Minutes of history posted.
const HISTORY_MIN: i64 = 26 * 60;
/// The checkout deploy of ck-v2, minutes before `now`.
const DEPLOY_MIN: i64 = 40;

/// One posted row, with what the test needs to count it.
struct Rec {
    min_ago: i64,
    service: &'static str,
    env: &'static str,
    error: bool,
    class: Option<&'static str>,
    route: Option<&'static str>,
    duration: i64,
    json: Value,
}

/// The version a service runs `m` minutes before now.
fn version(service: &str, m: i64) -> &'static str {
    match service {
        "checkout" if m <= DEPLOY_MIN => "ck-v2",
        "checkout" => "ck-v1",
        "catalog" => "cat-v1",
        _ if m <= 100 => "inv-v8",
        _ => "inv-v7",
    }
}

/// A request row, or with `error = Some((class, message))` an error row, `m` minutes ago.
fn rec(
    now: DateTime<Utc>,
    m: i64,
    service: &'static str,
    env: &'static str,
    error: Option<(&'static str, &'static str)>,
) -> Rec {
    let mut json = json!({
        "ts": ts(now, m * 60_000), "service": service, "env": env,
        "version": version(service, m),
    });
    let (route, duration) = match error {
        Some((class, message)) => {
            json["level"] = json!("error");
            json["message"] = json!(message);
            json["error_class"] = json!(class);
            json["user_id"] = json!(format!("user-{}", m % 7));
            (None, 0)
        }
        None => {
            let (method, route) = match service {
                "checkout" => ("POST", "/checkout"),
                "catalog" => ("GET", "/products/:id"),
                _ => ("PUT", "/stock/:sku"),
            };
            let duration = 20 + (m * 37) % 400;
            json["level"] = json!("info");
            json["message"] = json!(format!("{method} {route} 200"));
            for (k, v) in [("method", method), ("path", route), ("route", route)] {
                json[k] = json!(v);
            }
            json["status"] = json!(200);
            json["duration_ms"] = json!(duration);
            (Some(route), duration)
        }
    };
    Rec {
        min_ago: m,
        service,
        env,
        error: error.is_some(),
        class: error.map(|e| e.0),
        route,
        duration,
        json,
    }
}

fn dataset(now: DateTime<Utc>) -> Vec<Rec> {
    let mut rows = Vec::new();
    // Requests: (every n minutes, service, environment).
    for (step, service, env) in [
        (2, "checkout", "production"),
        (2, "catalog", "production"),
        (4, "inventory", "staging"),
    ] {
        for m in (0..HISTORY_MIN).step_by(step) {
            rows.push(rec(now, m, service, env, None));
        }
    }
    // Errors: (first minute, every n minutes, until, service, environment, class, message).
    let errors = [
        (
            5,
            10,
            HISTORY_MIN,
            "checkout",
            "production",
            "PaymentDeclined",
            "card declined by issuer",
        ),
        (
            10,
            20,
            HISTORY_MIN,
            "catalog",
            "production",
            "CatalogTimeout",
            "upstream catalog feed timed out",
        ),
        (
            7,
            30,
            HISTORY_MIN,
            "inventory",
            "staging",
            "StockSyncError",
            "stock sync failed",
        ),
        (
            2,
            2,
            DEPLOY_MIN,
            "checkout",
            "production",
            "InventoryMismatchError",
            "inventory mismatch for sku",
        ),
    ];
    for (first, step, until, service, env, class, message) in errors {
        for m in (first..until).step_by(step) {
            rows.push(rec(now, m, service, env, Some((class, message))));
        }
    }
    rows
}

/// (rows, errors) of the records matching `keep`.
fn tally(rows: &[Rec], keep: impl Fn(&Rec) -> bool) -> (u64, u64) {
    rows.iter()
        .filter(|r| keep(r))
        .fold((0, 0), |(n, e), r| (n + 1, e + u64::from(r.error)))
}

/// `(rows, errors)` of a response's `{rows, errors, ...}` object.
fn counted(v: &Value) -> (u64, u64) {
    (v["rows"].as_u64().unwrap(), v["errors"].as_u64().unwrap())
}

/// Whether a response re-surfaced a note whose `field` is `value`.
fn has_note(v: &Value, field: &str, value: &str) -> bool {
    v["notes"]
        .as_array()
        .is_some_and(|a| a.iter().any(|n| n[field] == value))
}

/// Nearest-rank percentile, computed independently of the server.
fn nearest_rank(values: &[i64], p: f64) -> i64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank - 1]
}

/// What must never reach a member limited to staging.
const PROD_MARKERS: &[&str] = &[
    "production",
    "checkout",
    "catalog",
    "ck-v1",
    "ck-v2",
    "cat-v1",
    "PaymentDeclined",
    "CatalogTimeout",
    "InventoryMismatch",
];

fn prod_leak(v: &Value, allowed: &[&str]) -> Option<&'static str> {
    let s = v.to_string();
    PROD_MARKERS
        .iter()
        .find(|m| !allowed.contains(m) && s.contains(*m))
        .copied()
}

/// Calls `overview`, asserting success and the response budget.
async fn overview(client: &Client, args: Value) -> Value {
    let (err, v, len) = call_sized(client, "overview", args.clone()).await;
    assert!(!err, "overview {args} failed: {v}");
    assert!(len < 28_000, "overview {args}: {len} bytes");
    v
}

/// Calls `overview` expecting an error; returns its message.
async fn overview_err(client: &Client, args: Value) -> String {
    let (err, v, _) = call_sized(client, "overview", args.clone()).await;
    assert!(err, "overview {args} should fail: {v}");
    v["message"].as_str().unwrap_or_default().to_string()
}

/// `now` minus `min` minutes as the server prints times (RFC 3339, sub-seconds only when
/// present).
fn at(now: DateTime<Utc>, min: i64) -> String {
    ts(now, min * 60_000).replace(".000Z", "Z")
}

fn rate(n: u64, e: u64) -> f64 {
    e as f64 / n as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_tool_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let ingest = start_ingestd(data.path());
    let server = Server::start_in(data, &[]);
    let admin_token = server.create_user("admin@example.com", "admin", "");
    let member_token = server.create_user("member@example.com", "member", "staging");
    let now = Utc::now();
    let rows = dataset(now);
    for batch in rows.chunks(500) {
        let body: Vec<Value> = batch.iter().map(|r| r.json.clone()).collect();
        post(&ingest, &body);
    }
    let url = format!("{}/mcp", server.url);
    let admin = mcp_client(&url, &admin_token).await;
    let member = mcp_client(&url, &member_token).await;

    // Wait until every row is searchable and the follower derived groups and deploys.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, logs, _) = call_sized(
            &admin,
            "logs",
            json!({"action": "search", "since": "30h", "limit": 1}),
        )
        .await;
        let v = overview(&admin, json!({"action": "status"})).await;
        let versions: Vec<&str> = v["last_deploys"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d["version"].as_str()).collect())
            .unwrap_or_default();
        if logs["total_matched"].as_u64() == Some(rows.len() as u64)
            && v["error_groups"]["unresolved"] == 4
            && versions.contains(&"ck-v2")
            && versions.contains(&"inv-v8")
            && v["derived_state"]["follower_lag_rows"] == 0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "derived state not ready: {v} {logs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let since_61m = ts(now, 61 * 60_000);
    let last_hour = |r: &Rec| r.min_ago <= 60;

    // status: production, last hour (absolute window so the edges are exact).
    let v = overview(
        &admin,
        json!({"action": "status", "environment": "production", "since": since_61m}),
    )
    .await;
    let expected = tally(&rows, |r| r.env == "production" && last_hour(r));
    assert_eq!(counted(&v["logs"]), expected);
    assert_eq!(
        v["error_groups"],
        json!({"unresolved": 3, "resolved": 0, "ignored": 0})
    );
    let deploys: Vec<(String, String)> = v["last_deploys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["service"].as_str().unwrap().into(),
                d["version"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        deploys,
        vec![
            ("checkout".into(), "ck-v2".into()),
            ("catalog".into(), "cat-v1".into())
        ]
    );
    let services: Vec<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(services.len(), 2);
    assert!(services.contains(&"checkout") && services.contains(&"catalog"));

    // triage: the new error after the deploy ranks first and names the deploy.
    let fp_inventory;
    {
        let v = overview(&admin, json!({"action": "triage"})).await;
        let items = v["items"].as_array().unwrap();
        let first = &items[0];
        assert_eq!(first["type"], "new_error", "{v}");
        assert_eq!(first["severity"], "critical");
        let title = first["title"].as_str().unwrap();
        assert!(
            title.contains("InventoryMismatchError")
                && title.contains("since deploy ck-v2 of checkout"),
            "{title}"
        );
        assert_eq!(first["ids"]["version"], "ck-v2");
        assert_eq!(first["ids"]["previous_version"], "ck-v1");
        assert_eq!(first["time"], at(now, 38));
        fp_inventory = first["ids"]["fingerprint"].as_str().unwrap().to_string();
        // The deploy is next, as a critical error-rate rise; exactly one new error overall.
        assert_eq!(items[1]["type"], "deploy");
        assert_eq!(items[1]["severity"], "critical");
        assert_eq!(items[1]["ids"]["version"], "ck-v2");
        assert_eq!(items.iter().filter(|i| i["type"] == "new_error").count(), 1);
        assert_eq!(
            items.iter().filter(|i| i["type"] == "error_spike").count(),
            0,
            "{v}"
        );
        // The staging deploy is listed for the admin, without a rate change.
        let stg = items
            .iter()
            .find(|i| i["ids"]["version"] == "inv-v8")
            .expect("staging deploy item");
        assert_eq!(stg["severity"], "info");
        assert!(v.get("notes").is_none());
    }

    // changes since the last deploy of checkout: the jump, computed here.
    let v = overview(
        &admin,
        json!({"action": "changes", "service": "checkout", "since": "last_deploy"}),
    )
    .await;
    assert_eq!(v["window"]["since_deploy"]["version"], "ck-v2");
    assert_eq!(v["window"]["from"], at(now, DEPLOY_MIN));
    let (cn, ce) = tally(&rows, |r| {
        r.service == "checkout" && r.min_ago <= DEPLOY_MIN
    });
    let (pn, pe) = tally(&rows, |r| {
        r.service == "checkout" && r.min_ago > DEPLOY_MIN && r.min_ago <= 2 * DEPLOY_MIN
    });
    assert_eq!(v["error_rate"]["current"]["rows"], cn);
    assert_eq!(v["error_rate"]["current"]["errors"], ce);
    assert_eq!(v["error_rate"]["previous"]["rows"], pn);
    assert_eq!(v["error_rate"]["previous"]["errors"], pe);
    let expected = ((rate(cn, ce) / rate(pn, pe) - 1.0) * 1000.0).round() / 10.0;
    assert_eq!(v["error_rate"]["change_pct"].as_f64().unwrap(), expected);
    assert!(
        expected > 100.0,
        "the deploy must at least double the rate: {expected}"
    );
    let new_groups = v["new_error_groups"].as_array().unwrap();
    assert_eq!(new_groups.len(), 1, "{v}");
    assert_eq!(new_groups[0]["fingerprint"], fp_inventory.as_str());
    assert_eq!(new_groups[0]["error_class"], "InventoryMismatchError");
    assert_eq!(new_groups[0]["occurrences"], 19);
    let recent = v["recent_errors"].as_array().unwrap();
    assert_eq!(recent.len(), 10);
    assert_eq!(recent[0]["error_class"], "InventoryMismatchError");
    assert_eq!(recent[0]["ts"], at(now, 2));

    // timeline of checkout: the deploy comes before the new errors and is the root cause.
    let v = overview(&admin, json!({"action": "timeline", "service": "checkout", "start": ts(now, 120 * 60_000), "end": ts(now, -60_000)})).await;
    let events = v["timeline"].as_array().unwrap();
    let pos = |pred: &dyn Fn(&Value) -> bool| events.iter().position(pred).unwrap();
    let deploy_at = pos(&|e| e["type"] == "deploy" && e["version"] == "ck-v2");
    let inv_at = pos(&|e| e["type"] == "error" && e["fingerprint"] == fp_inventory.as_str());
    let pay_at =
        pos(&|e| e["type"] == "error" && e["title"].as_str().unwrap().contains("PaymentDeclined"));
    assert!(pay_at < deploy_at && deploy_at < inv_at, "{v}");
    assert_eq!(events[inv_at]["errors_in_window"], 19);
    assert_eq!(events[inv_at]["new_group"], true);
    assert_eq!(events[pay_at]["new_group"], false);
    assert!(events.iter().all(|e| e["service"] == "checkout"));
    let times: Vec<&str> = events.iter().map(|e| e["time"].as_str().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "not in time order: {times:?}"
    );
    let root = &v["probable_root_cause"];
    assert_eq!(root["type"], "deploy", "{v}");
    assert_eq!(root["version"], "ck-v2");
    assert!(
        root["reason"].as_str().unwrap().contains("2m before"),
        "{root}"
    );
    assert_eq!(v["blast_radius"]["new_error_groups"], 1);

    // investigate checkout over the last hour.
    let v = overview(
        &admin,
        json!({"action": "investigate", "service": "checkout", "since": since_61m}),
    )
    .await;
    let (n, e) = tally(&rows, |r| r.service == "checkout" && last_hour(r));
    assert_eq!(counted(&v["logs"]), (n, e));
    assert_eq!(v["by_level"]["error"], e);
    assert_eq!(v["by_level"]["info"], n - e);
    assert_eq!(v["error_groups"]["unresolved"], 2);
    let top = v["top_errors"].as_array().unwrap();
    assert_eq!(top.len(), 2);
    assert_eq!(top[0]["fingerprint"], fp_inventory.as_str());
    assert_eq!(top[0]["in_window"]["count"], 19);
    let (_, pay) = tally(&rows, |r| {
        r.class == Some("PaymentDeclined") && last_hour(r)
    });
    assert_eq!(top[1]["in_window"]["count"], pay);
    assert_eq!(v["recent_errors"].as_array().unwrap().len(), 10);
    assert!(v.get("notes").is_none());

    // diagnose checkout: exact p95/p99 of its route over the last hour.
    let v = overview(
        &admin,
        json!({"action": "diagnose", "service": "checkout", "since": since_61m}),
    )
    .await;
    let durations: Vec<i64> = rows
        .iter()
        .filter(|r| r.service == "checkout" && r.route.is_some() && last_hour(r))
        .map(|r| r.duration)
        .collect();
    let route = &v["request_performance"]["routes"][0];
    assert_eq!(route["route"], "/checkout");
    assert_eq!(route["requests"], durations.len());
    assert_eq!(route["p95_ms"], nearest_rank(&durations, 95.0));
    assert_eq!(route["p99_ms"], nearest_rank(&durations, 99.0));
    assert_eq!(v["error_summary"]["logs"]["errors"], e);
    assert_eq!(v["log_volume"]["error"], e);
    assert!(!v["suggested_tools"].as_array().unwrap().is_empty());

    // settings: read-only view with the URLs.
    let v = overview(&admin, json!({"action": "settings"})).await;
    assert_eq!(v["settings"]["retention_days"], Value::Null);
    assert_eq!(v["server"]["mcp_url"], json!(format!("{}/mcp", server.url)));

    // notes: upsert, get, list, re-surfacing, delete.
    let text = "checkout reads stock from inventory; mismatches mean a stale cache";
    let v = overview(
        &admin,
        json!({"action": "notes", "entity_type": "service", "entity_id": "checkout", "note": text}),
    )
    .await;
    assert_eq!(v["saved"]["note"], text);
    let v = overview(&admin, json!({"action": "notes", "entity_type": "error", "entity_id": fp_inventory, "note": "introduced by the sku refactor"})).await;
    assert_eq!(v["saved"]["entity_id"], fp_inventory.as_str());
    let v = overview(
        &admin,
        json!({"action": "notes", "entity_type": "service", "entity_id": "checkout"}),
    )
    .await;
    assert_eq!(v["note"]["note"], text);
    let v = overview(&admin, json!({"action": "notes"})).await;
    assert_eq!(v["returned"], 2);
    assert_eq!(v["notes"][0]["entity_type"], "error", "newest first: {v}");
    let v = overview(
        &admin,
        json!({"action": "investigate", "service": "checkout"}),
    )
    .await;
    let notes = v["notes"].as_array().expect("notes re-surfaced");
    assert_eq!(notes[0]["note"], text);
    assert!(has_note(&v, "entity_id", &fp_inventory));
    let v = overview(&admin, json!({"action": "triage"})).await;
    assert!(
        has_note(&v, "note", "introduced by the sku refactor"),
        "{v}"
    );
    let v = overview(&admin, json!({"action": "notes", "entity_type": "deploy", "entity_id": "checkout@ck-v2", "note": "ck-v2 moved stock checks to the new cache"})).await;
    assert_eq!(v["saved"]["entity_type"], "deploy");
    let v = overview(
        &admin,
        json!({"action": "changes", "service": "checkout", "since": "last_deploy"}),
    )
    .await;
    assert!(has_note(&v, "entity_id", "checkout@ck-v2"), "{v}");
    let v = overview(
        &admin,
        json!({"action": "timeline", "service": "checkout", "since": "2h"}),
    )
    .await;
    assert!(has_note(&v, "entity_id", "checkout@ck-v2"), "{v}");
    let v = overview(
        &admin,
        json!({"action": "delete_note", "entity_type": "service", "entity_id": "checkout"}),
    )
    .await;
    assert_eq!(v["deleted"]["entity_id"], "checkout");
    let m = overview_err(
        &admin,
        json!({"action": "notes", "entity_type": "service", "entity_id": "checkout"}),
    )
    .await;
    assert!(m.contains("no note"), "{m}");
    let v = overview(
        &admin,
        json!({"action": "investigate", "service": "checkout"}),
    )
    .await;
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["entity_type"] != "service")
    );
    let m = overview_err(
        &admin,
        json!({"action": "notes", "entity_type": "planet", "entity_id": "x"}),
    )
    .await;
    assert!(m.contains("entity_type"), "{m}");
    let m = overview_err(&admin, json!({"action": "triage", "bogus": 1})).await;
    assert!(m.contains("unknown parameter"), "{m}");
    let m = overview_err(&admin, json!({"action": "investigate"})).await;
    assert!(m.contains("missing `service`"), "{m}");

    // Member limited to staging: every action, nothing of production.
    let (sn, se) = tally(&rows, |r| r.env == "staging" && last_hour(r));
    let v = overview(&member, json!({"action": "status", "since": since_61m})).await;
    assert_eq!(prod_leak(&v, &[]), None, "{v}");
    assert_eq!(v["environment"], "staging");
    assert_eq!(counted(&v["logs"]), (sn, se));
    assert_eq!(
        v["error_groups"],
        json!({"unresolved": 1, "resolved": 0, "ignored": 0})
    );
    assert_eq!(v["last_deploys"][0]["version"], "inv-v8");
    assert_eq!(v["last_deploys"].as_array().unwrap().len(), 1);
    assert!(v["derived_state"].get("follower_lag_rows").is_none());

    let v = overview(&member, json!({"action": "triage"})).await;
    assert_eq!(prod_leak(&v, &[]), None, "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["ids"]["version"], "inv-v8");

    let v = overview(
        &member,
        json!({"action": "changes", "since": "last_deploy"}),
    )
    .await;
    assert_eq!(prod_leak(&v, &[]), None, "{v}");
    assert_eq!(v["window"]["since_deploy"]["version"], "inv-v8");
    let (cn, ce) = tally(&rows, |r| r.env == "staging" && r.min_ago <= 100);
    assert_eq!(v["error_rate"]["current"]["rows"], cn);
    assert_eq!(v["error_rate"]["current"]["errors"], ce);
    assert_eq!(v["new_error_groups"], json!([]));

    for args in [
        json!({"action": "diagnose"}),
        json!({"action": "timeline"}),
        json!({"action": "timeline", "since": "30h"}),
        json!({"action": "investigate", "service": "inventory"}),
        json!({"action": "settings"}),
        json!({"action": "notes"}),
        json!({"action": "changes"}),
    ] {
        let v = overview(&member, args.clone()).await;
        assert_eq!(prod_leak(&v, &[]), None, "{args}: {v}");
    }
    // Naming a production service shows nothing of it.
    let v = overview(
        &member,
        json!({"action": "investigate", "service": "checkout", "since": "30h"}),
    )
    .await;
    assert_eq!(prod_leak(&v, &["checkout"]), None, "{v}");
    assert_eq!(v["logs"]["rows"], 0);
    assert_eq!(v["error_groups"]["unresolved"], 0);
    assert_eq!(v["top_errors"], json!([]));
    let v = overview(
        &member,
        json!({"action": "diagnose", "service": "checkout", "since": "30h"}),
    )
    .await;
    assert_eq!(prod_leak(&v, &["checkout"]), None, "{v}");
    assert_eq!(v["error_summary"]["logs"]["rows"], 0);
    let v = overview(
        &member,
        json!({"action": "timeline", "service": "checkout", "since": "30h"}),
    )
    .await;
    assert_eq!(v["timeline"], json!([]));
    assert_eq!(v["probable_root_cause"], Value::Null);
    // Production deploys and notes on production entities are invisible; such notes can be
    // neither written nor deleted. The refusals name nothing of production.
    let refusals = [
        (
            json!({"action": "changes", "service": "checkout", "since": "last_deploy"}),
            "no deploy",
        ),
        (
            json!({"action": "notes", "entity_type": "error", "entity_id": fp_inventory}),
            "no note",
        ),
        (
            json!({"action": "notes", "entity_type": "deploy", "entity_id": "checkout@ck-v2"}),
            "no note",
        ),
        (
            json!({"action": "notes", "entity_type": "service", "entity_id": "catalog", "note": "x"}),
            "in your environments",
        ),
        (
            json!({"action": "delete_note", "entity_type": "error", "entity_id": fp_inventory}),
            "in your environments",
        ),
    ];
    for (args, expected) in refusals {
        let m = overview_err(&member, args.clone()).await;
        assert!(
            m.contains(expected) && !m.contains("production"),
            "{args}: {m}"
        );
    }
    let v = overview(
        &admin,
        json!({"action": "notes", "entity_type": "error", "entity_id": fp_inventory}),
    )
    .await;
    assert_eq!(v["note"]["note"], "introduced by the sku refactor");
    // A member's own note on a staging service works and comes back.
    overview(&member, json!({"action": "notes", "entity_type": "service", "entity_id": "inventory", "note": "syncs every 30 min"})).await;
    let v = overview(
        &member,
        json!({"action": "investigate", "service": "inventory"}),
    )
    .await;
    assert_eq!(v["notes"][0]["note"], "syncs every 30 min");
    let v = overview(&member, json!({"action": "notes"})).await;
    assert_eq!(v["returned"], 1, "{v}");
    // An explicit production environment is refused.
    let m = overview_err(
        &member,
        json!({"action": "status", "environment": "production"}),
    )
    .await;
    assert!(m.contains("not allowed"), "{m}");
}
