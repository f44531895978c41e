//! Name and list-pattern rules (spec §1.5).

/// Longest name or pattern, in bytes.
const MAX_LEN: usize = 80;

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Reports whether `s` is a valid key, policy or identity name: 1–80 bytes of
/// `0-9 A-Z a-z _ -`, not starting or ending with `-`, and not the single name `_`.
pub fn is_valid_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && s != "_"
        && !s.starts_with('-')
        && !s.ends_with('-')
        && bytes.iter().copied().all(is_name_char)
}

/// Reports whether `s` is a valid list pattern: at most 80 bytes of the name characters,
/// optionally ending in one `*`. The empty pattern and `*` alone are valid.
pub fn is_valid_pattern(s: &str) -> bool {
    let prefix = s.strip_suffix('*').unwrap_or(s);
    s.len() <= MAX_LEN && prefix.bytes().all(is_name_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("a"));
        assert!(is_valid_name("_a"));
        assert!(is_valid_name("a_"));
        assert!(is_valid_name("__"));
        assert!(is_valid_name(&"x".repeat(80)));
        assert!(!is_valid_name(&"x".repeat(81)));
        assert!(!is_valid_name("-"));
        assert!(!is_valid_name("a*"));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("a%2Fb"));
    }

    #[test]
    fn patterns() {
        assert!(is_valid_pattern(""));
        assert!(is_valid_pattern("*"));
        assert!(is_valid_pattern("-"));
        assert!(is_valid_pattern("my-*"));
        assert!(is_valid_pattern(&format!("{}*", "x".repeat(79))));
        assert!(!is_valid_pattern(&format!("{}*", "x".repeat(80))));
        assert!(!is_valid_pattern("**"));
        assert!(!is_valid_pattern("*a"));
        assert!(!is_valid_pattern("a/*"));
    }
}
