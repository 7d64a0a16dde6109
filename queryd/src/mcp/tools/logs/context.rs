//! `logs context`: one row in full and its neighbours by time (optionally of the same
//! service). A `log_id` outside the caller's environments is "not found", exactly like one
//! that does not exist.

use opentrace_shared::Seq;
use serde_json::{Value, json};

use super::rows::{Cuts, row_full_json, row_json};
use super::scoped_filter;
use crate::mcp::args::bounded;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolError, ToolOutput, ToolResult};
use crate::mcp::tools::{opt_bool, opt_i64};
use crate::query::{around, get_by_seq};

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let id = match opt_i64(call.args, "log_id")? {
        Some(id) if id >= 0 => id as u64,
        Some(_) => {
            return Err(ToolError::InvalidArguments(String::from(
                "`log_id` must be a non-negative integer from logs search",
            )));
        }
        None => {
            return Err(ToolError::InvalidArguments(String::from(
                "missing `log_id`: take it from the log_id of a logs search row",
            )));
        }
    };
    let before = bounded(call.args, "before", 10, 0, 50)? as usize;
    let after = bounded(call.args, "after", 10, 0, 50)? as usize;
    let same_service = opt_bool(call.args, "same_service")?.unwrap_or(false);
    let (mut filter, scope) = scoped_filter(call, None)?;
    let snap = call.catalog.snapshot();
    let not_found = || {
        ToolError::NotFound(format!(
            "log_id {id} not found in your environments ({}); take ids from logs search (they may have been removed by retention)",
            scope.describe()
        ))
    };
    let anchor = get_by_seq(&snap, &filter, Seq(id)).ok_or_else(not_found)?;
    if same_service {
        filter.service = Some(anchor.service.clone());
    }
    let ctx = around(&snap, Seq(id), before, after, &filter).ok_or_else(not_found)?;
    let mut cuts = Cuts::default();
    let b: Vec<Value> = ctx.before.iter().map(|r| row_json(r, &mut cuts)).collect();
    let a: Vec<Value> = ctx.after.iter().map(|r| row_json(r, &mut cuts)).collect();
    let mut body = json!({
        "environment": scope.describe(),
        "log_id": id,
        "same_service": same_service,
        "anchor": row_full_json(&ctx.anchor),
        "before_count": b.len(),
        "after_count": a.len(),
        "before": b,
        "after": a,
    });
    if let Some(n) = cuts.note() {
        body["note"] = n;
    }
    let mut out = ToolOutput::new(body);
    if let Some(t) = &ctx.anchor.trace_id {
        out = out.suggest(
            "logs",
            json!({"action": "trace", "trace_id": t}),
            "the whole request this row belongs to",
        );
    }
    if let Some(fp) = &ctx.anchor.error_fingerprint {
        out = out.suggest(
            "logs",
            json!({"action": "search", "error_fingerprint": fp, "since": "24h"}),
            "other occurrences of this error",
        );
    }
    Ok(out)
}
