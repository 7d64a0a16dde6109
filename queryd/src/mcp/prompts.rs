//! MCP prompts: short investigation plans an agent (or its user) can start from.

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};

/// The prompts this server offers.
pub fn list() -> Vec<Prompt> {
    vec![
        Prompt::new(
            "investigate-errors",
            Some("Plan for investigating recent errors of a service"),
            Some(vec![
                PromptArgument::new("service")
                    .with_description("Service name")
                    .with_required(true),
                PromptArgument::new("since")
                    .with_description("Window such as 1h or 24h (default 1h)")
                    .with_required(false),
            ]),
        ),
        Prompt::new(
            "triage",
            Some("Plan for triaging a reported symptom"),
            Some(vec![
                PromptArgument::new("symptom")
                    .with_description("What the user reported")
                    .with_required(true),
            ]),
        ),
    ]
}

/// Renders prompt `name` with `args`, or `None` if there is no such prompt.
pub fn get(
    name: &str,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Option<GetPromptResult> {
    let arg = |k: &str, default: &str| {
        args.get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(default)
            .to_string()
    };
    let text = match name {
        "investigate-errors" => format!(
            "Investigate errors of service {service:?} over the last {since}.\n\
             1. List error groups for the service (errors tool, action list) and pick the \
             highest-impact unresolved ones.\n\
             2. For each, read one occurrence in detail (errors, action investigate) and the \
             surrounding logs (logs, action context).\n\
             3. Check whether a deploy preceded the first occurrence (overview, action changes).\n\
             4. Summarise root cause, impact and a proposed fix.",
            service = arg("service", "unknown"),
            since = arg("since", "1h"),
        ),
        "triage" => format!(
            "A user reports: {symptom:?}.\n\
             1. Get the current state (overview, action triage).\n\
             2. Search logs for the symptom's keywords (logs, action search) in the last hour.\n\
             3. Follow the strongest lead to its trace (logs, action trace) and error group.\n\
             4. Report what is broken, since when, for whom, and the next step.",
            symptom = arg("symptom", "unspecified"),
        ),
        _ => return None,
    };
    Some(GetPromptResult::new(vec![PromptMessage::new_text(
        Role::User,
        text,
    )]))
}
