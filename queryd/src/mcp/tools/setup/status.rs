//! `setup status`: is OpenTrace in use at all: accounts, rows in the last hour and the last
//! 24 h in the caller's environments, the newest row, and what to do next.

use serde_json::json;

use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::overview::measure::counts;
use crate::mcp::tools::platform_error;
use crate::query::{Filter, newest};

const HOUR_US: i64 = 3_600_000_000;

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let scope = EnvScope::for_call(call)?;
    let users = call.platform.list_users().map_err(platform_error)?;
    let snap = call.catalog.snapshot();
    let all = Filter::new(scope.restriction());
    let since = |hours: i64| {
        let mut f = all.clone();
        f.ts_from = Some(now - hours * HOUR_US);
        f.ts_to = Some(now + 1_000_000);
        counts(&snap, &f).rows
    };
    let (hour, day) = (since(1), since(24));
    let newest = newest(&snap, &all);
    let flowing = hour > 0;
    let message = if flowing {
        format!("data is flowing: {hour} rows in the last hour")
    } else if day > 0 {
        format!(
            "no rows in the last hour but {day} in the last 24 h: check that the application is running and its SDK is configured (setup verify)"
        )
    } else if newest.is_some() {
        String::from(
            "no rows in the last 24 h: the application stopped sending; run setup verify for a checklist",
        )
    } else {
        String::from(
            "no data yet: run setup detect with the project's root files, then setup guide for the configuration",
        )
    };
    let mut body = json!({
        "environment": scope.describe(),
        "users": users.len(),
        "logs_last_hour": hour,
        "logs_last_24h": day,
        "data_flowing": flowing,
        "message": message,
        "ingest_url": call.ingest_url,
    });
    if let Some(r) = &newest {
        body["last_row"] = super::last_row_json(r);
    }
    let out = ToolOutput::new(body);
    Ok(if flowing {
        out.suggest(
            "overview",
            json!({"action": "status"}),
            "what the data says",
        )
    } else {
        out.suggest(
            "setup",
            json!({"action": "detect", "files": ["Gemfile", "package.json"]}),
            "find the framework (pass the project's real root file names)",
        )
    })
}
