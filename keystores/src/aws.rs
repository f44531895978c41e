//! AWS Secrets Manager keystore (`kes-formats.md` §5.3), through the official AWS SDK.
//!
//! One secret per key, named exactly like the key, holding the stored value as its
//! `SecretString` (no description, no tags; the configured KMS key, if any, encrypts it): the
//! layout of the upstream Go server, so both can share one account. Values that are not UTF-8
//! (never produced by the server) are stored as `SecretBinary`, which the reference reads too.
//!
//! Errors are told apart by the service's error *code*, never by the HTTP status (moto answers
//! 404 where AWS answers 400). Mappings that go beyond the reference:
//!
//! - get of a secret that is scheduled for deletion (`InvalidRequestException`) is
//!   [`Error::NotFound`]: its value is no longer usable and `list` does not show it. The
//!   reference reports a generic error.
//! - delete first asks `DescribeSecret` whether the secret exists, because a forced
//!   `DeleteSecret` of a missing name may succeed (moto does); a secret scheduled for deletion
//!   exists there and is purged at once.
//! - create of a name still held by a secret scheduled for deletion fails with
//!   [`Error::Unavailable`] carrying the service's explanation, not [`Error::AlreadyExists`]: the
//!   key cannot be used, and the name frees up when the secret is purged.
//!
//! The SDK client is built on first use, so a store can be made outside a runtime and a server
//! whose endpoint is down still starts. Every operation is bounded by [`AwsKeyStore::timeout`]
//! (connect timeout, a few quick retries, and an overall deadline): a dead endpoint gives
//! [`Error::Unreachable`] within seconds, never a hang.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::primitives::Blob;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::{Error, KeyStore, Status};

/// How long one operation (all its attempts) may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest a TCP (and TLS) connect may take before the attempt is retried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Attempts per operation, the first included.
const MAX_ATTEMPTS: u32 = 3;

/// `ListSecrets` page size (the service maximum).
const PAGE_SIZE: i32 = 100;

/// Where and how to reach Secrets Manager.
#[derive(Clone, Debug)]
pub struct AwsOptions {
    /// The service endpoint: a URL (`https://secretsmanager.us-east-1.amazonaws.com`,
    /// `http://127.0.0.1:5000`) or a bare host, which means HTTPS like the reference.
    pub endpoint: String,
    /// The AWS region, e.g. `us-east-1`.
    pub region: String,
    /// The KMS key (id, ARN or alias) that encrypts new secrets; `None`: the account's default.
    pub kms_key: Option<String>,
    /// Static credentials; `None`: the SDK's default chain (environment, shared files, web
    /// identity, ECS and EC2 instance metadata).
    pub credentials: Option<StaticCredentials>,
}

/// An access key, its secret and an optional session token.
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key: String,
    pub secret_key: Zeroizing<String>,
    pub session_token: Option<Zeroizing<String>>,
}

/// Shows the access key id (not a secret), never the secret key or the token.
impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A keystore that keeps each value in one AWS Secrets Manager secret.
pub struct AwsKeyStore {
    options: AwsOptions,
    /// `options.endpoint` as a URL.
    endpoint: String,
    timeout: Duration,
    client: OnceCell<Client>,
}

impl fmt::Debug for AwsKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKeyStore")
            .field("endpoint", &self.endpoint)
            .field("region", &self.options.region)
            .field("kms_key", &self.options.kms_key)
            .field("credentials", &self.options.credentials)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `endpoint` as a URL: a bare host gets `https://`, as in the reference; another scheme than
/// `http` or `https` is refused.
fn endpoint_url(endpoint: &str) -> Result<String, Error> {
    let endpoint = endpoint.trim();
    let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let host = host.trim_end_matches('/');
    match scheme {
        "http" | "https" if !host.is_empty() => Ok(format!("{scheme}://{host}")),
        _ => Err(Error::Unavailable(format!(
            "aws secretsmanager: invalid endpoint '{endpoint}': want https://host[:port] or host"
        ))),
    }
}

