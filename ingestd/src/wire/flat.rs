//! The flat v2 entry (both current SDKs) and its conversion into a [`Row`].
//!
//! One entry is deserialised into [`WireEntry`], whose fields are tolerant
//! ([`WStr`], [`WNum`], [`WBool`]) so that a wrong type is reported by field name instead of
//! failing the batch. `body` is kept as borrowed raw JSON: most rows never need it parsed.

use opentrace_shared::{Level, Row};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::lenient::{WBool, WNum, WStr};
use super::{Body, DecodeCtx, DecodedEntry, Dialect, legacy, timestamp};

/// One wire entry as sent by the SDKs. Unknown keys are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct WireEntry<'a> {
    pub ts: WStr,
    pub level: WStr,
    pub service: WStr,
    pub message: WStr,
    pub env: WStr,
    pub version: WStr,
    pub host: WStr,
    pub kind: WStr,
    pub event_type: WStr,
    pub trace_id: WStr,
    pub span_id: WStr,
    pub parent_span_id: WStr,
    pub request_id: WStr,
    pub user_id: WStr,
    pub tenant_id: WStr,
    pub session_id: WStr,
    pub method: WStr,
    pub path: WStr,
    pub route: WStr,
    pub handler: WStr,
    /// Ruby's name for `handler`.
    pub controller: WStr,
    /// Legacy Ruby action name, joined to the controller as `Controller#action`.
    pub action: WStr,
    pub status: WNum,
    pub duration_ms: WNum,
    pub db_ms: WNum,
    pub db_count: WNum,
    pub cache_ms: WNum,
    pub cache_hits: WNum,
    pub cache_misses: WNum,
    pub ext_ms: WNum,
    pub ext_count: WNum,
    pub render_ms: WNum,
    pub alloc_count: WNum,
    pub mem_delta_mb: WNum,
    pub n_plus_one: WBool,
    pub slow_queries: WNum,
    pub dup_queries: WNum,
    pub error_class: WStr,
    pub error_message: WStr,
    pub source_file: WStr,
    pub source_line: WNum,
    pub job_class: WStr,
    pub job_queue: WStr,
    pub job_id: WStr,
    pub queue_ms: WNum,
    #[serde(borrow)]
    pub body: Option<&'a RawValue>,
    // ---- legacy nested shape (`POST /api/logs` only) ----
    pub timestamp: WStr,
    pub environment: WStr,
    pub commit_hash: WStr,
    pub exception_class: WStr,
    pub exception_message: WStr,
    #[serde(borrow)]
    pub metadata: Option<&'a RawValue>,
    #[serde(borrow)]
    pub request_summary: Option<&'a RawValue>,
    #[serde(borrow)]
    pub backtrace: Option<&'a RawValue>,
}

/// Sets `dst` from `src` when `dst` is absent.
pub(crate) fn fill(dst: &mut WStr, src: &WStr) {
    if !dst.is_present() {
        *dst = src.clone();
    }
}

/// Sets `dst` from `src` when `dst` is absent.
pub(crate) fn fill_num(dst: &mut WNum, src: WNum) {
    if matches!(dst, WNum::Absent) {
        *dst = src;
    }
}

impl WireEntry<'_> {
    /// Copies the identity fields the Node after-429 wrapper carries at the top level into
    /// the unwrapped entry where it lacks them.
    fn inherit_identity(&mut self, outer: &WireEntry<'_>) {
        fill(&mut self.service, &outer.service);
        fill(&mut self.env, &outer.env);
        fill(&mut self.version, &outer.version);
        fill(&mut self.tenant_id, &outer.tenant_id);
        fill(&mut self.user_id, &outer.user_id);
        fill(&mut self.session_id, &outer.session_id);
        fill(&mut self.trace_id, &outer.trace_id);
        fill(&mut self.request_id, &outer.request_id);
    }
}

/// Decodes one raw entry of a batch (the two-pass path; [`super::stream`] is the one-pass
/// path, and both end in [`decode_wire`]).
pub fn decode_entry<'a>(
    raw: &'a RawValue,
    ctx: &DecodeCtx<'_>,
) -> Result<DecodedEntry<'a>, String> {
    decode_wire(parse_entry(raw)?, ctx)
}

/// Parses one raw entry into its wire fields.
pub fn parse_entry(raw: &RawValue) -> Result<WireEntry<'_>, String> {
    if !raw.get().starts_with('{') {
        return Err(super::stream::NOT_AN_OBJECT.to_string());
    }
    serde_json::from_str(raw.get()).map_err(|err| format!("entry is not a valid log entry: {err}"))
}

/// Turns an entry's wire fields into a row and its body: unwraps the Node SDK's after-429
/// wrapper, maps the legacy shape, checks required fields and converts types.
pub fn decode_wire<'a>(e: WireEntry<'a>, ctx: &DecodeCtx<'_>) -> Result<DecodedEntry<'a>, String> {
    let message_empty = match &e.message {
        WStr::Absent => true,
        WStr::Val(s) => s.is_empty(),
        WStr::Bad(_) => false,
    };
    if message_empty && let Some(inner_json) = e.body.and_then(wrapped_payload) {
        let mut inner: WireEntry<'_> = serde_json::from_str(&inner_json)
            .map_err(|err| format!("entry wraps an invalid log entry in body.context: {err}"))?;
        inner.inherit_identity(&e);
        let mut d = build(inner, ctx)?.into_owned();
        d.warnings
            .push("unwrapped an entry the Node SDK re-queued after a 429 (original row was in body.context)".into());
        return Ok(d);
    }
    build(e, ctx)
}

