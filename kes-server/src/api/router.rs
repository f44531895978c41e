//! Builds the axum router from the route table and runs the per-request pipeline.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use policies::{Identity, PolicySet};

use super::{Auth, Methods, ROUTES, Request, Route, RouteSpec};
use crate::error::ApiError;
use crate::logs::{AuditEvent, Level, RequestInfo};
use crate::state::Server;
use crate::tls::{Peer, PeerIdentity};

/// The list routes that answer their slash-less root directly instead of redirecting.
const LIST_ROOTS: [&str; 3] = ["/v1/key/list", "/v1/policy/list", "/v1/identity/list"];

/// The router for the route table. Requests must carry an `Arc<Peer>` extension. Each request reads
/// its route's timeout and authentication from `server`'s current settings, so a reload of the
/// `api:` overrides applies without rebuilding the router.
pub fn router(server: Arc<Server>) -> Router {
    let mut router = Router::new();
    for spec in ROUTES {
        let methods = method_router(spec, Arc::clone(&server));
        router = router.route(spec.path, methods.clone());
        if spec.is_prefix() {
            router = router.route(&format!("{}{{*resource}}", spec.path), methods.clone());
            if let Some(root) = LIST_ROOTS.iter().find(|r| spec.path.starts_with(**r)) {
                router = router.route(root, methods);
            }
        }
    }
    let prefixes: Vec<&'static str> = ROUTES
        .iter()
        .filter(|spec| spec.is_prefix())
        .map(|spec| spec.path)
        .collect();
    router.fallback(move |req: http::Request<Body>| {
        let prefixes = prefixes.clone();
        async move { not_found(&prefixes, req.uri()) }
    })
}

fn method_router(spec: &'static RouteSpec, server: Arc<Server>) -> MethodRouter {
    let filter = match spec.methods {
        Methods::Get => MethodFilter::GET,
        Methods::Delete => MethodFilter::DELETE,
        Methods::PutOrPost => MethodFilter::PUT.or(MethodFilter::POST),
    };
    on(filter, move |req: http::Request<Body>| {
        let server = Arc::clone(&server);
        async move { dispatch(spec, server, req).await }
    })
    .fallback(move |req: http::Request<Body>| async move {
        ApiError::MethodNotAllowed {
            got: req.method().clone(),
            want: spec.methods.declared(),
        }
        .into_response()
    })
}

