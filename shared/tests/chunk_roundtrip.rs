//! Whole-chunk round trips: random rows, edge-case rows, empty and one-row chunks, batches,
//! zone map, and `filter_eq` against a brute-force scan.

use opentrace_shared::chunk::{
    ChunkBuilder, ChunkError, ChunkOptions, ChunkReader, PresenceKind, ValueEncoding,
};
use opentrace_shared::schema::LogicalType;
use opentrace_shared::{BatchId, COLUMNS, Col, Row, Seq, Value, ValueRef, testdata};
use proptest::prelude::*;

fn build_with(rows: &[Row], options: ChunkOptions) -> Vec<u8> {
    let mut b = ChunkBuilder::with_options(options);
    for r in rows {
        b.push(r);
    }
    assert_eq!(b.len(), rows.len());
    b.finish().unwrap()
}

fn check_round_trip(rows: &[Row]) -> Vec<u8> {
    check_round_trip_with(rows, ChunkOptions::default())
}

fn check_round_trip_with(rows: &[Row], options: ChunkOptions) -> Vec<u8> {
    let bytes = build_with(rows, options);
    let r = ChunkReader::open(&bytes).unwrap();
    // Point reads of every column, in reverse order with a duplicate, equal the rows.
    let mut order: Vec<u32> = (0..rows.len() as u32).rev().collect();
    order.extend(order.first().copied());
    for c in Col::all() {
        let got = r.values_at(c, &order).unwrap();
        for (v, &i) in got.iter().zip(&order) {
            assert_eq!(
                v.as_ref(),
                rows[i as usize].get(c),
                "values_at {} row {i}",
                c.name()
            );
        }
    }
    assert_eq!(r.row_count() as usize, rows.len());
    assert_eq!(r.rows().unwrap(), rows);
    for c in Col::all() {
        let col = r.column(c).unwrap();
        assert_eq!(col.len(), rows.len());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(col.get(i), row.get(c), "column {} row {i}", c.name());
            assert_eq!(col.is_null(i), row.get(c).is_null());
        }
        assert_eq!(
            r.zone_map().column(c).unwrap().null_count as usize,
            rows.iter().filter(|x| x.get(c).is_null()).count()
        );
    }
    if let Some(i) = rows.len().checked_sub(1) {
        assert_eq!(r.row(i as u32).unwrap(), rows[i]);
    }
    // Projection: only the asked-for columns are filled, the rest stay default.
    let pick: Vec<u32> = (0..rows.len() as u32).rev().step_by(3).collect();
    let cols = [
        Col::Message,
        Col::TraceId,
        Col::DurationMs,
        Col::Seq,
        Col::Message,
    ];
    let got = r.rows_at(&pick, &cols).unwrap();
    assert_eq!(got.len(), pick.len());
    for (g, &i) in got.iter().zip(&pick) {
        let mut want = Row::default();
        for c in cols {
            // The column itself was checked against `rows` above.
            want.set(c, r.column(c).unwrap().get_owned(i as usize))
                .unwrap();
            assert_eq!(want.get(c), rows[i as usize].get(c));
        }
        assert_eq!(g, &want, "rows_at row {i}");
    }
    assert!(matches!(
        r.rows_at(&[rows.len() as u32], &cols),
        Err(ChunkError::RowOutOfRange { .. })
    ));
    assert!(matches!(
        r.row(rows.len() as u32),
        Err(ChunkError::RowOutOfRange { .. })
    ));
    bytes
}

/// A strategy for one column value of the right type (nulls where allowed).
fn value_for(col: Col) -> BoxedStrategy<Value> {
    let def = col.def();
    let v: BoxedStrategy<Value> = match (col, def.ty) {
        (Col::Level, _) => prop::sample::select(vec!["trace", "debug", "info", "warn", "error", "fatal"])
            .prop_map(|s| Value::Str(s.into()))
            .boxed(),
        (_, LogicalType::Bool) => any::<bool>().prop_map(Value::Bool).boxed(),
        (_, LogicalType::Str | LogicalType::Json) => prop_oneof![
            3 => prop::sample::select(vec!["", "a", "b", "GET", "ünïcødé ✓", "日本語"]).prop_map(|s| Value::Str(s.into())),
            1 => "\\PC{0,30}".prop_map(Value::Str),
        ]
        .boxed(),
        _ => prop_oneof![
            3 => (-5i64..5).prop_map(Value::Int),
            1 => Just(Value::Int(i64::MIN)),
            1 => Just(Value::Int(i64::MAX)),
            2 => any::<i64>().prop_map(Value::Int),
        ]
        .boxed(),
    };
    if def.nullable {
        prop_oneof![1 => Just(Value::Null), 2 => v].boxed()
    } else {
        v
    }
}

