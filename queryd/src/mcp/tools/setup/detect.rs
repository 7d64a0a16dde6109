//! `setup detect`: which framework a project uses, from the names of its root files
//! (`files`) and, when given, the text of its `package_json` or `gemfile`. Manifest
//! contents give high confidence; file names alone, medium.
//!
//! Rules: a Gemfile naming `rails`/`railties`, or `bin/rails` / `config/application.rb`
//! among the files, is Rails; another Gemfile (or `config.ru`, `Rakefile`, `*.gemspec`) is
//! Ruby. A package.json depending on `hono`, `fastify` or `express` is that framework
//! (checked in this order); another package.json is Node.

use serde_json::{Value, json};

use super::snippets::Sdk;
use crate::mcp::registry::ToolCall;
use crate::mcp::response::{ToolOutput, ToolResult};
use crate::mcp::tools::{opt_list, opt_str};

/// One detected framework.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    framework: &'static str,
    confidence: &'static str,
    evidence: Vec<String>,
}

fn has(files: &[String], name: &str) -> bool {
    files
        .iter()
        .any(|f| f.trim().trim_start_matches("./").eq_ignore_ascii_case(name))
}

fn ruby(files: &[String], gemfile: Option<&str>) -> Option<Candidate> {
    if let Some(text) = gemfile {
        let rails = text.lines().any(|l| {
            let l = l.trim();
            l.starts_with("gem")
                && (l.contains("\"rails\"") || l.contains("'rails'") || l.contains("railties"))
        });
        return Some(Candidate {
            framework: if rails { "rails" } else { "ruby" },
            confidence: "high",
            evidence: vec![if rails {
                String::from("Gemfile requires the rails gem")
            } else {
                String::from("Gemfile without rails")
            }],
        });
    }
    if has(files, "bin/rails") || has(files, "config/application.rb") {
        return Some(Candidate {
            framework: "rails",
            confidence: "medium",
            evidence: vec![String::from("bin/rails or config/application.rb present")],
        });
    }
    let rubyish = ["Gemfile", "config.ru", "Rakefile", "Gemfile.lock"]
        .iter()
        .find(|n| has(files, n))
        .map(|n| format!("{n} present"))
        .or_else(|| {
            files
                .iter()
                .find(|f| f.ends_with(".gemspec"))
                .map(|f| format!("{f} present"))
        })?;
    Some(Candidate {
        framework: "ruby",
        confidence: "medium",
        evidence: vec![
            rubyish,
            String::from("pass `gemfile` to tell Rails from plain Ruby"),
        ],
    })
}

/// Dependency names of a package.json (all dependency sections), or `None` if it does not
/// parse.
fn dependencies(text: &str) -> Option<Vec<String>> {
    let v: Value = serde_json::from_str(text).ok()?;
    let mut out = Vec::new();
    for section in ["dependencies", "devDependencies", "peerDependencies"] {
        if let Some(m) = v.get(section).and_then(Value::as_object) {
            out.extend(m.keys().cloned());
        }
    }
    Some(out)
}

fn node(files: &[String], package_json: Option<&str>) -> Option<Candidate> {
    if let Some(text) = package_json {
        let deps = dependencies(text);
        let found = ["hono", "fastify", "express"]
            .into_iter()
            .find(|name| match &deps {
                Some(d) => d.iter().any(|x| x == name),
                None => text.contains(&format!("\"{name}\"")),
            });
        let confidence = if deps.is_some() { "high" } else { "medium" };
        return Some(match found {
            Some(fw) => Candidate {
                framework: fw,
                confidence,
                evidence: vec![format!("package.json depends on {fw}")],
            },
            None => Candidate {
                framework: "node",
                confidence,
                evidence: vec![String::from(
                    "package.json without express, fastify or hono",
                )],
            },
        });
    }
    has(files, "package.json").then(|| Candidate {
        framework: "node",
        confidence: "medium",
        evidence: vec![String::from(
            "package.json present; pass `package_json` to detect express, fastify or hono",
        )],
    })
}

pub(super) fn run(call: &ToolCall<'_>) -> ToolResult {
    let files = opt_list(call.args, "files")?.unwrap_or_default();
    let package_json = opt_str(call.args, "package_json")?.filter(|s| !s.trim().is_empty());
    let gemfile = opt_str(call.args, "gemfile")?.filter(|s| !s.trim().is_empty());
    let mut found: Vec<Candidate> = [ruby(&files, gemfile), node(&files, package_json)]
        .into_iter()
        .flatten()
        .collect();
    // Manifest-backed candidates first; Rails before Node when equally sure (a Rails app
    // often has a package.json for its assets).
    found.sort_by_key(|c| (c.confidence != "high", c.framework == "node"));
    let Some(best) = found.first().cloned() else {
        return Ok(ToolOutput::new(json!({
            "framework": null,
            "confidence": "none",
            "message": format!(
                "no supported framework recognised; pass `files` (root file names such as Gemfile, package.json) and `package_json` or `gemfile` text. Supported: {}",
                super::FRAMEWORKS.join(", ")
            ),
        })));
    };
    let sdk = Sdk::for_framework(best.framework);
    let others: Vec<Value> = found
        .iter()
        .skip(1)
        .map(|c| json!({"framework": c.framework, "confidence": c.confidence, "evidence": c.evidence}))
        .collect();
    let mut body = json!({
        "framework": best.framework,
        "confidence": best.confidence,
        "evidence": best.evidence,
        "sdk": sdk.map(|s| json!({"package": s.package, "install": s.install})),
    });
    if !others.is_empty() {
        body["also_found"] = json!(others);
    }
    Ok(ToolOutput::new(body).suggest(
        "setup",
        json!({"action": "guide", "framework": best.framework}),
        "the install command and configuration for this framework",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn manifests_decide() {
        let c = ruby(
            &files(&["Gemfile"]),
            Some("source 'x'\ngem 'rails', '~> 7.1'\n"),
        )
        .unwrap();
        assert_eq!((c.framework, c.confidence), ("rails", "high"));
        let c = ruby(&files(&["Gemfile"]), Some("gem \"sinatra\"\n")).unwrap();
        assert_eq!(c.framework, "ruby");
        let c = node(
            &[],
            Some(r#"{"dependencies": {"fastify": "^4", "pino": "1"}}"#),
        )
        .unwrap();
        assert_eq!((c.framework, c.confidence), ("fastify", "high"));
        let c = node(&[], Some(r#"{"dependencies": {"left-pad": "1"}}"#)).unwrap();
        assert_eq!(c.framework, "node");
    }

    #[test]
    fn file_names_alone() {
        assert_eq!(
            ruby(&files(&["bin/rails"]), None).unwrap().framework,
            "rails"
        );
        assert_eq!(
            ruby(&files(&["config.ru"]), None).unwrap().framework,
            "ruby"
        );
        assert_eq!(
            node(&files(&["package.json"]), None).unwrap().confidence,
            "medium"
        );
        assert!(ruby(&files(&["README.md"]), None).is_none());
        assert!(node(&files(&["README.md"]), None).is_none());
    }
}
