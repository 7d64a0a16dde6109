//! Tolerant field types for the wire decoder.
//!
//! The SDKs are loose with JSON types: Ruby sends `null` for unresolved strings, Node sends
//! `duration_ms: 3.9` for an integer column, some apps pass numeric user ids. These types
//! accept every reasonable spelling and *record* a wrong type instead of failing the whole
//! struct, so the decoder can reject one entry with the name of the offending field while its
//! siblings are kept.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string-typed wire field.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum WStr {
    /// Key absent or `null`.
    #[default]
    Absent,
    /// A string, or a number/boolean rendered as text (`user_id: 42` → `"42"`).
    Val(String),
    /// A JSON type that cannot be a string (object or array); the value names the type.
    Bad(&'static str),
}

/// A number-typed wire field (integers and floats, or numeric strings).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum WNum {
    /// Key absent or `null`.
    #[default]
    Absent,
    /// An integer.
    Int(i64),
    /// A float (rounded when stored into an integer column).
    Float(f64),
    /// A JSON type that cannot be a number.
    Bad(&'static str),
}

/// A boolean wire field (`true`/`false`, `0`/`1`, `"true"`/`"false"`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum WBool {
    /// Key absent or `null`.
    #[default]
    Absent,
    /// A boolean.
    Val(bool),
    /// A JSON value that cannot be a boolean.
    Bad(&'static str),
}