impl AwsKeyStore {
    /// A store for `options`. Fails with [`Error::Unavailable`] if the endpoint or region is
    /// invalid. Nothing is contacted until the first operation.
    pub fn new(options: AwsOptions) -> Result<AwsKeyStore, Error> {
        let endpoint = endpoint_url(&options.endpoint)?;
        if options.region.trim().is_empty() {
            return Err(Error::Unavailable(
                "aws secretsmanager: no region specified".to_owned(),
            ));
        }
        Ok(AwsKeyStore {
            options,
            endpoint,
            timeout: DEFAULT_TIMEOUT,
            client: OnceCell::new(),
        })
    }

    /// The same store with every operation bounded by `timeout` instead of [`DEFAULT_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> AwsKeyStore {
        self.timeout = timeout;
        self
    }

    /// The bound on every operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The SDK client, built on first use.
    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(self.options.region.clone()));
                if let Some(c) = &self.options.credentials {
                    loader = loader.credentials_provider(Credentials::new(
                        c.access_key.clone(),
                        c.secret_key.as_str(),
                        c.session_token
                            .as_ref()
                            .filter(|t| !t.is_empty())
                            .map(|t| t.to_string()),
                        None,
                        "kes-config",
                    ));
                }
                let shared = loader.load().await;
                // Set on the service config, where nothing from the environment or profile
                // files can override them.
                let config = aws_sdk_secretsmanager::config::Builder::from(&shared)
                    .endpoint_url(&self.endpoint)
                    .region(Region::new(self.options.region.clone()))
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(CONNECT_TIMEOUT.min(self.timeout))
                            .operation_timeout(self.timeout)
                            .build(),
                    )
                    .retry_config(
                        RetryConfig::standard()
                            .with_max_attempts(MAX_ATTEMPTS)
                            .with_initial_backoff(Duration::from_millis(100))
                            .with_max_backoff(Duration::from_secs(1)),
                    )
                    .build();
                Client::from_conf(config)
            })
            .await
    }

    /// Runs `op` within the timeout; an elapsed timeout is [`Error::Unreachable`]. The SDK has
    /// the same bound; this one also covers building the client.
    async fn bounded<T>(&self, op: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result,
            Err(_) => Err(Error::Unreachable(format!(
                "aws secretsmanager: no answer from {} within {:?}",
                self.endpoint, self.timeout
            ))),
        }
    }

    /// Every secret name, from all `ListSecrets` pages, in the service's order.
    async fn all_names(&self) -> Result<Vec<String>, Error> {
        let client = self.client().await;
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_secrets()
                .max_results(PAGE_SIZE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|err| sdk_error("list secrets", err))?;
            names.extend(
                page.secret_list()
                    .iter()
                    .filter_map(|secret| secret.name().map(str::to_owned)),
            );
            match page.next_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => return Ok(names),
            }
        }
    }
}

/// Maps an SDK failure: no answer is [`Error::Unreachable`], anything else
/// [`Error::Unavailable`] with the service's error code and message.
fn sdk_error<E, R>(what: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => Error::Unreachable(format!(
            "aws secretsmanager: {what}: {}",
            DisplayErrorContext(&err)
        )),
        SdkError::ServiceError(service) => Error::Unavailable(format!(
            "aws secretsmanager: {what}: {}: {}",
            service.err().code().unwrap_or("unknown error"),
            service.err().message().unwrap_or_default()
        )),
        _ => Error::Unavailable(format!(
            "aws secretsmanager: {what}: {}",
            DisplayErrorContext(&err)
        )),
    }
}

#[async_trait]
impl KeyStore for AwsKeyStore {
    /// One `ListSecrets` call of one entry: the endpoint answers and the credentials may list.
    async fn status(&self) -> Result<Status, Error> {
        let start = Instant::now();
        self.bounded(async {
            self.client()
                .await
                .list_secrets()
                .max_results(1)
                .send()
                .await
                .map_err(|err| sdk_error("status", err))
        })
        .await?;
        Ok(Status {
            latency: start.elapsed(),
        })
    }

