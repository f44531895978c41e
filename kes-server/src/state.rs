//! The shared server state every handler sees.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use keystores::KeyStore;
use policies::PolicySet;
use time::OffsetDateTime;

use crate::api::{Auth, ROUTES, Route};
use crate::cache::Cache;
use crate::config::{ApiOverride, CacheConfig};
use crate::logs::Logs;
use crate::metrics::Metrics;

/// Everything a request handler may use. Built once at startup and shared as `Arc<Server>`.
#[derive(Debug)]
pub struct Server {
    keystore: Arc<dyn KeyStore>,
    cache: Arc<Cache>,
    policies: PolicySet,
    routes: Vec<Route>,
    logs: Logs,
    metrics: Metrics,
    started_at: OffsetDateTime,
    started: Instant,
}

impl Server {
    /// A server over `keystore`, caching keys as `cache` says, with the given policies, `api:`
    /// overrides and logs.
    pub fn new(
        keystore: Arc<dyn KeyStore>,
        cache: CacheConfig,
        policies: PolicySet,
        api: &BTreeMap<String, ApiOverride>,
        logs: Logs,
    ) -> Server {
        Server {
            cache: Arc::new(Cache::new(Arc::clone(&keystore), cache)),
            keystore,
            policies,
            routes: effective_routes(api),
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

    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The route table with the `api:` overrides applied.
    pub fn routes(&self) -> &[Route] {
        &self.routes
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

    /// Whether any route lets callers in without a certificate policy check.
    pub fn skips_auth(&self) -> bool {
        self.routes
            .iter()
            .any(|r| r.auth != r.spec.auth && r.spec.auth == Auth::Policy)
    }
}

/// Applies `api.<path>.timeout` (when > 0) and `api.<path>.skip_auth` to the route table.
/// Paths that name no route are ignored, as in the reference.
fn effective_routes(api: &BTreeMap<String, ApiOverride>) -> Vec<Route> {
    ROUTES
        .iter()
        .map(|spec| {
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
        })
        .collect()
}
