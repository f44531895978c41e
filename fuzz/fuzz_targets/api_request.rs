//! Request bodies (and resource names) of every route, through the real router and handlers on
//! an in-memory keystore. Input: `route selector ‖ flags ‖ name length ‖ name ‖ body`; the name
//! is percent-encoded into the path, the flags pick the method and the caller (the admin, or an
//! identity without a policy). The streaming log routes never end and are left out. A request
//! must never produce a 5xx: every bad input is the caller's error.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use kes_server::api::{ROUTES, RouteSpec, router};
use kes_server::config::Config;
use kes_server::{Peer, PeerIdentity, startup};
use libfuzzer_sys::fuzz_target;
use policies::Identity;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const ADMIN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The key every run may use; it is never deleted.
const KEY: &str = "k";

struct Harness {
    runtime: Runtime,
    router: Router,
    routes: Vec<&'static RouteSpec>,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let yaml = format!(
        "version: v1\nadmin:\n  identity: {ADMIN}\ntls:\n  key: unused\n  cert: unused\n\
         log:\n  error: off\n  audit: off\nkeystore:\n  fs:\n    path: unused\n"
    );
    let config = Config::parse(&yaml, &|_| None).expect("config");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let keystore = Arc::new(keystores::mem::MemKeyStore::new());
    let prepared = runtime
        .block_on(startup::prepare_with(
            &config,
            keystore,
            vec![cert.cert.der().clone()],
            key,
        ))
        .expect("server");
    let router = router(prepared.server);
    let routes = ROUTES
        .iter()
        .filter(|r| !r.path.starts_with("/v1/log/"))
        .collect();
    let harness = Harness {
        runtime,
        router,
        routes,
    };
    let status = harness.send(
        Method::POST,
        &format!("/v1/key/create/{KEY}"),
        true,
        Vec::new(),
    );
    assert_eq!(status, StatusCode::OK);
    harness
});

impl Harness {
    fn send(&self, method: Method, path: &str, admin: bool, body: Vec<u8>) -> StatusCode {
        let Ok(mut req) = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::from(body))
        else {
            return StatusCode::BAD_REQUEST;
        };
        let identity = if admin {
            Identity::from(ADMIN.to_owned())
        } else {
            Identity::from_spki_der(b"nobody")
        };
        // The server tags each request with its connection's shared `Arc<Peer>`.
        req.extensions_mut().insert(Arc::new(Peer {
            addr: SocketAddr::from(([127, 0, 0, 1], 40000)),
            identity: PeerIdentity::Certificate(identity),
        }));
        self.runtime.block_on(async {
            let response = self.router.clone().oneshot(req).await.expect("infallible");
            let status = response.status();
            let _ = response.into_body().collect().await;
            status
        })
    }
}

/// Percent-encodes every byte outside the unreserved set, so any name reaches the handler.
fn encode(name: &[u8]) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for &b in name {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let h = &*HARNESS;
    let [route, flags, name_len, rest @ ..] = data else {
        return;
    };
    let spec = h.routes[usize::from(*route) % h.routes.len()];
    let (name, body) = rest.split_at(usize::from(*name_len).min(rest.len()));
    // Flag bit 0 replaces the name by the existing key, so bodies reach the crypto.
    let name = if flags & 1 == 1 { KEY.as_bytes() } else { name };
    let method = match (flags >> 1) & 3 {
        0 => Method::POST,
        1 => Method::PUT,
        2 => Method::GET,
        _ => Method::DELETE,
    };
    let admin = flags & 8 == 0;
    let path = if spec.is_prefix() {
        format!("{}{}", spec.path, encode(name))
    } else {
        spec.path.to_owned()
    };
    // The key every run relies on is never deleted.
    if method == Method::DELETE && name == KEY.as_bytes() {
        return;
    }
    let status = h.send(method, &path, admin, body.to_vec());
    assert!(!status.is_server_error(), "{path}: {status}");
    // Keys a run created are removed again, so memory stays flat over millions of runs.
    if status.is_success() && spec.path.starts_with("/v1/key/") && name != KEY.as_bytes() {
        h.send(
            Method::DELETE,
            &format!("/v1/key/delete/{}", encode(name)),
            true,
            Vec::new(),
        );
    }
});
