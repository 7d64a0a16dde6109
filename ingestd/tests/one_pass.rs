//! The one-pass body decoder (`pipeline::process_body`) against the two-pass reference
//! (`wire::split_batch` + `pipeline::process_batch`): the same rows, rejections, warnings
//! and errors for every SDK fixture, for hand-picked awkward bodies, and for generated ones.

use opentrace_ingestd::pipeline::scrub::Scrubber;
use opentrace_ingestd::pipeline::{BatchOutcome, process_batch, process_body};
use opentrace_ingestd::wire::{DecodeCtx, Dialect, split_batch};
use opentrace_shared::settings::PiiSettings;
use proptest::prelude::*;

const RECEIVED: i64 = 1_776_507_330_000_000;

/// An outcome printed: `Row` has no `PartialEq`, its `Debug` shows every column.
fn show(o: &BatchOutcome, entries: usize) -> String {
    format!(
        "entries {entries} rows {:?} accepted {} rejected {:?} warnings {:?}",
        o.rows, o.accepted_entries, o.rejected, o.warnings
    )
}

/// Both paths' results, printed.
fn both(bytes: &[u8], max: usize, dialect: Dialect) -> (String, String) {
    let ctx = DecodeCtx {
        received_at: RECEIVED,
        default_env: "production",
        dialect,
    };
    let (scrubber, _) = Scrubber::new(&PiiSettings::default());
    let one = match process_body(bytes, max, &ctx, &scrubber) {
        Ok((o, n)) => show(&o, n),
        Err(e) => format!("error {e:?}"),
    };
    let two = match split_batch(bytes, max) {
        Ok(entries) => show(&process_batch(&entries, &ctx, &scrubber), entries.len()),
        Err(e) => format!("error {e:?}"),
    };
    (one, two)
}

fn assert_same(bytes: &[u8], max: usize) {
    for dialect in [Dialect::V2, Dialect::Legacy] {
        let (one, two) = both(bytes, max, dialect);
        assert_eq!(
            one,
            two,
            "{dialect:?} body {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn every_sdk_fixture_decodes_the_same_in_one_pass() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sdk");
    let mut seen = 0;
    for f in std::fs::read_dir(dir).expect("fixtures directory") {
        let path = f.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path).expect("fixture");
            assert_same(&bytes, 5000);
            let (one, _) = both(&bytes, 5000, Dialect::V2);
            assert!(one.starts_with("entries "), "{path:?}: {one}");
            seen += 1;
        }
    }
    assert!(seen >= 5, "only {seen} fixtures found in {dir}");
}

#[test]
fn awkward_bodies_decode_the_same_in_one_pass() {
    let ok = r#"{"level":"info","message":"hi","service":"s"}"#;
    let bodies: Vec<String> = vec![
        format!("[{ok},{ok}]"),
        format!("\u{feff}[{ok}]"),
        format!("  {ok}  "),
        format!("[{ok}, 1, \"x\", null, true, [1,[2]], {{}}, {ok}]"),
        // A duplicate key: the derived deserializer refuses the entry, so the one-pass
        // decoder gives the body to the two-pass path, which rejects only that entry.
        format!(r#"[{ok},{{"level":"info","level":"warn","message":"m"}},{ok}]"#),
        format!(r#"[{{"level":7,"message":["x"],"status":"abc","ts":"yesterday"}},{ok}]"#),
        format!(r#"[{ok},{{"level":"info","message":"","body":{{"context":{ok}}}}}]"#),
        format!(
            r#"[{{"level":"info","message":"req","body":{{"logs":[{{"level":"error","message":"boom","error_class":"E"}}]}}}}]"#
        ),
        format!(
            r#"[{{"timestamp":"2026-04-18T10:15:30Z","level":"warning","message":"m","environment":"e","metadata":{{"a":1}},"request_summary":{{"statusCode":500}}}}]"#
        ),
        format!("[{ok}] trailing"),
        format!("[{ok},"),
        format!("[{ok},{ok},{ok}]"),
        "[]".to_string(),
        "{}".to_string(),
        "42".to_string(),
        "\"text\"".to_string(),
        "".to_string(),
        "not json".to_string(),
    ];
    for b in &bodies {
        assert_same(b.as_bytes(), 5000);
        assert_same(b.as_bytes(), 2);
        assert_same(b.as_bytes(), 0);
    }
}

/// Pieces generated batches are made of: good entries of each shape, entries with wrong
/// types or missing fields, values that are not objects, and entries the derived
/// deserializer refuses.
fn element() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}".prop_map(|m| format!(r#"{{"level":"info","message":"{m}"}}"#)),
        (0u16..600, 0.0f64..1e4).prop_map(|(s, d)| format!(
            r#"{{"level":"error","message":"GET /x {s}","status":{s},"duration_ms":{d},"trace_id":"t{s}","body":{{"card":"4111 1111 1111 1111","password":"p"}}}}"#
        )),
        Just(r#"{"level":"debug","message":"m","body":{"logs":[{"level":"info","message":"child"},{"level":"error","message":"e","error_class":"E"}]}}"#.to_string()),
        Just(r#"{"level":"info","message":"","body":{"context":{"level":"warn","message":"inner","service":"s"}}}"#.to_string()),
        Just(r#"{"timestamp":"2026-04-18T10:15:30.123456Z","level":"warning","message":"legacy","commit_hash":"abc","exception_class":"X"}"#.to_string()),
        Just(r#"{"level":5,"message":"m"}"#.to_string()),
        Just(r#"{"message":"no level"}"#.to_string()),
        Just(r#"{"level":"loud","message":"m"}"#.to_string()),
        Just(r#"{"level":"info","message":"m","message":"again"}"#.to_string()),
        Just("null".to_string()),
        Just("[1,{\"a\":[]}]".to_string()),
        Just("\"s\"".to_string()),
        Just("17.5".to_string()),
    ]
}

proptest! {
    #[test]
    fn generated_batches_decode_the_same_in_one_pass(
        elements in prop::collection::vec(element(), 0..12),
        ws in "[ \n\t]{0,2}",
        bom in any::<bool>(),
        single in any::<bool>(),
        tail in prop_oneof![Just(""), Just(" "), Just("x"), Just("]"), Just(",")],
        max in 0usize..14,
    ) {
        let inner = elements.join(&format!(",{ws}"));
        let mut body = if bom { "\u{feff}".to_string() } else { String::new() };
        if single && !elements.is_empty() {
            body.push_str(&elements[0]);
        } else {
            body.push_str(&format!("[{ws}{inner}{ws}]"));
        }
        body.push_str(tail);
        for dialect in [Dialect::V2, Dialect::Legacy] {
            let (one, two) = both(body.as_bytes(), max, dialect);
            prop_assert_eq!(one, two);
        }
    }
}
