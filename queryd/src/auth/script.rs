//! Renders the `/connect` bash script (`connect.sh`) for this server: the public URL and an
//! optional invite code are baked in as single-quoted shell literals.

/// The script template.
const TEMPLATE: &str = include_str!("connect.sh");

/// Quotes `s` as one single-quoted shell word.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r#"'\''"#))
}

/// Whether `code` has the shape of an invite code (`oti_` + 32 lowercase hex).
pub fn is_invite_shape(code: &str) -> bool {
    code.len() == 36
        && code.starts_with("oti_")
        && code[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The script for `public_url`, with `invite` baked in when it has the shape of a code
/// (anything else is dropped, so nothing from the query string reaches the script).
pub fn render(public_url: &str, invite: Option<&str>) -> String {
    let invite = invite.filter(|c| is_invite_shape(c)).unwrap_or("");
    // The comment lines show the URL; strip anything that could end a comment line.
    let display: String = public_url.chars().filter(|c| !c.is_control()).collect();
    TEMPLATE
        .replace("__SERVER_LITERAL__", &shell_quote(public_url))
        .replace("__INVITE_LITERAL__", &shell_quote(invite))
        .replace("__PUBLIC_URL__", &display)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bakes_in_url_and_valid_invite_only() {
        let s = render("http://x:1", Some("oti_0123456789abcdef0123456789abcdef"));
        assert!(s.contains("SERVER='http://x:1'\n"));
        assert!(s.contains("'oti_0123456789abcdef0123456789abcdef'"));
        let s = render("http://x:1", Some("'; rm -rf / #"));
        assert!(!s.contains("rm -rf"));
        assert!(s.contains("INVITE=''\n"));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a'b"), r#"'a'\''b'"#);
    }
}
