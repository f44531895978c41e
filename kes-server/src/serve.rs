//! The listener loop: accepts TCP connections, runs the TLS handshake, derives the caller's
//! identity from the client certificate, and serves HTTP/1.1 and HTTP/2 on the connection.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::api::{self, router::canonical_path, router::redirect};
use crate::cache::Health;
use crate::logs::Level;
use crate::state::{Server, TlsHandle};
use crate::tls::{Peer, PeerIdentity};

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send the request header (as the reference).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long in-flight requests may run on after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the KES API on `listener` until `shutdown` completes, then lets in-flight requests
/// finish for a short grace period. The key cache's timers run while this does. Each accepted
/// connection handshakes with the TLS configuration `tls` holds at that moment.
pub async fn serve(
    listener: TcpListener,
    tls: TlsHandle,
    server: Arc<Server>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    // The cache timers and health check run exactly as long as this loop.
    let _maintenance = {
        let cache = Arc::clone(server.cache());
        let server = Arc::clone(&server);
        cache.start(move |health| match health {
            Health::Offline(err) => server.logs().error(
                Level::WARN,
                &format!(
                    "keystore is offline: {err}; cached keys serve as cache.expiry.offline allows"
                ),
                None,
            ),
            Health::Online => server
                .logs()
                .error(Level::INFO, "keystore is online again", None),
        })
    };
    let app = api::router(Arc::clone(&server));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);

    tokio::pin!(shutdown);
    loop {
        let (tcp, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    server.logs().error(Level::INFO, &format!("http: accept error: {err}"), None);
                    // Out of file descriptors and similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = TlsAcceptor::from(tls.current());
        let app = app.clone();
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(err)) => {
                    let msg = format!("http: TLS handshake error from {addr}: {err}");
                    server.logs().error(Level::INFO, &msg, None);
                    return;
                }
                Err(_) => return,
            };
            // Shared by every request on the connection: tagging a request is a reference count.
            let peer = Arc::new(Peer {
                addr,
                identity: PeerIdentity::from_chain(tls.get_ref().1.peer_certificates()),
            });
            let service = TowerToHyperService::new(connection_service(app, peer));
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            // Connection errors (resets, timeouts) end only this connection.
            let _ = watcher.watch(conn.into_owned()).await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
    Ok(())
}

/// Routes one connection's requests, tagging each with the connection's `Arc<Peer>` and
/// redirecting non-canonical paths before routing, as Go's mux does.
fn connection_service(
    app: Router,
    peer: Arc<Peer>,
) -> impl tower::Service<
    http::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let peer = Arc::clone(&peer);
        async move {
            // The raw path is cleaned, so an escaped slash stays inside a name.
            if let Some(clean) = canonical_path(req.uri().path()) {
                return Ok(redirect(&clean, req.uri().query()));
            }
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(peer);
            app.oneshot(req).await
        }
    })
}

/// Binds `addr` as a TCP listener.
pub async fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
