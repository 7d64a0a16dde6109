//! End to end over both real binaries: the `setup` tool guides an application to the real
//! `opentrace-ingestd` (queryd started with `--ingest-url` pointing at it). Checks that the
//! guide uses the SDKs' real option names and the ingest URL, that the API key is shown to
//! admins only, that the key and URL of the guide really ingest, that verify reports the
//! services sending, and that a member limited to staging sees only staging.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::ingestd::{API_KEY, post, post_with_key, start_ingestd, ts};
use common::{Server, call_sized, mcp_client};
use serde_json::{Value, json};

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// Calls `setup`, asserting success and the response budget.
async fn setup(client: &Client, args: Value) -> Value {
    let (err, v, len) = call_sized(client, "setup", args.clone()).await;
    assert!(!err, "setup {args} failed: {v}");
    assert!(len < 28_000, "setup {args}: {len} bytes");
    v
}

/// Every configuration snippet of a guide, concatenated.
fn code(guide: &Value) -> String {
    guide["steps"][2]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_tool_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("ingest.key"),
        format!("# ingest key\n\n{API_KEY}\n"),
    )
    .unwrap();
    let ingest = start_ingestd(data.path());
    let ingest_url = format!("http://{}", ingest.addr);
    let server = Server::start_in(data, &["--ingest-url", &format!("{ingest_url}/")]);
    let admin_token = server.create_user("admin@example.com", "admin", "");
    let member_token = server.create_user("member@example.com", "member", "staging");
    let url = format!("{}/mcp", server.url);
    let admin = mcp_client(&url, &admin_token).await;
    let member = mcp_client(&url, &member_token).await;

    // Before any data.
    let v = setup(&admin, json!({"action": "status"})).await;
    assert_eq!(v["users"], 2);
    assert_eq!(v["logs_last_hour"], 0);
    assert_eq!(v["data_flowing"], false);
    assert!(v["message"].as_str().unwrap().starts_with("no data yet"));
    let v = setup(&admin, json!({"action": "verify"})).await;
    assert_eq!(v["status"], "no_data");
    let checklist = v["checklist"].to_string();
    assert!(
        checklist.contains(&format!("{ingest_url}/api/version")),
        "{checklist}"
    );
    assert!(checklist.contains("api_key") && checklist.contains("apiKey"));

    // detect.
    let v = setup(&admin, json!({"action": "detect", "files": ["Gemfile", "config.ru", "package.json"], "gemfile": "source \"https://rubygems.org\"\ngem \"rails\", \"~> 7.1\"\n"})).await;
    assert_eq!(v["framework"], "rails");
    assert_eq!(v["confidence"], "high");
    assert_eq!(v["sdk"]["install"], "bundle add opentrace");
    assert_eq!(v["also_found"][0]["framework"], "node");
    let v = setup(&admin, json!({"action": "detect", "files": "package.json,README.md", "package_json": "{\"dependencies\": {\"express\": \"^4.19.0\"}}"})).await;
    assert_eq!(v["framework"], "express");
    assert_eq!(v["sdk"]["install"], "npm install @opentrace-sdk/node");
    assert_eq!(
        v["suggested_tools"][0]["args"],
        json!({"action": "guide", "framework": "express"})
    );
    let v = setup(&admin, json!({"action": "detect", "files": ["README.md"]})).await;
    assert_eq!(v["framework"], Value::Null);
    assert_eq!(v["confidence"], "none");

    // guide for Rails: the gem's real options, the ingest URL, the key (admins only).
    let g = setup(
        &admin,
        json!({"action": "guide", "framework": "rails", "service": "shop"}),
    )
    .await;
    assert_eq!(g["ingest_url"], ingest_url.as_str());
    let rb = code(&g);
    for opt in [
        "c.endpoint    = ",
        "c.api_key     = ENV[\"OPENTRACE_API_KEY\"]",
        "c.service     = \"shop\"",
        "c.environment = Rails.env",
    ] {
        assert!(rb.contains(opt), "missing {opt:?} in {rb}");
    }
    assert!(rb.contains(&format!("\"{ingest_url}\"")), "{rb}");
    assert!(!rb.contains("server_url") && !rb.contains("OPENTRACE_URL"));
    assert_eq!(g["steps"][0]["command"], "bundle add opentrace");
    assert_eq!(
        g["steps"][2]["files"][0]["file"],
        "config/initializers/opentrace.rb"
    );
    let env_line = g["steps"][1]["env"].as_str().unwrap().to_string();
    assert_eq!(env_line, format!("OPENTRACE_API_KEY={API_KEY}"));
    assert_eq!(g["options"]["api_key_option"], "api_key");

    let m = setup(
        &member,
        json!({"action": "guide", "framework": "rails", "service": "shop"}),
    )
    .await;
    assert!(!m.to_string().contains(API_KEY), "member saw the key: {m}");
    assert!(
        m["steps"][1]["env"]
            .as_str()
            .unwrap()
            .contains("ask an OpenTrace admin")
    );
    assert!(code(&m).contains(&format!("\"{ingest_url}\"")));

    // guide for the Node frameworks.
    for (fw, line) in [
        ("express", "app.use(OpenTrace.middleware.express());"),
        ("fastify", "app.register(OpenTrace.middleware.fastify());"),
        ("hono", "app.use('*', OpenTrace.middleware.hono());"),
        ("node", "OpenTrace.init({"),
    ] {
        let g = setup(
            &admin,
            json!({"action": "guide", "framework": fw, "environment": "staging"}),
        )
        .await;
        let js = code(&g);
        for opt in [
            format!("endpoint: '{ingest_url}'"),
            "apiKey: process.env.OPENTRACE_API_KEY".to_string(),
            "service: 'my-app'".to_string(),
            "environment: 'staging'".to_string(),
            line.to_string(),
            "import OpenTrace from '@opentrace-sdk/node';".to_string(),
        ] {
            assert!(js.contains(&opt), "{fw}: missing {opt:?} in {js}");
        }
        assert_eq!(g["steps"][0]["command"], "npm install @opentrace-sdk/node");
        assert_eq!(g["options"]["api_key_option"], "apiKey");
        let m = setup(&member, json!({"action": "guide", "framework": fw})).await;
        assert!(!m.to_string().contains(API_KEY), "member saw the key: {m}");
    }
    let g = setup(&admin, json!({"action": "guide", "framework": "ruby"})).await;
    let rb = code(&g);
    assert!(rb.starts_with("require \"opentrace\""));
    assert!(rb.contains("c.environment = ENV.fetch(\"RACK_ENV\", \"development\")"));
    let (err, v, _) = call_sized(
        &admin,
        "setup",
        json!({"action": "guide", "framework": "django"}),
    )
    .await;
    assert!(
        err && v["message"]
            .as_str()
            .unwrap()
            .contains("rails, ruby, node, express, fastify, hono")
    );

    // What the guide says really ingests: its key, at its URL (asserted above to be ingestd's).
    let key = env_line.strip_prefix("OPENTRACE_API_KEY=").unwrap();
    let now = Utc::now();
    let row = json!({"ts": ts(now, 1000), "level": "info", "service": "billing-prodsvc", "env": "production", "message": "hello from the guide"});
    post_with_key(&ingest, key, &[row]);
    post(
        &ingest,
        &[
            json!({"ts": ts(now, 500), "level": "info", "service": "billing-prodsvc", "env": "production", "message": "second"}),
            json!({"ts": ts(now, 900), "level": "info", "service": "stg-worker", "env": "staging", "message": "a"}),
            json!({"ts": ts(now, 800), "level": "warn", "service": "stg-worker", "env": "staging", "message": "b"}),
            json!({"ts": ts(now, 700), "level": "error", "service": "stg-worker", "env": "staging", "message": "c"}),
        ],
    );

    // verify: which services send, per environment.
    let deadline = Instant::now() + Duration::from_secs(15);
    let v = loop {
        let v = setup(&admin, json!({"action": "verify"})).await;
        if v["rows_in_window"] == 5 {
            break v;
        }
        assert!(Instant::now() < deadline, "rows not visible: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(v["status"], "receiving_data");
    assert_eq!(v["rows_last_hour"], 5);
    let mut sources: Vec<(String, String, u64)> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().into(),
                s["environment"].as_str().unwrap().into(),
                s["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    sources.sort();
    assert_eq!(
        sources,
        vec![
            ("billing-prodsvc".into(), "production".into(), 2),
            ("stg-worker".into(), "staging".into(), 3),
        ]
    );
    assert_eq!(v["last_row"]["service"], "billing-prodsvc");
    assert!(v.get("checklist").is_none());
    let v = setup(&admin, json!({"action": "status"})).await;
    assert_eq!(v["logs_last_hour"], 5);
    assert_eq!(v["logs_last_24h"], 5);
    assert_eq!(v["data_flowing"], true);

    // The member limited to staging sees only staging.
    for action in ["verify", "status"] {
        let v = setup(&member, json!({"action": action})).await;
        let s = v.to_string();
        assert!(
            !s.contains("production") && !s.contains("billing-prodsvc"),
            "{action}: {v}"
        );
        assert_eq!(v["environment"], "staging");
    }
    let v = setup(&member, json!({"action": "verify"})).await;
    assert_eq!(v["rows_in_window"], 3);
    assert_eq!(
        v["sources"],
        json!([{"service": "stg-worker", "environment": "staging", "rows": 3, "last_row": v["sources"][0]["last_row"]}])
    );
    assert_eq!(v["last_row"]["service"], "stg-worker");
    let v = setup(&member, json!({"action": "status"})).await;
    assert_eq!(v["logs_last_hour"], 3);
    let (err, v, _) = call_sized(
        &member,
        "setup",
        json!({"action": "verify", "environment": "production"}),
    )
    .await;
    assert!(err, "{v}");
    // An old window: data is stale there.
    let v = setup(
        &admin,
        json!({"action": "verify", "since": "3h", "until": "2h"}),
    )
    .await;
    assert_eq!(v["status"], "data_stale");
    assert!(v["checklist"].as_array().unwrap().len() >= 5);
}
