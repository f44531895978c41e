//! The key cache in front of the keystore and the keystore health check (spec §8).
//!
//! Parsed keys are kept by name and shared as `Arc<KeyVersion>`. A hit takes only a read lock
//! and marks the entry used with an atomic; a miss takes a per-name lock so that concurrent
//! misses for one name cause one keystore read. Deletes take the same per-name lock, so a read
//! that started before a delete can never re-insert the deleted key after it.
//!
//! [`Cache::start`] runs the expiry timers and the health check until the returned
//! [`Maintenance`] is dropped.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use kes_crypto::KeyVersion;
use keystores::KeyStore;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::CacheConfig;

/// How often the keystore status is probed to decide whether it is offline.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(10);
/// The shortest timer period: a configured duration of a few nanoseconds must not spin a core.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// Why a key could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The keystore failed (including [`keystores::Error::NotFound`]).
    Keystore(keystores::Error),
    /// The stored value is not a valid key.
    Parse(kes_crypto::Error),
}

/// A change of the keystore's state seen by the health check.
#[derive(Debug)]
pub enum Health<'a> {
    /// The status probe failed, for this reason; cached keys serve as `cache.expiry.offline` says.
    Offline(&'a keystores::Error),
    /// The status probe succeeded again.
    Online,
}

struct Entry {
    key: Arc<KeyVersion>,
    /// Set on every hit; cleared by the unused-expiry timer.
    used: AtomicBool,
}

/// Parsed keys by name in front of a keystore, plus the keystore's offline flag.
pub struct Cache {
    keystore: Arc<dyn KeyStore>,
    config: CacheConfig,
    entries: RwLock<HashMap<String, Entry>>,
    /// One lock per name that a miss or a delete is working on.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    offline: AtomicBool,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the entries: they hold key material.
        f.debug_struct("Cache")
            .field("config", &self.config)
            .field("entries", &self.len())
            .field("offline", &self.is_offline())
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// An empty cache in front of `keystore`, expiring entries as `config` says.
    pub fn new(keystore: Arc<dyn KeyStore>, config: CacheConfig) -> Cache {
        Cache {
            keystore,
            config,
            entries: RwLock::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            offline: AtomicBool::new(false),
        }
    }

    /// The key stored under `name`: from the cache, or else read from the keystore, parsed
    /// and cached. Misses go to the keystore even while it is marked offline.
    pub async fn get(&self, name: &str) -> Result<Arc<KeyVersion>, LoadError> {
        if let Some(key) = self.lookup(name) {
            return Ok(key);
        }
        let flight = Flight::join(self, name);
        let _guard = flight.lock.lock().await;
        if let Some(key) = self.lookup(name) {
            return Ok(key);
        }
        let value = self.keystore.get(name).await.map_err(LoadError::Keystore)?;
        let key = Arc::new(KeyVersion::parse(&value).map_err(LoadError::Parse)?);
        self.write().insert(
            name.to_owned(),
            Entry {
                key: Arc::clone(&key),
                used: AtomicBool::new(true),
            },
        );
        Ok(key)
    }

    /// Deletes `name` from the keystore, then evicts it from the cache.
    pub async fn delete(&self, name: &str) -> Result<(), keystores::Error> {
        let flight = Flight::join(self, name);
        let _guard = flight.lock.lock().await;
        self.keystore.delete(name).await?;
        self.write().remove(name);
        Ok(())
    }

    /// Whether the last health check failed.
    pub fn is_offline(&self) -> bool {
        self.offline.load(Ordering::Relaxed)
    }

