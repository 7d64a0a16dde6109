//! Property tests: every token the tokenizer emits for a row's text finds that row, and
//! every postings list in a built index equals the brute-force row set of its term.

use std::collections::{BTreeMap, BTreeSet};

use opentrace_shared::Row;
use opentrace_shared::fts::{
    IndexBuilder, IndexError, IndexReader, Query, Tokenizer, index_key, indexed_texts, search,
};
use proptest::prelude::*;

/// One piece of text: a word, an identifier of some shape, punctuation or arbitrary chars.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        "[A-Z][a-z]{1,5}[A-Z][a-z]{1,5}(Error|Exception)?",
        "[a-z_]{1,10}\\.(rb|py|go):[0-9]{1,4}",
        "[a-z]{1,6}(\\.[a-z]{1,6}){1,3}",
        "(/[a-z0-9_-]{1,6}){1,4}(\\?[a-z]=[0-9])?",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[0-9a-f]{32}",
        "[a-z.]{1,8}@[a-z]{2,8}\\.[a-z]{2,3}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(:[0-9]{2,5})?",
        "[a-z_]{1,8}=[a-zA-Z0-9]{0,8}",
        "[[:punct:]]{1,4}",
        "[a-zA-Z0-9]{60,90}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
        "[àéîõüßÆØŒΣΑλжЖ中文日本İ]{1,6}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    (prop::collection::vec((piece(), "[ ,;()\\[\\]\"'\t]{0,2}"), 0..12)).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(p, sep)| format!("{p}{sep}"))
            .collect::<String>()
    })
}

fn row_from(message: String, error: Option<String>, body_value: Option<String>) -> Row {
    Row {
        message,
        error_message: error,
        body: body_value.map(|v| serde_json::json!({"k": {"v": v}}).to_string()),
        ..Row::default()
    }
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (text(), prop::option::of(text()), prop::option::of(text()))
            .prop_map(|(m, e, b)| row_from(m, e, b)),
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_emitted_token_finds_its_row(rows in rows()) {
        let mut b = IndexBuilder::new();
        for (i, r) in rows.iter().enumerate() {
            b.add_row(i as u32, r);
        }
        let file = b.finish().unwrap();
        let reader = IndexReader::open(&file).unwrap();
        let mut tok = Tokenizer::new();
        for (i, r) in rows.iter().enumerate() {
            let mut tokens = BTreeSet::new();
            indexed_texts(r, |_, t| tok.tokens(t, |x| { tokens.insert(x.to_string()); }));
            for t in tokens {
                let q = Query::parse(&t).unwrap();
                let hits = search(&reader, &q, |n| -> Result<Row, IndexError> {
                    Ok(rows[n as usize].clone())
                }).unwrap();
                prop_assert!(hits.contains(&(i as u32)), "token {:?} of row {} not found", t, i);
                let direct = reader.postings(&t).unwrap().unwrap_or_default();
                prop_assert!(direct.contains(&(i as u32)), "postings of {:?}", t);
            }
        }
    }

    #[test]
    fn postings_equal_brute_force(rows in rows()) {
        let mut b = IndexBuilder::new();
        let mut want: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        let mut tok = Tokenizer::new();
        for (i, r) in rows.iter().enumerate() {
            b.add_row(i as u32, r);
            indexed_texts(r, |_, t| tok.tokens(t, |x| {
                want.entry(index_key(x).to_string()).or_default().insert(i as u32);
            }));
        }
        let file = b.finish().unwrap();
        let reader = IndexReader::open(&file).unwrap();
        prop_assert_eq!(reader.term_count() as usize, want.len());
        prop_assert_eq!(reader.row_count() as usize, rows.len());
        let mut got: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        reader.for_each_term(|t, info| {
            let rows = reader.read_postings(info).unwrap();
            got.insert(String::from_utf8(t.to_vec()).unwrap(), rows.into_iter().collect());
        }).unwrap();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn many_rows_exercise_every_postings_encoding() {
    // Dense terms (bit-packed and bitmap), a sparse term (varint) and unique (inline) terms.
    let mut b = IndexBuilder::new();
    let n = 20_000u32;
    for i in 0..n {
        let mut text = format!("common u{i}");
        if i % 3 != 1 {
            text.push_str(" twothirds");
        }
        if i % 37 == 0 {
            text.push_str(" sparse");
        }
        if i % 5 < 3 {
            text.push_str(" threefifths");
        }
        b.add_text(i, &text);
    }
    let file = b.finish().unwrap();
    let reader = IndexReader::open(&file).unwrap();
    let all = reader.postings("common").unwrap().unwrap();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
    let two = reader.postings("twothirds").unwrap().unwrap();
    assert_eq!(two, (0..n).filter(|i| i % 3 != 1).collect::<Vec<_>>());
    let tf = reader.postings("threefifths").unwrap().unwrap();
    assert_eq!(tf, (0..n).filter(|i| i % 5 < 3).collect::<Vec<_>>());
    let sparse = reader.postings("sparse").unwrap().unwrap();
    assert_eq!(sparse, (0..n).step_by(37).collect::<Vec<_>>());
    assert_eq!(reader.postings("u12345").unwrap(), Some(vec![12345]));
    assert_eq!(reader.postings("u20000").unwrap(), None);
    assert_eq!(reader.postings("").unwrap(), None);
    assert_eq!(reader.postings("zzzzzz").unwrap(), None);
}

#[test]
fn empty_index_opens() {
    let file = IndexBuilder::new().finish().unwrap();
    let reader = IndexReader::open(&file).unwrap();
    assert_eq!((reader.term_count(), reader.row_count()), (0, 0));
    assert_eq!(reader.postings("x").unwrap(), None);
}

#[test]
fn out_of_order_rows_are_sorted() {
    let mut b = IndexBuilder::new();
    b.add_text(5, "alpha beta");
    b.add_text(2, "alpha");
    b.add_text(5, "alpha");
    let file = b.finish().unwrap();
    let reader = IndexReader::open(&file).unwrap();
    assert_eq!(reader.postings("alpha").unwrap(), Some(vec![2, 5]));
    assert_eq!(reader.row_count(), 6);
}
