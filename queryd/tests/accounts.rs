//! Accounts, invites, tokens, roles and the /mcp guard, over the real binary on loopback.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::{Value, json};

const PW: &str = "correct-horse-battery";

fn init_body() -> Value {
    serde_json::from_str(INIT).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn invites_roles_tokens_and_guard() {
    let server = Server::start(&[]);
    let admin = server.connect("admin@example.com", PW, None);
    assert_eq!(admin.status, 201, "{}", admin.body);
    assert_eq!(admin.json()["role"], "admin");
    let admin_token = admin.json()["token"].as_str().unwrap().to_string();

    // A second account without an invite is refused (generic message, no enumeration).
    let r = server.connect("member@example.com", PW, None);
    assert_eq!(r.status, 401);
    let generic = r.json()["error"].clone();
    // ...and so is a wrong password for an existing account, with the same message.
    let r = server.connect("admin@example.com", "wrong-password-1", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], generic);

    // With an invite (created by the operator CLI) it works, once.
    let code = server.cli(&["invite", "create", "--env", "production,staging"]);
    assert!(code.starts_with("oti_"));
    let r = server.connect("member@example.com", PW, Some(&code));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["role"], "member");
    assert_eq!(r.json()["environments"], json!(["production", "staging"]));
    let member_token = r.json()["token"].as_str().unwrap().to_string();
    let r = server.connect("other@example.com", PW, Some(&code));
    assert_eq!(r.status, 401, "invite reuse must fail");

    // Expired invites are refused.
    let expired = server.cli(&["invite", "create", "--expires", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let r = server.connect("late@example.com", PW, Some(&expired));
    assert_eq!(r.status, 401, "expired invite must fail");

    // Member: no admin tool in tools/list, and calling it is refused.
    let url = format!("{}/mcp", server.url);
    let member = mcp_client(&url, &member_token).await;
    let tools = member.list_all_tools().await.unwrap();
    assert!(tools.iter().all(|t| t.name != "admin"), "{tools:?}");
    let (is_err, body) = call(&member, "admin", json!({"action": "users"})).await;
    assert!(is_err);
    assert_eq!(body["error"], "not_found");

    // Admin: invite through the tool, audit shows changes, bad arguments explain the fix.
    let admin_client = mcp_client(&url, &admin_token).await;
    let (is_err, inv) = call(
        &admin_client,
        "admin",
        json!({"action": "invite", "environments": ["production"], "expires": "2d"}),
    )
    .await;
    assert!(!is_err, "{inv}");
    assert!(
        inv["connect_command"]
            .as_str()
            .unwrap()
            .contains("/connect?invite=oti_")
    );
    let (is_err, e) = call(&admin_client, "admin", json!({"action": "update_role"})).await;
    assert!(is_err);
    assert!(e["message"].as_str().unwrap().contains("user_id"));
    let (is_err, e) = call(&admin_client, "admin", json!({"action": "nope"})).await;
    assert!(is_err && e["message"].as_str().unwrap().contains("users"));
    let member_id = account_id(&admin_client, "member@example.com").await;
    let (is_err, _) = call(
        &admin_client,
        "admin",
        json!({"action": "update_role", "user_id": member_id, "role": "member"}),
    )
    .await;
    assert!(!is_err);
    let (_, audit) = call(
        &admin_client,
        "admin",
        json!({"action": "audit", "limit": 2}),
    )
    .await;
    assert_eq!(audit["entries"].as_array().unwrap().len(), 2);
    assert_eq!(audit["entries"][0]["action"], "user.role_updated");
    let cursor = audit["next_cursor"].as_str().unwrap().to_string();
    let (_, older) = call(
        &admin_client,
        "admin",
        json!({"action": "audit", "limit": 2, "cursor": cursor}),
    )
    .await;
    assert_eq!(older["entries"][0]["action"], "invite.created");

    // Settings write-through: retention lands in settings.json atomically.
    let (is_err, r) = call(
        &admin_client,
        "admin",
        json!({"action": "update_retention", "retention_days": 30}),
    )
    .await;
    assert!(!is_err, "{r}");
    let settings: Value = serde_json::from_str(
        &std::fs::read_to_string(server.data_dir().join("settings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(settings["retention_days"], 30);
    assert_eq!(settings["pii"]["enabled"], true);
    assert!(!server.data_dir().join("settings.json.tmp").exists());
    let (is_err, _) = call(
        &admin_client,
        "admin",
        json!({"action": "update_retention", "retention_days": 0}),
    )
    .await;
    assert!(is_err, "retention 0 must be refused");

    // Guard: no token, bad token, foreign Origin, foreign Host.
    let r = server.post_json("/mcp", &[], &init_body());
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let bad = format!("Bearer otq_{}", "0".repeat(64));
    let r = server.post_json("/mcp", &[("Authorization", &bad)], &init_body());
    assert_eq!(r.status, 401);
    let auth = format!("Bearer {admin_token}");
    let r = server.post_json(
        "/mcp",
        &[("Authorization", &auth), ("Origin", "https://evil.example")],
        &init_body(),
    );
    assert_eq!(r.status, 403);
    let r = server.post_json(
        "/mcp",
        &[("Authorization", &auth), ("Host", "evil.example")],
        &init_body(),
    );
    assert_eq!(r.status, 403);
    let r = server.post_json(
        "/mcp",
        &[("Authorization", &auth), ("Origin", &server.url)],
        &init_body(),
    );
    assert_eq!(r.status, 200);

    // A session is bound to its creator: the member cannot use the admin's session.
    let sid = r.header("mcp-session-id").unwrap().to_string();
    let member_auth = format!("Bearer {member_token}");
    let r = server.post_json(
        "/mcp",
        &[
            ("Authorization", &member_auth),
            ("Mcp-Session-Id", &sid),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // Disabled account → 403; revoked token → 401.
    let (is_err, _) = call(
        &admin_client,
        "admin",
        json!({"action": "toggle_active", "user_id": member_id, "active": false}),
    )
    .await;
    assert!(!is_err);
    let r = server.post_json("/mcp", &[("Authorization", &member_auth)], &init_body());
    assert_eq!(r.status, 403);
    let (_, toks) = call(
        &admin_client,
        "admin",
        json!({"action": "tokens", "user_id": member_id}),
    )
    .await;
    let token_id = toks["tokens"][0]["id"].clone();
    assert!(
        !toks.to_string().contains(&member_token),
        "token lists show metadata only"
    );
    let (is_err, _) = call(
        &admin_client,
        "admin",
        json!({"action": "toggle_active", "user_id": member_id, "active": true}),
    )
    .await;
    assert!(!is_err);
    let r = server.post_json("/mcp", &[("Authorization", &member_auth)], &init_body());
    assert_eq!(r.status, 200);
    let (is_err, _) = call(
        &admin_client,
        "admin",
        json!({"action": "revoke_token", "user_id": member_id, "token_id": token_id}),
    )
    .await;
    assert!(!is_err);
    let r = server.post_json("/mcp", &[("Authorization", &member_auth)], &init_body());
    assert_eq!(r.status, 401);

    // Tokens are stored hashed: no plaintext in the database files.
    member.cancel().await.unwrap();
    admin_client.cancel().await.unwrap();
    let mut bytes = Vec::new();
    for name in ["platform.db", "platform.db-wal"] {
        if let Ok(b) = std::fs::read(server.data_dir().join(name)) {
            bytes.extend(b);
        }
    }
    let hay = String::from_utf8_lossy(&bytes);
    assert!(!hay.contains(&admin_token) && !hay.contains(&member_token));
    assert!(!hay.contains(&code), "invite codes are stored hashed too");
    let admin_hash = opentrace_queryd::platform::tokens::hash_secret(&admin_token);
    assert!(hay.contains(&admin_hash), "the hash is what is stored");

    // Metrics count tool calls.
    let m = server.get("/metrics", &[]);
    assert!(
        m.body
            .contains("opentrace_mcp_tool_calls_total{tool=\"admin\",status=\"ok\"}")
    );
}

#[test]
fn settings_keep_unknown_keys() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("settings.json"),
        r#"{"sampling": {"rate": 0.5}, "retention_days": 7}"#,
    )
    .unwrap();
    let server = Server::start_in(data, &[]);
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(server.data_dir().join("settings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["sampling"]["rate"], 0.5);
    assert_eq!(v["retention_days"], 7);
    assert_eq!(v["pii"]["extra_keys"], json!([]));
}

#[test]
fn eleventh_auth_attempt_in_a_minute_is_429() {
    let server = Server::start(&[]);
    for i in 0..10 {
        let r = server.connect("x@example.com", "short", None);
        assert_eq!(r.status, 400, "attempt {i}");
    }
    let r = server.connect("x@example.com", "short", None);
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
}

#[test]
fn concurrent_first_connects_create_exactly_one_admin() {
    let server = Arc::new(Server::start(&[]));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = server.clone();
            std::thread::spawn(move || s.connect(&format!("u{i}@example.com"), PW, None).status)
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        7,
        "{statuses:?}"
    );
}
