//! Azure Key Vault keystore, secrets API (`kes-formats.md` §5.4), through the official
//! `azure_security_keyvault_secrets` client.
//!
//! Each key is one Key Vault secret whose name is the key name and whose value is the key text,
//! set with the value only (no content type, no tags), as the upstream Go server stores it:
//!
//! - create: `GetSecret(name)`; 200 means the key exists. On 404, `SetSecret(name, value)`. A
//!   409 `ObjectIsDeletedButRecoverable`/`ObjectIsBeingDeleted` (a soft-deleted secret of that
//!   name) purges the deleted secret and sets again, with bounded retries. Key Vault has no
//!   create-if-absent: creates through one [`AzureKeyStore`] are serialised, creates from
//!   different processes race as they do upstream (the oldest version wins, see get).
//! - get: lists the versions (first page), takes the version created first, refuses it if it is
//!   disabled, not yet valid or expired, and reads it.
//! - delete: soft delete, then purge with bounded retries.
//! - list: `ListSecretProperties` pages, the name taken from each secret id.
//!
//! Key Vault secret names allow only `0-9`, `a-z`, `A-Z` and `-`: a name with any other
//! character (such as `_`) is refused with [`Error::InvalidName`] on create and is never found.
//! Secret values are text: a value that is not UTF-8 (never written by KES) is stored as base64
//! with the content type [`BINARY_CONTENT_TYPE`], and decoded on read.
//!
//! Every HTTP request is bounded by [`AzureOptions::timeout`] and the client does not retry, so a
//! dead endpoint fails with [`Error::Unreachable`] at once (refused) or after the timeout.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::credentials::{Secret as AzureSecret, TokenCredential};
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, RetryOptions, StatusCode, Transport};
use azure_identity::{
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId,
};
use azure_security_keyvault_secrets::models::{
    SecretClientGetSecretOptions, SecretClientListSecretPropertiesOptions,
    SecretClientListSecretPropertiesVersionsOptions, SecretProperties, SetSecretParameters,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures_util::StreamExt;
use zeroize::Zeroizing;

use crate::{Error, KeyStore, Status};

/// How long one HTTP request may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The API version used unless [`AzureOptions::api_version`] says otherwise: the newest that
/// both Azure and the Lowkey Vault emulator (3.x and later) serve.
pub const DEFAULT_API_VERSION: &str = "7.6";

/// The content type marking a value stored as base64 because it is not UTF-8.
pub const BINARY_CONTENT_TYPE: &str = "application/vnd.kes-rs.base64";

const PURGE_TRIES: u32 = 25;
const SET_TRIES: u32 = 7;
const DELETE_PURGE_TRIES: u32 = 10;

/// How the keystore authenticates to Key Vault.
#[derive(Clone)]
pub enum Credential {
    /// A service principal's client secret (`keystore.azure.keyvault.credentials`).
    ClientSecret {
        tenant_id: String,
        client_id: String,
        client_secret: Zeroizing<String>,
        /// The Entra ID authority, `https://login.microsoftonline.com` if `None` (or
        /// `$AZURE_AUTHORITY_HOST`).
        authority_host: Option<String>,
    },
    /// A managed identity (`keystore.azure.keyvault.managed_identity`): user-assigned with
    /// `client_id`, system-assigned without. The endpoint is found as the Azure SDKs find it
    /// (`$IDENTITY_ENDPOINT` + `$IDENTITY_HEADER` for App Service, else IMDS).
    ManagedIdentity { client_id: Option<String> },
    /// Neither configured: a client secret from `$AZURE_TENANT_ID`, `$AZURE_CLIENT_ID` and
    /// `$AZURE_CLIENT_SECRET` when all three are set, else the system-assigned managed identity.
    Default,
    /// A bearer token obtained elsewhere, sent as is (tests, short-lived tools).
    Token(Zeroizing<String>),
}

/// Never prints a secret.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ClientSecret {
                tenant_id,
                client_id,
                authority_host,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .field("authority_host", authority_host)
                .finish(),
            Credential::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            Credential::Default => f.write_str("Default"),
            Credential::Token(_) => f.write_str("Token([redacted])"),
        }
    }
}

