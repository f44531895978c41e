//! The configured admin and policies, and the authorization decision (spec §6.2, §6.3).

use std::collections::HashMap;

use crate::error::PolicyError;
use crate::identity::Identity;
use crate::name::is_valid_name;
use crate::policy::Policy;

/// One `policy:` entry of the configuration, before validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyDef {
    /// The policy name; must pass [`is_valid_name`].
    pub name: String,
    /// Allow patterns.
    pub allow: Vec<String>,
    /// Deny patterns.
    pub deny: Vec<String>,
    /// Identities assigned this policy; each must pass [`is_valid_name`] and appear only once
    /// across all policies.
    pub identities: Vec<Identity>,
}

/// The validated admin identity and policies: who may call which path.
#[derive(Clone, Debug)]
pub struct PolicySet {
    admin: Identity,
    /// Sorted by name, so listing needs no sort.
    policies: Vec<(String, Policy)>,
    /// Identity to its index in `policies`.
    members: HashMap<Identity, usize>,
}

impl PolicySet {
    /// Validates the configuration (§6.3) and builds the set. The admin checks come first, as in
    /// the reference; then the policies are checked in name order (the reference's order is that
    /// of a Go map, i.e. random).
    pub fn new(admin: Identity, mut defs: Vec<PolicyDef>) -> Result<PolicySet, PolicyError> {
        if admin.is_unknown() {
            return Err(PolicyError::NoAdminIdentity);
        }
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        for def in &defs {
            if def.identities.contains(&admin) {
                return Err(PolicyError::IdentityIsAdmin {
                    policy: def.name.clone(),
                    identity: admin.to_string(),
                });
            }
        }

        let mut policies: Vec<(String, Policy)> = Vec::with_capacity(defs.len());
        let mut members = HashMap::new();
        for (index, def) in defs.into_iter().enumerate() {
            if !is_valid_name(&def.name) {
                return Err(PolicyError::InvalidPolicyName(def.name));
            }
            if policies.last().is_some_and(|(prev, _)| *prev == def.name) {
                return Err(PolicyError::DuplicatePolicyName(def.name));
            }
            for id in def.identities {
                if !is_valid_name(id.as_str()) {
                    return Err(PolicyError::InvalidIdentity(id.to_string()));
                }
                if members.contains_key(&id) {
                    return Err(PolicyError::IdentityHasPolicy {
                        policy: def.name,
                        identity: id.to_string(),
                    });
                }
                members.insert(id, index);
            }
            policies.push((def.name, Policy::new(def.allow, def.deny)));
        }
        Ok(PolicySet {
            admin,
            policies,
            members,
        })
    }

    /// Decides whether `identity` may call `path` (§6.2 steps 2–5): the admin may call anything,
    /// an identity without a policy nothing, any other identity what its policy allows.
    pub fn authorize(&self, identity: &Identity, path: &str) -> bool {
        if self.is_admin(identity) {
            return true;
        }
        self.policy_of(identity)
            .is_some_and(|(_, policy)| policy.allows(path))
    }

    /// Reports whether `id` is the admin identity.
    pub fn is_admin(&self, id: &Identity) -> bool {
        *id == self.admin
    }

    /// The admin identity, exactly as configured (possibly a non-hex value such as `disabled`).
    pub fn admin(&self) -> &Identity {
        &self.admin
    }

    /// The name and policy assigned to `id`, if any. The admin has none.
    pub fn policy_of(&self, id: &Identity) -> Option<(&str, &Policy)> {
        let (name, policy) = self.policies.get(*self.members.get(id)?)?;
        Some((name, policy))
    }

