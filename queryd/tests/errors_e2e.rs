//! End to end over both real binaries: `opentrace-ingestd` accepts SDK-shaped error rows
//! (Node `body.exception` with a stack string and causes, Ruby request rows with in-request
//! errors under `body.logs`, Ruby standalone errors under `body.context`) in two
//! environments; the follower in `opentrace-queryd` derives error groups; the `errors` MCP
//! tool is called through a real rmcp client. Checks every action's content (counts, unique
//! users, frames in order, causes, trace timeline, lifecycle history including the reopen on
//! recurrence), and that a member limited to staging never sees or changes a production
//! group through any action. Every response stays under 28 000 bytes.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::ingestd::{Ingestd, post, start_both, ts};
use common::{Client, account_id, call_sized, col, mcp_client, pairs};
use serde_json::{Value, json};

// The SDK fixtures of the workspace (`tests/fixtures/sdk/`, captured or derived payloads).
const NODE: &str = include_str!("../../tests/fixtures/sdk/node-0.2.0-request-and-error.json");
const RUBY: &str = include_str!("../../tests/fixtures/sdk/ruby-0.17-request.json");

const MIN: i64 = 60_000;

/// A Node 0.2.0 request row and its separate error row (the captured fixture), 3 ms apart.
fn node_pair(
    now: DateTime<Utc>,
    ms_ago: i64,
    env: &str,
    version: &str,
    user: Option<&str>,
    trace: &str,
    n: usize,
) -> Vec<Value> {
    let fx: Value = serde_json::from_str(NODE).unwrap();
    let (mut req, mut err) = (fx[0].clone(), fx[1].clone());
    req["ts"] = json!(ts(now, ms_ago));
    err["ts"] = json!(ts(now, ms_ago - 3));
    req["path"] = json!(format!("/orders/{n}"));
    req["message"] = json!(format!("GET /orders/{n} 500 4ms"));
    for r in [&mut req, &mut err] {
        r["env"] = json!(env);
        r["version"] = json!(version);
        r["trace_id"] = json!(trace);
        r["request_id"] = json!(format!("{trace}-req"));
        if let Some(u) = user {
            r["user_id"] = json!(u);
        }
        if env == "production" {
            r["body"]["context"]["mark"] = json!("prodmark");
        }
    }
    vec![req, err]
}

/// A Ruby 0.17 request row (the fixture) whose in-request error ingestd expands into a
/// child row.
fn ruby_request(now: DateTime<Utc>, ms_ago: i64, user: &str, trace: &str) -> Value {
    let fx: Value = serde_json::from_str(RUBY).unwrap();
    let mut r = fx[0].clone();
    r["ts"] = json!(ts(now, ms_ago));
    r["version"] = json!("v1-prod");
    r["user_id"] = json!(user);
    r["trace_id"] = json!(trace);
    r["request_id"] = json!(format!("{trace}-req"));
    r["body"]["context"]["mark"] = json!("prodmark");
    r
}

/// Frames of the Ruby standalone error's backtrace.
const KEY_FRAMES: usize = 60;

/// A Ruby 0.17 standalone error (`body.context` with exception fields, a long backtrace and
/// a cause) in staging, preceded by an info row of the same trace 40 ms earlier.
fn ruby_standalone(now: DateTime<Utc>, ms_ago: i64, trace: &str, m: usize) -> Vec<Value> {
    let backtrace: Vec<String> = (0..KEY_FRAMES)
        .map(|i| format!("app/lib/step_{i}.rb:{}:in `step_{i}'", i + 10))
        .collect();
    vec![
        json!({
            "ts": ts(now, ms_ago + 40), "level": "info", "service": "billing-api",
            "env": "staging", "message": format!("loading cart {m}"), "event_type": "log",
            "version": "s2", "trace_id": trace,
            "body": {"context": {"hostname": "web-2", "pid": 77}}
        }),
        json!({
            "ts": ts(now, ms_ago), "level": "error", "service": "billing-api",
            "env": "staging", "message": "KeyError: key not found: :plan", "event_type": "log",
            "version": "s2", "trace_id": trace,
            "body": {"context": {
                "hostname": "web-2", "pid": 77,
                "exception_class": "KeyError",
                "exception_message": "key not found: :plan",
                "backtrace": backtrace,
                "exception_causes": [{
                    "class": "Redis::TimeoutError", "message": "Connection timed out",
                    "backtrace": ["app/lib/cache.rb:14:in `fetch'", "app/lib/step_0.rb:10:in `step_0'"],
                    "origin": "app/lib/cache.rb:14"
                }]
            }}
        }),
    ]
}

