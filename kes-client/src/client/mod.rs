//! The async API client for KES-compatible servers (spec `kes-api.md` §11).
//!
//! - this file: [`Client`], [`ClientBuilder`] and the request plumbing;
//! - `keys`: key routes; `admin`: server, policy and identity routes; `logs`: log streams;
//! - `metrics`: the Prometheus decoder; `transport`: endpoint ordering, failover and retries;
//! - `tls`: credentials and server trust; `types`: typed responses; `wire`: JSON bodies;
//! - `error`: [`Error`] and [`ApiError`].

mod admin;
mod error;
mod keys;
mod logs;
mod metrics;
mod tls;
mod transport;
mod types;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Response};

pub use error::{ApiError, Error};
pub use logs::{Event, EventStream};
pub use tls::{Credentials, ServerTrust};
pub use types::{
    Api, AuditEvent, CiphertextItem, Dek, ErrorEvent, IdentityInfo, KeyAlgorithm, KeyInfo, Metrics,
    Policy, PolicyInfo, SelfIdentity, Status, Version,
};

use transport::{Endpoints, Request};

/// Read limit of most response bodies (1 MiB).
const MAX_BODY: usize = 1 << 20;

/// A client for one or more KES servers. Cheap to clone; clones share connections and the
/// endpoints' health.
///
/// Requests go to one endpoint directly, or, with several, to a healthy localhost endpoint
/// first, then from a random start with a 30 s quarantine after network errors and 5xx
/// answers other than 501. Network errors and 503 are retried twice per endpoint.
///
/// # Example: MinIO-style configuration
///
/// ```no_run
/// use kes_client::config::KmsConfig;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let env = |name: &str| std::env::var(name).ok();
/// if let KmsConfig::Kes(kes) = KmsConfig::from_env(&env)? {
///     let client = kes.client()?;
///     let dek = client.generate_key(&kes.key_name, b"{}").await?;
///     assert_eq!(dek.plaintext.len(), 32);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoints: Endpoints,
    timeout: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.endpoints)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]: endpoints, credentials, server trust and an optional per-request
/// timeout.
#[derive(Debug)]
pub struct ClientBuilder {
    endpoints: Vec<String>,
    credentials: Credentials,
    trust: ServerTrust,
    timeout: Option<Duration>,
}

impl ClientBuilder {
    /// Trust for the server certificate; the default is [`ServerTrust::System`].
    pub fn server_trust(mut self, trust: ServerTrust) -> ClientBuilder {
        self.trust = trust;
        self
    }

    /// A deadline for each call (all endpoints and retries included, and reading the body);
    /// by default there is none, like kms-go.
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// Builds the client: loads the credentials and trust, with kms-go's transport defaults.
    pub fn build(self) -> Result<Client, Error> {
        if self.endpoints.iter().all(|e| e.trim().is_empty()) {
            return Err(Error::Config("no KES server endpoint provided".to_owned()));
        }
        let tls = tls::client_config(&self.credentials, &self.trust)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(30))
            .tcp_keepalive(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(100)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoints: Endpoints::new(&self.endpoints),
                timeout: self.timeout,
            }),
        })
    }
}

impl Client {
    /// A builder for a client of `endpoints` (`https://host:port`, optionally with a path
    /// prefix) that authenticates with `credentials`.
    pub fn builder(endpoints: &[String], credentials: Credentials) -> ClientBuilder {
        ClientBuilder {
            endpoints: endpoints.to_vec(),
            credentials,
            trust: ServerTrust::System,
            timeout: None,
        }
    }

    /// The endpoints in the order the client prefers them (localhost first; ties keep the
    /// configured order).
    pub async fn endpoints(&self) -> Vec<String> {
        self.inner.endpoints.ordered().await
    }

