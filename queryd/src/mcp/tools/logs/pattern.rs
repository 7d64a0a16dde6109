//! A small message normaliser for grouping errors into patterns: UUIDs become `<uuid>`,
//! hexadecimal ids (`0x…` or 8+ hex characters with a digit) `<hex>`, numbers `<n>`, and
//! words mixing letters and 2+ digits (`req7f3a91`) `<id>`; a number with a short unit (`3000ms`) keeps the unit (`<n>ms`). Everything else is kept, so
//! `Order 42 not found` and `Order 1337 not found` both become `Order <n> not found`.

/// Whether `b` is a UUID (8-4-4-4-12 hex digits).
fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn classify(word: &str) -> Option<&'static str> {
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    if digits == word.len() {
        return Some("<n>");
    }
    if let Some(h) = word.strip_prefix("0x")
        && !h.is_empty()
        && h.bytes().all(|c| c.is_ascii_hexdigit())
    {
        return Some("<hex>");
    }
    if word.len() >= 8 && word.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Some("<hex>");
    }
    if digits >= 2 && word.len() >= 6 {
        return Some("<id>");
    }
    None
}

/// The pattern of `msg` (see the module documentation). At most 300 characters are kept.
pub fn normalize(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(300));
    let bytes = msg.as_bytes();
    let mut i = 0;
    while i < bytes.len() && out.len() < 300 {
        if let Some(w) = bytes.get(i..i + 36)
            && is_uuid(w)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
        {
            out.push_str("<uuid>");
            i += 36;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i > start {
            let word = &msg[start..i];
            // A number with a unit (`3000ms`, `12kb`) keeps its unit.
            let digits = word.bytes().take_while(u8::is_ascii_digit).count();
            let unit = &word[digits..];
            if digits > 0
                && !unit.is_empty()
                && unit.len() <= 4
                && unit.bytes().all(|c| c.is_ascii_alphabetic())
            {
                out.push_str("<n>");
                out.push_str(unit);
            } else {
                out.push_str(classify(word).unwrap_or(word));
            }
            continue;
        }
        // One non-alphanumeric character (whole UTF-8 sequence).
        let ch = msg[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// A few fixed words of a pattern, usable as a full-text `query` to find its rows.
pub fn search_words(pattern: &str) -> Option<String> {
    let words: Vec<&str> = pattern
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3 && !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !matches!(*w, "uuid" | "hex"))
        .take(4)
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            normalize("Order 42 not found"),
            normalize("Order 1337 not found")
        );
        assert_eq!(normalize("Order 42 not found"), "Order <n> not found");
        assert_eq!(
            normalize("user 3f2b8c1e-9d4a-4e5b-8c7d-1a2b3c4d5e6f failed"),
            "user <uuid> failed"
        );
        assert_eq!(normalize("ptr 0x7ffd1234 bad"), "ptr <hex> bad");
        assert_eq!(normalize("commit deadbeef12 gone"), "commit <hex> gone");
        assert_eq!(normalize("req req7f3a91 timed out"), "req <id> timed out");
        assert_eq!(normalize("utf8 é 12"), "utf8 é <n>");
        assert_eq!(normalize("keep words"), "keep words");
        assert_eq!(normalize("took 3000ms"), "took <n>ms");
        assert_eq!(
            search_words("Order <n> not found").as_deref(),
            Some("Order not found")
        );
    }
}
