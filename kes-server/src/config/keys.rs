//! `keys`: keys the server creates at startup if they do not exist.

use super::error::ConfigError;
use super::fields::{Map, Walker};

/// The key names in file order. Names are validated when the keys are created.
pub(super) fn read(walker: &mut Walker<'_>, root: &Map<'_>) -> Result<Vec<String>, ConfigError> {
    let mut names: Vec<String> = Vec::new();
    for (path, node) in root.items("keys")? {
        let item = Map::open(walker, node, &path, &["name"], &[])?;
        let Some(name) = item.value(walker, "name")? else {
            return Err(ConfigError::invalid(format!(
                "kesconf: invalid key config: no key name specified in line {}",
                node.line()
            )));
        };
        let name = name.into_string();
        if names.contains(&name) {
            return Err(ConfigError::invalid(format!(
                "kesconf: invalid key config: key '{name}' is defined multiple times"
            )));
        }
        names.push(name);
    }
    Ok(names)
}
