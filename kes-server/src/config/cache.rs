//! `cache.expiry`: how long fetched keys stay in memory (spec §8).

use std::time::Duration;

use super::error::ConfigError;
use super::fields::{Map, Walker};

/// Key cache expiry. A zero duration disables that timer; zero only comes from an explicit `0`
/// in the file, an absent key takes the default (decision B6: 5m / 30s / 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Drop every entry this often. Default 5 minutes.
    pub any: Duration,
    /// Drop entries not used within this period. Default 30 seconds.
    pub unused: Duration,
    /// While the keystore is offline, keep serving cached keys for this long; 0 = offline
    /// caching off (the default).
    pub offline: Duration,
}

impl CacheConfig {
    pub const DEFAULT_ANY: Duration = Duration::from_secs(5 * 60);
    pub const DEFAULT_UNUSED: Duration = Duration::from_secs(30);
    pub const DEFAULT_OFFLINE: Duration = Duration::ZERO;

    pub(super) fn read(
        walker: &mut Walker<'_>,
        root: &Map<'_>,
    ) -> Result<CacheConfig, ConfigError> {
        let mut cache = CacheConfig::default();
        let Some(section) = root.map(walker, "cache", &["expiry"], &[])? else {
            return Ok(cache);
        };
        let Some(expiry) = section.map(walker, "expiry", &["any", "unused", "offline"], &[])?
        else {
            return Ok(cache);
        };
        for (key, slot) in [
            ("any", &mut cache.any),
            ("unused", &mut cache.unused),
            ("offline", &mut cache.offline),
        ] {
            if let Some(value) = expiry.value(walker, key)? {
                *slot = value.duration()?;
            }
        }
        Ok(cache)
    }
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            any: CacheConfig::DEFAULT_ANY,
            unused: CacheConfig::DEFAULT_UNUSED,
            offline: CacheConfig::DEFAULT_OFFLINE,
        }
    }
}
