#![no_main]
//! Opens arbitrary bytes as an `.idx` file and looks up terms derived from the input.
//! The reader must never panic: every outcome is `Ok` or a typed `IndexError`.
use libfuzzer_sys::fuzz_target;
use opentrace_shared::Col;
use opentrace_shared::fts::{IndexReader, Query, tokenize};

fuzz_target!(|data: &[u8]| {
    // The checked open (CRCs) rarely passes on mutated input; exercise it, then go deeper
    // with the trusted open, which skips the postings and dictionary checksums.
    let _ = IndexReader::open(data);
    let Ok(reader) = IndexReader::open_trusted(data) else {
        return;
    };
    let _ = (reader.row_count(), reader.term_count());
    // Terms from the input itself: its tokens and a few raw slices.
    let text = String::from_utf8_lossy(data);
    let mut terms: Vec<String> = tokenize(&text).into_iter().take(16).collect();
    for w in data.chunks(7).take(8) {
        terms.push(String::from_utf8_lossy(w).into_owned());
    }
    terms.push(String::new());
    for t in &terms {
        if let Ok(Some(info)) = reader.term_info(t) {
            let _ = reader.read_postings(&info);
        }
        if let Ok(q) = Query::parse(t) {
            let _ = q.candidates(&reader);
        }
        for c in [Col::TraceId, Col::RequestId, Col::SessionId] {
            let _ = reader.id_postings(c, t);
            let _ = reader.may_contain(c, t);
        }
    }
    let mut infos = Vec::new();
    let _ = reader.for_each_term(|_, i| {
        if infos.len() < 256 {
            infos.push(*i);
        }
    });
    for i in infos {
        let _ = reader.read_postings(&i);
    }
});