    /// The policy called `name`, if configured.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        let i = self
            .policies
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()?;
        self.policies.get(i).map(|(_, policy)| policy)
    }

    /// The names of all policies starting with `prefix`, sorted.
    pub fn policy_names(&self, prefix: &str) -> Vec<&str> {
        self.policies
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| name.starts_with(prefix))
            .collect()
    }

    /// All identities starting with `prefix`, sorted: the admin identity (whatever its form) and
    /// every identity assigned a policy.
    pub fn identities(&self, prefix: &str) -> Vec<&Identity> {
        let mut ids: Vec<&Identity> = std::iter::once(&self.admin)
            .chain(self.members.keys())
            .filter(|id| id.as_str().starts_with(prefix))
            .collect();
        ids.sort();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "3ecfcdf38fcbe141ae26a1030f81e96b753365a46760ae6b578698a97c59fd22";
    const APP: &str = "ea9826089311fe44d7590408ede9150f7c637b6cab0a91ee6fe1aa5d9fb366f6";
    const OPS: &str = "0426fa9a04bc2756b92fbe8a97e1a1e07b53ecf04ed33da22c33e5c9faeb8cbb";
    const STRANGER: &str = "ab785e3b95d80d72cc9c27cb9fde886a0bf9068a69d40e3bd08a54e68c3f2bf7";

    fn id(s: &str) -> Identity {
        Identity::from(s.to_owned())
    }

    fn def(name: &str, allow: &[&str], deny: &[&str], ids: &[&str]) -> PolicyDef {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        PolicyDef {
            name: name.to_owned(),
            allow: owned(allow),
            deny: owned(deny),
            identities: ids.iter().map(|s| id(s)).collect(),
        }
    }

    fn sample() -> PolicySet {
        PolicySet::new(
            id(ADMIN),
            vec![
                def(
                    "my-app",
                    &[
                        "/v1/key/create/my-app*",
                        "/v1/key/generate/my-app*",
                        "/v1/key/decrypt/my-app*",
                    ],
                    &[
                        "/v1/key/generate/my-app-internal*",
                        "/v1/key/decrypt/my-app-internal*",
                    ],
                    &[APP],
                ),
                def("ops", &["/v1/status", "/v1/key/*"], &[], &[OPS]),
                def("unused", &["*"], &[], &[]),
            ],
        )
        .unwrap()
    }

    fn error(admin: &str, defs: Vec<PolicyDef>) -> String {
        PolicySet::new(id(admin), defs).unwrap_err().to_string()
    }

    #[test]
    fn admin_bypasses_every_policy() {
        let set = sample();
        for path in [
            "/v1/log/audit",
            "/v1/metrics",
            "/v1/api",
            "/v1/key/delete/x",
            "/anything",
        ] {
            assert!(set.authorize(&id(ADMIN), path), "{path}");
        }
        assert!(set.is_admin(&id(ADMIN)));
        assert!(!set.is_admin(&id(APP)));
        assert_eq!(set.admin().as_str(), ADMIN);
        assert!(set.policy_of(&id(ADMIN)).is_none());
    }

    #[test]
    fn identity_without_policy_is_refused() {
        let set = sample();
        assert!(!set.authorize(&id(STRANGER), "/v1/status"));
        assert!(!set.authorize(&Identity::unknown(), "/v1/status"));
        assert!(!set.authorize(&Identity::unknown(), "/"));
        // Upper-case hex is a different identity.
        assert!(!set.authorize(&id(&ADMIN.to_uppercase()), "/v1/status"));
    }

    #[test]
    fn deny_wins_over_allow() {
        let set = sample();
        assert!(set.authorize(&id(APP), "/v1/key/generate/my-app-key"));
        assert!(!set.authorize(&id(APP), "/v1/key/generate/my-app-internal-key"));
        assert!(!set.authorize(&id(APP), "/v1/key/delete/my-app-key"));
        assert!(set.authorize(&id(APP), "/v1/key/create/my-app-internal-key"));
    }

    #[test]
    fn prefix_crosses_slashes_and_inner_star_is_literal() {
        let set = sample();
        assert!(set.authorize(&id(OPS), "/v1/key/list/a/b"));
        assert!(set.authorize(&id(OPS), "/v1/status"));
        assert!(!set.authorize(&id(OPS), "/v1/status/x"));
        let set = PolicySet::new(id(ADMIN), vec![def("p", &["/v1/key/*/k"], &[], &[APP])]).unwrap();
        assert!(!set.authorize(&id(APP), "/v1/key/create/k"));
        assert!(set.authorize(&id(APP), "/v1/key/*/k"));
    }

    #[test]
    fn lookups() {
        let set = sample();
        let (name, policy) = set.policy_of(&id(APP)).unwrap();
        assert_eq!(name, "my-app");
        assert_eq!(policy.allow().len(), 3);
        assert_eq!(
            set.policy("ops").unwrap().allow(),
            ["/v1/status", "/v1/key/*"]
        );
        assert!(set.policy("nope").is_none());
        assert!(set.policy("").is_none());
    }

    #[test]
    fn policy_names_are_sorted_and_filtered_by_prefix() {
        let set = sample();
        assert_eq!(set.policy_names(""), ["my-app", "ops", "unused"]);
        assert_eq!(set.policy_names("u"), ["unused"]);
        assert_eq!(set.policy_names("my-app-"), Vec::<&str>::new());
    }

    #[test]
    fn identities_include_the_admin_and_are_sorted() {
        let set = sample();
        let all: Vec<&str> = set
            .identities("")
            .into_iter()
            .map(Identity::as_str)
            .collect();
        assert_eq!(all, [OPS, ADMIN, APP]);
        let some: Vec<&str> = set
            .identities("e")
            .into_iter()
            .map(Identity::as_str)
            .collect();
        assert_eq!(some, [APP]);

        let disabled = PolicySet::new(id("disabled"), vec![def("p", &[], &[], &[APP])]).unwrap();
        let all: Vec<&str> = disabled
            .identities("")
            .into_iter()
            .map(Identity::as_str)
            .collect();
        assert_eq!(all, ["disabled", APP]);
        assert!(disabled.is_admin(&id("disabled")));
    }

    #[test]
    fn empty_admin_is_rejected() {
        assert_eq!(
            error("", vec![]),
            "kesconf: invalid admin identity: no admin identity"
        );
    }

    #[test]
    fn admin_in_a_policy_is_rejected() {
        assert_eq!(
            error(ADMIN, vec![def("p", &[], &[], &[APP, ADMIN])]),
            format!("kesconf: invalid policy 'p': identity '{ADMIN}' is already admin")
        );
        // Checked before any other policy error.
        assert_eq!(
            error(
                ADMIN,
                vec![def("bad.name", &[], &[], &[]), def("q", &[], &[], &[ADMIN])]
            ),
            format!("kesconf: invalid policy 'q': identity '{ADMIN}' is already admin")
        );
    }

    #[test]
    fn identity_in_two_policies_is_rejected() {
        assert_eq!(
            error(
                ADMIN,
                vec![def("a", &[], &[], &[APP]), def("b", &[], &[], &[OPS, APP])]
            ),
            format!("kes: cannot assign policy 'b' to '{APP}': identity already has a policy")
        );
        assert_eq!(
            error(ADMIN, vec![def("a", &[], &[], &[APP, APP])]),
            format!("kes: cannot assign policy 'a' to '{APP}': identity already has a policy")
        );
    }

    #[test]
    fn invalid_names_are_rejected() {
        assert_eq!(
            error(ADMIN, vec![def("my.policy", &[], &[], &[])]),
            "kes: policy name 'my.policy' is empty, too long or contains invalid characters"
        );
        assert_eq!(
            error(ADMIN, vec![def("", &[], &[], &[])]),
            "kes: policy name '' is empty, too long or contains invalid characters"
        );
        assert_eq!(
            error(ADMIN, vec![def("p", &[], &[], &[""])]),
            "kes: identity '' is empty, too long or contains invalid characters"
        );
        assert_eq!(
            error(ADMIN, vec![def("p", &[], &[], &["a/b"])]),
            "kes: identity 'a/b' is empty, too long or contains invalid characters"
        );
    }

    #[test]
    fn duplicate_policy_names_are_rejected() {
        assert_eq!(
            error(
                ADMIN,
                vec![
                    def("p", &[], &[], &[]),
                    def("q", &[], &[], &[]),
                    def("p", &[], &[], &[])
                ]
            ),
            "kesconf: policy 'p' is defined more than once"
        );
    }

    #[test]
    fn no_policies_is_fine() {
        let set = PolicySet::new(id("disabled"), vec![]).unwrap();
        assert!(set.policy_names("").is_empty());
        assert!(!set.authorize(&id(APP), "/v1/status"));
    }
}
