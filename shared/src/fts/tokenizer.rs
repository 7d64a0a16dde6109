//! The full-text tokenizer: turns field text into the lowercase terms the index stores.
//!
//! Log text is full of identifiers, and an engineer searches for them by what they would
//! type: a whole `payments_controller.rb:87`, or just `controller`; a whole
//! `NilPointerError`, or just `pointer`. The tokenizer therefore emits, for each
//! identifier-like run of text, the run itself plus its meaningful parts.
//!
//! # Character classes
//!
//! Every `char` of the text falls in exactly one class:
//!
//! * **weak joiner**: `.` `_` `-`
//! * **strong joiner**: `:` `/` `\` `@` `=` `,` `#` `?` `&` `+` `~` `%` `$`
//! * **separator**: whitespace (`char::is_whitespace`), control characters
//!   (`char::is_control`), the ASCII punctuation `! " ' ( ) * ; < > [ ] ^ ` { | }`, and
//!   the non-alphanumeric characters of U+00A0–U+00BF, U+00D7, U+00F7, U+2000–U+206F
//!   (general punctuation, spaces, dashes, quotes), U+3000–U+303F (CJK punctuation),
//!   U+FE10–U+FE1F, U+FE30–U+FE4F and U+FEFF.
//! * **word**: every other character (letters, digits, marks, other symbols, emoji...).
//!
//! Joiners are the union of weak and strong joiners.
//!
//! # Compounds
//!
//! A *compound* is a maximal run of non-separator characters, trimmed: leading joiners are
//! removed except `/` (so absolute paths keep their slash), then trailing joiners are
//! removed (so `error.`, `87,` and `host:` lose their punctuation). A compound that is empty
//! after trimming or contains no word character is skipped.
//!
//! # Tokens of a compound
//!
//! For a compound `C` the tokenizer emits, in this order (duplicates are possible and
//! harmless):
//!
//! 1. `C` itself.
//! 2. **Prefixes**: `C[..k]` for every position `k` where `C[k]` is a joiner other than `_`
//!    and `-`, and the character before it is a word character (`payments_controller` and
//!    `payments_controller.rb` from `payments_controller.rb:87`; `/api` from `/api/checkout`).
//! 3. **Pieces**: `C` split at strong joiners, each piece trimmed of joiners at both ends,
//!    if it contains a word character and differs from `C` (`87`, `example.com`, `api`).
//! 4. **Segments**: maximal runs of word characters, if different from `C`
//!    (`payments`, `controller`, `rb`, `87`).
//! 5. **camelCase parts** of each segment (of `C` itself when `C` is one segment) that has
//!    at least two: a part boundary is before an uppercase letter preceded by a lowercase
//!    letter (`nilPointer`), and before an uppercase letter preceded by an uppercase letter
//!    and followed by a lowercase one (`HTTPServer` → `HTTP`, `Server`). Digits never split.
//!
//! Every token is then lowercased character by character with `char::to_lowercase` (no
//! context-dependent rules), so `NilPointerError` yields `nilpointererror`, `nil`,
//! `pointer`, `error`.
//!
//! # Length limit
//!
//! Tokens have no length limit; the index stores each token under its *key*, the token
//! truncated to at most [`MAX_TERM_BYTES`] bytes at a character boundary ([`index_key`]).
//! A lookup of a longer token therefore returns a superset of its rows, which query
//! verification narrows to the exact rows.
//!
//! # Query side
//!
//! A query word is split into compounds exactly as above and lowercased, but only the
//! compounds themselves are used ([`Tokenizer::compounds`]): `payments_controller.rb:87`
//! searches for exactly that compound, `pointer` searches for the token `pointer`, which
//! the camelCase rule emits for `NilPointerError`. Every token emitted for a text is a
//! single compound of itself (it has no separators, starts with a word character or `/`
//! and ends with a word character), so searching for any emitted token finds the text.

/// Maximum length in bytes of an index key; longer tokens are stored truncated.
pub const MAX_TERM_BYTES: usize = 64;

/// Character class, see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    WeakJoiner,
    StrongJoiner,
    Separator,
}

