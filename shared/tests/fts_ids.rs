//! Exact-id keys in the `.idx`: `IndexReader::id_postings` equals a brute-force scan of the
//! id columns, answers `None` for columns without keys, and id keys never collide with text
//! tokens (nor change what text queries find).

use std::collections::{BTreeMap, BTreeSet};

use opentrace_shared::fts::{
    ID_KEY_PREFIX, IndexBuilder, IndexReader, KEYABLE_ID_COLUMNS, Tokenizer, index_key,
    indexed_texts,
};
use opentrace_shared::{Col, Row, testdata};
use proptest::prelude::*;

fn brute(rows: &[Row], col: Col) -> BTreeMap<String, Vec<u32>> {
    let mut m: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(v) = r.get(col).as_str().filter(|v| !v.is_empty()) {
            m.entry(v.to_string()).or_default().push(i as u32);
        }
    }
    m
}

#[test]
fn id_postings_equal_brute_force_on_sdk_rows() {
    let messages = testdata::load_messages(&testdata::default_loghub_dir());
    let rows = testdata::generate(3000, 7, &messages);
    let mut b = IndexBuilder::with_id_columns(KEYABLE_ID_COLUMNS);
    for (i, r) in rows.iter().enumerate() {
        b.add_row(i as u32, r);
    }
    let file = b.finish().unwrap();
    let reader = IndexReader::open(&file).unwrap();
    for &col in KEYABLE_ID_COLUMNS {
        assert!(reader.has_id_keys(col));
        let want = brute(&rows, col);
        assert!(!want.is_empty(), "test data has {} values", col.name());
        for (v, rows_with) in &want {
            assert_eq!(
                reader.id_postings(col, v).unwrap().as_ref(),
                Some(rows_with),
                "{} = {v}",
                col.name()
            );
            // Exact: a prefix, another case or another column does not match.
            let cut = &v[..v.len() - 1];
            if !want.contains_key(cut) {
                assert_eq!(reader.id_postings(col, cut).unwrap(), Some(vec![]));
            }
        }
        assert_eq!(reader.id_postings(col, "no-such-id").unwrap(), Some(vec![]));
    }
    // A column without keys cannot be answered from the index.
    assert!(!reader.has_id_keys(Col::SessionId));
    assert_eq!(reader.id_postings(Col::SessionId, "x").unwrap(), None);
    assert_eq!(reader.id_postings(Col::Message, "x").unwrap(), None);
    // Text lookups never see id keys: no token starts with the id prefix.
    let mut tok = Tokenizer::new();
    for r in &rows {
        indexed_texts(r, |_, t| {
            tok.tokens(t, |x| assert!(!x.starts_with(ID_KEY_PREFIX), "{x:?}"))
        });
    }
}

#[test]
fn chosen_id_columns_are_recorded() {
    let rows = [
        Row {
            session_id: Some("s-1".into()),
            trace_id: Some("t".into()),
            ..Row::default()
        },
        Row::default(),
        Row {
            session_id: Some("s-1".into()),
            ..Row::default()
        },
    ];
    let mut b = IndexBuilder::with_id_columns(&[Col::SessionId, Col::DurationMs]);
    for (i, r) in rows.iter().enumerate() {
        b.add_row(i as u32, r);
    }
    let file = b.finish().unwrap();
    let reader = IndexReader::open(&file).unwrap();
    assert_eq!(
        reader.id_postings(Col::SessionId, "s-1").unwrap(),
        Some(vec![0, 2])
    );
    // Not chosen (or not a string column): the index cannot answer.
    for c in [Col::TraceId, Col::Message, Col::DurationMs] {
        assert!(!reader.has_id_keys(c), "{}", c.name());
        assert_eq!(reader.id_postings(c, "t").unwrap(), None);
    }
    // A chosen column with no values in the chunk still answers (nothing).
    let mut b = IndexBuilder::with_id_columns(KEYABLE_ID_COLUMNS);
    b.add_row(0, &Row::default());
    let file = b.finish().unwrap();
    let reader = IndexReader::open(&file).unwrap();
    assert_eq!(reader.id_postings(Col::TraceId, "t").unwrap(), Some(vec![]));
}

fn id_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{32}",
        "[0-9a-f]{16}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[a-zA-Z ]{1,6}",
        "[a-z]{1,3}",
        any::<String>().prop_map(|s| s.chars().take(90).collect()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random ids (including ones equal to text tokens) in random rows: every id column
    /// answers exactly, and the text terms are exactly the brute-force token set.
    #[test]
    fn ids_exact_and_text_unchanged(
        rows in prop::collection::vec(
            (id_value(), prop::option::of(id_value()), prop::option::of(id_value()),
             prop::option::of(id_value())),
            1..40,
        )
    ) {
        let rows: Vec<Row> = rows
            .into_iter()
            .map(|(m, t, u, s)| Row {
                message: m,
                trace_id: t,
                user_id: u,
                span_id: s,
                ..Row::default()
            })
            .collect();
        let mut b = IndexBuilder::with_id_columns(KEYABLE_ID_COLUMNS);
        let mut want_text: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        let mut tok = Tokenizer::new();
        for (i, r) in rows.iter().enumerate() {
            b.add_row(i as u32, r);
            indexed_texts(r, |_, t| tok.tokens(t, |x| {
                want_text.entry(index_key(x).to_string()).or_default().insert(i as u32);
            }));
        }
        let file = b.finish().unwrap();
        let reader = IndexReader::open(&file).unwrap();
        for col in [Col::TraceId, Col::UserId, Col::SpanId, Col::RequestId] {
            for (v, want) in brute(&rows, col) {
                prop_assert_eq!(reader.id_postings(col, &v).unwrap(), Some(want));
            }
        }
        let mut got_text: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        reader.for_each_term(|t, info| {
            if !t.starts_with(&[1]) {
                let rows = reader.read_postings(info).unwrap();
                got_text.insert(String::from_utf8(t.to_vec()).unwrap(), rows.into_iter().collect());
            }
        }).unwrap();
        prop_assert_eq!(got_text, want_text);
    }
}
