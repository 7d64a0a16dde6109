//! The incident an agent is called for, replayed through the real `opentrace-ingestd` and
//! answered through the real MCP endpoint of `opentrace-queryd`.
//!
//! An hour of steady traffic for two services (`checkout`, `catalog`) in production, with a
//! low background error rate; then `checkout` is deployed as version `v2.0.0` and, from then
//! on, `POST /api/checkout` fails with a new `PaymentGatewayError` raised at
//! `src/payments/charge.js:87` for a fixed subset of users. A staging environment carries its
//! own traffic and must never leak into a production-only member's answers.
//!
//! The test checks what the agent sees: `overview triage` puts the new group first and names
//! the deploy's version; `errors investigate` returns the stack trace and the trace's
//! timeline; `errors impact` counts the affected users exactly; `overview changes` with
//! `since: last_deploy` shows the error-rate jump. Every response stays under 8k tokens.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::ingestd::{post, start_ingestd, ts};
use common::{Server, call_sized, mcp_client};
use serde_json::{Value, json};

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// About 8k tokens of JSON (the server's response budget).
const MAX_BYTES: usize = 28_000;
const OLD: &str = "v1.9.3";
const NEW: &str = "v2.0.0";
const CLASS: &str = "PaymentGatewayError";
const FILE: &str = "src/payments/charge.js";
const LINE: i64 = 87;
/// Minutes of traffic before now; the deploy happens `DEPLOY_AGO` minutes before now.
const MINUTES: i64 = 60;
const DEPLOY_AGO: i64 = 20;
const USERS: usize = 30;
/// Users whose checkout fails after the deploy (every third one).
fn affected(user: usize) -> bool {
    user.is_multiple_of(3)
}

fn stack() -> String {
    format!(
        "{CLASS}: card processor rejected the request (code=gateway_timeout)\n    at chargeCard (/app/{FILE}:{LINE}:13)\n    at processPayment (/app/src/payments/index.js:42:7)\n    at CheckoutController.create (/app/src/controllers/checkout.js:118:22)\n    at Layer.handle (/app/node_modules/express/lib/router/layer.js:95:5)"
    )
}

/// What the test knows independently of the server.
#[derive(Default)]
struct Truth {
    rows: Vec<Value>,
    new_errors: u64,
    affected_users: BTreeSet<String>,
    /// Error rows and request rows of `checkout`, before and after the deploy.
    before_errors: u64,
    before_requests: u64,
    after_errors: u64,
    after_requests: u64,
    failing_trace: String,
    staging_rows: Vec<Value>,
}

