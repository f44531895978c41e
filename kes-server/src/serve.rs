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
use tokio::io::AsyncBufReadExt as _;
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
/// How long a connection may stay open with no request in flight (as the reference). HTTP/1.1
/// connections are closed sooner: hyper's header timeout also covers waiting for the next
/// request. HTTP/2 has no such timer, so this one ends idle HTTP/2 connections.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Connection limits that tests may shorten.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// See [`IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

/// Serves the KES API on `listener` until `shutdown` completes, then lets in-flight requests
/// finish for a short grace period. The key cache's timers run while this does. Each accepted
/// connection handshakes with the TLS configuration `tls` holds at that moment.
pub async fn serve(
    listener: TcpListener,
    tls: TlsHandle,
    server: Arc<Server>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with(listener, tls, server, shutdown, Limits::default()).await
}

/// [`serve`] with explicit connection [`Limits`].
pub async fn serve_with(
    listener: TcpListener,
    tls: TlsHandle,
    server: Arc<Server>,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
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
            // hyper's header timeout starts only once the HTTP version is known, and the
            // version detection waits for the first bytes without a bound: a client that
            // completes the handshake and then sends nothing would hold the connection forever.
            let mut tls = tokio::io::BufReader::new(tls);
            match tokio::time::timeout(HEADER_READ_TIMEOUT, tls.fill_buf()).await {
                Ok(Ok(first)) if !first.is_empty() => {}
                _ => return,
            }
            let activity = Activity::default();
            let service = TowerToHyperService::new(connection_service(app, peer, activity.clone()));
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            // Connection errors (resets, timeouts) end only this connection. An idle one is
            // dropped: no request is in flight, so nothing is cut short.
            tokio::select! {
                _ = watcher.watch(conn.into_owned()) => {}
                () = activity.idle_for(limits.idle_timeout) => {}
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
    Ok(())
}

/// Counts a connection's requests in flight (until their response bodies are dropped) and
/// remembers when the last one ended.
#[derive(Debug, Clone, Default)]
struct Activity(Arc<std::sync::Mutex<(usize, Option<tokio::time::Instant>)>>);

impl Activity {
    fn begin(&self) -> InFlight {
        if let Ok(mut state) = self.0.lock() {
            state.0 += 1;
        }
        InFlight(self.clone())
    }

    /// Completes once no request has been in flight for `limit` (counted from the connection's
    /// start or its last request's end).
    async fn idle_for(&self, limit: Duration) {
        let start = tokio::time::Instant::now();
        loop {
            let idle_since = match self.0.lock() {
                Ok(state) if state.0 == 0 => Some(state.1.unwrap_or(start)),
                _ => None,
            };
            let wake = match idle_since {
                Some(since) if since.elapsed() >= limit => return,
                Some(since) => since + limit,
                None => tokio::time::Instant::now() + limit,
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// One request in flight; ends when dropped.
#[derive(Debug)]
struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut state) = (self.0).0.lock() {
            state.0 = state.0.saturating_sub(1);
            state.1 = Some(tokio::time::Instant::now());
        }
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Routes one connection's requests, tagging each with the connection's `Arc<Peer>` and
/// redirecting non-canonical paths before routing, as Go's mux does.
fn connection_service(
    app: Router,
    peer: Arc<Peer>,
    activity: Activity,
) -> impl tower::Service<
    http::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let peer = Arc::clone(&peer);
        let in_flight = activity.begin();
        async move {
            // The raw path is cleaned, so an escaped slash stays inside a name.
            let response = if let Some(clean) = canonical_path(req.uri().path()) {
                redirect(&clean, req.uri().query())
            } else {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(peer);
                app.oneshot(req).await?
            };
            Ok(response.map(|body| {
                Body::new(Tracked {
                    body,
                    _in_flight: in_flight,
                })
            }))
        }
    })
}

/// Binds `addr` as a TCP listener.
pub async fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_timer_waits_for_requests_in_flight() {
        let limit = Duration::from_secs(90);
        let activity = Activity::default();
        let start = tokio::time::Instant::now();
        activity.idle_for(limit).await;
        assert_eq!(
            start.elapsed(),
            limit,
            "an unused connection is idle from its start"
        );

        let activity = Activity::default();
        let request = activity.begin();
        let idle = tokio::spawn({
            let activity = activity.clone();
            async move { activity.idle_for(limit).await }
        });
        // A request (or a log stream) in flight for longer than the limit keeps it open.
        tokio::time::sleep(limit * 3).await;
        assert!(!idle.is_finished());
        let ended = tokio::time::Instant::now();
        drop(request);
        idle.await.unwrap();
        assert!(
            ended.elapsed() >= limit,
            "idle counts from the last request's end"
        );
        assert!(ended.elapsed() < limit * 2);
    }
}