const PROD_USERS: [Option<&str>; 6] = [
    Some("p-alice"),
    Some("p-alice"),
    Some("p-alice"),
    Some("p-bob"),
    Some("p-bob"),
    Some("p-carol"),
];
const RUBY_USERS: [&str; 3] = ["p-alice", "p-dave", "p-dave"];
const STG_USERS: [Option<&str>; 4] = [Some("s-erin"), Some("s-erin"), Some("s-frank"), None];

/// Node request/error pairs one minute apart, the first `start_min` minutes ago, one per
/// entry of `users`, in traces `<prefix>-<i>`.
fn node_series(
    now: DateTime<Utc>,
    env: &str,
    version: &str,
    start_min: i64,
    users: &[Option<&str>],
    prefix: &str,
) -> Vec<Value> {
    let trace = |i: usize| format!("{prefix}-{i}");
    users
        .iter()
        .enumerate()
        .flat_map(|(i, u)| {
            let ago = (start_min - i as i64) * MIN;
            node_pair(now, ago, env, version, *u, &trace(i), i)
        })
        .collect()
}

fn production(now: DateTime<Utc>) -> Vec<Value> {
    let mut rows = node_series(now, "production", "v1-prod", 40, &PROD_USERS, "ptrace");
    for (j, u) in RUBY_USERS.iter().enumerate() {
        let ago = (30 - j as i64) * MIN;
        rows.push(ruby_request(now, ago, u, &format!("prtrace-{j}")));
    }
    rows
}

fn staging(now: DateTime<Utc>) -> Vec<Value> {
    let mut rows = node_series(now, "staging", "s1", 25, &STG_USERS, "strace");
    for m in 0..2 {
        let ago = (10 - m as i64) * MIN;
        rows.extend(ruby_standalone(now, ago, &format!("skey-{m}"), m));
    }
    rows
}

/// Whether text shows anything of production.
fn has_prod_text(s: &str) -> bool {
    [
        "production",
        "prodmark",
        "p-alice",
        "p-bob",
        "p-carol",
        "p-dave",
        "v1-prod",
        "ptrace",
        "prtrace",
        "Stripe",
        "/invoices",
    ]
    .iter()
    .any(|m| s.contains(m))
}

/// Whether a member response shows anything of production beyond echoing the caller's own
/// arguments (an id it passed, or the environment it asked for and was refused).
fn leaks(v: &Value, args: &Value) -> bool {
    let mut text = v.to_string();
    for a in args.as_object().unwrap().values() {
        if let Some(s) = a.as_str() {
            text = text.replace(s, "");
        }
    }
    has_prod_text(&text)
}

struct Ctx {
    admin: Client,
    member: Client,
    sizes: Vec<(String, usize)>,
}

impl Ctx {
    async fn call(&mut self, admin: bool, args: Value) -> (bool, Value) {
        let client = if admin { &self.admin } else { &self.member };
        let (err, v, n) = call_sized(client, "errors", args.clone()).await;
        assert!(n < 28_000, "response of {args} is {n} bytes");
        self.sizes.push((
            format!("{} {args}", if admin { "admin" } else { "member" }),
            n,
        ));
        if !admin {
            assert!(
                !leaks(&v, &args),
                "member saw production through {args}: {v}"
            );
        }
        (err, v)
    }

    /// A successful call.
    async fn ok(&mut self, admin: bool, args: Value) -> Value {
        let (err, v) = self.call(admin, args.clone()).await;
        assert!(!err, "{args} failed: {v}");
        v
    }

    /// A failed call with error kind `kind`.
    async fn fails(&mut self, admin: bool, args: Value, kind: &str) -> Value {
        let (err, v) = self.call(admin, args.clone()).await;
        assert!(
            err && v["error"] == kind,
            "{args} should fail with {kind}: {v}"
        );
        assert!(!leaks(&v, &args), "{v}");
        v
    }
}

fn groups(v: &Value) -> &Vec<Value> {
    v["groups"].as_array().unwrap()
}

