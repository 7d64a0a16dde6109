//! PII scrubbing of `message`, `error_message` and `body`.
//!
//! Built-in value patterns (replacement in brackets):
//! - credit-card numbers: 13–19 digits, optionally separated by single spaces or dashes, that
//!   pass the Luhn check (`[CARD]`). The check keeps order numbers, timestamps and the digit
//!   runs of trace ids from being eaten; digits inside a hex id are never matched because the
//!   pattern needs word boundaries.
//! - e-mail addresses (`[EMAIL]`), US social-security numbers `ddd-dd-dddd` (`[SSN]`),
//!   North-American phone numbers with separators (`[PHONE]`), `Bearer <token>`
//!   (`Bearer [FILTERED]`);
//! - each `extra_patterns` regex from settings.json (`[FILTERED]`).
//!
//! The built-in patterns use ASCII classes, as the reference server's Go patterns do. Which
//! patterns apply is decided on the text as it arrived; they then replace in order.
//!
//! Sensitive keys: inside `body`, at any depth, the value of a key whose name, lowercased
//! with `-` read as `_` and an `x-` header prefix ignored, is one of the SDKs' lists (`password`, `passwd`, `secret`, `token`,
//! `api_key`, `apikey`, `authorization`, `auth_token`, `access_token`, `refresh_token`,
//! `credit_card`, `card_number`, `cvv`, `ssn`) or an `extra_keys` entry becomes
//! `"[FILTERED]"` (whatever its type). Nesting deeper than 32 levels is scrubbed as text.
//!
//! Fast path: every text is scanned once by a `RegexSet` of all the value patterns, and only
//! the patterns that matched run their replacement. A raw (unparsed) body is checked with
//! one pass of the same set plus a sensitive-key pattern; only a body that might contain
//! something is parsed and walked.

use std::collections::HashSet;

use opentrace_shared::Row;
use opentrace_shared::settings::PiiSettings;
use regex::{Captures, Regex, RegexSet};
use serde_json::Value;

use crate::wire::Body;

/// The replacement for sensitive keys and extra patterns.
pub const FILTERED: &str = "[FILTERED]";

/// The SDKs' sensitive key names (Ruby `pii_scrubber.rb`, Node `pii-scrubber.ts`) plus the
/// reference server's.
pub const SENSITIVE_KEYS: [&str; 14] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "auth_token",
    "access_token",
    "refresh_token",
    "credit_card",
    "card_number",
    "cvv",
    "ssn",
];

const MAX_DEPTH: usize = 32;

struct Rule {
    re: Regex,
    replacement: String,
    luhn: bool,
}

/// A compiled set of scrubbing rules.
pub struct Scrubber {
    enabled: bool,
    rules: Vec<Rule>,
    /// The value patterns of `rules`, in the same order.
    any_value: RegexSet,
    /// The value patterns plus, last, a `"key":` pattern for the sensitive keys: one pass
    /// over a raw body decides whether it must be parsed.
    raw_body: RegexSet,
    keys: HashSet<String>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("enabled", &self.enabled)
            .field("rules", &self.rules.len())
            .field("keys", &self.keys.len())
            .finish()
    }
}

