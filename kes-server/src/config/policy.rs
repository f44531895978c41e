//! `policy.<name>`: static policies (spec §6.1). Names, patterns and identities are checked by
//! the `policies` crate when the server builds its policy set.

use super::error::ConfigError;
use super::fields::{Map, Walker};

/// One policy as written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyConfig {
    pub name: String,
    /// Allowed path patterns, exactly as written (no `${VAR}` substitution).
    pub allow: Vec<String>,
    /// Denied path patterns, exactly as written (no `${VAR}` substitution).
    pub deny: Vec<String>,
    /// Identities assigned to the policy, after `${VAR}` substitution.
    pub identities: Vec<String>,
}

/// The policies in file order.
pub(super) fn read(
    walker: &mut Walker<'_>,
    root: &Map<'_>,
) -> Result<Vec<PolicyConfig>, ConfigError> {
    let Some(policies) = root.map_any("policy")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (entry, path) in policies.entries() {
        let policy = Map::open(
            walker,
            &entry.value,
            &path,
            &["allow", "deny", "identities"],
            &[],
        )?;
        out.push(PolicyConfig {
            name: entry.key.clone(),
            allow: policy.raw_values("allow")?,
            deny: policy.raw_values("deny")?,
            identities: policy
                .values(walker, "identities")?
                .into_iter()
                .map(|v| v.into_string())
                .collect(),
        });
    }
    Ok(out)
}
