//! The SDKs and their configuration snippets, with the option names the SDKs really read
//! (Ruby gem `opentrace`: `OpenTrace.configure { |c| c.endpoint, c.api_key, c.service,
//! c.environment }`; Node `@opentrace-sdk/node`: `OpenTrace.init({endpoint, apiKey,
//! service, environment})`). Without endpoint, key or service both SDKs disable themselves
//! silently, so every snippet sets all three.

use serde_json::{Value, json};

/// One SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sdk {
    /// Package name.
    pub package: &'static str,
    /// Install command.
    pub install: &'static str,
    /// Name of the API key option.
    pub api_key_option: &'static str,
    /// Name of the version option (filled from REVISION / GIT_SHA / HEROKU_SLUG_COMMIT).
    pub version_option: &'static str,
    /// Path the SDK appends to `endpoint`.
    pub ingest_path: &'static str,
}

const RUBY: Sdk = Sdk {
    package: "opentrace (Ruby gem)",
    install: "bundle add opentrace",
    api_key_option: "api_key",
    version_option: "git_sha",
    ingest_path: "/api/logs",
};

const NODE: Sdk = Sdk {
    package: "@opentrace-sdk/node",
    install: "npm install @opentrace-sdk/node",
    api_key_option: "apiKey",
    version_option: "gitSha",
    ingest_path: "/api/v2/logs",
};

impl Sdk {
    /// The SDK of a framework of [`super::FRAMEWORKS`].
    pub fn for_framework(framework: &str) -> Option<&'static Sdk> {
        match framework {
            "rails" | "ruby" => Some(&RUBY),
            "node" | "express" | "fastify" | "hono" => Some(&NODE),
            _ => None,
        }
    }
}

/// What the snippets are filled with.
pub(super) struct Fill<'a> {
    /// Ingest base URL (the SDK's `endpoint`).
    pub endpoint: &'a str,
    /// Service name.
    pub service: &'a str,
    /// Environment name, or `None` for the framework's own (Rails.env, RACK_ENV, NODE_ENV).
    pub environment: Option<&'a str>,
}

fn file(path: &str, language: &str, code: String) -> Value {
    json!({"file": path, "language": language, "code": code})
}

fn ruby_config(f: &Fill<'_>, default_env: &str, preamble: &str) -> String {
    let env = f
        .environment
        .map_or(default_env.to_string(), |e| format!("{e:?}"));
    format!(
        "{preamble}OpenTrace.configure do |c|\n  c.endpoint    = {:?}\n  c.api_key     = ENV[\"OPENTRACE_API_KEY\"]\n  c.service     = {:?}\n  c.environment = {env}\nend\n",
        f.endpoint, f.service
    )
}

fn node_config(f: &Fill<'_>) -> String {
    let env = f
        .environment
        .map_or(String::from("process.env.NODE_ENV"), |e| {
            format!("'{}'", e.replace('\'', "\\'"))
        });
    format!(
        "import OpenTrace from '@opentrace-sdk/node';\n\nOpenTrace.init({{\n  endpoint: '{}',\n  apiKey: process.env.OPENTRACE_API_KEY,\n  service: '{}',\n  environment: {env},\n}});\n\nexport default OpenTrace;\n",
        f.endpoint.replace('\'', "\\'"),
        f.service.replace('\'', "\\'")
    )
}

/// The middleware line of a Node framework, with how the app object is created.
fn node_middleware(framework: &str) -> Option<(&'static str, &'static str)> {
    match framework {
        "express" => Some((
            "const app = express();",
            "app.use(OpenTrace.middleware.express());",
        )),
        "fastify" => Some((
            "const app = Fastify();",
            "app.register(OpenTrace.middleware.fastify());",
        )),
        "hono" => Some((
            "const app = new Hono();",
            "app.use('*', OpenTrace.middleware.hono());",
        )),
        _ => None,
    }
}

/// The files to add or change for `framework`, in order.
pub(super) fn configuration(framework: &str, f: &Fill<'_>) -> Vec<Value> {
    match framework {
        "rails" => vec![file(
            "config/initializers/opentrace.rb",
            "ruby",
            ruby_config(f, "Rails.env", ""),
        )],
        "ruby" => vec![file(
            "config/opentrace.rb (require it when the app boots)",
            "ruby",
            ruby_config(
                f,
                "ENV.fetch(\"RACK_ENV\", \"development\")",
                "require \"opentrace\"\n\n",
            ),
        )],
        _ => {
            let mut files = vec![file(
                "opentrace.js (import it before anything else)",
                "javascript",
                node_config(f),
            )];
            if let Some((create, line)) = node_middleware(framework) {
                files.push(file(
                    "your app file, right after the app is created",
                    "javascript",
                    format!("import OpenTrace from './opentrace.js';\n\n{create}\n{line}\n"),
                ));
            }
            files
        }
    }
}
