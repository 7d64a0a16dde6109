//! The generator: determinism, proportions, fixture shape, markers, deploys and incidents.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use opentrace_tests::loadgen::{
    Corpus, Deploy, Entry, EntryIndex, EntryKind, GenConfig, Generator, Incident, InjectedFailure,
    Mix,
};
use serde_json::Value;

fn corpus() -> Arc<Corpus> {
    Arc::new(Corpus::load_default().unwrap())
}

fn take(cfg: GenConfig, n: usize) -> Vec<Entry> {
    Generator::new(cfg, corpus()).take(n).collect()
}

fn bytes(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        e.write_json(&mut out);
        out.push(b'\n');
    }
    out
}

fn incident(from: u64) -> Incident {
    Incident {
        service: "checkout-api".into(),
        method: "POST".into(),
        route: "/api/checkout".into(),
        from: EntryIndex(from),
        version: Some("badc0de".into()),
        user_percent: 20,
        failure: InjectedFailure {
            status: 500,
            error_class: "Checkout::LedgerMismatch".into(),
            message: "ledger total does not match cart".into(),
            file: "routes/checkout.mjs".into(),
            line: 212,
            function: "settle".into(),
        },
    }
}

#[test]
fn same_seed_same_bytes_different_seed_differs() {
    let cfg = GenConfig {
        seed: 42,
        deploys: vec![Deploy {
            at: EntryIndex(1000),
            service: "checkout-api".into(),
            version: "badc0de".into(),
        }],
        ..GenConfig::default()
    };
    let run = |cfg: GenConfig| {
        let g = Generator::new(cfg, corpus()).with_scenario(Box::new(incident(1000)));
        bytes(&g.take(3000).collect::<Vec<_>>())
    };
    let a = run(cfg.clone());
    let b = run(cfg.clone());
    assert_eq!(a, b);
    let c = run(GenConfig { seed: 43, ..cfg });
    assert_ne!(a, c);
    // Batching does not change the stream.
    let mut g = Generator::new(
        GenConfig {
            seed: 42,
            ..GenConfig::default()
        },
        corpus(),
    );
    let mut batched = Vec::new();
    for n in [7usize, 50, 1, 942] {
        batched.extend(g.next_batch(n).entries);
    }
    assert_eq!(
        bytes(&batched),
        bytes(&take(
            GenConfig {
                seed: 42,
                ..GenConfig::default()
            },
            1000
        ))
    );
}