/// If `body.context` is itself a whole log entry (the Node SDK's after-429 wrapper), returns
/// it as JSON text.
fn wrapped_payload(body: &RawValue) -> Option<String> {
    if !body.get().contains("\"context\"") {
        return None;
    }
    let v: Value = serde_json::from_str(body.get()).ok()?;
    let ctx = v.get("context")?.as_object()?;
    let has_message = ctx
        .get("message")
        .and_then(Value::as_str)
        .is_some_and(|m| !m.is_empty());
    let has_level = ctx.get("level").and_then(Value::as_str).is_some();
    if has_message && has_level {
        serde_json::to_string(ctx).ok()
    } else {
        None
    }
}

/// Converts a (possibly legacy) wire entry into a row plus its body.
fn build<'a>(mut e: WireEntry<'a>, ctx: &DecodeCtx<'_>) -> Result<DecodedEntry<'a>, String> {
    let mut warnings = Vec::new();
    let mut body = match e.body {
        Some(raw) if raw.get() != "null" => Body::Raw(raw),
        _ => Body::None,
    };
    if ctx.dialect == Dialect::Legacy {
        legacy::apply(&mut e, &mut body)?;
    }

    let level_text = match std::mem::take(&mut e.level) {
        WStr::Val(s) => s,
        WStr::Absent => return Err("field `level` is required".to_string()),
        WStr::Bad(t) => return Err(format!("field `level` must be a string, got {t}")),
    };
    let level: Level = level_text
        .parse()
        .map_err(|err: opentrace_shared::row::InvalidLevel| err.to_string())?;
    let message = match std::mem::take(&mut e.message) {
        WStr::Val(s) => s,
        WStr::Absent => return Err("field `message` is required".to_string()),
        WStr::Bad(t) => return Err(format!("field `message` must be a string, got {t}")),
    };

    let ts = match std::mem::take(&mut e.ts) {
        WStr::Val(s) => match timestamp::parse(&s) {
            Some(t) => t,
            None => {
                warnings.push(format!(
                    "`ts` {s:?} is not an RFC 3339 timestamp; the receive time was used"
                ));
                ctx.received_at
            }
        },
        WStr::Absent => {
            warnings.push("`ts` is missing; the receive time was used".to_string());
            ctx.received_at
        }
        WStr::Bad(t) => {
            warnings.push(format!(
                "`ts` is {t}, not a timestamp; the receive time was used"
            ));
            ctx.received_at
        }
    };

    let handler = match e.handler.into_opt("handler")? {
        Some(h) => Some(h),
        None => match (
            e.controller.into_opt("controller")?,
            e.action.into_opt("action")?,
        ) {
            (Some(c), Some(a)) => Some(format!("{c}#{a}")),
            (Some(c), None) => Some(c),
            (None, _) => None,
        },
    };

    let row = Row {
        ts,
        received_at: ctx.received_at,
        level,
        service: e.service.into_opt("service")?.unwrap_or_default(),
        message,
        env: e
            .env
            .into_opt("env")?
            .unwrap_or_else(|| ctx.default_env.to_string()),
        version: e.version.into_opt("version")?,
        host: e.host.into_opt("host")?,
        kind: e.kind.into_opt("kind")?.unwrap_or_default(),
        event_type: e.event_type.into_opt("event_type")?,
        trace_id: e.trace_id.into_opt("trace_id")?,
        span_id: e.span_id.into_opt("span_id")?,
        parent_span_id: e.parent_span_id.into_opt("parent_span_id")?,
        request_id: e.request_id.into_opt("request_id")?,
        user_id: e.user_id.into_opt("user_id")?,
        tenant_id: e.tenant_id.into_opt("tenant_id")?,
        session_id: e.session_id.into_opt("session_id")?,
        method: e.method.into_opt("method")?,
        path: e.path.into_opt("path")?,
        route: e.route.into_opt("route")?,
        handler,
        status: e.status.into_int("status")?,
        duration_ms: e.duration_ms.into_int("duration_ms")?,
        db_ms: e.db_ms.into_int("db_ms")?,
        db_count: e.db_count.into_int("db_count")?,
        cache_ms: e.cache_ms.into_int("cache_ms")?,
        cache_hits: e.cache_hits.into_int("cache_hits")?,
        cache_misses: e.cache_misses.into_int("cache_misses")?,
        ext_ms: e.ext_ms.into_int("ext_ms")?,
        ext_count: e.ext_count.into_int("ext_count")?,
        render_ms: e.render_ms.into_int("render_ms")?,
        alloc_count: e.alloc_count.into_int("alloc_count")?,
        mem_delta_mb: e.mem_delta_mb.into_hundredths("mem_delta_mb")?,
        n_plus_one: e.n_plus_one.into_opt("n_plus_one")?,
        slow_queries: e.slow_queries.into_int("slow_queries")?,
        dup_queries: e.dup_queries.into_int("dup_queries")?,
        error_class: e.error_class.into_opt("error_class")?,
        error_message: e.error_message.into_opt("error_message")?,
        source_file: e.source_file.into_opt("source_file")?,
        source_line: e.source_line.into_int("source_line")?,
        job_class: e.job_class.into_opt("job_class")?,
        job_queue: e.job_queue.into_opt("job_queue")?,
        job_id: e.job_id.into_opt("job_id")?,
        queue_ms: e.queue_ms.into_int("queue_ms")?,
        ..Row::default()
    };
    Ok(DecodedEntry {
        row,
        body,
        warnings,
    })
}
