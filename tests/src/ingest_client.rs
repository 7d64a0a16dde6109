//! A small HTTP client that posts to a loopback ingestd exactly as a given SDK would:
//! its path, `User-Agent`, `X-API-Version` (Ruby), `X-Batch-ID`, and gzip above 1 KiB
//! (`/work/shared/reference/sdk-wire-format.md` §0, `tests/fixtures/sdk/README.md`).

use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::loadgen::wire::{GZIP_THRESHOLD, gzip};

/// The SDK whose request shape is imitated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    /// `@opentrace-sdk/node` 0.2.0: flat entries on `/api/v2/logs`.
    Node020,
    /// `@opentrace-sdk/node` 0.1.0: legacy nested entries on `/api/logs`.
    Node010,
    /// Ruby gem `opentrace` 0.17.4: flat entries on `/api/logs`, `X-API-Version: 2`.
    Ruby017,
}

impl Sdk {
    /// The SDK a fixture file in `tests/fixtures/sdk/` came from, judged by its name.
    pub fn for_fixture(name: &str) -> Option<Sdk> {
        if name.starts_with("node-0.2.0") {
            Some(Sdk::Node020)
        } else if name.starts_with("node-0.1.0") {
            Some(Sdk::Node010)
        } else if name.starts_with("ruby-0.17") {
            Some(Sdk::Ruby017)
        } else {
            None
        }
    }

    /// The request path the SDK posts to.
    pub fn path(self) -> &'static str {
        match self {
            Sdk::Node020 => "/api/v2/logs",
            Sdk::Node010 | Sdk::Ruby017 => "/api/logs",
        }
    }

    /// The `User-Agent` the SDK sends (Node's is hard-coded to 0.1.0 even in 0.2.0).
    pub fn user_agent(self) -> &'static str {
        match self {
            Sdk::Node020 | Sdk::Node010 => "@opentrace-sdk/node 0.1.0",
            Sdk::Ruby017 => "opentrace-ruby/0.17.4",
        }
    }

    /// The `X-API-Version` header, if the SDK sends one.
    pub fn api_version(self) -> Option<&'static str> {
        match self {
            Sdk::Ruby017 => Some("2"),
            Sdk::Node020 | Sdk::Node010 => None,
        }
    }
}

/// An ingestd answer: status and JSON body (`Null` if the body was not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Parsed body.
    pub json: serde_json::Value,
}

/// Posts `json` (a request body) to `base_url` as `sdk` would, with `batch_id` as
/// `X-Batch-ID`; the body is gzipped when it is longer than 1024 bytes. Returns the answer
/// and whether the body went gzipped.
pub async fn post_as_sdk(
    base_url: &str,
    api_key: &str,
    sdk: Sdk,
    batch_id: Option<&str>,
    json: &[u8],
) -> Result<(Answer, bool)> {
    let gzipped = json.len() > GZIP_THRESHOLD;
    let body = if gzipped { gzip(json) } else { json.to_vec() };
    let mut headers = vec![("user-agent", sdk.user_agent().to_string())];
    if let Some(v) = sdk.api_version() {
        headers.push(("x-api-version", v.to_string()));
    }
    if let Some(id) = batch_id {
        headers.push(("x-batch-id", id.to_string()));
    }
    if gzipped {
        headers.push(("content-encoding", "gzip".to_string()));
    }
    let a = post_raw(base_url, sdk.path(), api_key, &headers, body).await?;
    Ok((a, gzipped))
}

/// Posts `body` as is to `base_url` + `path` with a Bearer key, JSON content type and the
/// extra `headers`.
pub async fn post_raw(
    base_url: &str,
    path: &str,
    api_key: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<Answer> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::post(format!("{base_url}{path}"))
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, format!("Bearer {api_key}"));
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let has_ua = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"));
    if !has_ua {
        req = req.header(USER_AGENT, "opentrace-tests");
    }
    let req = req.body(Full::new(Bytes::from(body)))?;
    let resp = tokio::time::timeout(Duration::from_secs(30), client.request(req))
        .await
        .context("request timed out")??;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Ok(Answer { status, json })
}
