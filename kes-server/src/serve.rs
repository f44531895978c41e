//! The listener loop: accepts TCP connections, runs the TLS handshake, derives the caller's
//! identity from the client certificate, and serves HTTP/1.1 and HTTP/2 on the connection.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, ReadBuf};
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
/// How long a client may take to send a request header once its first byte arrived (as the
/// reference's `ReadHeaderTimeout`).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long in-flight requests may run on after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long a connection may stay open with no request in flight (as the reference's
/// `IdleTimeout`), for HTTP/1.1 keep-alive and HTTP/2 alike.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Connection limits that tests may shorten.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// See [`IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            idle_timeout: IDLE_TIMEOUT,
            header_read_timeout: HEADER_READ_TIMEOUT,
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
    // hyper's header timer starts as soon as a keep-alive connection waits for its next
    // request, so it would close every idle HTTP/1.1 connection after 5 s and make clients
    // (MinIO's pool keeps them 90 s) handshake again. `Activity` times headers instead.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
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
            // hyper-util's HTTP version detection waits for the first bytes without a bound:
            // a client that completes the handshake and then sends nothing would hold the
            // connection forever. The first byte must come within the header timeout.
            let h2_alpn = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            let mut tls = tokio::io::BufReader::new(tls);
            let h2 = match tokio::time::timeout(limits.header_read_timeout, tls.fill_buf()).await {
                Ok(Ok(first)) if !first.is_empty() => h2_alpn || first.starts_with(H2_PREFACE),
                _ => return,
            };
            let activity = Activity::default();
            let service = TowerToHyperService::new(connection_service(app, peer, activity.clone()));
            let io = Watched {
                inner: tls,
                activity: activity.clone(),
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            // HTTP/2 frames (pings, window updates) arrive between requests: no header timer.
            let header_limit = (!h2).then_some(limits.header_read_timeout);
            // Connection errors (resets, timeouts) end only this connection. An idle or stalled
            // one is dropped: no request is in flight, so nothing is cut short.
            tokio::select! {
                _ = watcher.watch(conn.into_owned()) => {}
                () = activity.expired(limits.idle_timeout, header_limit) => {}
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

/// The start of the HTTP/2 connection preface.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// What a connection is doing, for its idle and header timers.
#[derive(Debug, Default)]
struct ActivityState {
    /// Requests in flight (until their response bodies are dropped).
    in_flight: usize,
    /// When the last request ended; `None` before the first.
    last_end: Option<tokio::time::Instant>,
    /// When bytes arrived with no request in flight: a request head is being read.
    head_since: Option<tokio::time::Instant>,
}

/// A connection's [`ActivityState`], shared by its byte stream, its requests and its timers.
#[derive(Debug, Clone, Default)]
struct Activity(Arc<(std::sync::Mutex<ActivityState>, tokio::sync::Notify)>);

impl Activity {
    fn state(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        // The state is plain counters: a panic elsewhere cannot leave it inconsistent.
        self.0
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn begin(&self) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.head_since = None;
        InFlight(self.clone())
    }

    /// Called for every read that returned bytes.
    fn bytes_arrived(&self) {
        let mut state = self.state();
        if state.in_flight == 0 && state.head_since.is_none() {
            state.head_since = Some(tokio::time::Instant::now());
            drop(state);
            self.0.1.notify_one();
        }
    }

    /// Completes once no request has been in flight for `idle` (counted from the connection's
    /// start or its last request's end), or once a request head has been arriving for longer
    /// than `head` without being complete.
    async fn expired(&self, idle: Duration, head: Option<Duration>) {
        let start = tokio::time::Instant::now();
        loop {
            let notified = self.0.1.notified();
            let wake = {
                let state = self.state();
                if state.in_flight == 0 {
                    let idle_end = state.last_end.unwrap_or(start) + idle;
                    match (state.head_since, head) {
                        (Some(since), Some(head)) => idle_end.min(since + head),
                        _ => idle_end,
                    }
                } else {
                    tokio::time::Instant::now() + idle
                }
            };
            if wake <= tokio::time::Instant::now() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                () = notified => {}
            }
        }
    }
}

/// One request in flight; ends when dropped.
#[derive(Debug)]
struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.last_end = Some(tokio::time::Instant::now());
    }
}

/// A connection's byte stream that reports arriving bytes to its [`Activity`].
struct Watched<S> {
    inner: S,
    activity: Activity,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
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
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
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
        activity.expired(limit, None).await;
        assert_eq!(
            start.elapsed(),
            limit,
            "an unused connection is idle from its start"
        );

        let activity = Activity::default();
        let request = activity.begin();
        let idle = tokio::spawn({
            let activity = activity.clone();
            async move { activity.expired(limit, None).await }
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

    #[tokio::test(start_paused = true)]
    async fn header_timer_runs_only_while_a_head_arrives() {
        let (idle, head) = (Duration::from_secs(90), Some(Duration::from_secs(5)));
        let activity = Activity::default();
        let timer = tokio::spawn({
            let activity = activity.clone();
            async move { activity.expired(idle, head).await }
        });
        // A keep-alive connection waiting for its next request is not timed by the header limit.
        let request = activity.begin();
        drop(request);
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!timer.is_finished());
        // Bytes of a request body (a request in flight) do not start it either.
        let request = activity.begin();
        activity.bytes_arrived();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!timer.is_finished());
        drop(request);
        // The first bytes of the next head do; a complete head (a request) stops it.
        activity.bytes_arrived();
        tokio::time::sleep(Duration::from_secs(4)).await;
        let request = activity.begin();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!timer.is_finished());
        drop(request);
        let stalled = tokio::time::Instant::now();
        activity.bytes_arrived();
        timer.await.unwrap();
        assert_eq!(
            stalled.elapsed(),
            Duration::from_secs(5),
            "a stalled head ends it"
        );
    }
}