fn classify(c: char) -> Class {
    if c.is_ascii() {
        return ASCII_CLASS[c as usize];
    }
    let u = u32::from(c);
    let punct_range = matches!(
        u,
        0x00A0..=0x00BF
            | 0x00D7
            | 0x00F7
            | 0x2000..=0x206F
            | 0x3000..=0x303F
            | 0xFE10..=0xFE1F
            | 0xFE30..=0xFE4F
            | 0xFEFF
    );
    if c.is_whitespace() || c.is_control() || (punct_range && !c.is_alphanumeric()) {
        Class::Separator
    } else {
        Class::Word
    }
}

fn is_joiner(c: char) -> bool {
    matches!(classify(c), Class::WeakJoiner | Class::StrongJoiner)
}

/// Truncates a token to its index key: at most [`MAX_TERM_BYTES`] bytes, cut at a
/// character boundary.
pub fn index_key(token: &str) -> &str {
    if token.len() <= MAX_TERM_BYTES {
        return token;
    }
    let mut end = MAX_TERM_BYTES;
    while !token.is_char_boundary(end) {
        end -= 1;
    }
    token.get(..end).unwrap_or("")
}

/// The class of each ASCII byte, so that scanning text needs no `char` decoding for the
/// ASCII bulk of log lines (every joiner and every ASCII separator is a single byte, and no
/// byte of a multi-byte UTF-8 character is below 0x80).
const ASCII_CLASS: [Class; 128] = {
    let mut t = [Class::Separator; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = classify_ascii(b as u8);
        b += 1;
    }
    t
};

const fn classify_ascii(b: u8) -> Class {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => Class::Word,
        b'.' | b'_' | b'-' => Class::WeakJoiner,
        b':' | b'/' | b'\\' | b'@' | b'=' | b',' | b'#' | b'?' | b'&' | b'+' | b'~' | b'%'
        | b'$' => Class::StrongJoiner,
        _ => Class::Separator,
    }
}

/// Whether the byte is an ASCII joiner (every joiner is ASCII).
fn is_joiner_byte(b: u8) -> bool {
    b < 0x80
        && matches!(
            ASCII_CLASS[b as usize],
            Class::WeakJoiner | Class::StrongJoiner
        )
}

/// Calls `f` with every trimmed compound of `text`, in original case and text order.
pub fn for_each_compound<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let bytes = text.as_bytes();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (separator, width) = if b < 0x80 {
            (ASCII_CLASS[b as usize] == Class::Separator, 1)
        } else {
            // A multi-byte character starts here (`i` is always on a boundary).
            match text.get(i..).and_then(|rest| rest.chars().next()) {
                Some(c) => (classify(c) == Class::Separator, c.len_utf8()),
                None => break,
            }
        };
        if separator {
            if let Some(s) = start.take() {
                emit_trimmed(text.get(s..i).unwrap_or(""), &mut f);
            }
        } else if start.is_none() {
            start = Some(i);
        }
        i += width;
    }
    if let Some(s) = start {
        emit_trimmed(text.get(s..).unwrap_or(""), &mut f);
    }
}

/// Trims a run of non-separators into its compound and emits it if it has a word
/// character. Joiners are ASCII, so trimming works on bytes; any non-ASCII character of
/// the run is a word character (it is neither a separator nor a joiner).
fn emit_trimmed<'t>(run: &'t str, f: &mut impl FnMut(&'t str)) {
    let b = run.as_bytes();
    let mut s = 0;
    while s < b.len() && b[s] != b'/' && is_joiner_byte(b[s]) {
        s += 1;
    }
    let mut e = b.len();
    while e > s && is_joiner_byte(b[e - 1]) {
        e -= 1;
    }
    let Some(run) = run.get(s..e) else { return };
    if run
        .bytes()
        .any(|c| c >= 0x80 || ASCII_CLASS[c as usize] == Class::Word)
    {
        f(run);
    }
}

/// A reusable tokenizer holding scratch buffers, so tokenizing allocates nothing per token.
#[derive(Debug, Default)]
pub struct Tokenizer {
    lower: String,
    ranges: Vec<(usize, usize)>,
}

impl Tokenizer {
    /// Creates a tokenizer with empty scratch buffers.
    pub fn new() -> Tokenizer {
        Tokenizer::default()
    }

    /// Calls `f` with every token of `text` (lowercased), as specified in the module docs.
    pub fn tokens(&mut self, text: &str, mut f: impl FnMut(&str)) {
        for_each_compound(text, |c| self.compound_tokens(c, &mut f));
    }