fn row_strategy() -> impl Strategy<Value = Row> {
    let cols: Vec<BoxedStrategy<Value>> = Col::all().map(value_for).collect();
    cols.prop_map(|vals| {
        let mut r = Row::default();
        for (def, v) in COLUMNS.iter().zip(vals) {
            r.set(def.col, v).unwrap();
        }
        r
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_rows_round_trip(rows in proptest::collection::vec(row_strategy(), 0..40)) {
        check_round_trip(&rows);
    }

    /// Small frames put every long string column in `StrFramed`, several frames deep.
    #[test]
    fn framed_rows_round_trip(
        rows in proptest::collection::vec(row_strategy(), 0..40),
        text_frame_rows in 1usize..9,
    ) {
        let bytes = check_round_trip_with(&rows, ChunkOptions { text_frame_rows, ..ChunkOptions::default() });
        let r = ChunkReader::open(&bytes).unwrap();
        let present: Vec<String> = rows.iter().filter_map(|x| match x.get(Col::Message) { ValueRef::Str(s) => Some(s.to_owned()), _ => None }).collect();
        let distinct = present.iter().collect::<std::collections::HashSet<_>>().len();
        if present.len() > text_frame_rows && distinct * 2 > present.len() {
            prop_assert_eq!(r.encoding(Col::Message).map(|e| e.values), Some(ValueEncoding::StrFramed));
        }
    }

    #[test]
    fn filter_eq_matches_brute_force(rows in proptest::collection::vec(row_strategy(), 1..60), pick in any::<prop::sample::Index>(), text_frame_rows in prop::sample::select(vec![3usize, 4096])) {
        let bytes = build_with(&rows, ChunkOptions { text_frame_rows, ..ChunkOptions::default() });
        let r = ChunkReader::open(&bytes).unwrap();
        let probe_row = &rows[pick.index(rows.len())];
        for c in Col::all() {
            let probes = [probe_row.get(c), ValueRef::Null, ValueRef::Str("not-there"), ValueRef::Int(123_456_789)];
            for v in probes {
                let got = r.filter_eq(c, v).unwrap();
                let want: Vec<u32> = rows.iter().enumerate().filter(|(_, x)| x.get(c) == v).map(|(i, _)| i as u32).collect();
                prop_assert_eq!(got.as_slice(), &want[..], "column {} value {:?}", c.name(), v);
            }
        }
    }
}

#[test]
fn zero_row_chunk_is_supported() {
    let bytes = check_round_trip(&[]);
    let r = ChunkReader::open(&bytes).unwrap();
    assert_eq!(r.zone_map().ts, None);
    assert_eq!(r.zone_map().seq, None);
    assert!(r.batches().unwrap().is_empty());
    // Every column block of an empty chunk is the two-byte "all null, no values" block.
    for c in Col::all() {
        assert_eq!(r.column_size(c), 2, "{}", c.name());
    }
}

#[test]
fn one_row_chunk() {
    let row = Row {
        seq: Seq(u64::MAX),
        ts: i64::MIN,
        received_at: i64::MAX,
        message: "x".repeat(3),
        body: Some("{}".into()),
        ..Row::default()
    };
    let bytes = check_round_trip(std::slice::from_ref(&row));
    let r = ChunkReader::open(&bytes).unwrap();
    let z = r.zone_map();
    assert_eq!(z.seq.unwrap().max, Seq(u64::MAX));
    assert_eq!(z.ts.unwrap().min, i64::MIN);
    assert_eq!(z.received_at.unwrap().max, i64::MAX);
}

#[test]
fn all_null_and_constant_columns_are_nearly_free() {
    let rows: Vec<Row> = (0..1000)
        .map(|i| Row {
            seq: Seq(i),
            service: "api".into(),
            ..Row::default()
        })
        .collect();
    let bytes = check_round_trip(&rows);
    let r = ChunkReader::open(&bytes).unwrap();
    let e = r.encoding(Col::Body).unwrap();
    assert_eq!(
        (e.presence, e.values),
        (PresenceKind::AllNull, ValueEncoding::None)
    );
    assert!(r.column_size(Col::Body) <= 2);
    assert_eq!(
        r.encoding(Col::Service).unwrap().values,
        ValueEncoding::StrConst
    );
    assert!(r.column_size(Col::Seq) <= 8);
    assert_eq!(
        r.dictionary(Col::Service).unwrap(),
        Some(vec!["api".to_string()])
    );
    assert_eq!(
        r.filter_eq(Col::Service, ValueRef::Str("api"))
            .unwrap()
            .len(),
        1000
    );
    assert!(
        r.filter_eq(Col::Service, ValueRef::Str("web"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn megabyte_strings_and_unicode() {
    let big = "ß∂ƒ©˙∆˚¬ long text 🚀 ".repeat(60_000);
    assert!(big.len() > 1_000_000);
    let rows = vec![
        Row {
            message: big.clone(),
            body: Some(format!("{{\"s\":\"{big}\"}}")),
            ..Row::default()
        },
        Row {
            message: "短い".into(),
            ..Row::default()
        },
        Row {
            message: big,
            error_message: Some("é".into()),
            ..Row::default()
        },
    ];
    check_round_trip(&rows);
}

#[test]
fn batches_round_trip() {
    let mut b = ChunkBuilder::new();
    let mut expect = Vec::new();
    let mut seq = 10u64;
    for (i, n) in [3u32, 1, 5].into_iter().enumerate() {
        let id = if i == 1 {
            BatchId("custom batch ✓".into())
        } else {
            BatchId(format!("9c1e0a52-6b0e-4f57-9d1e-3c2f1b7a8e1{i}"))
        };
        b.push_batch(&id, Seq(seq), n);
        for _ in 0..n {
            b.push(&Row {
                seq: Seq(seq),
                ..Row::default()
            });
            seq += 1;
        }
        expect.push((id, Seq(seq - u64::from(n)), n));
    }
    let bytes = b.finish().unwrap();
    let r = ChunkReader::open(&bytes).unwrap();
    assert_eq!(r.batches().unwrap(), expect);
    assert_eq!(r.row_count(), 9);
}

#[test]
fn realistic_rows_round_trip_with_dictionaries() {
    let msgs = testdata::load_messages(&testdata::default_loghub_dir());
    let rows = testdata::generate(3000, 1, &msgs);
    let bytes = check_round_trip(&rows);
    let r = ChunkReader::open(&bytes).unwrap();
    for c in [Col::Level, Col::Service, Col::Route, Col::Method] {
        assert!(
            r.encoding(c).unwrap().values.is_dictionary(),
            "{}",
            c.name()
        );
        let dict = r.dictionary(c).unwrap().unwrap();
        let mut sorted = dict.clone();
        sorted.sort();
        assert_eq!(dict, sorted);
        for v in dict.iter().map(String::as_str).chain(["absent"]) {
            let want: Vec<u32> = rows
                .iter()
                .enumerate()
                .filter(|(_, x)| x.get(c) == ValueRef::Str(v))
                .map(|(i, _)| i as u32)
                .collect();
            assert_eq!(
                r.filter_eq(c, ValueRef::Str(v)).unwrap().as_slice(),
                &want[..]
            );
        }
    }
    let status = r.filter_eq(Col::Status, ValueRef::Int(200)).unwrap();
    assert_eq!(
        status.len(),
        rows.iter().filter(|x| x.status == Some(200)).count()
    );
    let z = r.zone_map();
    assert_eq!(z.ts.unwrap().min, rows.iter().map(|x| x.ts).min().unwrap());
    assert_eq!(
        z.received_at.unwrap().max,
        rows.iter().map(|x| x.received_at).max().unwrap()
    );
    assert_eq!(z.seq.unwrap().min, rows[0].seq);
    // Writing into an io::Write produces the same bytes.
    let mut b = ChunkBuilder::new();
    rows.iter().for_each(|x| b.push(x));
    let mut out = Vec::new();
    b.write_to(&mut out).unwrap();
    assert_eq!(out, bytes);
}

/// Version 1 files (no `StrFramed`) still read: a chunk written unframed with its header's
/// version set to 1 decodes to the same rows.
#[test]
fn version_1_files_still_read() {
    let msgs = testdata::load_messages(&testdata::default_loghub_dir());
    let rows = testdata::generate(300, 5, &msgs);
    let options = ChunkOptions {
        text_frame_rows: usize::MAX,
        ..ChunkOptions::default()
    };
    let mut bytes = build_with(&rows, options);
    assert_eq!(&bytes[4..6], &2u16.to_le_bytes());
    bytes[4..6].copy_from_slice(&1u16.to_le_bytes());
    let r = ChunkReader::open(&bytes).unwrap();
    assert_eq!(r.rows().unwrap(), rows);
    let framed = build_with(
        &rows,
        ChunkOptions {
            text_frame_rows: 16,
            ..ChunkOptions::default()
        },
    );
    let f = ChunkReader::open(&framed).unwrap();
    assert_eq!(
        f.encoding(Col::Message).map(|e| e.values),
        Some(ValueEncoding::StrFramed)
    );
    assert_eq!(f.rows().unwrap(), rows);
    assert_eq!(f.row(137).unwrap(), rows[137]);
}

/// Text frames compressed as rows arrive (`stream_text`, the default) read back exactly as
/// frames compressed at `finish`, in the same encodings, and cost little size: the prefix
/// dictionary sampled from the first frames is nearly as good as one from the whole column.
#[test]
fn streamed_text_frames_match_buffered_ones() {
    let msgs = testdata::load_messages(&testdata::default_loghub_dir());
    let rows = testdata::generate(12_000, 9, &msgs);
    let with = |stream_text| ChunkOptions {
        text_frame_rows: 512,
        stream_text,
        ..ChunkOptions::default()
    };
    let streamed = check_round_trip_with(&rows, with(true));
    let buffered = check_round_trip_with(&rows, with(false));
    let (s, b) = (
        ChunkReader::open(&streamed).unwrap(),
        ChunkReader::open(&buffered).unwrap(),
    );
    for c in Col::all() {
        assert_eq!(
            s.encoding(c).map(|e| e.values),
            b.encoding(c).map(|e| e.values),
            "encoding of {}",
            c.name()
        );
    }
    assert_eq!(
        s.encoding(Col::Message).map(|e| e.values),
        Some(ValueEncoding::StrFramed)
    );
    assert_eq!(
        s.encoding(Col::Body).map(|e| e.values),
        Some(ValueEncoding::StrFramed)
    );
    assert!(
        streamed.len() * 100 <= buffered.len() * 103,
        "streamed {} bytes against buffered {}",
        streamed.len(),
        buffered.len()
    );
}

/// A long text column whose first frames repeat a few values keeps the dictionary choice
/// made over the whole column, and one that turns repetitive after being framed still
/// reads back.
#[test]
fn streaming_decision_follows_the_first_frames() {
    let base = |i: usize, msg: String| {
        let mut r = Row::default();
        r.set(Col::Message, Value::Str(msg)).unwrap();
        r.seq = Seq(i as u64);
        r
    };
    let options = ChunkOptions {
        text_frame_rows: 8,
        ..ChunkOptions::default()
    };
    let repetitive: Vec<Row> = (0..200).map(|i| base(i, format!("m{}", i % 3))).collect();
    let bytes = check_round_trip_with(&repetitive, options);
    let r = ChunkReader::open(&bytes).unwrap();
    assert_eq!(
        r.encoding(Col::Message).map(|e| e.values),
        Some(ValueEncoding::StrDict)
    );
    let turning: Vec<Row> = (0..200)
        .map(|i| {
            base(
                i,
                if i < 40 {
                    format!("unique {i}")
                } else {
                    "same".into()
                },
            )
        })
        .collect();
    let bytes = check_round_trip_with(&turning, options);
    let r = ChunkReader::open(&bytes).unwrap();
    assert_eq!(
        r.encoding(Col::Message).map(|e| e.values),
        Some(ValueEncoding::StrFramed)
    );
}