    /// Sends `req` and returns the successful response; statuses ≥ 400 become [`Error::Api`].
    async fn send(&self, req: Request<'_>) -> Result<Response, Error> {
        let resp = self.inner.endpoints.send(&self.inner.http, &req).await?;
        if resp.status().as_u16() >= 400 {
            return Err(parse_error(resp).await);
        }
        Ok(resp)
    }

    /// Runs `call` under the client's per-request timeout, if any.
    async fn deadline<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.inner.timeout {
            None => call.await,
            Some(t) => tokio::time::timeout(t, call)
                .await
                .unwrap_or(Err(Error::Timeout)),
        }
    }

    /// `method path` with an optional JSON body; the response body, read up to `limit` bytes.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<(Option<String>, Vec<u8>), Error> {
        let json = body.is_some();
        self.call_request(
            Request {
                method,
                path,
                body,
                json,
            },
            limit,
        )
        .await
    }

    /// Sends `req` under the deadline; the content type and body (up to `limit` bytes).
    async fn call_request(
        &self,
        req: Request<'_>,
        limit: usize,
    ) -> Result<(Option<String>, Vec<u8>), Error> {
        self.deadline(async {
            let resp = self.send(req).await?;
            let content_type = content_type(&resp);
            Ok((content_type, read_limited(resp, limit).await?))
        })
        .await
    }

    /// Like [`Client::call`], decoding the body as JSON.
    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<T, Error> {
        let (_, bytes) = self.call(method, path, body, limit).await?;
        decode(&bytes)
    }
}

fn content_type(resp: &Response) -> Option<String> {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidResponse(e.to_string()))
}

fn encode(body: &impl serde::Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| Error::Config(e.to_string()))
}

/// Reads at most `limit` bytes of the body; the rest is dropped, like Go's `io.LimitReader`.
async fn read_limited(mut resp: Response, limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    while out.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let take = chunk.len().min(limit - out.len());
                out.extend_from_slice(&chunk[..take]);
            }
            Ok(None) => break,
            Err(e) => return Err(Error::Connection(e.to_string())),
        }
    }
    Ok(out)
}

/// The API error of a response with status ≥ 400 (§11.5): a JSON body's `error`, else its
/// `message`, when the content type is JSON; otherwise the raw body (≤ 1 MiB).
async fn parse_error(resp: Response) -> Error {
    let status = resp.status().as_u16();
    let is_json = content_type(&resp).is_some_and(|t| t.starts_with("application/json"));
    let body = match read_limited(resp, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => return e,
    };
    if is_json {
        match serde_json::from_slice::<wire::ErrorBody>(&body) {
            Ok(b) if !b.error.is_empty() => Error::Api(ApiError::new(status, b.error)),
            Ok(b) => Error::Api(ApiError::new(status, b.message)),
            Err(e) => Error::InvalidResponse(format!("error body: {e}")),
        }
    } else {
        Error::Api(ApiError::new(
            status,
            String::from_utf8_lossy(&body).into_owned(),
        ))
    }
}

/// `prefix` joined with the escaped `arg`, as Go's `path.Join(prefix, url.PathEscape(arg))`:
/// an empty argument drops the trailing slash.
fn api_path(prefix: &str, arg: &str) -> String {
    if arg.is_empty() {
        return prefix.trim_end_matches('/').to_owned();
    }
    format!("{}/{}", prefix.trim_end_matches('/'), path_escape(arg))
}

/// Go's `url.PathEscape`: everything but unreserved characters and `$&+,:;=@` is escaped.
fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$&+,:;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_like_go() {
        assert_eq!(
            api_path("/v1/key/create/", "my-key"),
            "/v1/key/create/my-key"
        );
        assert_eq!(api_path("/v1/key/generate/", ""), "/v1/key/generate");
        assert_eq!(api_path("/v1/key/list/", "a*"), "/v1/key/list/a%2A");
        assert_eq!(
            api_path("/v1/key/describe/", "a/b c"),
            "/v1/key/describe/a%2Fb%20c"
        );
    }
}
