//! The HTTP API: the route table, the per-request pipeline (method, resource, body limit,
//! deadline, authentication and authorization, handler) and the handlers, one file per route
//! group.

mod body;
mod identity;
mod key;
mod log;
mod policy;
pub mod router;
mod system;

pub use router::router;

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;
use policies::Identity;

use crate::error::ApiError;
use crate::state::Server;

/// How a route authenticates its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No identity needed (`/version`).
    None,
    /// The caller must present a certificate; no policy is checked (`skip_auth`, self-describe).
    Identify,
    /// The caller must be the admin or allowed by a policy for the exact request path.
    Policy,
}

/// The HTTP methods a route accepts: the declared one, and POST wherever PUT is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Methods {
    Get,
    Delete,
    PutOrPost,
}

impl Methods {
    /// The method named in 405 answers and in `/v1/api`.
    pub fn declared(self) -> &'static str {
        match self {
            Methods::Get => "GET",
            Methods::Delete => "DELETE",
            Methods::PutOrPost => "PUT",
        }
    }
}

type HandlerFuture = std::pin::Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send>>;

/// A route handler: gets the request context, returns a response or an API error.
pub type Handler = fn(Request) -> HandlerFuture;

/// One entry of the route table.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub methods: Methods,
    /// The exact path, or a prefix ending in `/` whose remainder is the resource.
    pub path: &'static str,
    pub max_body: u64,
    pub timeout: Duration,
    pub auth: Auth,
    /// Whether requests count in the `kes_http_*` metrics (key, policy and identity routes).
    pub metered: bool,
    pub handler: Handler,
}

impl RouteSpec {
    /// Whether the route serves every path below its `path` prefix.
    pub fn is_prefix(&self) -> bool {
        self.path.ends_with('/')
    }
}

/// A route after the `api:` configuration overrides are applied.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub spec: RouteSpec,
    pub timeout: Duration,
    pub auth: Auth,
}

/// What a handler receives: an authenticated caller, the decoded resource and the body.
#[derive(Debug)]
pub struct Request {
    pub server: Arc<Server>,
    pub identity: Identity,
    pub resource: String,
    pub headers: HeaderMap,
    /// The body, or `None` if it exceeded the route's limit or could not be read.
    pub body: Option<Bytes>,
}

const MB: u64 = 1_000_000;
const MIB: u64 = 1 << 20;
const S10: Duration = Duration::from_secs(10);
const S15: Duration = Duration::from_secs(15);

macro_rules! route {
    ($methods:ident, $path:literal, $max_body:expr, $timeout:expr, $auth:ident, $metered:literal, $handler:path) => {
        RouteSpec {
            methods: Methods::$methods,
            path: $path,
            max_body: $max_body,
            timeout: $timeout,
            auth: Auth::$auth,
            metered: $metered,
            handler: |req| Box::pin($handler(req)),
        }
    };
}

/// Every route the server serves, with the reference's limits and timeouts.
pub const ROUTES: &[RouteSpec] = &[
    route!(Get, "/version", 0, S10, None, false, system::version),
    route!(Get, "/v1/ready", 0, S15, Policy, false, system::ready),
    route!(Get, "/v1/status", 0, S15, Policy, false, system::status),
    route!(Get, "/v1/metrics", 0, S15, Policy, false, system::metrics),
    route!(Get, "/v1/api", 0, S10, Policy, false, system::api),
    route!(
        PutOrPost,
        "/v1/key/create/",
        0,
        S15,
        Policy,
        true,
        key::create
    ),
    route!(
        PutOrPost,
        "/v1/key/import/",
        MB,
        S15,
        Policy,
        true,
        key::import
    ),
    route!(
        Get,
        "/v1/key/describe/",
        0,
        S15,
        Policy,
        true,
        key::describe
    ),
    route!(Get, "/v1/key/list/", 0, S15, Policy, true, key::list),
    route!(Delete, "/v1/key/delete/", 0, S15, Policy, true, key::delete),
    route!(
        PutOrPost,
        "/v1/key/generate/",
        MB,
        S15,
        Policy,
        true,
        key::generate
    ),
    route!(
        PutOrPost,
        "/v1/key/encrypt/",
        MB,
        S15,
        Policy,
        true,
        key::encrypt
    ),
    route!(
        PutOrPost,
        "/v1/key/decrypt/",
        MB,
        S15,
        Policy,
        true,
        key::decrypt
    ),
    route!(PutOrPost, "/v1/key/hmac/", MB, S15, Policy, true, key::hmac),
    route!(
        PutOrPost,
        "/v1/key/bulk/decrypt/",
        MIB,
        S15,
        Policy,
        true,
        key::bulk_decrypt
    ),
    route!(
        Get,
        "/v1/policy/describe/",
        0,
        S15,
        Policy,
        true,
        policy::describe
    ),
    route!(Get, "/v1/policy/read/", 0, S15, Policy, true, policy::read),
    route!(Get, "/v1/policy/list/", 0, S15, Policy, true, policy::list),
    route!(
        Get,
        "/v1/identity/describe/",
        0,
        S15,
        Policy,
        true,
        identity::describe
    ),
    route!(
        Get,
        "/v1/identity/list/",
        0,
        S15,
        Policy,
        true,
        identity::list
    ),
    route!(
        Get,
        "/v1/identity/self/describe",
        0,
        S15,
        Identify,
        true,
        identity::self_describe
    ),
    route!(
        Get,
        "/v1/log/error",
        0,
        Duration::ZERO,
        Policy,
        false,
        log::error
    ),
    route!(
        Get,
        "/v1/log/audit",
        0,
        Duration::ZERO,
        Policy,
        false,
        log::audit
    ),
];
