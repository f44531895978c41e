//! Tests over the fixture files in `kes-server/tests/fixtures/config/`: the accepted examples with
//! every parsed value checked (`accepted.rs`), the full template (`template.rs`), one `bad-*.yml`
//! per rejected configuration with its exact error text (`rejected.rs`), and YAML details on
//! inline documents (`syntax.rs`).

mod accepted;
mod rejected;
mod syntax;
mod template;

use std::path::PathBuf;
use std::time::Duration;

use super::*;

pub(super) const ADMIN: &str = "386b5ff16a73e67fddd2f14fc8163d3af64c236cdb7b8506240ea63ef580d304";
pub(super) const APP_1: &str = "8ab3e40625f6693ae5ca1bd01b3b37637543bbb65fa7ceed0a2337b68b68bbd0";
pub(super) const APP_2: &str = "92e1ab07c29dd0d73b93b526022900fbae89229b44cd099acdb8052a5ee865a7";
pub(super) const OPS: &str = "b3c70f08f28a244b87d6f015f24cf030d3c323049dae7b8f4d354a744008826a";
pub(super) const PROXY: &str = "39b77f0b39be3c02447f542e9ffe3ca5c8c19c1158015edfaf6b6d1aee0e43c1";
pub(super) const JWT: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmtlczprZXMtc2VydmVyIn0.Zml4dHVyZS1zaWduYXR1cmU";

pub(super) fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/config/"
    ))
}

pub(super) fn fixture(name: &str) -> PathBuf {
    fixture_dir().join(name)
}

pub(super) fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

pub(super) fn no_env(_: &str) -> Option<String> {
    None
}

/// Loads a fixture through [`Config::load`] (the process environment is not consulted: the
/// accepted fixtures without `${…}` references do not need it).
pub(super) fn load(name: &str) -> Config {
    Config::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(super) fn parse(yaml: &str) -> Result<Config, String> {
    Config::parse(yaml, &no_env).map_err(|e| e.to_string())
}

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(super) fn path(p: &str) -> PathBuf {
    PathBuf::from(p)
}