/// Unknown paths: the reference's Go mux answers a redirect for a subtree root without its
/// slash, and a plain-text 404 otherwise.
fn not_found(prefixes: &[&str], uri: &http::Uri) -> Response {
    let path = uri.path();
    if prefixes.iter().any(|p| p.strip_suffix('/') == Some(path)) {
        return redirect(&format!("{path}/"), uri.query());
    }
    let mut response = (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A 301 to `path` (plus the query, as Go's mux keeps it).
pub fn redirect(path: &str, query: Option<&str>) -> Response {
    let location = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    match HeaderValue::from_str(&location) {
        Ok(value) => {
            let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn dispatch(spec: &RouteSpec, server: Arc<Server>, req: http::Request<Body>) -> Response {
    let start = Instant::now();
    // One snapshot per request: a concurrent reload applies to the next request.
    let settings = server.settings();
    let route = settings.route(spec);
    let peer = req.extensions().get::<Arc<Peer>>().cloned();
    let peer = peer.as_deref();
    let Some(path) = percent_decode(req.uri().path()) else {
        return (
            StatusCode::BAD_REQUEST,
            "400 Bad Request: invalid URL escape",
        )
            .into_response();
    };
    let method = req.method().clone();
    // Built only for the error and audit logs, so a quiet request allocates nothing for it.
    let info = || RequestInfo {
        method: method.clone(),
        path: path.clone(),
        ip: peer.map(|p| p.addr.ip()),
        identity: match peer.map(|p| &p.identity) {
            Some(PeerIdentity::Certificate(id)) => Some(id.clone()),
            _ => None,
        },
    };

    let _active = route.spec.metered.then(|| server.metrics().begin());
    let mut authenticated = false;
    let work = async {
        let identity = authenticate(&route, &settings.policies, peer, &path)?;
        authenticated = true;
        let resource = if route.spec.is_prefix() {
            path.get(route.spec.path.len()..)
                .unwrap_or_default()
                .to_owned()
        } else {
            String::new()
        };
        let (parts, body) = req.into_parts();
        let body = if route.spec.max_body == 0 {
            None
        } else {
            read_body(body, route.spec.max_body).await
        };
        let request = Request {
            server: Arc::clone(&server),
            identity,
            resource,
            headers: parts.headers,
            body,
        };
        (route.spec.handler)(request).await
    };
    let result = if route.timeout.is_zero() {
        work.await
    } else {
        tokio::time::timeout(route.timeout, work)
            .await
            .unwrap_or(Err(ApiError::Timeout))
    };

    let response = match result {
        Ok(response) => response,
        Err(err) => {
            log_error(&server, &err, &info());
            err.into_response()
        }
    };
    let latency = start.elapsed();
    if route.spec.metered && authenticated {
        server.metrics().observe(response.status(), latency);
    }
    if server.logs().audits() {
        server.logs().audit(AuditEvent {
            request: &info(),
            status: response.status(),
            latency,
        });
    }
    response
}

fn authenticate(
    route: &Route,
    policies: &PolicySet,
    peer: Option<&Peer>,
    path: &str,
) -> Result<Identity, ApiError> {
    let identity = match (route.auth, peer.map(|p| &p.identity)) {
        (Auth::None, _) => return Ok(Identity::unknown()),
        (_, None) => return Err(ApiError::InsecureConnection),
        (_, Some(PeerIdentity::MoreThanOne)) => return Err(ApiError::MoreThanOneClientCertificate),
        (Auth::Identify, Some(PeerIdentity::NoCertificate)) => return Ok(Identity::unknown()),
        (Auth::Policy, Some(PeerIdentity::NoCertificate)) => {
            return Err(ApiError::ClientCertificateRequired);
        }
        (_, Some(PeerIdentity::Certificate(identity))) => identity,
    };
    if route.auth == Auth::Policy && !policies.authorize(identity, path) {
        return Err(ApiError::NotAllowed);
    }
    Ok(identity.clone())
}

async fn read_body(body: Body, max: u64) -> Option<bytes::Bytes> {
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    Limited::new(body, limit)
        .collect()
        .await
        .ok()
        .map(|collected| collected.to_bytes())
}

fn log_error(server: &Server, err: &ApiError, info: &RequestInfo) {
    let (status, message) = err.status_and_message();
    let level = match err {
        ApiError::NotAllowed
        | ApiError::InsecureConnection
        | ApiError::ClientCertificateRequired
        | ApiError::MoreThanOneClientCertificate => Level::DEBUG,
        ApiError::KeystoreUnavailable(_) | ApiError::KeystoreUnreachable(_) => Level::WARN,
        ApiError::InvalidRequestBody | ApiError::InvalidImportBody => Level::ERROR,
        _ if status.is_server_error() => Level::ERROR,
        _ => return,
    };
    match err.detail() {
        Some(detail) => server
            .logs()
            .error(level, &format!("{message}: {detail}"), Some(info)),
        None => server.logs().error(level, &message, Some(info)),
    }
}

/// Decodes `%XX` escapes of a URL path; `None` for a malformed escape or non-UTF-8 result.
pub fn percent_decode(path: &str) -> Option<String> {
    if !path.contains('%') {
        return Some(path.to_owned());
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The cleaned form of a decoded path if it is not canonical (`//`, `.` or `..` segments), as
/// Go's `path.Clean` computes it, keeping a trailing slash.
pub fn canonical_path(path: &str) -> Option<String> {
    let is_clean = !path.contains("//") && !path.split('/').any(|seg| seg == "." || seg == "..");
    if is_clean {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            seg => parts.push(seg),
        }
    }
    let mut clean = format!("/{}", parts.join("/"));
    if path.ends_with('/') && clean != "/" {
        clean.push('/');
    }
    Some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("/v1/key/create/a%2Fb").unwrap(),
            "/v1/key/create/a/b"
        );
        assert_eq!(
            percent_decode("/v1/key/list/%2A").unwrap(),
            "/v1/key/list/*"
        );
        assert!(percent_decode("/v1/%zz").is_none());
        assert!(percent_decode("/v1/%2").is_none());
        assert!(percent_decode("/v1/%ff").is_none());
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(canonical_path("/v1/status"), None);
        assert_eq!(canonical_path("/v1/key/list/"), None);
        assert_eq!(canonical_path("//v1/status").unwrap(), "/v1/status");
        assert_eq!(canonical_path("/v1/./status").unwrap(), "/v1/status");
        assert_eq!(canonical_path("/v1/key/create/../x").unwrap(), "/v1/key/x");
        assert_eq!(canonical_path("/v1/key/list//").unwrap(), "/v1/key/list/");
        assert_eq!(canonical_path("/..").unwrap(), "/");
    }
}
