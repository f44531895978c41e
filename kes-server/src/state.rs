//! The shared server state every handler sees.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use keystores::KeyStore;
use policies::PolicySet;
use rustls::ServerConfig;
use time::OffsetDateTime;

use crate::api::{Auth, ROUTES, Route, RouteSpec};
use crate::cache::Cache;
use crate::config::{ApiOverride, CacheConfig};
use crate::logs::Logs;
use crate::metrics::Metrics;

/// Everything a request handler may use. Built once at startup and shared as `Arc<Server>`.
///
/// The policy set, the `api:` overrides and the TLS configuration can be replaced while the
/// server runs ([`Server::reload`]); each lives behind a lock that is held only to clone an
/// `Arc`, so a request works on one consistent snapshot and never waits on a reload.
#[derive(Debug)]
pub struct Server {
    keystore: Arc<dyn KeyStore>,
    cache: Arc<Cache>,
    settings: RwLock<Arc<Settings>>,
    tls: TlsHandle,
    /// The sections a reload cannot apply, as at startup (see [`Server::reload`]).
    pub(crate) restart_only: String,
    logs: Logs,
    metrics: Metrics,
    started_at: OffsetDateTime,
    started: Instant,
}

/// The reloadable part of the configuration that requests read: policies and `api:` overrides.
#[derive(Debug)]
pub struct Settings {
    pub policies: Arc<PolicySet>,
    /// `api.<path>` overrides by route path, unknown paths included.
    pub api: BTreeMap<String, ApiOverride>,
}

impl Settings {
    /// The route `spec` with this snapshot's `api:` overrides applied.
    pub fn route(&self, spec: &RouteSpec) -> Route {
        effective_route(spec, &self.api)
    }

    /// Whether any route lets callers in without a certificate policy check.
    pub fn skips_auth(&self) -> bool {
        ROUTES.iter().any(|spec| {
            let route = self.route(spec);
            route.auth != spec.auth && spec.auth == Auth::Policy
        })
    }
}

/// The server's TLS configuration, shared by the listener and [`Server::reload`]: each accepted
/// connection handshakes with the configuration current at that moment, so a reload changes
/// the certificate for new connections and leaves open ones alone.
#[derive(Debug, Clone)]
pub struct TlsHandle(Arc<RwLock<Arc<ServerConfig>>>);

impl TlsHandle {
    pub fn new(config: Arc<ServerConfig>) -> TlsHandle {
        TlsHandle(Arc::new(RwLock::new(config)))
    }

    /// The configuration for the next handshake.
    pub fn current(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn replace(&self, config: Arc<ServerConfig>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = config;
    }
}

impl Server {
    /// A server over `keystore`, caching keys as `cache` says, with the given reloadable
    /// settings, TLS configuration and logs. `restart_only` describes the sections a reload
    /// cannot change.
    pub(crate) fn new(
        keystore: Arc<dyn KeyStore>,
        cache: CacheConfig,
        settings: Settings,
        tls: TlsHandle,
        restart_only: String,
        logs: Logs,
    ) -> Server {
        Server {
            cache: Arc::new(Cache::new(Arc::clone(&keystore), cache)),
            keystore,
            settings: RwLock::new(Arc::new(settings)),
            tls,
            restart_only,
            logs,
            metrics: Metrics::default(),
            started_at: OffsetDateTime::now_utc(),
            started: Instant::now(),
        }
    }

    pub fn keystore(&self) -> &dyn KeyStore {
        &*self.keystore
    }

    /// The key cache: every key read and delete goes through it.
    pub fn cache(&self) -> &Arc<Cache> {
        &self.cache
    }

    /// The current policies and `api:` overrides.
    pub fn settings(&self) -> Arc<Settings> {
        Arc::clone(&self.settings.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The current policy set.
    pub fn policies(&self) -> Arc<PolicySet> {
        Arc::clone(&self.settings().policies)
    }

    /// The current route table with the `api:` overrides applied.
    pub fn routes(&self) -> Vec<Route> {
        let settings = self.settings();
        ROUTES.iter().map(|spec| settings.route(spec)).collect()
    }

    /// Installs new settings and TLS configuration: requests and handshakes that start from now
    /// on see them.
    pub(crate) fn replace(&self, settings: Settings, tls: Arc<ServerConfig>) {
        *self
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(settings);
        self.tls.replace(tls);
    }

    /// Installs a new TLS configuration for handshakes that start from now on.
    pub(crate) fn replace_tls(&self, tls: Arc<ServerConfig>) {
        self.tls.replace(tls);
    }

    pub fn logs(&self) -> &Logs {
        &self.logs
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// When the server started; reported as the creation time of policies and identities.
    pub fn started_at(&self) -> OffsetDateTime {
        self.started_at
    }

    /// Time since the server started.
    pub fn uptime(&self) -> std::time::Duration {
        self.started.elapsed()
    }
}

/// Applies `api.<path>.timeout` (when > 0) and `api.<path>.skip_auth` to `spec`.
/// Paths that name no route are ignored, as in the reference.
fn effective_route(spec: &RouteSpec, api: &BTreeMap<String, ApiOverride>) -> Route {
    let over = api.get(spec.path);
    let timeout = over
        .and_then(|o| o.timeout)
        .filter(|t| !t.is_zero())
        .unwrap_or(spec.timeout);
    let auth = match over {
        Some(o) if o.skip_auth && spec.auth == Auth::Policy => Auth::Identify,
        _ => spec.auth,
    };
    Route {
        spec: *spec,
        timeout,
        auth,
    }
}