/// The fingerprint of the group of `class` (`""` for request groups) of `service` in `env`.
fn fp_of(list: &Value, env: &str, service: &str, class: &str) -> String {
    groups(list)
        .iter()
        .find(|g| g["environment"] == env && g["service"] == service && g["error_class"] == class)
        .unwrap_or_else(|| panic!("no {env}/{service}/{class:?} group in {list}"))["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The impact score of a group seen within the hour: `users × log2(occurrences + 1)`.
fn score(users: f64, occurrences: f64) -> f64 {
    (users * (occurrences + 1.0).log2() * 100.0).round() / 100.0
}

impl Ctx {
    /// Polls a call until it succeeds and `done` holds (the follower applies rows
    /// asynchronously).
    async fn wait(&mut self, admin: bool, args: Value, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (err, v) = self.call(admin, args.clone()).await;
            if !err && done(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "never reached with {args}: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_tool_end_to_end() {
    let (ingest, server) = start_both();
    let admin_token = server.create_user("admin@example.com", "admin", "production,staging");
    let member_token = server.create_user("member@example.com", "member", "staging");
    let now = Utc::now();
    post(&ingest, &production(now));
    post(&ingest, &staging(now));
    let url = format!("{}/mcp", server.url);
    let mut ctx = Ctx {
        admin: mcp_client(&url, &admin_token).await,
        member: mcp_client(&url, &member_token).await,
        sizes: Vec::new(),
    };

    // Wait for the follower: 7 groups (4 in production, 3 in staging), 28 occurrences.
    let all = ctx
        .wait(
            true,
            json!({"action": "list", "status": "all", "limit": 100}),
            |v| {
                let occ: i64 = groups(v)
                    .iter()
                    .map(|g| g["occurrences"].as_i64().unwrap())
                    .sum();
                v["matched"] == 7 && occ == 28
            },
        )
        .await;
    let type_fp = fp_of(&all, "production", "checkout-api", "TypeError");
    assert_eq!(type_fp, fp_of(&all, "staging", "checkout-api", "TypeError"));
    let stripe_fp = fp_of(&all, "production", "billing-api", "Stripe::CardError");
    let key_fp = fp_of(&all, "staging", "billing-api", "KeyError");
    let member_id = account_id(&ctx.admin, "member@example.com").await;

    // tools/list: the member sees the errors tool with all ten actions.
    let tools = ctx.member.list_all_tools().await.unwrap();
    let errors_tool = tools.iter().find(|t| t.name == "errors").unwrap();
    let actions = &errors_tool.input_schema["properties"]["action"]["enum"];
    assert_eq!(actions.as_array().unwrap().len(), 10, "{actions}");

    // --- scoping, for every action: the member may not name production, and a
    // production-only fingerprint does not exist for it ---
    for action in [
        "list",
        "detail",
        "investigate",
        "impact",
        "user_errors",
        "ranking",
        "resolve",
        "ignore",
        "reopen",
        "new",
    ] {
        let mut args = json!({"action": action, "environment": "production"});
        let by_fp = !matches!(action, "list" | "ranking" | "new" | "user_errors");
        if by_fp {
            args["fingerprint"] = json!(type_fp);
        }
        if matches!(action, "resolve" | "ignore" | "reopen") {
            args["reason"] = json!("x");
        }
        if action == "user_errors" {
            args["user_id"] = json!("p-alice");
        }
        let v = ctx.fails(false, args.clone(), "forbidden").await;
        assert!(v["message"].as_str().unwrap().contains("staging"), "{v}");
        if by_fp {
            args.as_object_mut().unwrap().remove("environment");
            args["fingerprint"] = json!(stripe_fp);
            ctx.fails(false, args, "not_found").await;
        }
    }

    // --- bad calls: each error says what to fix ---
    let bad = json!([
        [{"action": "list", "fingerprnt": "x"}, "invalid_arguments", "unknown parameter"],
        [{"action": "list", "sort_by": "colour"}, "invalid_arguments", "sort_by"],
        [{"action": "detail"}, "invalid_arguments", "fingerprint"],
        [{"action": "investigate"}, "invalid_arguments", "log_id"],
        [{"action": "investigate", "trace_id": "ptrace-0"}, "not_found", "trace_id"],
        [{"action": "user_errors"}, "invalid_arguments", "user_id"],
        [{"action": "resolve", "fingerprint": type_fp}, "invalid_arguments", "reason"]
    ]);
    for case in bad.as_array().unwrap() {
        let kind = case[1].as_str().unwrap();
        let v = ctx.fails(false, case[0].clone(), kind).await;
        let hint = case[2].as_str().unwrap();
        assert!(v["message"].as_str().unwrap().contains(hint), "{v}");
    }

    // --- list ---
    let v = ctx
        .ok(true, json!({"action": "list", "sort_by": "occurrences"}))
        .await;
    assert_eq!(
        col(&v["groups"], "occurrences"),
        json!([6, 6, 4, 4, 3, 3, 2])
    );
    assert_eq!(v["total_unresolved"], 7);
    assert_eq!(v["counts_by_status"]["resolved"], 0);
    assert!(v["window"]["from"].as_str().unwrap().ends_with('Z'));
    let p1 = groups(&v)
        .iter()
        .find(|g| g["environment"] == "production" && g["error_class"] == "TypeError")
        .unwrap();
    assert_eq!(p1["unique_users"], 3);
    assert_eq!(p1["source"], "/app/routes/orders.mjs:46");
    assert_eq!(p1["status"], "unresolved");
    assert_eq!(v["suggested_tools"][0]["args"]["action"], "investigate");
    // Pages of 3 with the cursor: 3 + 3 + 1, no overlap.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    for expect in [3, 3, 1] {
        let v = ctx
            .ok(
                true,
                json!({"action": "list", "limit": 3, "cursor": cursor}),
            )
            .await;
        assert_eq!(groups(&v).len(), expect);
        for g in groups(&v) {
            let key = format!("{}@{}", g["fingerprint"], g["environment"]);
            assert!(!seen.contains(&key));
            seen.push(key);
        }
        cursor = v["next_cursor"].clone();
    }
    assert!(cursor.is_null());
    let v = ctx.ok(false, json!({"action": "list"})).await;
    assert_eq!(v["environment"], "staging");
    assert_eq!(
        (v["matched"].as_i64(), v["total_unresolved"].as_i64()),
        (Some(3), Some(3))
    );
    assert_eq!(col(&v["groups"], "environment"), json!(vec!["staging"; 3]));
    let s1 = groups(&v)
        .iter()
        .find(|g| g["error_class"] == "TypeError")
        .unwrap();
    assert_eq!(
        pairs(&json!([s1]), "occurrences", "unique_users"),
        json!([[4, 2]])
    );
    let v = ctx
        .ok(false, json!({"action": "list", "since": "last_deploy"}))
        .await;
    assert_eq!(v["window"]["since_deploy"]["version"], "s2");
    assert_eq!(col(&v["groups"], "error_class"), json!(["KeyError"]));
    let v = ctx
        .ok(false, json!({"action": "list", "since": "15m"}))
        .await;
    assert_eq!(col(&v["groups"], "error_class"), json!(["KeyError"]));

    // --- ranking: impact = users × log2(occurrences + 1) × recency (all seen < 1 h ago) ---
    let v = ctx.ok(true, json!({"action": "ranking"})).await;
    let expect = [
        score(3., 6.),
        score(3., 6.),
        score(2., 4.),
        score(2., 4.),
        score(2., 3.),
        score(2., 3.),
        0.0,
    ];
    assert_eq!(col(&v["groups"], "impact_score"), json!(expect));
    assert_eq!(col(&v["groups"], "rank"), json!([1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(
        groups(&v)[0]["score_parts"],
        json!({"unique_users": 3, "log2_occurrences_plus_1": 2.81, "recency": 1.0})
    );
    let v = ctx.ok(false, json!({"action": "ranking"})).await;
    assert_eq!(
        col(&v["groups"], "impact_score"),
        json!([score(2., 4.), score(2., 4.), 0.0])
    );
    let v = ctx
        .ok(
            false,
            json!({"action": "ranking", "sort_by": "occurrences", "limit": 1}),
        )
        .await;
    assert_eq!(col(&v["groups"], "occurrences"), json!([4]));

    // --- new ---
    let v = ctx.ok(true, json!({"action": "new", "since": "15m"})).await;
    assert_eq!(col(&v["groups"], "fingerprint"), json!([key_fp]));
    let v = ctx.ok(true, json!({"action": "new", "since": "27m"})).await;
    let classes = col(&v["groups"], "error_class");
    assert_eq!(classes.as_array().unwrap().len(), 3);
    assert_eq!(classes[0], "KeyError"); // newest first
    let v = ctx
        .ok(
            false,
            json!({"action": "new", "since": "last_deploy", "service": "checkout-api"}),
        )
        .await;
    assert_eq!(v["window"]["since_deploy"]["version"], "s1");
    assert_eq!(col(&v["groups"], "service"), json!(vec!["checkout-api"; 2]));
    let v = ctx.ok(false, json!({"action": "new"})).await;
    assert_eq!(groups(&v).len(), 3);

    // --- detail ---
    let v = ctx
        .ok(false, json!({"action": "detail", "fingerprint": type_fp}))
        .await;
    assert_eq!(v["environment"], "staging");
    assert_eq!(v["group"]["occurrences"], 4);
    assert_eq!(v["events"], json!([]));
    let recent = &v["recent_occurrences"];
    assert_eq!(col(recent, "error_class"), json!(vec!["TypeError"; 4]));
    assert_eq!(col(recent, "env"), json!(vec!["staging"; 4]));
    let mut stamps: Vec<String> = col(recent, "ts")
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let shown = stamps.clone();
    stamps.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(shown, stamps, "newest first");
    let e = &v["latest_exception"];
    assert_eq!(e["class"], "TypeError");
    assert_eq!(
        e["backtrace"],
        json!([{"file": "/app/routes/orders.mjs", "line": 46, "in_app": true}, {"raw": "at opentraceMiddleware (...)"}])
    );
    assert_eq!(e["causes"][0]["message"], "upstream 502");
    let v = ctx
        .ok(
            true,
            json!({"action": "detail", "fingerprint": type_fp, "environment": "production"}),
        )
        .await;
    assert_eq!(v["group"]["occurrences"], 6);
    assert_eq!(
        col(&v["recent_occurrences"], "env"),
        json!(vec!["production"; 5])
    );

    // --- investigate ---
    // Ruby standalone error by fingerprint: 60 frames, the first 50 in order, one cause.
    let v = ctx
        .ok(
            false,
            json!({"action": "investigate", "fingerprint": key_fp}),
        )
        .await;
    assert_eq!(v["chosen_by"], "fingerprint");
    let e = &v["exception"];
    assert_eq!(
        (
            e["class"].as_str(),
            e["message"].as_str(),
            e["fingerprint"].as_str()
        ),
        (
            Some("KeyError"),
            Some("key not found: :plan"),
            Some(key_fp.as_str())
        )
    );
    assert_eq!(
        (e["source_file"].as_str(), e["source_line"].as_i64()),
        (Some("app/lib/step_0.rb"), Some(10))
    );
    assert_eq!(e["frames_total"], KEY_FRAMES);
    assert_eq!(e["frames_omitted"], KEY_FRAMES - 50);
    let expect: Vec<Value> = (0..50)
        .map(|i| json!({"file": format!("app/lib/step_{i}.rb"), "line": i + 10, "method": format!("step_{i}"), "in_app": true}))
        .collect();
    assert_eq!(e["backtrace"], json!(expect));
    assert_eq!(col(&e["causes"], "class"), json!(["Redis::TimeoutError"]));
    assert_eq!(e["causes"][0]["origin"], "app/lib/cache.rb:14");
    assert_eq!(e["causes"][0]["backtrace"][0]["method"], "fetch");
    assert_eq!(v["request"], Value::Null);
    let tl = &v["trace_timeline"];
    assert_eq!(
        pairs(tl, "message", "offset_ms"),
        json!([
            ["loading cart 1", 0.0],
            ["KeyError: key not found: :plan", 40.0]
        ])
    );
    assert_eq!(tl[1]["this"], true);
    assert_eq!(v["error_group"]["fingerprint"], key_fp.as_str());
    assert_eq!(v["error_group"]["occurrences"], 2);

    // Node error by trace_id: the TypeError row, its request, the trace, same-service rows.
    let v = ctx
        .ok(
            false,
            json!({"action": "investigate", "trace_id": "strace-1"}),
        )
        .await;
    assert_eq!(v["log"]["error_class"], "TypeError");
    assert_eq!(v["exception"]["causes"][0]["class"], "Error");
    assert_eq!(v["exception"]["frames_total"], 2);
    assert_eq!(
        (
            v["request"]["method"].as_str(),
            v["request"]["path"].as_str(),
            v["request"]["status"].as_i64()
        ),
        (Some("GET"), Some("/orders/1"), Some(500))
    );
    assert_eq!(col(&v["trace_timeline"], "offset_ms"), json!([0.0, 3.0]));
    assert_eq!(col(&v["trace_timeline"], "this"), json!([null, true]));
    let around = &v["surrounding_logs"];
    assert_eq!(col(around, "position"), json!([-3, -2, -1, 1, 2, 3, 4]));
    assert_eq!(col(around, "service"), json!(vec!["checkout-api"; 7]));
    assert_eq!(v["error_group"]["environment"], "staging");
    let next: Vec<Value> = v["suggested_tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["args"].clone())
        .collect();
    assert_eq!(
        col(&json!(next), "action"),
        json!(["trace", "context", "impact"])
    );
    // By log_id: the same row.
    let log_id = v["log"]["log_id"].clone();
    let v = ctx
        .ok(false, json!({"action": "investigate", "log_id": log_id}))
        .await;
    assert_eq!(v["log"]["trace_id"], "strace-1");

    // Ruby in-request error (child row) by fingerprint, admin: request params from the
    // parent request row of the same trace.
    let v = ctx
        .ok(
            true,
            json!({"action": "investigate", "fingerprint": stripe_fp}),
        )
        .await;
    let e = &v["exception"];
    assert_eq!(
        (e["class"].as_str(), e["message"].as_str()),
        (Some("Stripe::CardError"), Some("Your card was declined"))
    );
    assert_eq!(
        e["backtrace"],
        json!([
            {"file": "app/services/charge.rb", "line": 27, "method": "call", "in_app": true},
            {"file": "app/controllers/invoices_controller.rb", "line": 12, "method": "create", "in_app": true}
        ])
    );
    assert_eq!(
        (
            v["request"]["method"].as_str(),
            v["request"]["path"].as_str()
        ),
        (Some("POST"), Some("/invoices"))
    );
    assert_eq!(
        v["request"]["params"],
        json!({"invoice": {"amount": "49.99", "currency": "usd"}})
    );
    assert_eq!(v["log"]["trace_id"], "prtrace-2");
    assert_eq!(v["trace_timeline"].as_array().unwrap().len(), 2);
    let prod_log = v["log"]["log_id"].clone();
    ctx.fails(
        false,
        json!({"action": "investigate", "log_id": prod_log}),
        "not_found",
    )
    .await;

    // --- notes left on an error come back with it ---
    let (err, _, _) = call_sized(
        &ctx.member,
        "overview",
        json!({"action": "notes", "entity_type": "error", "entity_id": key_fp, "note": "cart plan lookup, see PR 12"}),
    )
    .await;
    assert!(!err);
    for action in ["detail", "investigate", "impact"] {
        let v = ctx
            .ok(false, json!({"action": action, "fingerprint": key_fp}))
            .await;
        assert_eq!(
            col(&v["notes"], "note"),
            json!(["cart plan lookup, see PR 12"]),
            "{action}"
        );
    }
    let v = ctx.ok(false, json!({"action": "list"})).await;
    assert_eq!(col(&v["notes"], "entity_id"), json!([key_fp]));

    // --- impact (per environment) ---
    let v = ctx
        .ok(
            true,
            json!({"action": "impact", "fingerprint": type_fp, "environment": "production"}),
        )
        .await;
    assert_eq!(v["environment"], "production");
    assert_eq!(
        (v["unique_users"].as_i64(), v["total_occurrences"].as_i64()),
        (Some(3), Some(6))
    );
    assert_eq!(v["impact_score"], score(3., 6.));
    assert_eq!(
        pairs(&v["affected_users"], "user_id", "occurrences"),
        json!([["p-alice", 3], ["p-bob", 2], ["p-carol", 1]])
    );
    let traits = v["common_traits"].as_array().unwrap();
    assert!(
        traits.contains(
            &json!({"field": "service", "value": "checkout-api", "count": 6, "share": 1.0})
        ),
        "{traits:?}"
    );
    assert!(
        traits.contains(&json!({"field": "version", "value": "v1-prod", "count": 6, "share": 1.0}))
    );
    let v = ctx
        .ok(false, json!({"action": "impact", "fingerprint": type_fp}))
        .await;
    assert_eq!(v["environment"], "staging");
    assert_eq!(
        (v["unique_users"].as_i64(), v["total_occurrences"].as_i64()),
        (Some(2), Some(4))
    );
    assert_eq!(
        pairs(&v["affected_users"], "user_id", "occurrences"),
        json!([["s-erin", 2], ["s-frank", 1]])
    );
    assert_eq!(v["affected_users"][0]["service"], "checkout-api");
    let v = ctx
        .ok(
            false,
            json!({"action": "impact", "fingerprint": type_fp, "limit": 1}),
        )
        .await;
    assert_eq!(col(&v["affected_users"], "user_id"), json!(["s-erin"]));
    let v = ctx
        .ok(false, json!({"action": "impact", "fingerprint": key_fp}))
        .await;
    assert_eq!(v["unique_users"], 0);
    assert!(v["note"].is_string());

    // --- user_errors ---
    let v = ctx
        .ok(false, json!({"action": "user_errors", "user_id": "s-erin"}))
        .await;
    assert_eq!(col(&v["groups"], "user_occurrences"), json!([2, 2]));
    assert_eq!(
        col(&v["groups"], "environment"),
        json!(["staging", "staging"])
    );
    let v = ctx
        .ok(
            false,
            json!({"action": "user_errors", "user_id": "p-alice"}),
        )
        .await;
    assert_eq!(v["groups"], json!([]));
    let v = ctx
        .ok(true, json!({"action": "user_errors", "user_id": "p-alice"}))
        .await;
    let mut per: Vec<Value> = pairs(&v["groups"], "error_class", "user_occurrences")
        .as_array()
        .unwrap()
        .clone();
    per.sort_by_key(|p| p.to_string());
    assert_eq!(
        json!(per),
        json!([["", 1], ["", 3], ["Stripe::CardError", 1], ["TypeError", 3]])
    );

    // --- lifecycle ---
    let v = ctx
        .ok(true, json!({"action": "list", "status": "all"}))
        .await;
    assert_eq!(
        col(&v["groups"], "status"),
        json!(vec!["unresolved"; 7]),
        "refused calls changed nothing"
    );

    // resolve (member, staging only) -> recurrence reopens it.
    let v = ctx
        .ok(
            false,
            json!({"action": "resolve", "fingerprint": type_fp, "reason": "fixed in abc123"}),
        )
        .await;
    assert_eq!(
        pairs(&v["groups"], "environment", "status"),
        json!([["staging", "resolved"]])
    );
    assert_eq!(
        v["events"][0],
        json!({"action": "resolved", "reason": "fixed in abc123", "by_user_id": member_id, "environment": "staging", "at": v["events"][0]["at"]})
    );
    let v = ctx
        .ok(
            true,
            json!({"action": "detail", "fingerprint": type_fp, "environment": "production"}),
        )
        .await;
    assert_eq!(v["group"]["status"], "unresolved");
    let v = ctx.ok(false, json!({"action": "list"})).await;
    assert_eq!(groups(&v).len(), 2);
    assert_eq!(
        (
            v["counts_by_status"]["resolved"].as_i64(),
            v["total_unresolved"].as_i64()
        ),
        (Some(1), Some(2))
    );
    post(
        &ingest,
        &node_pair(
            Utc::now(),
            -20,
            "staging",
            "s1",
            Some("s-gina"),
            "strace-9",
            9,
        ),
    );
    let v = ctx
        .wait(
            false,
            json!({"action": "detail", "fingerprint": type_fp}),
            |v| v["group"]["occurrences"] == 5,
        )
        .await;
    assert_eq!(v["group"]["status"], "unresolved");
    assert_eq!(
        (
            v["group"]["reopened_count"].as_i64(),
            v["group"]["unique_users"].as_i64()
        ),
        (Some(1), Some(3))
    );
    let ev = &v["events"];
    assert_eq!(col(ev, "action"), json!(["reopened", "resolved"]));
    assert_eq!(col(ev, "reason"), json!(["recurred", "fixed in abc123"]));
    assert_eq!(col(ev, "automatic"), json!([true, null]));
    assert_eq!(col(ev, "by_user_id"), json!([null, member_id]));

    // ignore: occurrences still counted, never reopened; then reopen by hand.
    let v = ctx
        .ok(
            false,
            json!({"action": "ignore", "fingerprint": key_fp, "reason": "known flaky"}),
        )
        .await;
    assert_eq!(col(&v["groups"], "status"), json!(["ignored"]));
    let v = ctx.ok(false, json!({"action": "list"})).await;
    assert!(
        groups(&v)
            .iter()
            .all(|g| g["fingerprint"] != key_fp.as_str())
    );
    let v = ctx
        .ok(false, json!({"action": "list", "status": "ignored"}))
        .await;
    assert_eq!(col(&v["groups"], "fingerprint"), json!([key_fp]));
    post(&ingest, &ruby_standalone(Utc::now(), -20, "skey-2", 2));
    let v = ctx
        .wait(
            false,
            json!({"action": "detail", "fingerprint": key_fp}),
            |v| v["group"]["occurrences"] == 3,
        )
        .await;
    assert_eq!(v["group"]["status"], "ignored");
    assert_eq!(col(&v["events"], "action"), json!(["ignored"]));
    let v = ctx
        .ok(
            false,
            json!({"action": "reopen", "fingerprint": key_fp, "reason": "track again"}),
        )
        .await;
    assert_eq!(
        pairs(&v["groups"], "status", "reopened_count"),
        json!([["unresolved", 1]])
    );
    assert_eq!(
        pairs(&v["events"], "action", "reason"),
        json!([["reopened", "track again"]])
    );
    assert_eq!(v["events"][0]["by_user_id"], member_id);
    let v = ctx
        .ok(false, json!({"action": "detail", "fingerprint": key_fp}))
        .await;
    assert_eq!(col(&v["events"], "action"), json!(["reopened", "ignored"]));

    // Admin resolves the production group only; the member's staging group stays open.
    let v = ctx
        .ok(true, json!({"action": "resolve", "fingerprint": type_fp, "environment": "production", "reason": "fixed in def456"}))
        .await;
    assert_eq!(
        pairs(&v["groups"], "environment", "status"),
        json!([["production", "resolved"]])
    );
    let v = ctx
        .ok(false, json!({"action": "detail", "fingerprint": type_fp}))
        .await;
    assert_eq!(v["group"]["status"], "unresolved");
    assert_eq!(col(&v["events"], "action"), json!(["reopened", "resolved"]));

    // A pathological occurrence: 300 long frames, 8 causes, long messages, in a trace of 61
    // rows with long messages. investigate stays under the budget and says what it left out.
    let dir = "d".repeat(180);
    let frames: Vec<String> = (0..300)
        .map(|i| format!("app/{dir}/f{i}.rb:{i}:in `m{i}'"))
        .collect();
    let causes: Vec<Value> = (0..8)
        .map(|i| json!({"class": format!("Cause{i}"), "message": "m".repeat(400), "backtrace": frames[..50]}))
        .collect();
    let t = Utc::now();
    let mut rows: Vec<Value> = (0..60)
        .map(|i| {
            json!({"ts": ts(t, 1000 - i * 10), "level": "info", "service": "checkout-api",
                "env": "staging", "message": format!("step {i} {}", "w".repeat(600)), "trace_id": "sbig"})
        })
        .collect();
    rows.push(json!({"ts": ts(t, 400), "level": "error", "service": "checkout-api",
        "env": "staging", "message": "x".repeat(3000), "trace_id": "sbig", "error_class": "BigError",
        "body": {"exception": {"class": "BigError", "message": "y".repeat(3000), "backtrace": frames, "causes": causes}}}));
    post(&ingest, &rows);
    let v = ctx
        .wait(
            false,
            json!({"action": "investigate", "trace_id": "sbig"}),
            |v| v["error_group"].is_object(),
        )
        .await;
    assert!(
        v.get("truncated").is_none(),
        "the caps alone keep it in budget"
    );
    let e = &v["exception"];
    assert_eq!(e["class"], "BigError");
    assert_eq!(e["frames_total"], 300);
    let shown = e["backtrace"].as_array().unwrap().len();
    assert!(shown > 0 && e["frames_omitted"] == 300 - shown, "{e}");
    assert_eq!(e["backtrace"][0]["file"], format!("app/{dir}/f0.rb"));
    assert_eq!(e["causes"].as_array().unwrap().len(), 5);
    assert_eq!(e["causes_omitted"], 3);
    assert!(v["trace_note"].as_str().unwrap().contains("61"));
    assert!(v["trace_timeline"].as_array().unwrap().len() <= 30);

    let largest = ctx.sizes.iter().max_by_key(|(_, n)| *n).unwrap();
    println!(
        "largest errors response: {} bytes ({})",
        largest.1, largest.0
    );
    ctx.admin.cancel().await.ok();
    ctx.member.cancel().await.ok();
    drop::<Ingestd>(ingest);
}