    /// Starts the health check and the expiry timers; they run until the result is dropped.
    /// `on_change` is called whenever the health check finds the keystore's state changed.
    pub fn start(
        self: &Arc<Self>,
        on_change: impl Fn(Health<'_>) + Send + Sync + 'static,
    ) -> Maintenance {
        let on_change = Arc::new(on_change);
        let mut tasks = vec![self.spawn_every(HEALTH_CHECK_INTERVAL, move |cache| {
            let on_change = Arc::clone(&on_change);
            async move {
                let status = cache.keystore.status().await;
                let was_offline = cache.offline.swap(status.is_err(), Ordering::Relaxed);
                match status {
                    Err(err) if !was_offline => on_change(Health::Offline(&err)),
                    Ok(_) if was_offline => on_change(Health::Online),
                    _ => {}
                }
            }
        })];
        let config = self.config;
        if !config.any.is_zero() {
            tasks.push(self.spawn_every(config.any, |cache| async move {
                if !cache.keeps_offline() {
                    cache.write().clear();
                }
            }));
        }
        if !config.unused.is_zero() {
            tasks.push(self.spawn_every(config.unused / 2, |cache| async move {
                if !cache.keeps_offline() {
                    // `swap` clears the flag of each entry that stays.
                    cache
                        .write()
                        .retain(|_, entry| entry.used.swap(false, Ordering::Relaxed));
                }
            }));
        }
        if !config.offline.is_zero() {
            tasks.push(self.spawn_every(config.offline, |cache| async move {
                if cache.is_offline() {
                    cache.write().clear();
                }
            }));
        }
        Maintenance { tasks }
    }

    /// Whether the `any` and `unused` timers must keep entries: offline with offline caching on.
    fn keeps_offline(&self) -> bool {
        self.is_offline() && !self.config.offline.is_zero()
    }

    fn spawn_every<F, Fut>(self: &Arc<Self>, period: Duration, mut tick: F) -> JoinHandle<()>
    where
        F: FnMut(Arc<Cache>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let cache = Arc::clone(self);
        let period = period.max(MIN_PERIOD);
        // The first tick is one period after `start`, not after the task first gets to run.
        let first = Instant::now() + period;
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(first, period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                tick(Arc::clone(&cache)).await;
            }
        })
    }

    fn lookup(&self, name: &str) -> Option<Arc<KeyVersion>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(name)?;
        entry.used.store(true, Ordering::Relaxed);
        Some(Arc::clone(&entry.key))
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// A share in the per-name lock of one name; the last share to go removes the lock, also when
/// the request is cancelled while waiting.
struct Flight<'a> {
    cache: &'a Cache,
    name: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> Flight<'a> {
    fn join(cache: &'a Cache, name: &'a str) -> Flight<'a> {
        let mut flights = cache.flights.lock().unwrap_or_else(PoisonError::into_inner);
        let lock = Arc::clone(flights.entry(name.to_owned()).or_default());
        Flight { cache, name, lock }
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut flights = self
            .cache
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Shares are only taken under `flights`, so the count cannot grow meanwhile: two means
        // the map's and ours.
        if Arc::strong_count(&self.lock) == 2 {
            flights.remove(self.name);
        }
    }
}

/// The running timers of a [`Cache`]; dropping it stops them.
#[derive(Debug)]
pub struct Maintenance {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Maintenance {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use kes_crypto::KeyType;
    use keystores::Status;
    use keystores::mem::MemKeyStore;
    use zeroize::Zeroizing;

    use super::*;

    /// A [`MemKeyStore`] that counts reads, can delay them and can fail its status probe.
    #[derive(Debug, Default)]
    struct Counting {
        inner: MemKeyStore,
        gets: AtomicUsize,
        get_delay: Duration,
        down: AtomicBool,
    }

    #[async_trait]
    impl KeyStore for Counting {
        async fn status(&self) -> Result<Status, keystores::Error> {
            if self.down.load(Ordering::Relaxed) {
                return Err(keystores::Error::Unreachable("test: down".into()));
            }
            self.inner.status().await
        }
        async fn create(&self, name: &str, value: &[u8]) -> Result<(), keystores::Error> {
            self.inner.create(name, value).await
        }
        async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, keystores::Error> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.get_delay).await;
            self.inner.get(name).await
        }
        async fn delete(&self, name: &str) -> Result<(), keystores::Error> {
            self.inner.delete(name).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, keystores::Error> {
            self.inner.list(prefix).await
        }
    }

    impl Counting {
        fn gets(&self) -> usize {
            self.gets.load(Ordering::SeqCst)
        }
        fn set_down(&self, down: bool) {
            self.down.store(down, Ordering::Relaxed);
        }
    }