fn drain_map<'de, A: MapAccess<'de>>(mut m: A) -> Result<(), A::Error> {
    while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut s: A) -> Result<(), A::Error> {
    while s.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = WStr;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<WStr, E> {
        Ok(WStr::Val(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<WStr, E> {
        Ok(WStr::Val(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<WStr, E> {
        Ok(WStr::Val(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<WStr, E> {
        Ok(WStr::Val(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<WStr, E> {
        Ok(WStr::Val(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<WStr, E> {
        Ok(WStr::Val(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<WStr, E> {
        Ok(WStr::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<WStr, E> {
        Ok(WStr::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<WStr, D::Error> {
        d.deserialize_any(StrVisitor)
    }
    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<WStr, A::Error> {
        drain_map(m)?;
        Ok(WStr::Bad("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<WStr, A::Error> {
        drain_seq(s)?;
        Ok(WStr::Bad("an array"))
    }
}

impl<'de> Deserialize<'de> for WStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WStr, D::Error> {
        d.deserialize_any(StrVisitor)
    }
}

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = WNum;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<WNum, E> {
        Ok(WNum::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<WNum, E> {
        Ok(WNum::Int(i64::try_from(v).unwrap_or(i64::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<WNum, E> {
        Ok(WNum::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<WNum, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(WNum::Absent);
        }
        if let Ok(i) = t.parse::<i64>() {
            return Ok(WNum::Int(i));
        }
        match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(WNum::Float(f)),
            _ => Ok(WNum::Bad("a non-numeric string")),
        }
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<WNum, E> {
        Ok(WNum::Bad("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<WNum, E> {
        Ok(WNum::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<WNum, E> {
        Ok(WNum::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<WNum, D::Error> {
        d.deserialize_any(NumVisitor)
    }
    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<WNum, A::Error> {
        drain_map(m)?;
        Ok(WNum::Bad("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<WNum, A::Error> {
        drain_seq(s)?;
        Ok(WNum::Bad("an array"))
    }
}

impl<'de> Deserialize<'de> for WNum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WNum, D::Error> {
        d.deserialize_any(NumVisitor)
    }
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = WBool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<WBool, E> {
        Ok(WBool::Val(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<WBool, E> {
        Ok(match v {
            0 => WBool::Val(false),
            1 => WBool::Val(true),
            _ => WBool::Bad("a number other than 0 or 1"),
        })
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<WBool, E> {
        self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<WBool, E> {
        Ok(WBool::Bad("a fractional number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<WBool, E> {
        Ok(match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => WBool::Val(true),
            "false" | "0" | "no" => WBool::Val(false),
            "" => WBool::Absent,
            _ => WBool::Bad("a string that is not true or false"),
        })
    }
    fn visit_unit<E: de::Error>(self) -> Result<WBool, E> {
        Ok(WBool::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<WBool, E> {
        Ok(WBool::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<WBool, D::Error> {
        d.deserialize_any(BoolVisitor)
    }
    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<WBool, A::Error> {
        drain_map(m)?;
        Ok(WBool::Bad("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<WBool, A::Error> {
        drain_seq(s)?;
        Ok(WBool::Bad("an array"))
    }
}

impl<'de> Deserialize<'de> for WBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WBool, D::Error> {
        d.deserialize_any(BoolVisitor)
    }
}

/// Rounds a number to an integer the way every integer column expects: floats are rounded
/// half away from zero and saturate at the `i64` range.
pub fn round_to_int(n: f64) -> i64 {
    // `as` saturates for out-of-range floats; JSON cannot carry NaN or infinities.
    n.round() as i64
}

impl WStr {
    /// The string, with empty strings treated as absent; `Err` names the bad JSON type.
    pub fn into_opt(self, field: &str) -> Result<Option<String>, String> {
        match self {
            WStr::Absent => Ok(None),
            WStr::Val(s) if s.is_empty() => Ok(None),
            WStr::Val(s) => Ok(Some(s)),
            WStr::Bad(t) => Err(format!("field `{field}` must be a string, got {t}")),
        }
    }

    /// Whether a value (possibly empty) was given.
    pub fn is_present(&self) -> bool {
        !matches!(self, WStr::Absent)
    }
}

impl WNum {
    /// The value rounded to an integer; `Err` names the bad JSON type.
    pub fn into_int(self, field: &str) -> Result<Option<i64>, String> {
        match self {
            WNum::Absent => Ok(None),
            WNum::Int(i) => Ok(Some(i)),
            WNum::Float(f) => Ok(Some(round_to_int(f))),
            WNum::Bad(t) => Err(format!("field `{field}` must be a number, got {t}")),
        }
    }

    /// The value ×100, rounded (for `mem_delta_mb`, stored in hundredths of a MB).
    pub fn into_hundredths(self, field: &str) -> Result<Option<i64>, String> {
        match self {
            WNum::Absent => Ok(None),
            WNum::Int(i) => Ok(Some(i.saturating_mul(100))),
            WNum::Float(f) => Ok(Some(round_to_int(f * 100.0))),
            WNum::Bad(t) => Err(format!("field `{field}` must be a number, got {t}")),
        }
    }
}

impl WBool {
    /// The boolean; `Err` names the bad JSON value.
    pub fn into_opt(self, field: &str) -> Result<Option<bool>, String> {
        match self {
            WBool::Absent => Ok(None),
            WBool::Val(b) => Ok(Some(b)),
            WBool::Bad(t) => Err(format!("field `{field}` must be a boolean, got {t}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct T {
        s: WStr,
        n: WNum,
        b: WBool,
    }

    fn t(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn strings_accept_scalars_and_null() {
        assert_eq!(t(r#"{"s":null,"n":1,"b":true}"#).s, WStr::Absent);
        assert_eq!(t(r#"{"s":42,"n":1,"b":true}"#).s, WStr::Val("42".into()));
        assert_eq!(
            t(r#"{"s":"x\"y","n":1,"b":true}"#).s,
            WStr::Val("x\"y".into())
        );
        assert_eq!(
            t(r#"{"s":{"a":[1]},"n":1,"b":true}"#).s,
            WStr::Bad("an object")
        );
    }

    #[test]
    fn numbers_round_and_report_bad_types() {
        assert_eq!(t(r#"{"s":"","n":3.9,"b":0}"#).n.into_int("n"), Ok(Some(4)));
        assert_eq!(
            t(r#"{"s":"","n":-2.5,"b":0}"#).n.into_int("n"),
            Ok(Some(-3))
        );
        assert_eq!(
            t(r#"{"s":"","n":"17","b":0}"#).n.into_int("n"),
            Ok(Some(17))
        );
        assert_eq!(
            t(r#"{"s":"","n":1.234,"b":0}"#).n.into_hundredths("n"),
            Ok(Some(123))
        );
        let bad = t(r#"{"s":"","n":"abc","b":0}"#).n.into_int("status");
        assert_eq!(
            bad,
            Err("field `status` must be a number, got a non-numeric string".to_string())
        );
        assert_eq!(t(r#"{"s":"","n":[1,2],"b":0}"#).n, WNum::Bad("an array"));
    }

    #[test]
    fn booleans_accept_common_spellings() {
        assert_eq!(t(r#"{"s":"","n":1,"b":1}"#).b, WBool::Val(true));
        assert_eq!(t(r#"{"s":"","n":1,"b":"false"}"#).b, WBool::Val(false));
        assert!(matches!(t(r#"{"s":"","n":1,"b":7}"#).b, WBool::Bad(_)));
    }
}