    /// Calls `f` with every compound of `text`, lowercased: the query-side tokenization,
    /// and the token sequence phrases are matched against.
    pub fn compounds(&mut self, text: &str, mut f: impl FnMut(&str)) {
        for_each_compound(text, |c| {
            lowercase_into(c, &mut self.lower);
            f(&self.lower);
        });
    }

    /// Calls `f` with every token (lowercased) of one compound as produced by
    /// [`for_each_compound`]; [`Tokenizer::tokens`] is this applied to each compound, so
    /// callers may cache the tokens of repeated compounds.
    pub fn compound_tokens(&mut self, c: &str, f: &mut impl FnMut(&str)) {
        self.ranges.clear();
        collect_ranges(c, &mut self.ranges);
        if c.is_ascii() {
            self.lower.clear();
            self.lower.push_str(c);
            self.lower.make_ascii_lowercase();
            for &(s, e) in &self.ranges {
                if let Some(t) = self.lower.get(s..e) {
                    f(t);
                }
            }
        } else {
            for &(s, e) in &self.ranges {
                if let Some(t) = c.get(s..e) {
                    lowercase_into(t, &mut self.lower);
                    f(&self.lower);
                }
            }
        }
    }
}

fn lowercase_into(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// Byte ranges (within the compound `c`) of every token of `c`, original case.
fn collect_ranges(c: &str, out: &mut Vec<(usize, usize)>) {
    let full = (0, c.len());
    out.push(full);
    // 2. prefixes before non-`_`/`-` joiners preceded by a word char.
    let mut prev = Class::Separator;
    for (i, ch) in c.char_indices() {
        let cl = classify(ch);
        if prev == Class::Word && is_joiner(ch) && ch != '_' && ch != '-' {
            out.push((0, i));
        }
        prev = cl;
    }
    // 3. pieces split at strong joiners.
    let mut piece_start = 0;
    let push_piece = |s: usize, e: usize, out: &mut Vec<(usize, usize)>| {
        if let Some(p) = c.get(s..e) {
            let lead = p.len() - p.trim_start_matches(is_joiner).len();
            let p2 = p.trim_matches(is_joiner);
            let r = (s + lead, s + lead + p2.len());
            if r != full && p2.chars().any(|ch| classify(ch) == Class::Word) {
                out.push(r);
            }
        }
    };
    for (i, ch) in c.char_indices() {
        if classify(ch) == Class::StrongJoiner {
            push_piece(piece_start, i, out);
            piece_start = i + ch.len_utf8();
        }
    }
    if piece_start > 0 {
        push_piece(piece_start, c.len(), out);
    }
    // 4. segments, 5. camelCase parts.
    let mut seg_start: Option<usize> = None;
    for (i, ch) in c.char_indices() {
        if classify(ch) == Class::Word {
            if seg_start.is_none() {
                seg_start = Some(i);
            }
        } else if let Some(s) = seg_start.take() {
            push_segment(c, s, i, full, out);
        }
    }
    if let Some(s) = seg_start {
        push_segment(c, s, c.len(), full, out);
    }
}

fn push_segment(c: &str, s: usize, e: usize, full: (usize, usize), out: &mut Vec<(usize, usize)>) {
    if (s, e) != full {
        out.push((s, e));
    }
    let Some(seg) = c.get(s..e) else { return };
    if !seg.chars().any(char::is_uppercase) {
        return;
    }
    let mut bounds: Vec<usize> = Vec::new();
    let chars: Vec<(usize, char)> = seg.char_indices().collect();
    for w in 1..chars.len() {
        let (i, cur) = chars[w];
        let prev = chars[w - 1].1;
        let next = chars.get(w + 1).map(|x| x.1);
        let lower_upper = prev.is_lowercase() && cur.is_uppercase();
        let acronym_end =
            prev.is_uppercase() && cur.is_uppercase() && next.is_some_and(char::is_lowercase);
        if lower_upper || acronym_end {
            bounds.push(i);
        }
    }
    if bounds.is_empty() {
        return;
    }
    let mut from = 0;
    for b in bounds.into_iter().chain(std::iter::once(seg.len())) {
        out.push((s + from, s + b));
        from = b;
    }
}

/// Convenience: every token of `text`, lowercased, in emission order (with duplicates).
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    Tokenizer::new().tokens(text, |t| out.push(t.to_string()));
    out
}