#[test]
fn proportions_follow_the_knobs() {
    let cfg = GenConfig {
        seed: 9,
        mix: Mix {
            request: 40,
            log: 40,
            error: 8,
            event: 12,
        },
        error_rate: 0.10,
        staging_share: 0.25,
        ..GenConfig::default()
    };
    let n = 30_000;
    let entries = take(cfg.clone(), n);
    let drawn: Vec<&Entry> = entries.iter().filter(|e| !e.follow_up).collect();
    let share =
        |k: EntryKind| drawn.iter().filter(|e| e.kind == k).count() as f64 / drawn.len() as f64;
    let total = f64::from(cfg.mix.total());
    for (k, w) in [
        (EntryKind::Request, cfg.mix.request),
        (EntryKind::Log, cfg.mix.log),
        (EntryKind::Error, cfg.mix.error),
        (EntryKind::Event, cfg.mix.event),
    ] {
        let want = f64::from(w) / total;
        assert!(
            (share(k) - want).abs() < 0.015,
            "{k:?} {} vs {want}",
            share(k)
        );
    }
    let requests: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Request)
        .collect();
    let failed = requests.iter().filter(|e| e.status.unwrap() >= 500).count() as f64;
    let rate = failed / requests.len() as f64;
    assert!((rate - cfg.error_rate).abs() < 0.015, "5xx rate {rate}");
    // Every follow-up is a Node error row right after its failed request, same trace.
    for (i, e) in entries.iter().enumerate().filter(|(_, e)| e.follow_up) {
        let prev = &entries[i - 1];
        assert_eq!(e.kind, EntryKind::Error);
        assert!(prev.status.unwrap() >= 500);
        assert_eq!(e.trace_id, prev.trace_id);
    }
    // Cardinalities.
    let services: HashSet<&str> = entries.iter().map(|e| e.service.as_str()).collect();
    assert_eq!(services.len(), cfg.services);
    let routes: HashSet<(String, &str)> = Generator::new(cfg.clone(), corpus())
        .fleet()
        .iter()
        .flat_map(|s| s.endpoints.iter().map(|e| (e.route.clone(), e.method)))
        .collect();
    assert_eq!(routes.len(), cfg.endpoints);
    let users: HashSet<u32> = requests
        .iter()
        .map(|e| e.user_id.as_ref().unwrap().parse().unwrap())
        .collect();
    assert!(users.iter().all(|u| (1..=cfg.users).contains(u)));
    assert!(users.len() > 1500, "{}", users.len());
    let staging = entries
        .iter()
        .filter(|e| e.env == Some(Some("staging")))
        .count() as f64;
    let with_env = entries
        .iter()
        .filter(|e| matches!(e.env, Some(Some(_))))
        .count() as f64;
    assert!((staging / with_env - cfg.staging_share).abs() < 0.02);
    // Logs share trace ids with requests.
    let req_traces: HashSet<&str> = requests
        .iter()
        .filter_map(|e| e.trace_id.as_deref())
        .collect();
    let linked = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Log)
        .filter(|e| {
            e.trace_id
                .as_deref()
                .is_some_and(|t| req_traces.contains(t))
        })
        .count();
    assert!(linked > n / 20, "{linked}");
    // Average size is in the few-hundred-bytes range of real rows.
    let avg = bytes(&entries).len() / n;
    assert!((300..700).contains(&avg), "{avg}");
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn fixture_keys() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sdk");
    let mut keys = BTreeSet::new();
    for f in [
        "node-0.2.0-log.json",
        "node-0.2.0-request-and-error.json",
        "ruby-0.17-log.json",
        "ruby-0.17-request.json",
        "ruby-0.17-runtime-metrics.json",
    ] {
        let v: Value = serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap();
        for row in v.as_array().unwrap() {
            keys.extend(row.as_object().unwrap().keys().cloned());
        }
    }
    // `handler` is Node's name for Ruby's `controller` (sdk-wire-format §2.2); the bundled
    // Express middleware leaves it out, so no captured fixture has it.
    keys.insert("handler".into());
    keys
}

