//! `overview settings`: a read-only view of the server settings (`settings.json`: retention,
//! PII rules, and any other key) and URLs. For members, values under secret-looking keys
//! (`*key`, `*secret`, `*token`, `*password`, `*dsn`, `*webhook*`, `*credentials`) are
//! replaced by `"[redacted]"`; admins see everything.

use serde_json::{Map, Value, json};

use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::tools::platform_error;

const REDACTED: &str = "[redacted]";

/// Whether a settings key names a secret.
fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "key"
        || k.contains("webhook")
        || [
            "_key",
            "apikey",
            "secret",
            "token",
            "password",
            "dsn",
            "credentials",
        ]
        .iter()
        .any(|s| k.ends_with(s))
}

/// `v` with every value under a secret-looking key replaced, at any depth.
fn redact(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = if is_secret(k) {
                        json!(REDACTED)
                    } else {
                        redact(x)
                    };
                    (k.clone(), x)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        other => other.clone(),
    }
}

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let doc = call.platform.settings().map_err(platform_error)?;
    let admin = call.caller.is_admin();
    let settings = if admin { doc } else { redact(&doc) };
    let mut body = json!({
        "settings": settings,
        "server": {
            "public_url": call.public_url,
            "mcp_url": format!("{}/mcp", call.public_url),
            "ingest_url": call.ingest_url,
        },
        "read_only": "admins change retention with the admin tool (update_retention); settings.json is applied by ingestd within seconds",
    });
    if !admin {
        body["redaction"] = json!("values of secret-looking keys are hidden from members");
    }
    let mut out = ToolOutput::new(body);
    if admin {
        out = out.suggest(
            "admin",
            json!({"action": "update_retention", "retention_days": 30}),
            "change how long logs are kept",
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let doc = json!({
            "retention_days": 7,
            "pii": {"enabled": true, "extra_keys": ["ssn"], "extra_patterns": []},
            "alerts": {"slack_webhook_url": "https://hooks/x", "api_key": "k", "nested": [{"token": "t"}]},
            "smtp_password": "p"
        });
        let r = redact(&doc);
        assert_eq!(r["retention_days"], 7);
        assert_eq!(r["pii"]["extra_keys"], json!(["ssn"]));
        assert_eq!(r["alerts"]["slack_webhook_url"], REDACTED);
        assert_eq!(r["alerts"]["api_key"], REDACTED);
        assert_eq!(r["alerts"]["nested"][0]["token"], REDACTED);
        assert_eq!(r["smtp_password"], REDACTED);
    }
}