/// Convenience: every lowercased compound of `text`, in text order.
pub fn compounds(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    Tokenizer::new().compounds(text, |t| out.push(t.to_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compound rules of the module docs, applied `char` by `char` (what the byte-level
    /// [`for_each_compound`] must agree with).
    fn compounds_by_char(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for run in text.split(|c| classify(c) == Class::Separator) {
            let run = run.trim_start_matches(|c: char| c != '/' && is_joiner(c));
            let run = run.trim_end_matches(is_joiner);
            if run.chars().any(|c| classify(c) == Class::Word) {
                out.push(run);
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn byte_scan_matches_char_rules(
            text in "[a-zA-Z0-9 ._/:@=,#(\\-]{0,12}(\\PC|[\u{a0}-\u{bf}\u{2000}-\u{206f}\u{3000}\u{feff}\t\n]){0,6}[a-z/._ ]{0,8}",
        ) {
            let mut got = Vec::new();
            for_each_compound(&text, |c| got.push(c));
            proptest::prop_assert_eq!(got, compounds_by_char(&text));
        }
    }

    fn has_all(text: &str, want: &[&str]) {
        let toks = tokenize(text);
        for w in want {
            assert!(
                toks.iter().any(|t| t == w),
                "{text:?}: missing {w:?} in {toks:?}"
            );
        }
    }

    #[test]
    fn camel_case_identifier() {
        has_all(
            "raised NilPointerError here",
            &[
                "nilpointererror",
                "nil",
                "pointer",
                "error",
                "raised",
                "here",
            ],
        );
        has_all("HTTPServer", &["httpserver", "http", "server"]);
        has_all("MRAppMaster", &["mrappmaster", "mr", "app", "master"]);
    }

    #[test]
    fn dotted_field() {
        has_all(
            "customer.address is nil",
            &["customer.address", "customer", "address"],
        );
    }

    #[test]
    fn file_and_line() {
        has_all(
            "at payments_controller.rb:87:",
            &[
                "payments_controller.rb:87",
                "payments_controller.rb",
                "payments_controller",
                "payments",
                "controller",
                "rb",
                "87",
            ],
        );
    }

    #[test]
    fn ids() {
        let uuid = "9c1e0a52-6b0e-4f57-9d1e-3c2f1b7a8e11";
        has_all(&format!("order {uuid} failed"), &[uuid]);
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let span = "00f067aa0ba902b7";
        has_all(&format!("trace={trace} span={span}"), &[trace, span]);
        has_all(&format!("({trace})"), &[trace]);
    }

    #[test]
    fn paths_emails_ips_key_values() {
        has_all(
            "GET /api/checkout 500",
            &["/api/checkout", "api", "checkout", "/api"],
        );
        has_all(
            "GET /api/checkout?x=1",
            &["/api/checkout", "/api/checkout?x=1"],
        );
        has_all(
            "mail alice.smith@example.com.",
            &[
                "alice.smith@example.com",
                "alice.smith",
                "example.com",
                "alice",
                "smith",
            ],
        );
        has_all(
            "rhost=218.188.2.4 from 10.251.73.220:50010",
            &[
                "rhost=218.188.2.4",
                "rhost",
                "218.188.2.4",
                "10.251.73.220",
                "50010",
            ],
        );
        has_all(
            "user_id=42,",
            &["user_id=42", "user_id", "42", "user", "id"],
        );
    }

    #[test]
    fn punctuation_and_case() {
        assert!(tokenize("--- ... !!! (( ))").is_empty());
        assert_eq!(
            compounds("Error: (Timeout) [x]."),
            vec!["error", "timeout", "x"]
        );
        has_all("ÉCOLE Straße", &["école", "straße"]);
    }

    #[test]
    fn keys_truncate_at_char_boundary() {
        let long = "é".repeat(40);
        let k = index_key(&long);
        assert!(k.len() <= MAX_TERM_BYTES && k.len() >= MAX_TERM_BYTES - 1);
        assert!(long.starts_with(k));
        assert_eq!(index_key("short"), "short");
    }

    #[test]
    fn emitted_tokens_are_their_own_compound() {
        let text = "x Foo.BarBaz::qux_v2:9 /a/b?c=d#e ~/x/y. alice@ex.com, ÀbcDéf";
        for t in tokenize(text) {
            assert_eq!(compounds(&t), vec![t.clone()], "token {t:?}");
        }
    }
}