    const SECOND: Duration = Duration::from_secs(1);

    fn expiry(any: u64, unused: u64, offline: u64) -> CacheConfig {
        CacheConfig {
            any: SECOND * any as u32,
            unused: SECOND * unused as u32,
            offline: SECOND * offline as u32,
        }
    }

    async fn setup(config: CacheConfig, store: Counting) -> (Arc<Counting>, Arc<Cache>) {
        let store = Arc::new(store);
        for name in ["k1", "k2"] {
            let key = KeyVersion::generate(KeyType::Aes256, "test").unwrap();
            store
                .create(name, key.encode().unwrap().as_bytes())
                .await
                .unwrap();
        }
        let cache = Arc::new(Cache::new(Arc::clone(&store) as Arc<dyn KeyStore>, config));
        (store, cache)
    }

    /// Moves the paused clock on by `secs` and lets the timer tasks run.
    async fn pass(secs: u64) {
        tokio::time::advance(Duration::from_secs(secs)).await;
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    fn cached(cache: &Cache, name: &str) -> bool {
        cache.entries.read().unwrap().contains_key(name)
    }

    #[tokio::test(start_paused = true)]
    async fn hits_do_not_read_the_keystore() {
        let (store, cache) = setup(CacheConfig::default(), Counting::default()).await;
        let first = cache.get("k1").await.unwrap();
        let second = cache.get("k1").await.unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(store.gets(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_misses_read_once() {
        let store = Counting {
            get_delay: Duration::from_millis(100),
            ..Counting::default()
        };
        let (store, cache) = setup(CacheConfig::default(), store).await;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.get("k1").await.map(|_| ()) })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(store.gets(), 1);
        assert!(cache.flights.lock().unwrap().is_empty());
        // Another name is not held up by the first and is read on its own.
        cache.get("k2").await.unwrap();
        assert_eq!(store.gets(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_miss_leaves_no_lock_behind() {
        let store = Counting {
            get_delay: Duration::from_secs(5),
            ..Counting::default()
        };
        let (_store, cache) = setup(CacheConfig::default(), store).await;
        let get = cache.get("k1");
        assert!(
            tokio::time::timeout(SECOND, get).await.is_err(),
            "the read must still be running"
        );
        assert!(cache.flights.lock().unwrap().is_empty());
        cache.get("k1").await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_not_cached() {
        let (store, cache) = setup(CacheConfig::default(), Counting::default()).await;
        assert!(matches!(
            cache.get("missing").await,
            Err(LoadError::Keystore(keystores::Error::NotFound))
        ));
        store.create("bad", b"not a key").await.unwrap();
        assert!(matches!(cache.get("bad").await, Err(LoadError::Parse(_))));
        assert!(!cached(&cache, "missing") && !cached(&cache, "bad"));
    }

    #[tokio::test(start_paused = true)]
    async fn delete_evicts() {
        let (store, cache) = setup(CacheConfig::default(), Counting::default()).await;
        cache.get("k1").await.unwrap();
        cache.delete("k1").await.unwrap();
        assert!(!cached(&cache, "k1"));
        assert!(matches!(
            cache.get("k1").await,
            Err(LoadError::Keystore(keystores::Error::NotFound))
        ));
        assert!(matches!(
            cache.delete("k1").await,
            Err(keystores::Error::NotFound)
        ));
        assert_eq!(store.gets(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_racing_a_delete_never_reinserts() {
        let store = Counting {
            get_delay: Duration::from_millis(100),
            ..Counting::default()
        };
        let (store, cache) = setup(CacheConfig::default(), store).await;
        let reader = {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.get("k1").await.map(|_| ()) })
        };
        tokio::task::yield_now().await;
        cache.delete("k1").await.unwrap();
        reader.await.unwrap().unwrap();
        assert_eq!(store.gets(), 1, "the read started before the delete");
        assert!(!cached(&cache, "k1"));
    }

    #[tokio::test(start_paused = true)]
    async fn any_timer_drops_everything() {
        let (store, cache) = setup(expiry(60, 0, 0), Counting::default()).await;
        let _timers = cache.start(|_| {});
        cache.get("k1").await.unwrap();
        pass(59).await;
        assert!(cached(&cache, "k1"));
        pass(1).await;
        assert!(!cached(&cache, "k1"));
        cache.get("k1").await.unwrap();
        assert_eq!(store.gets(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn unused_timer_drops_entries_not_used_since_its_last_run() {
        let (_store, cache) = setup(expiry(0, 20, 0), Counting::default()).await;
        let _timers = cache.start(|_| {});
        cache.get("k1").await.unwrap();
        cache.get("k2").await.unwrap();
        pass(10).await; // both were used: kept, flags cleared
        assert!(cached(&cache, "k1") && cached(&cache, "k2"));
        pass(5).await;
        cache.get("k1").await.unwrap();
        pass(5).await; // only k1 was used
        assert!(cached(&cache, "k1"));
        assert!(!cached(&cache, "k2"));
        pass(10).await;
        assert!(!cached(&cache, "k1"));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_disables_a_timer() {
        let (_store, cache) = setup(expiry(0, 0, 0), Counting::default()).await;
        let timers = cache.start(|_| {});
        assert_eq!(timers.tasks.len(), 1, "only the health check");
        cache.get("k1").await.unwrap();
        pass(3600).await;
        assert!(cached(&cache, "k1"));
    }

    #[tokio::test(start_paused = true)]
    async fn health_check_sets_and_clears_offline() {
        let (store, cache) = setup(CacheConfig::default(), Counting::default()).await;
        let _timers = cache.start(|_| {});
        store.set_down(true);
        pass(9).await;
        assert!(!cache.is_offline());
        pass(1).await;
        assert!(cache.is_offline());
        // Misses still go to the keystore while it is marked offline.
        cache.get("k2").await.unwrap();
        store.set_down(false);
        pass(10).await;
        assert!(!cache.is_offline());
    }

    #[tokio::test(start_paused = true)]
    async fn offline_caching_keeps_entries_until_the_offline_timer() {
        let (store, cache) = setup(expiry(30, 20, 300), Counting::default()).await;
        let _timers = cache.start(|_| {});
        cache.get("k1").await.unwrap();
        store.set_down(true);
        pass(10).await; // health check: offline (the unused timer ran first and kept k1)
        assert!(cache.is_offline());
        for _ in 0..28 {
            pass(10).await; // any and unused keep everything while offline
        }
        assert!(cached(&cache, "k1"));
        pass(10).await; // t = 300 s: the offline timer drops everything
        assert!(!cached(&cache, "k1"));
    }

    #[tokio::test(start_paused = true)]
    async fn offline_timer_does_nothing_while_online() {
        let (_store, cache) = setup(expiry(0, 0, 30), Counting::default()).await;
        let _timers = cache.start(|_| {});
        cache.get("k1").await.unwrap();
        pass(90).await;
        assert!(cached(&cache, "k1"));
    }

    #[tokio::test(start_paused = true)]
    async fn without_offline_caching_expiry_continues_while_offline() {
        let (store, cache) = setup(expiry(60, 0, 0), Counting::default()).await;
        let _timers = cache.start(|_| {});
        cache.get("k1").await.unwrap();
        store.set_down(true);
        pass(10).await;
        assert!(cache.is_offline());
        pass(50).await;
        assert!(!cached(&cache, "k1"));
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_maintenance_stops_the_timers() {
        let (_store, cache) = setup(expiry(60, 0, 0), Counting::default()).await;
        drop(cache.start(|_| {}));
        cache.get("k1").await.unwrap();
        pass(120).await;
        assert!(cached(&cache, "k1"));
        assert_eq!(Arc::strong_count(&cache), 1, "no task holds the cache");
    }

    #[tokio::test(start_paused = true)]
    async fn debug_shows_no_entries() {
        let (store, cache) = setup(CacheConfig::default(), Counting::default()).await;
        cache.get("k1").await.unwrap();
        let debug = format!("{cache:?}");
        assert!(debug.contains("entries: 1"), "{debug}");
        assert!(
            !debug.contains("k1") && !debug.contains("KeyVersion"),
            "{debug}"
        );
        drop(store);
    }
}
