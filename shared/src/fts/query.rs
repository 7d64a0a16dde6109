//! Full-text queries: an AND of terms and quoted phrases, answered by intersecting
//! postings (candidates) and then verifying each candidate row's stored text.
//!
//! Syntax: words separated by whitespace; `"double quoted text"` is a phrase. There is no
//! escaping and no operators. Each word is split into lowercase compounds by
//! [`Tokenizer::compounds`]: a word with one compound is a *term*, a word with several
//! (`foo(bar)`) is a phrase of them, a word with none (`--`) is ignored. A phrase is the
//! compound sequence of its quoted text (a one-compound phrase is a term).
//!
//! Semantics, per row: a term matches when it is one of the tokens
//! ([`Tokenizer::tokens`]) of any indexed text of the row ([`indexed_texts`]); a phrase
//! matches when its compounds appear contiguously, in order, in the compound sequence of
//! one indexed text; the query matches when every clause does (possibly in different
//! fields).

use super::error::IndexError;
use super::fields::indexed_texts;
use super::reader::IndexReader;
use super::tokenizer::{MAX_TERM_BYTES, Tokenizer};
use crate::row::Row;

/// Why a query string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query is empty or whitespace only.
    #[error("empty query: give at least one word or \"quoted phrase\"")]
    Empty,
    /// A `"` was opened and never closed.
    #[error(
        "unbalanced quote: the \" at byte {position} is never closed; close the phrase with another \" or remove it"
    )]
    UnbalancedQuote {
        /// Byte offset of the opening quote.
        position: usize,
    },
    /// The query has words, but all of them are punctuation the index does not store.
    #[error("query {query:?} has no searchable words: punctuation alone is not indexed")]
    NoTerms {
        /// The query text.
        query: String,
    },
}

/// One AND-ed condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// A single lowercase token.
    Term(String),
    /// Two or more lowercase compounds that must appear contiguously in one text.
    Phrase(Vec<String>),
}

impl Clause {
    fn words(&self) -> &[String] {
        match self {
            Clause::Term(t) => std::slice::from_ref(t),
            Clause::Phrase(p) => p,
        }
    }
}

/// A parsed full-text query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    clauses: Vec<Clause>,
}

impl Query {
    /// Parses `q` (see the module documentation for the syntax).
    pub fn parse(q: &str) -> Result<Query, QueryError> {
        if q.trim().is_empty() {
            return Err(QueryError::Empty);
        }
        let mut tok = Tokenizer::new();
        let mut clauses = Vec::new();
        let mut push = |text: &str, clauses: &mut Vec<Clause>| {
            let mut words = Vec::new();
            tok.compounds(text, |c| words.push(c.to_string()));
            match words.len() {
                0 => {}
                1 => clauses.extend(words.pop().map(Clause::Term)),
                _ => clauses.push(Clause::Phrase(words)),
            }
        };
        let mut rest = q;
        let mut offset = 0;
        while let Some(open) = rest.find('"') {
            for word in rest[..open].split_whitespace() {
                push(word, &mut clauses);
            }
            let after = &rest[open + 1..];
            let Some(close) = after.find('"') else {
                return Err(QueryError::UnbalancedQuote {
                    position: offset + open,
                });
            };
            push(&after[..close], &mut clauses);
            offset += open + 1 + close + 1;
            rest = &after[close + 1..];
        }
        for word in rest.split_whitespace() {
            push(word, &mut clauses);
        }
        if clauses.is_empty() {
            return Err(QueryError::NoTerms {
                query: q.to_string(),
            });
        }
        clauses.dedup();
        Ok(Query { clauses })
    }

    /// Builds a query from clauses directly (words must already be lowercase compounds).
    pub fn from_clauses(clauses: Vec<Clause>) -> Query {
        Query { clauses }
    }

    /// The AND-ed clauses.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// Rows that may match: the intersection of the postings of every term and every
    /// phrase word, smallest list first. A superset of the matching rows (phrases and
    /// terms longer than [`MAX_TERM_BYTES`] still need [`Query::matches_row`]).
    pub fn candidates(&self, reader: &IndexReader<'_>) -> Result<Vec<u32>, IndexError> {
        let mut infos = Vec::new();
        for w in self.clauses.iter().flat_map(Clause::words) {
            match reader.term_info(w)? {
                Some(i) => infos.push(i),
                None => return Ok(Vec::new()),
            }
        }
        infos.sort_by_key(|i| i.doc_freq);
        infos.dedup();
        let mut iter = infos.iter();
        let Some(first) = iter.next() else {
            return Ok(Vec::new());
        };
        let mut acc = reader.read_postings(first)?;
        for info in iter {
            if acc.is_empty() {
                break;
            }
            let list = reader.read_postings(info)?;
            acc = intersect(&acc, &list);
        }
        Ok(acc)
    }