fn scenario(now: chrono::DateTime<Utc>) -> Truth {
    let mut t = Truth::default();
    let mut n = 0usize;
    for minute in (0..MINUTES).rev() {
        let after = minute < DEPLOY_AGO;
        let version = if after { NEW } else { OLD };
        for k in 0..10usize {
            n += 1;
            let user = (n * 7) % USERS;
            let ms_ago = minute * 60_000 + (k as i64) * 5_000 + 1;
            let trace = format!("{:032x}", n);
            let checkout = k % 3 == 0;
            let failing = after && checkout && affected(user);
            let (method, path, route) = if checkout {
                ("POST", "/api/checkout".to_string(), "/api/checkout")
            } else {
                ("GET", format!("/api/cart/{user}"), "/api/cart/:id")
            };
            let status = if failing { 500 } else { 200 };
            t.rows.push(json!({
                "ts": ts(now, ms_ago), "level": if failing { "error" } else { "info" },
                "service": "checkout", "env": "production", "version": version,
                "event_type": "http.request", "message": format!("{method} {path} {status}"),
                "method": method, "path": path, "route": route, "status": status,
                "duration_ms": 40 + (n % 17) as i64 * 3, "trace_id": trace,
                "request_id": format!("req-{n}"), "user_id": format!("user-{user}"),
                "body": {"context": {"hostname": "web-1", "pid": 4242}}
            }));
            if after {
                t.after_requests += 1;
            } else {
                t.before_requests += 1;
            }
            if checkout {
                // checkout asks catalog for prices inside the same trace.
                t.rows.push(json!({
                    "ts": ts(now, ms_ago - 1), "level": "info", "service": "catalog",
                    "env": "production", "version": "c-77", "event_type": "http.request",
                    "message": "GET /internal/prices 200", "method": "GET",
                    "path": "/internal/prices", "route": "/internal/prices", "status": 200,
                    "duration_ms": 12, "trace_id": trace, "request_id": format!("creq-{n}"),
                    "body": {"context": {"hostname": "catalog-1", "pid": 77}}
                }));
            }
            if failing {
                let u = format!("user-{user}");
                t.rows.push(json!({
                    "ts": ts(now, ms_ago - 2), "level": "error", "service": "checkout",
                    "env": "production", "version": version, "event_type": "error",
                    "message": "card processor rejected the request (code=gateway_timeout)",
                    "error_class": CLASS, "trace_id": trace, "request_id": format!("req-{n}"),
                    "user_id": u,
                    "body": {
                        "context": {"hostname": "web-1", "pid": 4242, "cart_total": 129.5},
                        "exception": {
                            "class": CLASS,
                            "message": "card processor rejected the request (code=gateway_timeout)",
                            "stack": stack(),
                            "causes": [{"className": "TimeoutError", "message": "socket hang up after 3000ms", "stack": "TimeoutError: socket hang up after 3000ms\n    at Socket.onTimeout (/app/src/payments/client.js:31:9)"}]
                        }
                    }
                }));
                t.new_errors += 1;
                t.after_errors += 1;
                t.affected_users.insert(u);
                t.failing_trace = trace.clone();
            }
        }
        // Background noise: one known error every ten minutes, before and after.
        if minute % 10 == 5 {
            t.rows.push(json!({
                "ts": ts(now, minute * 60_000 + 30_000), "level": "error", "service": "checkout",
                "env": "production", "version": version, "event_type": "error",
                "message": "Redis connection reset, retrying", "error_class": "RedisReconnect",
                "user_id": "user-1",
                "body": {"context": {}, "exception": {"class": "RedisReconnect", "stack": "RedisReconnect: Redis connection reset\n    at Client.onError (/app/src/cache/redis.js:55:11)"}}
            }));
            if after {
                t.after_errors += 1;
            } else {
                t.before_errors += 1;
            }
        }
    }
    for i in 0..40 {
        t.staging_rows.push(json!({
            "ts": ts(now, i * 60_000 + 10), "level": if i % 4 == 0 { "error" } else { "info" },
            "service": "checkout", "env": "staging", "version": "stg-1",
            "message": format!("staging request {i}"),
            "error_class": if i % 4 == 0 { json!("StagingOnlyError") } else { Value::Null },
            "user_id": "stg-user"
        }));
    }
    t
}