    async fn create(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        self.bounded(async {
            let mut request = self
                .client()
                .await
                .create_secret()
                .name(name)
                .set_kms_key_id(self.options.kms_key.clone());
            request = match std::str::from_utf8(value) {
                Ok(text) => request.secret_string(text),
                Err(_) => request.secret_binary(Blob::new(value)),
            };
            match request.send().await {
                Ok(_) => Ok(()),
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_exists_exception()) =>
                {
                    Err(Error::AlreadyExists)
                }
                Err(err) => Err(sdk_error(&format!("create '{name}'"), err)),
            }
        })
        .await
    }

    async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.bounded(async {
            let reply = self
                .client()
                .await
                .get_secret_value()
                .secret_id(name)
                .send()
                .await;
            match reply {
                Ok(mut out) => match (out.secret_string.take(), out.secret_binary.take()) {
                    (Some(text), _) => Ok(Zeroizing::new(text.into_bytes())),
                    (None, Some(blob)) => Ok(Zeroizing::new(blob.into_inner())),
                    (None, None) => Err(Error::Unavailable(format!(
                        "aws secretsmanager: secret '{name}' has no value"
                    ))),
                },
                Err(err)
                    if err.as_service_error().is_some_and(|e| {
                        e.is_resource_not_found_exception() || e.is_invalid_request_exception()
                    }) =>
                {
                    Err(Error::NotFound)
                }
                Err(err) => Err(sdk_error(&format!("get '{name}'"), err)),
            }
        })
        .await
    }

    async fn delete(&self, name: &str) -> Result<(), Error> {
        self.bounded(async {
            let client = self.client().await;
            match client.describe_secret().secret_id(name).send().await {
                Ok(_) => {}
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    return Err(Error::NotFound);
                }
                Err(err) => return Err(sdk_error(&format!("delete '{name}'"), err)),
            }
            match client
                .delete_secret()
                .secret_id(name)
                .force_delete_without_recovery(true)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    Err(Error::NotFound)
                }
                Err(err) => Err(sdk_error(&format!("delete '{name}'"), err)),
            }
        })
        .await
    }

    /// Lists every secret and filters locally: the service's name filter ignores case, so it
    /// could only narrow the listing, and the reference lists everything too.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut names = self.bounded(self.all_names()).await?;
        names.retain(|name| name.starts_with(prefix));
        names.sort_unstable();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use zeroize::Zeroizing;

    use super::{AwsKeyStore, AwsOptions, StaticCredentials, endpoint_url};
    use crate::{Error, KeyStore};

    fn options(endpoint: &str) -> AwsOptions {
        AwsOptions {
            endpoint: endpoint.to_owned(),
            region: "us-east-1".to_owned(),
            kms_key: None,
            credentials: Some(StaticCredentials {
                access_key: "AKIDTEST".to_owned(),
                secret_key: Zeroizing::new("hunter2".to_owned()),
                session_token: Some(Zeroizing::new("tok3n".to_owned())),
            }),
        }
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint_url("secretsmanager.us-east-1.amazonaws.com").unwrap(),
            "https://secretsmanager.us-east-1.amazonaws.com"
        );
        assert_eq!(
            endpoint_url("http://127.0.0.1:5000/").unwrap(),
            "http://127.0.0.1:5000"
        );
        for bad in ["", "ftp://host", "https://", "://host"] {
            assert!(endpoint_url(bad).is_err(), "{bad}");
        }
        let mut no_region = options("http://127.0.0.1:1");
        no_region.region = String::new();
        assert!(AwsKeyStore::new(no_region).is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let store = AwsKeyStore::new(options("http://127.0.0.1:1")).unwrap();
        let text = format!("{store:?}");
        assert!(text.contains("AKIDTEST"), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("tok3n"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn dead_endpoint_is_unreachable_fast() {
        // Port 1 on loopback: connection refused, retried a few times, then given up.
        let store = AwsKeyStore::new(options("http://127.0.0.1:1")).unwrap();
        let start = Instant::now();
        let err = store.get("k").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert!(!err.to_string().contains("hunter2"));
    }

    #[tokio::test]
    async fn silent_endpoint_times_out() {
        let (port, _held) = crate::test_util::silent_port().await;
        let store = AwsKeyStore::new(options(&format!("http://127.0.0.1:{port}")))
            .unwrap()
            .with_timeout(Duration::from_millis(500));
        let start = Instant::now();
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }
}
