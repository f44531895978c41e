//! HTTP to Vault: the TLS setup (aws-lc-rs, CA file or directory, client certificate), one
//! bounded request per call, and the mapping of failures to [`Error`].

use std::error::Error as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

use super::VaultTls;
use crate::Error;

/// An HTTP client bound to one Vault endpoint.
pub(super) struct Client {
    http: reqwest::Client,
    endpoint: Url,
}

/// One request: `method /v1/<path>?<query>` with the optional namespace, token and JSON body.
pub(super) struct Call<'a> {
    pub method: Method,
    pub path: &'a [String],
    pub query: Option<(&'a str, &'a str)>,
    pub namespace: Option<&'a str>,
    pub token: Option<&'a str>,
    pub body: Option<&'a Value>,
}

impl Client {
    /// A client for `endpoint` with every request (connecting included) bounded by `timeout`.
    pub fn new(endpoint: &str, tls: &VaultTls, timeout: Duration) -> Result<Client, Error> {
        let endpoint = Url::parse(endpoint)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| Error::Unavailable(format!("vault: invalid endpoint '{endpoint}'")))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config(tls)?)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .map_err(|err| Error::Unavailable(format!("vault: HTTP client: {err}")))?;
        Ok(Client { http, endpoint })
    }

    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Sends `call` and returns the status and the JSON body (`null` when empty, a string when
    /// not JSON). A request that gets no answer is [`Error::Unreachable`].
    pub async fn send(&self, call: Call<'_>) -> Result<(StatusCode, Value), Error> {
        let mut url = self.endpoint.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Unavailable("vault: invalid endpoint".to_owned()))?
            .pop_if_empty()
            .push("v1")
            .extend(call.path);
        if let Some((key, value)) = call.query {
            url.query_pairs_mut().append_pair(key, value);
        }
        let mut request = self.http.request(call.method, url);
        if let Some(namespace) = call.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(token) = call.token {
            request = request.header("X-Vault-Token", token);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let unreachable = |err: reqwest::Error| {
            let mut causes = String::new();
            let mut source = err.source();
            while let Some(cause) = source {
                causes.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            Error::Unreachable(format!("vault: {}{causes}", err.without_url()))
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(unreachable)?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, body))
    }
}

/// The error for an unexpected answer to `what`, with Vault's own error messages.
pub(super) fn failure(what: &str, status: StatusCode, reply: &Value) -> Error {
    let detail = match &reply["errors"] {
        Value::Array(errors) => errors
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("; "),
        _ => match reply {
            Value::String(text) => text.chars().take(200).collect(),
            _ => String::new(),
        },
    };
    Error::Unavailable(format!("vault: {what}: {status}: {detail}"))
}

/// Whether a KV v2 write failed because `cas: 0` found an existing secret.
pub(super) fn is_cas_mismatch(reply: &Value) -> bool {
    reply["errors"].as_array().is_some_and(|errors| {
        errors
            .iter()
            .filter_map(Value::as_str)
            .any(|e| e.contains("check-and-set"))
    })
}

/// The rustls configuration: aws-lc-rs, the configured CAs (else the system's roots), and the
/// client certificate if one is configured.
fn tls_config(tls: &VaultTls) -> Result<rustls::ClientConfig, Error> {
    let invalid = |what: &str, path: &Path, err: &dyn std::fmt::Display| {
        Error::Unavailable(format!("vault: {what} '{}': {err}", path.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca {
        Some(ca) => {
            let files = if ca.is_dir() {
                let mut files: Vec<_> = std::fs::read_dir(ca)
                    .map_err(|err| invalid("cannot read CA directory", ca, &err))?
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.is_file())
                    .collect();
                files.sort();
                files
            } else {
                vec![ca.clone()]
            };
            for file in files {
                for cert in CertificateDer::pem_file_iter(&file)
                    .map_err(|err| invalid("cannot read CA file", &file, &err))?
                {
                    let cert = cert.map_err(|err| invalid("invalid CA file", &file, &err))?;
                    roots
                        .add(cert)
                        .map_err(|err| invalid("invalid CA certificate in", &file, &err))?;
                }
            }
            if roots.is_empty() {
                return Err(invalid("no CA certificate in", ca, &"empty"));
            }
        }
        None => {
            // Unreadable system roots only matter for https endpoints, which then fail to
            // verify Vault's certificate with a clear TLS error.
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::Unavailable(format!("vault: TLS: {err}")))?
        .with_root_certificates(roots);
    match &tls.client {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|err| invalid("cannot read client certificate", cert, &err))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| invalid("invalid client certificate", cert, &err))?;
            let key_der = PrivateKeyDer::from_pem_file(key)
                .map_err(|err| invalid("invalid client private key", key, &err))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|err| invalid("unusable client certificate", cert, &err))
        }
    }
}
