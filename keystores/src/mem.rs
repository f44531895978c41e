//! An in-memory keystore: for `kes server --dev` and tests. Nothing survives a restart.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Instant;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::{Error, KeyStore, Status};

/// A keystore that keeps values in process memory.
#[derive(Debug, Default)]
pub struct MemKeyStore {
    keys: RwLock<BTreeMap<String, Zeroizing<Vec<u8>>>>,
}

impl MemKeyStore {
    /// An empty store.
    pub fn new() -> MemKeyStore {
        MemKeyStore::default()
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Unavailable("mem: lock poisoned".to_owned())
}

#[async_trait]
impl KeyStore for MemKeyStore {
    async fn status(&self) -> Result<Status, Error> {
        let start = Instant::now();
        drop(self.keys.read().map_err(poisoned)?);
        Ok(Status {
            latency: start.elapsed(),
        })
    }

    async fn create(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        let mut keys = self.keys.write().map_err(poisoned)?;
        if keys.contains_key(name) {
            return Err(Error::AlreadyExists);
        }
        keys.insert(name.to_owned(), Zeroizing::new(value.to_vec()));
        Ok(())
    }

    async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        let keys = self.keys.read().map_err(poisoned)?;
        keys.get(name).cloned().ok_or(Error::NotFound)
    }

    async fn delete(&self, name: &str) -> Result<(), Error> {
        let mut keys = self.keys.write().map_err(poisoned)?;
        keys.remove(name).map(drop).ok_or(Error::NotFound)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let keys = self.keys.read().map_err(poisoned)?;
        Ok(keys
            .range(prefix.to_owned()..)
            .map(|(name, _)| name)
            .take_while(|name| name.starts_with(prefix))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn conformance() {
        crate::conformance::run(&super::MemKeyStore::new())
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_creates() {
        let store = std::sync::Arc::new(super::MemKeyStore::new());
        crate::conformance::concurrent_creates(store, 32)
            .await
            .unwrap();
    }
}