/// Calls a tool, asserting success and the response budget.
async fn ok(client: &Client, tool: &str, args: Value) -> Value {
    let (err, v, len) = call_sized(client, tool, args.clone()).await;
    assert!(!err, "{tool} {args} failed: {v}");
    assert!(
        len < MAX_BYTES,
        "{tool} {args}: {len} bytes is over the 8k-token budget"
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_breaks_checkout_and_the_agent_finds_it() {
    let data = tempfile::tempdir().unwrap();
    let ingest = start_ingestd(data.path());
    let server = Server::start_in(data, &[]);
    let admin_token = server.cli(&["user", "create", "--email", "oncall@example.com", "--admin"]);
    let member_token = server.cli(&[
        "user",
        "create",
        "--email",
        "intern@example.com",
        "--member",
        "--env",
        "staging",
    ]);
    let now = Utc::now();
    let truth = scenario(now);
    for batch in truth.rows.chunks(50) {
        post(&ingest, batch);
    }
    post(&ingest, &truth.staging_rows);
    let url = format!("{}/mcp", server.url);
    let admin = mcp_client(&url, &admin_token).await;
    let member = mcp_client(&url, &member_token).await;

    // Wait for the follower to derive the new group with every occurrence.
    let deadline = Instant::now() + Duration::from_secs(30);
    let group = loop {
        let (_, v, _) = call_sized(
            &admin,
            "errors",
            json!({"action": "list", "environment": "production", "since": "2h"}),
        )
        .await;
        let found = v["groups"].as_array().and_then(|gs| {
            gs.iter()
                .find(|g| g["error_class"] == CLASS && g["occurrences"] == truth.new_errors)
                .cloned()
        });
        if let Some(g) = found {
            break g;
        }
        assert!(Instant::now() < deadline, "group never appeared: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let fingerprint = group["fingerprint"].as_str().unwrap().to_string();
    assert!(
        group["source"]
            .as_str()
            .is_some_and(|s| s.ends_with(&format!("{FILE}:{LINE}"))),
        "the group's source is not {FILE}:{LINE}: {group}"
    );
    assert_eq!(group["service"], "checkout");

    // Triage: the new group ranks first and names the deploy's version.
    let triage = ok(
        &admin,
        "overview",
        json!({"action": "triage", "environment": "production"}),
    )
    .await;
    let first = triage["items"][0].to_string();
    assert!(
        first.contains(&fingerprint) || first.contains(CLASS),
        "first triage item is not the new group: {triage}"
    );
    assert!(
        first.contains(NEW),
        "first item does not name {NEW}: {first}"
    );

    // Investigate: stack trace and the trace's timeline.
    let inv = ok(
        &admin,
        "errors",
        json!({"action": "investigate", "trace_id": truth.failing_trace}),
    )
    .await;
    let exc = &inv["exception"];
    assert_eq!(exc["class"], CLASS, "{inv}");
    let frames = exc["backtrace"].to_string();
    assert!(
        frames.contains(FILE) && frames.contains(&LINE.to_string()),
        "stack trace lacks {FILE}:{LINE}: {exc}"
    );
    assert!(
        frames.find("chargeCard").unwrap() < frames.find("processPayment").unwrap(),
        "frames out of order: {frames}"
    );
    assert!(
        exc["causes"].to_string().contains("TimeoutError"),
        "cause missing: {exc}"
    );
    let timeline = inv["trace_timeline"].to_string();
    assert!(
        timeline.contains("catalog") && timeline.contains("/api/checkout"),
        "trace timeline lacks the request across services: {timeline}"
    );

    // Impact: exactly the affected users.
    let impact = ok(
        &admin,
        "errors",
        json!({"action": "impact", "fingerprint": fingerprint, "environment": "production", "limit": 100}),
    )
    .await;
    assert_eq!(
        impact["unique_users"].as_u64(),
        Some(truth.affected_users.len() as u64),
        "{impact}"
    );
    assert_eq!(
        impact["total_occurrences"].as_u64(),
        Some(truth.new_errors),
        "{impact}"
    );
    let listed: BTreeSet<String> = impact["affected_users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, truth.affected_users);

    // Changes since the last deploy: the error rate jumps and the new group is named.
    let changes = ok(
        &admin,
        "overview",
        json!({"action": "changes", "since": "last_deploy", "environment": "production", "service": "checkout"}),
    )
    .await;
    assert_eq!(
        changes["window"]["since_deploy"]["version"], NEW,
        "{changes}"
    );
    let text = changes.to_string();
    assert!(
        text.contains(&fingerprint),
        "new group not named: {changes}"
    );
    let before_rate = truth.before_errors as f64 / truth.before_requests as f64;
    let after_rate = truth.after_errors as f64 / truth.after_requests as f64;
    assert!(after_rate > 5.0 * before_rate, "scenario itself is wrong");
    let rate = &changes["error_rate"];
    let (cur, prev) = (
        rate["current"]["errors"].as_u64().unwrap(),
        rate["previous"]["errors"].as_u64().unwrap(),
    );
    assert!(cur > 5 * prev.max(1), "no error jump reported: {changes}");
    assert!(
        rate["current"]["error_rate_pct"].as_f64().unwrap()
            > 5.0 * rate["previous"]["error_rate_pct"].as_f64().unwrap(),
        "no error-rate jump reported: {changes}"
    );

    // The staging-only member sees none of it.
    for (tool, args) in [
        ("overview", json!({"action": "triage"})),
        ("errors", json!({"action": "list", "since": "2h"})),
        ("overview", json!({"action": "changes", "since": "2h"})),
    ] {
        let v = ok(&member, tool, args.clone()).await;
        let s = v.to_string();
        assert!(
            !s.contains(CLASS) && !s.contains(&fingerprint) && !s.contains("\"production\""),
            "{tool} {args} leaks production to a staging member: {v}"
        );
    }
    let (err, _, _) = call_sized(
        &member,
        "errors",
        json!({"action": "investigate", "trace_id": truth.failing_trace}),
    )
    .await;
    assert!(err, "a staging member investigated a production trace");
}