/// Where the vault is and how to reach it.
#[derive(Clone, Debug)]
pub struct AzureOptions {
    /// The vault URL, e.g. `https://my-vault.vault.azure.net`.
    pub endpoint: String,
    pub credential: Credential,
    /// A PEM file of further CA certificates to trust, added to the system roots (which honour
    /// `$SSL_CERT_FILE`). For emulators with their own CA.
    pub ca: Option<PathBuf>,
    /// The Key Vault REST API version; [`DEFAULT_API_VERSION`] if `None`.
    pub api_version: Option<String>,
    /// Whether the resource of Key Vault's authentication challenge must match the vault's
    /// domain (`*.vault.azure.net`). `None`: yes, unless the endpoint host is an IP address or
    /// `localhost` (an emulator), where it can never match.
    pub verify_challenge_resource: Option<bool>,
    /// The bound on each HTTP request (connect included).
    pub timeout: Duration,
}

impl AzureOptions {
    /// Options for `endpoint` with `credential` and the defaults.
    pub fn new(endpoint: impl Into<String>, credential: Credential) -> AzureOptions {
        AzureOptions {
            endpoint: endpoint.into(),
            credential,
            ca: None,
            api_version: None,
            verify_challenge_resource: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A keystore that keeps each key as one Key Vault secret.
pub struct AzureKeyStore {
    client: SecretClient,
    endpoint: String,
    timeout: Duration,
    create_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for AzureKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureKeyStore")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A credential that hands out a fixed token.
#[derive(Debug)]
struct FixedToken(Zeroizing<String>);

#[async_trait]
impl TokenCredential for FixedToken {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        Ok(azure_core::credentials::AccessToken::new(
            self.0.as_str().to_owned(),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

/// Whether `name` is a valid Key Vault secret name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 127
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl AzureKeyStore {
    /// A store for the vault in `options`. Reads the CA file and builds the credential; nothing
    /// is sent until the first operation. Fails with [`Error::Unavailable`] on a bad option.
    pub fn new(options: AzureOptions) -> Result<AzureKeyStore, Error> {
        let bad = |what: &str, err: &dyn fmt::Display| {
            Error::Unavailable(format!("azure: invalid {what}: {err}"))
        };
        let endpoint = options.endpoint.trim_end_matches('/').to_owned();
        let url = azure_core::http::Url::parse(&endpoint).map_err(|err| bad("endpoint", &err))?;
        let local = match url.host_str() {
            Some(host) => {
                host == "localhost"
                    || host
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok()
            }
            None => return Err(bad("endpoint", &"no host")),
        };
        let mut http = reqwest::Client::builder()
            .connect_timeout(options.timeout)
            .timeout(options.timeout);
        if let Some(ca) = &options.ca {
            let pem =
                std::fs::read(ca).map_err(|err| bad(&format!("CA file {}", ca.display()), &err))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|err| bad(&format!("CA file {}", ca.display()), &err))?;
            http = http.tls_certs_merge(certs);
        }
        let http = http.build().map_err(|err| bad("HTTP client", &err))?;
        let client_options = ClientOptions {
            retry: RetryOptions::none(),
            transport: Some(Transport::new(Arc::new(http))),
            ..Default::default()
        };
        let credential: Arc<dyn TokenCredential> = match options.credential {
            Credential::Token(token) => Arc::new(FixedToken(token)),
            Credential::ClientSecret {
                tenant_id,
                client_id,
                client_secret,
                authority_host,
            } => client_secret_credential(
                &tenant_id,
                client_id,
                &client_secret,
                authority_host,
                &client_options,
            )?,
            Credential::ManagedIdentity { client_id } => {
                managed_identity(client_id, &client_options)?
            }
            Credential::Default => {
                let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
                match (
                    var("AZURE_TENANT_ID"),
                    var("AZURE_CLIENT_ID"),
                    var("AZURE_CLIENT_SECRET"),
                ) {
                    (Some(tenant), Some(client), Some(secret)) => client_secret_credential(
                        &tenant,
                        client,
                        &Zeroizing::new(secret),
                        None,
                        &client_options,
                    )?,
                    _ => managed_identity(None, &client_options)?,
                }
            }
        };
        let client = SecretClient::new(
            &endpoint,
            credential,
            Some(SecretClientOptions {
                api_version: options
                    .api_version
                    .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned()),
                client_options,
                verify_challenge_resource: Some(
                    options.verify_challenge_resource.unwrap_or(!local),
                ),
            }),
        )
        .map_err(|err| bad("endpoint", &err))?;
        Ok(AzureKeyStore {
            client,
            endpoint,
            timeout: options.timeout,
            create_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The version ids of `name`'s first page of versions with their properties.
    async fn versions(&self, name: &str) -> Result<Vec<SecretProperties>, Error> {
        let mut pages = self
            .client
            .list_secret_properties_versions(
                name,
                Some(SecretClientListSecretPropertiesVersionsOptions {
                    maxresults: Some(25),
                    ..Default::default()
                }),
            )
            .map_err(error)?
            .into_pages();
        match pages.next().await {
            None => Ok(Vec::new()),
            Some(page) => Ok(page.map_err(error)?.into_model().map_err(error)?.value),
        }
    }

    /// Purges the soft-deleted secret `name`, retrying while Key Vault is still deleting it.
    /// `Ok(true)` once purged (or gone), `Ok(false)` if still being deleted after `tries`.
    async fn purge(&self, name: &str, tries: u32) -> Result<bool, Error> {
        for attempt in 0..tries {
            match self.client.purge_deleted_secret(name, None).await {
                Ok(_) => return Ok(true),
                Err(err) => match code(&err) {
                    // Not yet in the deleted list (deletion in progress), or still being deleted.
                    (Some(StatusCode::NotFound), _) | (Some(StatusCode::Conflict), _) => {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    _ => return Err(error(err)),
                },
            }
        }
        Ok(false)
    }

    async fn create_locked(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        match self.client.get_secret(name, None).await {
            Ok(_) => return Err(Error::AlreadyExists),
            Err(err) if code(&err).0 == Some(StatusCode::NotFound) => {}
            // A disabled latest version still means the secret exists.
            Err(err) if code(&err).0 == Some(StatusCode::Forbidden) && is_disabled(&err) => {
                return Err(Error::AlreadyExists);
            }
            Err(err) => return Err(error(err)),
        }
        let params = match std::str::from_utf8(value) {
            Ok(text) => SetSecretParameters {
                value: Some(text.to_owned()),
                ..Default::default()
            },
            Err(_) => SetSecretParameters {
                value: Some(base64_encode(value)),
                content_type: Some(BINARY_CONTENT_TYPE.to_owned()),
                ..Default::default()
            },
        };
        let mut attempt = 0;
        loop {
            let body = params
                .clone()
                .try_into()
                .map_err(|err| Error::Unavailable(format!("azure: {err}")))?;
            match self.client.set_secret(name, body, None).await {
                Ok(_) => return Ok(()),
                Err(err)
                    if attempt + 1 < SET_TRIES && code(&err).0 == Some(StatusCode::Conflict) =>
                {
                    match code(&err).1.as_deref() {
                        Some("ObjectIsDeletedButRecoverable") => {
                            self.purge(name, PURGE_TRIES).await?;
                        }
                        Some("ObjectIsBeingDeleted") => {
                            tokio::time::sleep(backoff(attempt)).await;
                        }
                        _ => return Err(error(err)),
                    }
                }
                Err(err) => return Err(error(err)),
            }
            attempt += 1;
        }
    }
}

fn client_secret_credential(
    tenant_id: &str,
    client_id: String,
    secret: &Zeroizing<String>,
    authority_host: Option<String>,
    client_options: &ClientOptions,
) -> Result<Arc<dyn TokenCredential>, Error> {
    let mut options = client_options.clone();
    if let Some(host) = authority_host {
        let mut custom = azure_core::cloud::CustomConfiguration::default();
        custom.authority_host = host;
        options.cloud = Some(Arc::new(custom.into()));
    }
    let credential = ClientSecretCredential::new(
        tenant_id,
        client_id,
        AzureSecret::new(secret.as_str().to_owned()),
        Some(ClientSecretCredentialOptions {
            client_options: options,
        }),
    )
    .map_err(|err| Error::Unavailable(format!("azure: invalid client credentials: {err}")))?;
    Ok(credential)
}

fn managed_identity(
    client_id: Option<String>,
    client_options: &ClientOptions,
) -> Result<Arc<dyn TokenCredential>, Error> {
    let credential = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
        user_assigned_id: client_id.map(UserAssignedId::ClientId),
        client_options: client_options.clone(),
    }))
    .map_err(|err| Error::Unavailable(format!("azure: managed identity: {err}")))?;
    Ok(credential)
}

/// 200 ms doubling up to 1 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((200u64 << attempt.min(3)).min(1000))
}

/// The HTTP status and Key Vault error code of `err`, if it is an HTTP error.
fn code(err: &azure_core::Error) -> (Option<StatusCode>, Option<String>) {
    match err.kind() {
        ErrorKind::HttpResponse {
            status, error_code, ..
        } => (Some(*status), error_code.clone()),
        _ => (None, None),
    }
}

fn is_disabled(err: &azure_core::Error) -> bool {
    err.to_string().to_ascii_lowercase().contains("disabled")
}

/// Maps a client error: no answer is [`Error::Unreachable`], 404 [`Error::NotFound`], any other
/// answer [`Error::Unavailable`]. Messages never contain a token.
fn error(err: azure_core::Error) -> Error {
    match err.kind() {
        ErrorKind::HttpResponse { status, .. } if *status == StatusCode::NotFound => {
            Error::NotFound
        }
        ErrorKind::HttpResponse {
            status, error_code, ..
        } => Error::Unavailable(format!(
            "azure: {} {}: {err}",
            u16::from(*status),
            error_code.as_deref().unwrap_or("")
        )),
        ErrorKind::Connection | ErrorKind::Io => Error::Unreachable(format!("azure: {err}")),
        ErrorKind::Credential if unreachable_source(&err) => {
            Error::Unreachable(format!("azure: credential: {err}"))
        }
        _ => Error::Unavailable(format!("azure: {err}")),
    }
}

/// Whether a credential error was caused by an unreachable token endpoint.
fn unreachable_source(err: &azure_core::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(inner) = inner.downcast_ref::<azure_core::Error>()
            && matches!(inner.kind(), ErrorKind::Connection | ErrorKind::Io)
        {
            return true;
        }
        source = inner.source();
    }
    false
}

/// The secret name in an id `https://<vault>/secrets/<name>[/<version>]`.
fn name_from_id(id: &str) -> Option<&str> {
    let (_, rest) = id.split_once("/secrets/")?;
    rest.split('/').next().filter(|name| !name.is_empty())
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[async_trait]
impl KeyStore for AzureKeyStore {
    async fn status(&self) -> Result<Status, Error> {
        let start = Instant::now();
        let mut pages = self
            .client
            .list_secret_properties(Some(SecretClientListSecretPropertiesOptions {
                maxresults: Some(1),
                ..Default::default()
            }))
            .map_err(error)?
            .into_pages();
        if let Some(page) = pages.next().await {
            page.map_err(error)?;
        }
        Ok(Status {
            latency: start.elapsed(),
        })
    }

    async fn create(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        if !valid_name(name) {
            tracing::warn!(
                name,
                "azure: Key Vault secret names allow only 0-9, a-z, A-Z and '-'"
            );
            return Err(Error::InvalidName(name.to_owned()));
        }
        let _guard = self.create_lock.lock().await;
        self.create_locked(name, value).await
    }

    async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        if !valid_name(name) {
            return Err(Error::NotFound);
        }
        let versions = self.versions(name).await?;
        let oldest = versions
            .iter()
            .filter_map(|v| {
                let created = v.attributes.as_ref()?.created?;
                Some((created, v))
            })
            .min_by_key(|(created, _)| *created)
            .map(|(_, v)| v)
            .ok_or(Error::NotFound)?;
        let now = azure_core::time::OffsetDateTime::now_utc();
        if let Some(attrs) = &oldest.attributes {
            if attrs.enabled == Some(false) {
                return Err(Error::Unavailable(format!(
                    "azure: the first version of secret '{name}' is disabled"
                )));
            }
            if attrs.not_before.is_some_and(|t| t > now) {
                return Err(Error::Unavailable(format!(
                    "azure: the first version of secret '{name}' is not yet valid"
                )));
            }
            if attrs.expires.is_some_and(|t| t <= now) {
                return Err(Error::Unavailable(format!(
                    "azure: the first version of secret '{name}' has expired"
                )));
            }
        }
        let version = oldest
            .id
            .as_deref()
            .and_then(|id| id.rsplit('/').next())
            .ok_or_else(|| Error::Unavailable(format!("azure: secret '{name}' has no version")))?
            .to_owned();
        let secret = self
            .client
            .get_secret(
                name,
                Some(SecretClientGetSecretOptions {
                    secret_version: Some(version),
                    ..Default::default()
                }),
            )
            .await
            .map_err(error)?
            .into_model()
            .map_err(error)?;
        let value = secret
            .value
            .ok_or_else(|| Error::Unavailable(format!("azure: secret '{name}' has no value")))?;
        if secret.content_type.as_deref() == Some(BINARY_CONTENT_TYPE) {
            return base64_decode(&value).map(Zeroizing::new).ok_or_else(|| {
                Error::Unavailable(format!("azure: secret '{name}' is not valid base64"))
            });
        }
        Ok(Zeroizing::new(value.into_bytes()))
    }

    async fn delete(&self, name: &str) -> Result<(), Error> {
        if !valid_name(name) {
            return Err(Error::NotFound);
        }
        self.client.delete_secret(name, None).await.map_err(error)?;
        // A purge that still conflicts after the retries counts as done: the secret is deleted.
        self.purge(name, DELETE_PURGE_TRIES).await.map(drop)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut pages = self
            .client
            .list_secret_properties(None)
            .map_err(error)?
            .into_pages();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(error)?.into_model().map_err(error)?;
            names.extend(
                page.value
                    .iter()
                    .filter_map(|s| name_from_id(s.id.as_deref()?))
                    .filter(|name| name.starts_with(prefix))
                    .map(str::to_owned),
            );
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("my-key-1"));
        assert!(!valid_name("my_key"));
        assert!(!valid_name(""));
        assert!(!valid_name(&"a".repeat(128)));
        assert_eq!(
            name_from_id("https://v.vault.azure.net/secrets/k-1/abc"),
            Some("k-1")
        );
        assert_eq!(
            name_from_id("https://v.vault.azure.net/secrets/k"),
            Some("k")
        );
        assert_eq!(name_from_id("https://v/keys/k"), None);
    }

    #[test]
    fn base64_round_trip() {
        for len in 0..20 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Credential::ClientSecret {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Zeroizing::new("hunter2".into()),
            authority_host: None,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credential::Token(Zeroizing::new("tok".into()))).contains("tok"));
    }
}