fn luhn_ok(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if !i.is_multiple_of(2) {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Whether a candidate string is a Luhn-valid card number of 13–19 digits.
pub fn is_card_number(s: &str) -> bool {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    (13..=19).contains(&digits.len()) && luhn_ok(&digits)
}

fn normalize_key(k: &str) -> String {
    k.trim().to_ascii_lowercase().replace('-', "_")
}

impl Scrubber {
    /// Compiles the rules. Invalid `extra_patterns` are skipped and returned as messages.
    pub fn new(settings: &PiiSettings) -> (Scrubber, Vec<String>) {
        let mut problems = Vec::new();
        // ASCII classes throughout (`(?-u)`): `\d` and `\s` mean what they mean in the
        // reference server's Go regexps, and byte-sized classes keep the set's automaton
        // small, which is what scanning every message and body costs.
        let builtin: [(&str, &str, bool); 5] = [
            (r"(?-u)\b(?:\d[ -]?){12,18}\d\b", "[CARD]", true),
            (
                r"(?-u)[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
                "[EMAIL]",
                false,
            ),
            (r"(?-u)\b\d{3}-\d{2}-\d{4}\b", "[SSN]", false),
            (
                r"(?-u)(?:\+?1[ .\-]?)?(?:\(\d{3}\) ?|\b\d{3}[ .\-])\d{3}[ .\-]\d{4}\b",
                "[PHONE]",
                false,
            ),
            (
                r"(?i-u)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*",
                "Bearer [FILTERED]",
                false,
            ),
        ];
        let mut rules = Vec::new();
        for (p, r, luhn) in builtin {
            if let Ok(re) = Regex::new(p) {
                rules.push(Rule {
                    re,
                    replacement: r.to_string(),
                    luhn,
                });
            }
        }
        for p in &settings.extra_patterns {
            match Regex::new(p) {
                Ok(re) => rules.push(Rule {
                    re,
                    replacement: FILTERED.to_string(),
                    luhn: false,
                }),
                Err(e) => problems.push(format!("PII pattern {p:?} ignored: {e}")),
            }
        }
        let any_value = RegexSet::new(rules.iter().map(|r| r.re.as_str())).unwrap_or_else(|e| {
            problems.push(format!("PII pattern set could not be built: {e}"));
            RegexSet::empty()
        });
        let mut keys: HashSet<String> = SENSITIVE_KEYS.iter().map(|k| k.to_string()).collect();
        keys.extend(
            settings
                .extra_keys
                .iter()
                .map(|k| normalize_key(k))
                .filter(|k| !k.is_empty()),
        );
        let alternation: Vec<String> = keys
            .iter()
            .map(|k| regex::escape(k).replace('_', "[-_]"))
            .collect();
        // ASCII case folding when every key is ASCII (the usual case): a smaller automaton.
        let flags = if keys.iter().all(|k| k.is_ascii()) {
            "i-u"
        } else {
            "i"
        };
        let key_hint = format!(
            r#"(?{flags})"\s*(?:x[-_])?(?:{})\s*"\s*:"#,
            alternation.join("|")
        );
        let raw_body = RegexSet::new(
            rules
                .iter()
                .map(|r| r.re.as_str())
                .chain(std::iter::once(key_hint.as_str())),
        )
        .unwrap_or_else(|e| {
            problems.push(format!("PII key pattern could not be built: {e}"));
            // Without the key pattern every body is walked: slower, never less safe.
            RegexSet::new([""]).unwrap_or_else(|_| RegexSet::empty())
        });
        (
            Scrubber {
                enabled: settings.enabled,
                rules,
                any_value,
                raw_body,
                keys,
            },
            problems,
        )
    }

    /// Whether scrubbing is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether `key` names a sensitive value.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        let k = normalize_key(key);
        self.keys.contains(&k)
            || k.strip_prefix("x_")
                .is_some_and(|rest| self.keys.contains(rest))
    }

    /// The scrubbed text, or `None` when nothing matched.
    pub fn scrub_str(&self, s: &str) -> Option<String> {
        if !self.enabled {
            return None;
        }
        // Most texts match nothing: one plain scan answers them; which patterns matched
        // (a slower, overlapping scan) is only asked of the rest.
        if !self.any_value.is_match(s) {
            return None;
        }
        let hits = self.any_value.matches(s);
        let mut out = s.to_string();
        let mut changed = false;
        for rule in hits.iter().filter_map(|i| self.rules.get(i)) {
            let replaced = if rule.luhn {
                rule.re.replace_all(&out, |c: &Captures| {
                    let m = c.get(0).map_or("", |m| m.as_str());
                    if is_card_number(m) {
                        rule.replacement.clone()
                    } else {
                        m.to_string()
                    }
                })
            } else {
                rule.re.replace_all(&out, rule.replacement.as_str())
            };
            if let std::borrow::Cow::Owned(o) = replaced
                && o != out
            {
                out = o;
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// Scrubs `message`, `error_message` and the body of one row.
    pub fn scrub_row(&self, row: &mut Row, body: &mut Body<'_>) {
        if !self.enabled {
            return;
        }
        if let Some(s) = self.scrub_str(&row.message) {
            row.message = s;
        }
        if let Some(em) = &row.error_message
            && let Some(s) = self.scrub_str(em)
        {
            row.error_message = Some(s);
        }
        self.scrub_body(body);
    }

    /// Scrubs a body in place; a raw body that cannot contain anything is left unparsed.
    pub fn scrub_body(&self, body: &mut Body<'_>) {
        if !self.enabled {
            return;
        }
        if let Body::Raw(r) = body
            && !self.raw_body.is_match(r.get())
        {
            return;
        }
        if let Some(v) = body.value_mut() {
            self.scrub_value(v, 0);
        }
    }

    fn scrub_value(&self, v: &mut Value, depth: usize) {
        if depth > MAX_DEPTH && (v.is_object() || v.is_array()) {
            let text = v.to_string();
            *v = Value::String(self.scrub_str(&text).unwrap_or(text));
            return;
        }
        match v {
            Value::String(s) => {
                if let Some(n) = self.scrub_str(s) {
                    *s = n;
                }
            }
            Value::Number(n) => {
                if n.is_u64() && is_card_number(&n.to_string()) {
                    *v = Value::String("[CARD]".to_string());
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.scrub_value(x, depth + 1)),
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if !x.is_null() && self.is_sensitive_key(k) {
                        *x = Value::String(FILTERED.to_string());
                    } else {
                        self.scrub_value(x, depth + 1);
                    }
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(&PiiSettings::default()).0
    }

    #[test]
    fn cards_need_luhn() {
        let s = scrubber();
        assert_eq!(
            s.scrub_str("paid with 4111 1111 1111 1111 ok").as_deref(),
            Some("paid with [CARD] ok")
        );
        assert_eq!(
            s.scrub_str("card 4111-1111-1111-1111").as_deref(),
            Some("card [CARD]")
        );
        // 16 digits failing Luhn: an order number, kept.
        assert_eq!(s.scrub_str("order 4111111111111112 shipped"), None);
        // digits inside a hex trace id are never a card.
        assert_eq!(s.scrub_str("trace 4bf92f3577b34da6a3ce929d0e0e4736"), None);
    }

    #[test]
    fn emails_phones_ssns_bearer() {
        let s = scrubber();
        assert_eq!(
            s.scrub_str("mail jane.doe+x@example.co.uk now").as_deref(),
            Some("mail [EMAIL] now")
        );
        assert_eq!(s.scrub_str("ssn 123-45-6789").as_deref(), Some("ssn [SSN]"));
        assert_eq!(
            s.scrub_str("call (555) 123-4567").as_deref(),
            Some("call [PHONE]")
        );
        assert_eq!(
            s.scrub_str("call 555.123.4567").as_deref(),
            Some("call [PHONE]")
        );
        assert_eq!(
            s.scrub_str("Authorization: Bearer abcdefgh12345678")
                .as_deref(),
            Some("Authorization: Bearer [FILTERED]")
        );
        assert_eq!(s.scrub_str("GET /orders/42 500 4ms"), None);
    }

    #[test]
    fn sensitive_keys_nested_in_body() {
        let s = scrubber();
        let raw = serde_json::value::RawValue::from_string(
            r#"{"context":{"user":{"Password":"hunter2","name":"bob"},"headers":[{"X-Api-Key":"k","ok":1}],"note":"write to a@b.io"}}"#
                .to_string(),
        )
        .unwrap();
        let mut body = Body::Raw(&raw);
        s.scrub_body(&mut body);
        let v = match body {
            Body::Parsed(v) => v,
            other => panic!("{other:?}"),
        };
        assert_eq!(v["context"]["user"]["Password"], "[FILTERED]");
        assert_eq!(v["context"]["user"]["name"], "bob");
        assert_eq!(v["context"]["headers"][0]["X-Api-Key"], "[FILTERED]");
        assert_eq!(v["context"]["headers"][0]["ok"], 1);
        assert_eq!(v["context"]["note"], "write to [EMAIL]");
    }

    #[test]
    fn clean_raw_body_stays_unparsed() {
        let s = scrubber();
        let raw =
            serde_json::value::RawValue::from_string(r#"{"context":{"page":2}}"#.into()).unwrap();
        let mut body = Body::Raw(&raw);
        s.scrub_body(&mut body);
        assert!(matches!(body, Body::Raw(_)));
    }

    #[test]
    fn settings_extend_and_disable() {
        let (s, problems) = Scrubber::new(&PiiSettings {
            enabled: true,
            extra_patterns: vec!["ACCT-[0-9]{4}".into(), "(".into()],
            extra_keys: vec!["PIN".into()],
        });
        assert_eq!(problems.len(), 1);
        assert_eq!(
            s.scrub_str("acct ACCT-1234").as_deref(),
            Some("acct [FILTERED]")
        );
        assert!(s.is_sensitive_key("pin"));
        let (off, _) = Scrubber::new(&PiiSettings {
            enabled: false,
            ..PiiSettings::default()
        });
        assert_eq!(off.scrub_str("a@b.io"), None);
    }

    #[test]
    fn only_patterns_matching_the_original_text_apply() {
        let (s, _) = Scrubber::new(&PiiSettings {
            enabled: true,
            extra_patterns: vec![r"\[EMAIL\]".into()],
            extra_keys: vec![],
        });
        // The e-mail rule's replacement is not rewritten by the extra pattern.
        assert_eq!(s.scrub_str("to a@b.io").as_deref(), Some("to [EMAIL]"));
        // Several rules in one text all apply, in order.
        assert_eq!(
            s.scrub_str("a@b.io 123-45-6789").as_deref(),
            Some("[EMAIL] [SSN]")
        );
    }

    #[test]
    fn digits_are_ascii_digits_as_in_the_reference() {
        let s = scrubber();
        // U+0661.. (Arabic-Indic digits) shaped like an SSN and a phone number.
        assert_eq!(
            s.scrub_str("\u{661}\u{662}\u{663}-\u{664}\u{665}-\u{666}\u{667}\u{668}\u{669}"),
            None
        );
        assert_eq!(s.scrub_str("ssn 123-45-6789").as_deref(), Some("ssn [SSN]"));
    }
}
