//! Matching of one policy pattern against a request path (spec §6.2).

/// Reports whether `pattern` matches `path`. The empty pattern never matches; a pattern ending in
/// `*` matches every path starting with the rest (the prefix may cross `/`); any other pattern,
/// including one with a `*` elsewhere, must equal `path` exactly.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => !pattern.is_empty() && pattern == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_never_matches() {
        assert!(!pattern_matches("", ""));
        assert!(!pattern_matches("", "/v1/status"));
    }

    #[test]
    fn trailing_star_is_a_prefix_that_crosses_slashes() {
        assert!(pattern_matches("*", "/anything/at/all"));
        assert!(pattern_matches("/v1/key/*", "/v1/key/create/a/b"));
        assert!(pattern_matches("/v1/key/create/my*", "/v1/key/create/my"));
        assert!(!pattern_matches("/v1/key/create/my*", "/v1/key/create/m"));
    }

    #[test]
    fn other_stars_are_literal() {
        assert!(!pattern_matches(
            "/v1/key/*/my-key",
            "/v1/key/create/my-key"
        ));
        assert!(pattern_matches("/v1/key/*/my-key", "/v1/key/*/my-key"));
        assert!(pattern_matches("/v1/**", "/v1/*x"));
        assert!(!pattern_matches("/v1/**", "/v1/x"));
    }

    #[test]
    fn otherwise_exact() {
        assert!(pattern_matches("/v1/status", "/v1/status"));
        assert!(!pattern_matches("/v1/status", "/v1/status/"));
        assert!(!pattern_matches(
            "/v1/key/create/my",
            "/v1/key/create/my-key"
        ));
    }
}
