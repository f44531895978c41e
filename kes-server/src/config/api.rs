//! `api.<path>`: per-route overrides of authentication and timeout.

use std::collections::BTreeMap;
use std::time::Duration;

use super::error::ConfigError;
use super::fields::{Map, Walker};

/// The override for one route. The server applies it to the route whose key equals the path
/// exactly (`/v1/status`, `/v1/key/create/`, …) and ignores paths that name no route.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApiOverride {
    /// Replace the route's policy check by identification only.
    pub skip_auth: bool,
    /// The route timeout; `None` or zero keeps the route's default.
    pub timeout: Option<Duration>,
}

pub(super) fn read(
    walker: &mut Walker<'_>,
    root: &Map<'_>,
) -> Result<BTreeMap<String, ApiOverride>, ConfigError> {
    let mut api = BTreeMap::new();
    let Some(paths) = root.map_any("api")? else {
        return Ok(api);
    };
    for (entry, path) in paths.entries() {
        let route = Map::open(walker, &entry.value, &path, &["skip_auth", "timeout"], &[])?;
        let skip_auth = match route.value(walker, "skip_auth")? {
            Some(value) => value.boolean()?,
            None => false,
        };
        let timeout = route
            .value(walker, "timeout")?
            .map(|value| value.duration())
            .transpose()?;
        api.insert(entry.key.clone(), ApiOverride { skip_auth, timeout });
    }
    Ok(api)
}
