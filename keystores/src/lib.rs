//! The [`KeyStore`] trait and its backends.
//!
//! A keystore persists opaque values (the encoded key text of `kes-crypto`) under key names. It
//! never interprets the value and never overwrites an existing name. Layout:
//!
//! - [`KeyStore`] and [`Error`]: the contract every backend implements;
//! - [`fs`]: one file per key in a directory, the upstream KES layout;
//! - [`mem`]: an in-memory store for `kes server --dev` and tests;
//! - `azure` (feature `azure`): one Azure Key Vault secret per key;
//! - `sql` (features `sqlite`, `postgres`): one table row per key in SQLite or PostgreSQL;
//! - `vault` (feature `vault`): HashiCorp Vault / OpenBao K/V, v1 or v2, in the upstream layout;
//! - `aws` (feature `aws`): one AWS Secrets Manager secret per key, the upstream layout;
//! - [`conformance`]: the suite every backend must pass (used by each backend's tests).
//!
//! Key names are validated by the server before a keystore sees them; backends still refuse names
//! that would escape their namespace.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "azure")]
pub mod azure;
pub mod conformance;
mod error;
#[cfg(feature = "fs")]
pub mod fs;
pub mod mem;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(feature = "vault")]
pub mod vault;

pub use error::Error;

/// Helpers for the backends' unit tests.
#[cfg(test)]
mod test_util {
    /// A loopback port that accepts connections and never answers, until the task is dropped:
    /// the "silent backend" that bounded timeouts must cut off.
    #[cfg(any(feature = "postgres", feature = "vault", feature = "aws"))]
    pub(crate) async fn silent_port() -> (u16, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let held = tokio::spawn(async move {
            let mut conns = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                conns.push(conn);
            }
        });
        (port, held)
    }
}

use async_trait::async_trait;
use zeroize::Zeroizing;

/// The state of a keystore as seen by a status probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// How long the probe took.
    pub latency: std::time::Duration,
}

/// A store of named, immutable values.
///
/// Implementations are shared between request handlers as `Arc<dyn KeyStore>`.
#[async_trait]
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Probes the backend. Fails with [`Error::Unreachable`] when it cannot be reached and
    /// [`Error::Unavailable`] when it answers but is not usable.
    async fn status(&self) -> Result<Status, Error>;

    /// Stores `value` under `name` if, and only if, no value exists under `name`.
    /// Fails with [`Error::AlreadyExists`] otherwise; never overwrites.
    async fn create(&self, name: &str, value: &[u8]) -> Result<(), Error>;

    /// Returns the value stored under `name`, or [`Error::NotFound`].
    async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error>;

    /// Removes the value stored under `name`, or fails with [`Error::NotFound`].
    async fn delete(&self, name: &str) -> Result<(), Error>;

    /// Returns every name that starts with `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Error>;
}