    /// Whether `row`'s indexed text satisfies every clause (the exact semantics; see the
    /// module documentation).
    pub fn matches_row(&self, row: &Row) -> bool {
        let mut tok = Tokenizer::new();
        let mut texts: Vec<String> = Vec::new();
        indexed_texts(row, |_, t| texts.push(t.to_string()));
        self.clauses.iter().all(|clause| match clause {
            Clause::Term(t) => texts.iter().any(|text| {
                let mut hit = false;
                tok.tokens(text, |x| hit |= x == t);
                hit
            }),
            Clause::Phrase(words) => texts.iter().any(|text| {
                let mut seq = Vec::new();
                tok.compounds(text, |c| seq.push(c.to_string()));
                seq.windows(words.len()).any(|w| w == words.as_slice())
            }),
        })
    }

    /// Whether every clause can be decided from postings alone (no phrase, no term longer
    /// than [`MAX_TERM_BYTES`]), so [`Query::candidates`] is already the exact answer.
    pub fn is_exact_from_index(&self) -> bool {
        self.clauses
            .iter()
            .all(|c| matches!(c, Clause::Term(t) if t.len() <= MAX_TERM_BYTES))
    }
}

/// Intersects two sorted, deduplicated lists, galloping through the longer one.
pub fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    let mut lo = 0usize;
    for &x in small {
        // Gallop: find a window [lo + step/2, lo + step] containing the first >= x.
        let mut step = 1usize;
        while lo + step < large.len() && large[lo + step] < x {
            step *= 2;
        }
        let hi = (lo + step + 1).min(large.len());
        let pos = lo + large[lo..hi].partition_point(|&y| y < x);
        if pos >= large.len() {
            break;
        }
        if large[pos] == x {
            out.push(x);
        }
        lo = pos;
    }
    out
}

/// Runs `query` against one chunk: candidates from `reader`, each verified on the row
/// returned by `fetch_row`. Returns the matching row numbers in order.
pub fn search<E: From<IndexError>>(
    reader: &IndexReader<'_>,
    query: &Query,
    mut fetch_row: impl FnMut(u32) -> Result<Row, E>,
) -> Result<Vec<u32>, E> {
    let candidates = query.candidates(reader)?;
    if query.is_exact_from_index() {
        return Ok(candidates);
    }
    let mut out = Vec::new();
    for r in candidates {
        if query.matches_row(&fetch_row(r)?) {
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_terms_and_phrases() {
        let q =
            Query::parse(r#"NilPointerError  "Connection Reset by peer" foo(bar) -- x"#).unwrap();
        assert_eq!(
            q.clauses(),
            &[
                Clause::Term("nilpointererror".into()),
                Clause::Phrase(vec![
                    "connection".into(),
                    "reset".into(),
                    "by".into(),
                    "peer".into()
                ]),
                Clause::Phrase(vec!["foo".into(), "bar".into()]),
                Clause::Term("x".into()),
            ]
        );
        assert_eq!(
            Query::parse(r#""payments_controller.rb:87""#)
                .unwrap()
                .clauses(),
            &[Clause::Term("payments_controller.rb:87".into())]
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Query::parse("   "), Err(QueryError::Empty));
        assert_eq!(
            Query::parse(r#"a "b c"#),
            Err(QueryError::UnbalancedQuote { position: 2 })
        );
        assert!(matches!(
            Query::parse("-- ()"),
            Err(QueryError::NoTerms { .. })
        ));
        assert!(Query::parse(r#"a "" b"#).is_ok());
    }

    #[test]
    fn intersect_gallops_correctly() {
        let a: Vec<u32> = (0..1000).map(|i| i * 7).collect();
        let b: Vec<u32> = (0..3000).map(|i| i * 3).collect();
        let want: Vec<u32> = a.iter().copied().filter(|x| b.contains(x)).collect();
        assert_eq!(intersect(&a, &b), want);
        assert_eq!(intersect(&b, &a), want);
        assert_eq!(intersect(&[], &b), Vec::<u32>::new());
        assert_eq!(intersect(&[5, 6], &[6]), vec![6]);
    }
}
