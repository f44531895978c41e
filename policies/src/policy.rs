//! One allow/deny policy (spec §6.2 steps 4–5).

use crate::pattern::pattern_matches;

/// An allow list and a deny list of path patterns. Patterns are kept as configured (order and
/// duplicates included) and are matched with [`pattern_matches`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    allow: Vec<String>,
    deny: Vec<String>,
}

impl Policy {
    /// A policy with the given allow and deny patterns.
    pub fn new(allow: Vec<String>, deny: Vec<String>) -> Policy {
        Policy { allow, deny }
    }

    /// The allow patterns, as configured.
    pub fn allow(&self) -> &[String] {
        &self.allow
    }

    /// The deny patterns, as configured.
    pub fn deny(&self) -> &[String] {
        &self.deny
    }

    /// Reports whether the policy permits `path`: no deny pattern matches it and at least one
    /// allow pattern does. Deny wins.
    pub fn allows(&self, path: &str) -> bool {
        let matches = |p: &String| pattern_matches(p, path);
        !self.deny.iter().any(matches) && self.allow.iter().any(matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str], deny: &[&str]) -> Policy {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Policy::new(owned(allow), owned(deny))
    }

    #[test]
    fn empty_policy_allows_nothing() {
        assert!(!Policy::default().allows("/v1/status"));
    }

    #[test]
    fn deny_wins() {
        let p = policy(&["/v1/key/*"], &["/v1/key/delete/*"]);
        assert!(p.allows("/v1/key/create/k"));
        assert!(!p.allows("/v1/key/delete/k"));
        let p = policy(&["/v1/status"], &["/v1/status"]);
        assert!(!p.allows("/v1/status"));
    }

    #[test]
    fn deny_alone_allows_nothing() {
        assert!(!policy(&[], &["/v1/key/delete/*"]).allows("/v1/status"));
    }

    #[test]
    fn accessors_keep_configured_order() {
        let p = policy(&["b", "a"], &["d", "c"]);
        assert_eq!(p.allow(), ["b", "a"]);
        assert_eq!(p.deny(), ["d", "c"]);
    }
}
