//! One-pass batch decoding: the request body is parsed once, each entry straight into a
//! [`WireEntry`] handed to the caller as soon as it is complete.
//!
//! The two-pass path ([`super::split_batch`] into raw entries, then
//! [`super::flat::decode_entry`] for each) reads every byte of the body twice. It stays the
//! reference: [`for_each_entry`] gives up on any body it cannot take in one go (not JSON, not
//! an array or object, an entry the derived deserializer refuses such as one with a duplicate
//! key, more entries than allowed) and the caller falls back to the two-pass path, which
//! reports those cases entry by entry exactly as before. Entries are only handed over, never
//! collected, so a large batch costs no more memory than it did.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::flat::WireEntry;

/// What [`for_each_entry`] hands over for each element of the batch.
pub type EntryResult<'a> = Result<WireEntry<'a>, String>;

/// The message an element that is not an object is rejected with (the same on both paths).
pub const NOT_AN_OBJECT: &str = "entry must be a JSON object";

/// Decodes one element of the batch and hands it to the caller's closure from inside the
/// parser, so the entry (about a kilobyte of fields) is built in place and moved once.
struct Element<'f, F> {
    f: &'f mut F,
    index: usize,
}

impl<'de, F: FnMut(usize, EntryResult<'de>)> DeserializeSeed<'de> for Element<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'f, F> Element<'f, F> {
    fn not_object<'de, E>(self) -> Result<(), E>
    where
        F: FnMut(usize, EntryResult<'de>),
    {
        (self.f)(self.index, Err(NOT_AN_OBJECT.to_string()));
        Ok(())
    }
}

impl<'de, F: FnMut(usize, EntryResult<'de>)> Visitor<'de> for Element<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a log entry object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let e = WireEntry::deserialize(de::value::MapAccessDeserializer::new(map))?;
        (self.f)(self.index, Ok(e));
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.not_object()
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_object()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_object()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_object()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_object()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_object()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_object()
    }
}

/// The array's elements, handed one by one to `f`, at most `max` of them.
struct EachEntry<'f, F> {
    f: &'f mut F,
    max: usize,
}

impl<'de, F: FnMut(usize, EntryResult<'de>)> Visitor<'de> for EachEntry<'_, F> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of log entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut index = 0;
        loop {
            if index == self.max {
                // One more element means too many; the two-pass path reports it.
                return match seq.next_element::<IgnoredAny>()? {
                    Some(_) => Err(de::Error::custom("too many entries")),
                    None => Ok(index),
                };
            }
            let element = Element {
                f: &mut *self.f,
                index,
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(index);
            }
            index += 1;
        }
    }
}

impl<'de, F: FnMut(usize, EntryResult<'de>)> DeserializeSeed<'de> for EachEntry<'_, F> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

/// The body could not be taken in one pass; decode it with the two-pass path instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UseTwoPass;

/// Parses a request body (a JSON array of entries or one entry object, after an optional
/// UTF-8 BOM) in one pass, calling `f(index, entry)` for each entry in order.
///
/// Returns the number of entries. On `Err(UseTwoPass)` some entries may already have been
/// handed to `f`: the caller discards what it built from them and decodes the body with
/// [`super::split_batch`] and [`super::flat::decode_entry`].
pub fn for_each_entry<'a, F>(bytes: &'a [u8], max: usize, mut f: F) -> Result<usize, UseTwoPass>
where
    F: FnMut(usize, EntryResult<'a>),
{
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // One UTF-8 check of the whole body lets the parser skip checking string by string.
    let text = std::str::from_utf8(bytes).map_err(|_| UseTwoPass)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let n = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => EachEntry { f: &mut f, max }
            .deserialize(&mut de)
            .map_err(|_| UseTwoPass)?,
        Some(b'{') if max > 0 => {
            Element {
                f: &mut f,
                index: 0,
            }
            .deserialize(&mut de)
            .map_err(|_| UseTwoPass)?;
            1
        }
        _ => return Err(UseTwoPass),
    };
    de.end().map_err(|_| UseTwoPass)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the one-pass decoder hands over: per entry, its message or its error.
    fn run(body: &str, max: usize) -> Result<Vec<String>, UseTwoPass> {
        let mut seen = Vec::new();
        let n = for_each_entry(body.as_bytes(), max, |i, e| {
            assert_eq!(i, seen.len());
            seen.push(match e {
                Ok(w) => format!("{:?}", w.message),
                Err(m) => m,
            });
        })?;
        assert_eq!(n, seen.len());
        Ok(seen)
    }

    #[test]
    fn takes_arrays_and_single_objects_in_one_pass() {
        let seen = run(r#"[{"message":"a"}, 3, {"message":"b"}, [1], null]"#, 10).unwrap();
        assert_eq!(seen.len(), 5);
        assert!(seen[0].contains("\"a\""), "{seen:?}");
        assert_eq!(seen[1], NOT_AN_OBJECT);
        assert!(seen[2].contains("\"b\""), "{seen:?}");
        assert_eq!(seen[3], NOT_AN_OBJECT);
        assert_eq!(seen[4], NOT_AN_OBJECT);
        assert_eq!(run("\u{feff} {\"message\":\"x\"} ", 10).unwrap().len(), 1);
        assert_eq!(run("[]", 10).unwrap().len(), 0);
        assert_eq!(run("[{},{}]", 2).unwrap().len(), 2);
    }

    #[test]
    fn leaves_what_it_cannot_take_to_the_two_pass_path() {
        for body in [
            r#"[{"message":"a","message":"b"}]"#,
            "[{},{},{}]",
            "[{}] x",
            "[{},",
            "42",
            "",
            "{}",
        ] {
            let max = if body == "{}" { 0 } else { 2 };
            assert_eq!(run(body, max), Err(UseTwoPass), "{body}");
        }
        assert_eq!(
            for_each_entry(b"[{\"message\":\"\xff\"}]", 10, |_, _| {}),
            Err(UseTwoPass)
        );
    }
}