#[test]
fn every_entry_has_the_fixture_shape_and_its_marker() {
    let seed = 5;
    let allowed = fixture_keys();
    let levels = ["debug", "info", "warn", "error"];
    for e in take(
        GenConfig {
            seed,
            error_rate: 0.2,
            ..GenConfig::default()
        },
        10_000,
    ) {
        let v = e.to_value();
        let o = v.as_object().unwrap();
        for k in o.keys() {
            assert!(allowed.contains(k), "key {k} not in any fixture");
        }
        for k in ["level", "message", "ts", "service"] {
            assert!(o[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {v}");
        }
        assert!(levels.contains(&o["level"].as_str().unwrap()));
        let ts = o["ts"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(ts).unwrap();
        assert!(ts.len() == 24 || ts.len() == 27, "{ts}");
        for (k, len) in [("trace_id", 32), ("span_id", 16), ("parent_span_id", 16)] {
            if let Some(id) = o.get(k) {
                assert!(is_hex(id.as_str().unwrap(), len), "{k}={id}");
            }
        }
        if let Some(env) = o.get("env") {
            assert!(env.is_null() || env.is_string());
        }
        // Marker: body.lg_seq and the message token.
        assert_eq!(o["body"]["lg_seq"].as_u64(), Some(e.index.0));
        let token = format!(" lg-{seed}-{}", e.index.0);
        assert!(o["message"].as_str().unwrap().ends_with(&token));
        match e.kind {
            EntryKind::Request => {
                assert_eq!(o["event_type"], "http.request");
                assert!(o["method"].is_string() && o["path"].as_str().unwrap().starts_with('/'));
                let status = o["status"].as_u64().unwrap();
                assert!((200..600).contains(&status));
                let node = ts.len() == 24;
                if node {
                    assert!(o["duration_ms"].is_f64() || o["duration_ms"].is_u64());
                    assert!(o["db_count"].is_u64() && o["db_ms"].is_number());
                    assert!(o["n_plus_one"].is_boolean());
                    assert!(o["body"]["performance"]["sql_query_count"].is_u64());
                } else {
                    assert!(o["duration_ms"].is_u64());
                    assert!(o["controller"].is_string() || o["controller"].is_null());
                    for q in o["body"]["sql"].as_array().unwrap() {
                        assert!(is_hex(q["fingerprint"].as_str().unwrap(), 8));
                        assert!(q["duration_ms"].is_number() && q["name"].is_string());
                    }
                    if status >= 500 {
                        let logs = o["body"]["logs"].as_array().unwrap();
                        let err = logs.iter().find(|l| l["level"] == "ERROR").unwrap();
                        assert!(err["metadata"]["exception_class"].is_string());
                        assert!(err["metadata"]["backtrace"].as_array().unwrap()[0].is_string());
                    }
                }
            }
            EntryKind::Error => {
                if let Some(class) = o.get("error_class") {
                    assert_eq!(o["body"]["exception"]["class"], *class);
                    assert!(o["body"]["exception"]["stack"].is_string());
                } else {
                    assert_eq!(o["event_type"], "error");
                    assert!(o["body"]["context"]["exception_class"].is_string());
                }
            }
            EntryKind::Log | EntryKind::Event => {
                assert!(o["body"]["context"]["hostname"].is_string());
            }
        }
    }
}

#[test]
fn deploy_changes_the_version_and_the_incident_hits_the_chosen_users() {
    let inc = incident(4000);
    let cfg = GenConfig {
        seed: 3,
        error_rate: 0.0,
        deploys: vec![Deploy {
            at: EntryIndex(4000),
            service: "checkout-api".into(),
            version: "badc0de".into(),
        }],
        ..GenConfig::default()
    };
    let entries: Vec<Entry> = Generator::new(cfg, corpus())
        .with_scenario(Box::new(inc.clone()))
        .take(40_000)
        .collect();
    let mut versions: HashMap<bool, HashSet<&str>> = HashMap::new();
    for e in entries.iter().filter(|e| e.service == "checkout-api") {
        versions
            .entry(e.index.0 >= 4000)
            .or_default()
            .insert(e.version.as_deref().unwrap());
    }
    assert_eq!(versions[&true], HashSet::from(["badc0de"]));
    assert!(!versions[&false].contains("badc0de"));
    let checkout: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.service == "checkout-api" && e.method == Some("POST"))
        .filter(|e| e.path.as_deref() == Some("/api/checkout"))
        .collect();
    let mut hit = 0;
    for r in &checkout {
        let user: u32 = r.user_id.as_ref().unwrap().parse().unwrap();
        let should_fail = r.index.0 >= 4000 && inc.affects_user(user);
        assert_eq!(r.status == Some(500), should_fail, "{r:?}");
        if should_fail {
            hit += 1;
            // checkout-api is a Node service: the next entry is the error row.
            let err = &entries[r.index.0 as usize + 1];
            assert_eq!(err.error_class.as_deref(), Some("Checkout::LedgerMismatch"));
            assert_eq!(err.trace_id, r.trace_id);
            assert_eq!(err.user_id, r.user_id);
            let stack = err.body["exception"]["stack"].as_str().unwrap();
            assert!(stack.contains("routes/checkout.mjs:212:"), "{stack}");
        }
    }
    assert!(hit >= 10, "only {hit} incident requests");
    let class_rows = entries
        .iter()
        .filter(|e| e.error_class.as_deref() == Some("Checkout::LedgerMismatch"))
        .count();
    assert_eq!(class_rows, hit);
}
