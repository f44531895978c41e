//! Policy patterns and matching. Input lines: line 1 is the request path, then allow patterns up
//! to an empty line, then deny patterns. Exercises pattern matching, name and pattern validation,
//! a policy's decision and a policy set's authorization, and checks them against each other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policies::{
    Identity, Policy, PolicyDef, PolicySet, is_valid_name, is_valid_pattern, pattern_matches,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let path = lines.next().unwrap_or_default();
    let allow: Vec<String> = lines
        .by_ref()
        .take_while(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let deny: Vec<String> = lines.map(str::to_owned).collect();

    let _ = is_valid_name(path);
    let _ = is_valid_pattern(path);
    for pattern in allow.iter().chain(&deny) {
        let _ = is_valid_pattern(pattern);
        let _ = is_valid_name(pattern);
        // A non-empty pattern matches its own text, as a prefix pattern or exactly.
        assert_eq!(pattern_matches(pattern, pattern), !pattern.is_empty());
    }
    let allowed = Policy::new(allow.clone(), deny.clone()).allows(path);
    let matches = |p: &String| pattern_matches(p, path);
    assert_eq!(
        allowed,
        allow.iter().any(matches) && !deny.iter().any(matches)
    );

    let admin = Identity::from_spki_der(b"admin");
    let user = Identity::from_spki_der(b"user");
    let defs = vec![PolicyDef {
        name: "fuzz".to_owned(),
        allow,
        deny,
        identities: vec![user.clone()],
    }];
    if let Ok(set) = PolicySet::new(admin.clone(), defs) {
        assert_eq!(set.authorize(&user, path), allowed);
        assert!(set.authorize(&admin, path));
        assert!(!set.authorize(&Identity::from_spki_der(b"other"), path));
        assert!(!set.authorize(&Identity::unknown(), path));
    }
});
