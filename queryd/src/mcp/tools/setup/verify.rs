//! `setup verify`: are rows arriving now? Rows in the window (default the last 5 minutes)
//! and in the last hour, per service and environment, and the newest row, all within the
//! caller's environments. When nothing arrives in the window, a checklist of what to check.

use opentrace_shared::{Col, Value as CellValue};
use serde_json::{Value, json};

use crate::mcp::args::{Window, fmt_ts};
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::scope::EnvScope;
use crate::mcp::tools::overview::measure::counts;
use crate::query::{AggMode, AggSpec, Filter, GroupKey, Metric, MetricValue, aggregate, newest};

const HOUR_US: i64 = 3_600_000_000;
/// Service/environment pairs listed.
const SOURCES: usize = 20;

/// What to check when no rows arrive, with this server's ingest URL.
fn checklist(ingest_url: &str) -> Vec<String> {
    vec![
        format!(
            "endpoint: the SDK's `endpoint` must be the base URL {ingest_url} (no path: Ruby appends /api/logs, Node /api/v2/logs)"
        ),
        format!(
            "reachability: from the application host, `curl -s {ingest_url}/api/version` must answer JSON with api_version 2 (a timeout means a firewall, DNS or proxy problem)"
        ),
        String::from(
            "API key: `api_key` (Ruby) / `apiKey` (Node) must be the ingest key; after a 401 the SDK stops sending until the process restarts",
        ),
        String::from(
            "required options: without endpoint, api key or service the SDK disables itself silently",
        ),
        String::from(
            "flush: SDKs send in batches every 5 s (Ruby flush_interval, Node flushInterval); a short script must call OpenTrace.shutdown() before exiting",
        ),
        String::from(
            "environment: rows of an environment your account may not see are not counted here; compare with the SDK's `environment` option",
        ),
    ]
}

pub(super) fn run(call: &ToolCall<'_>, now: i64) -> ToolResult {
    let window = Window::for_call(call, "5m", now)?;
    let scope = EnvScope::for_call(call)?;
    let snap = call.catalog.snapshot();
    let all = Filter::new(scope.restriction());
    let mut f = all.clone();
    f.ts_from = Some(window.from_us);
    f.ts_to = Some(window.to_us);
    let mut hour_f = all.clone();
    hour_f.ts_from = Some(now - HOUR_US);
    hour_f.ts_to = Some(now + 1_000_000);
    let in_window = counts(&snap, &f).rows;
    let last_hour = counts(&snap, &hour_f).rows;
    let newest = newest(&snap, &all);

    let by_source = aggregate(
        &snap,
        &f,
        &AggSpec {
            group_by: vec![GroupKey::Column(Col::Service), GroupKey::Column(Col::Env)],
            metrics: vec![Metric::Count, Metric::Max(Col::Ts)],
            limit_groups: SOURCES,
        },
        AggMode::Auto,
    );
    let sources: Vec<Value> = by_source
        .groups
        .iter()
        .map(|g| {
            let text = |v: Option<&CellValue>| match v {
                Some(CellValue::Str(s)) => json!(s),
                _ => Value::Null,
            };
            let last = match g.metrics.get(1) {
                Some(MetricValue::Int(Some(t))) => json!(fmt_ts(*t)),
                _ => Value::Null,
            };
            json!({"service": text(g.key.first()), "environment": text(g.key.get(1)), "rows": g.count, "last_row": last})
        })
        .collect();

    let status = if in_window > 0 {
        "receiving_data"
    } else if newest.is_some() {
        "data_stale"
    } else {
        "no_data"
    };
    let mut body = json!({
        "status": status,
        "window": window.echo(),
        "environment": scope.describe(),
        "rows_in_window": in_window,
        "rows_last_hour": last_hour,
        "sources": sources,
        "ingest_url": call.ingest_url,
    });
    if let Some(r) = &newest {
        body["last_row"] = super::last_row_json(r);
    }
    if by_source.other_groups > 0 {
        body["sources_note"] = json!(format!(
            "{SOURCES} busiest service/environment pairs shown; {} more",
            by_source.other_groups
        ));
    }
    let out = if in_window > 0 {
        body["message"] = json!(format!(
            "receiving data: {in_window} rows from {} service/environment pair(s)",
            sources.len() as u64 + by_source.other_groups
        ));
        ToolOutput::new(body).suggest(
            "overview",
            json!({"action": "status"}),
            "what the data says",
        )
    } else {
        body["message"] = json!(match status {
            "data_stale" => "rows arrived before, but none in this window",
            _ => "no rows at all in your environments",
        });
        body["checklist"] = json!(checklist(call.ingest_url));
        ToolOutput::new(body).suggest(
            "setup",
            json!({"action": "guide", "framework": "rails"}),
            "the configuration to compare with (pass your framework)",
        )
    };
    Ok(out)
}
