//! A **stub** of the Azure Key Vault secrets REST API, written by this project, on 127.0.0.1 and
//! a free port over HTTPS with its own CA. It is not a real backend: the real emulator (Lowkey
//! Vault, `backends.md` §6) is a Spring Boot jar that the package registries reachable here do
//! not serve (`com.github.nagyesta.lowkey-vault:lowkey-vault-app` is absent from the Maven
//! Central mirror), so the Azure keystore is tested against this stub, as `backends.md` §6
//! decides for machines without Lowkey Vault.
//!
//! It follows the documented Key Vault behaviour the keystore relies on (api-version 7.x):
//!
//! - a request without `Authorization: Bearer <token>` gets 401 with a
//!   `WWW-Authenticate: Bearer authorization="…", resource="https://vault.azure.net"` challenge;
//!   a token the stub did not issue gets 401 too;
//! - `PUT /secrets/{name}` adds a version (`created` in Unix seconds); for a soft-deleted name it
//!   answers 409 `ObjectIsDeletedButRecoverable`;
//! - `GET /secrets/{name}/{version?}`, `GET /secrets/{name}/versions`, `GET /secrets` (pages of
//!   `maxresults`, default 25, with `nextLink`), `DELETE /secrets/{name}` (soft delete),
//!   `DELETE /deletedsecrets/{name}` (purge, 204), errors as `{"error":{"code","message"}}`;
//! - token endpoints: Entra ID client credentials (`POST /{tenant}/oauth2/v2.0/token`) and the
//!   App Service managed identity (`GET /msi/token` with `X-IDENTITY-HEADER`).
//!
//! `KV_STUB_TRACE=1` prints each request it receives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{CertificateParams, DnType, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

/// The client secret the stub's token endpoint accepts.
pub const CLIENT_SECRET: &str = "stub-client-secret";
/// The `X-IDENTITY-HEADER` value its managed-identity endpoint accepts.
pub const IDENTITY_HEADER: &str = "stub-identity-header";
/// A token the stub accepts without any token request (for a fixed-token credential).
pub const STATIC_TOKEN: &str = "stub-static-token";

#[derive(Debug, Default)]
struct Vault {
    secrets: BTreeMap<String, Vec<Version>>,
    deleted: BTreeMap<String, Vec<Version>>,
    tokens: Vec<String>,
    next_id: u64,
    /// How many tokens each endpoint issued: (client secret, managed identity).
    issued: (usize, usize),
}

#[derive(Debug, Clone)]
struct Version {
    id: String,
    value: String,
    content_type: Option<String>,
    created: i64,
}

/// A running stub; stopped on drop.
#[derive(Debug)]
pub struct KeyVaultStub {
    addr: SocketAddr,
    ca: PathBuf,
    _dir: tempfile::TempDir,
    vault: Arc<Mutex<Vault>>,
    task: tokio::task::JoinHandle<()>,
}

impl KeyVaultStub {
    /// Starts the stub on 127.0.0.1 and a free port, with a fresh CA in a temporary directory.
    pub async fn start() -> KeyVaultStub {
        let dir = tempfile::Builder::new()
            .prefix("kes-kvstub-")
            .tempdir()
            .unwrap();
        let (ca_pem, cert, key) = certificates();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, ca_pem).unwrap();
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let vault = Arc::new(Mutex::new(Vault {
            tokens: vec![STATIC_TOKEN.to_owned()],
            ..Vault::default()
        }));
        let state = vault.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let state = state.clone();
                conns.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, addr, req).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        KeyVaultStub {
            addr,
            ca,
            _dir: dir,
            vault,
            task,
        }
    }

    /// The vault URL, `https://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The PEM file of the CA that signed the stub's certificate.
    pub fn ca(&self) -> &Path {
        &self.ca
    }

    /// The App Service managed-identity endpoint (`IDENTITY_ENDPOINT`).
    pub fn identity_endpoint(&self) -> String {
        format!("https://{}/msi/token", self.addr)
    }

    /// Tokens issued so far by (client-secret endpoint, managed-identity endpoint).
    pub fn issued(&self) -> (usize, usize) {
        self.vault.lock().unwrap().issued
    }

    /// The versions of secret `name` as (value, content type), oldest first.
    pub fn versions(&self, name: &str) -> Vec<(String, Option<String>)> {
        let vault = self.vault.lock().unwrap();
        vault
            .secrets
            .get(name)
            .map(|v| {
                v.iter()
                    .map(|v| (v.value.clone(), v.content_type.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a soft-deleted (not yet purged) secret `name` exists.
    pub fn is_deleted(&self, name: &str) -> bool {
        self.vault.lock().unwrap().deleted.contains_key(name)
    }

    /// Stops answering: the port refuses connections afterwards.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for KeyVaultStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A CA (PEM) and a server certificate it signed for 127.0.0.1 and localhost, with its key.
fn certificates() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Key Vault stub CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "Key Vault stub");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    (
        ca_cert.pem(),
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut rsp = Response::new(Full::new(Bytes::from(body.to_string())));
    *rsp.status_mut() = status;
    rsp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    rsp
}

fn kv_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    reply(status, json!({"error": {"code": code, "message": message}}))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The decoded value of `key` in a query or form string.
fn query(req_query: Option<&str>, key: &str) -> Option<String> {
    req_query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (decode(k) == key).then(|| decode(v))
    })
}

/// Percent-decoding (and `+` as space, for forms).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bundle(base: &str, name: &str, v: &Version, with_value: bool) -> Value {
    let mut b = json!({
        "id": format!("{base}/secrets/{name}/{}", v.id),
        "attributes": {
            "enabled": true,
            "created": v.created,
            "updated": v.created,
            "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 7,
        },
    });
    if with_value {
        b["value"] = json!(v.value);
    }
    if let Some(ct) = &v.content_type {
        b["contentType"] = json!(ct);
    }
    b
}

async fn handle(
    vault: &Mutex<Vault>,
    addr: SocketAddr,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let base = format!("https://{addr}");
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let q = req.uri().query().map(str::to_owned);
    let headers = req.headers().clone();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if std::env::var_os("KV_STUB_TRACE").is_some() {
        eprintln!("kv stub: {method} {path}?{}", q.as_deref().unwrap_or(""));
    }

    // Token endpoints (no bearer token needed).
    if method == hyper::Method::POST && path.ends_with("/oauth2/v2.0/token") {
        let form = String::from_utf8_lossy(&body).to_string();
        let field = |k: &str| query(Some(&form), k);
        if field("client_secret").as_deref() != Some(CLIENT_SECRET) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_client", "error_description": "bad secret"}),
            );
        }
        let mut v = vault.lock().unwrap();
        v.issued.0 += 1;
        let token = format!("cs-token-{}", v.issued.0);
        v.tokens.push(token.clone());
        return reply(
            StatusCode::OK,
            json!({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": token}),
        );
    }
    if method == hyper::Method::GET && path == "/msi/token" {
        let header = headers
            .get("x-identity-header")
            .and_then(|h| h.to_str().ok());
        if header != Some(IDENTITY_HEADER) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"error": "bad identity header"}),
            );
        }
        let resource = query(q.as_deref(), "resource").unwrap_or_default();
        let mut v = vault.lock().unwrap();
        v.issued.1 += 1;
        let token = format!("mi-token-{}", v.issued.1);
        v.tokens.push(token.clone());
        return reply(
            StatusCode::OK,
            json!({"access_token": token, "expires_on": (now() + 3600).to_string(),
                   "resource": resource, "token_type": "Bearer"}),
        );
    }

    // Key Vault: challenge first.
    let token = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    let known = token.is_some_and(|t| vault.lock().unwrap().tokens.iter().any(|k| k == t));
    if !known {
        let mut rsp = reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}),
        );
        rsp.headers_mut().insert(
            "www-authenticate",
            "Bearer authorization=\"https://login.microsoftonline.com/stub-tenant\", resource=\"https://vault.azure.net\""
                .parse()
                .unwrap(),
        );
        return rsp;
    }
    if query(q.as_deref(), "api-version").is_none() {
        return kv_error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "api-version missing",
        );
    }

    let mut v = vault.lock().unwrap();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["secrets"]) => {
            let max: usize = query(q.as_deref(), "maxresults")
                .and_then(|m| m.parse().ok())
                .unwrap_or(25);
            let skip: usize = query(q.as_deref(), "$skiptoken")
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            let page: Vec<Value> = v
                .secrets
                .iter()
                .skip(skip)
                .take(max)
                .map(|(name, versions)| {
                    let mut b = bundle(&base, name, versions.last().unwrap(), false);
                    b["id"] = json!(format!("{base}/secrets/{name}"));
                    b
                })
                .collect();
            let next = (skip + max < v.secrets.len()).then(|| {
                format!(
                    "{base}/secrets?api-version=7.6&$skiptoken={}&maxresults={max}",
                    skip + max
                )
            });
            reply(StatusCode::OK, json!({"value": page, "nextLink": next}))
        }
        ("GET", ["secrets", name, "versions"]) => match v.secrets.get(*name) {
            None => kv_error(
                StatusCode::NOT_FOUND,
                "SecretNotFound",
                &format!("A secret with (name/id) {name} was not found in this key vault."),
            ),
            Some(versions) => {
                // Newest first, as Key Vault tends to list them: the keystore must sort.
                let page: Vec<Value> = versions
                    .iter()
                    .rev()
                    .map(|ver| bundle(&base, name, ver, false))
                    .collect();
                reply(StatusCode::OK, json!({"value": page, "nextLink": null}))
            }
        },
        ("GET", ["secrets", name, rest @ ..]) if rest.len() <= 1 => {
            let version = rest.first().copied().unwrap_or("");
            let found = v.secrets.get(*name).and_then(|versions| {
                if version.is_empty() {
                    versions.last()
                } else {
                    versions.iter().find(|ver| ver.id == version)
                }
            });
            match found {
                Some(ver) => reply(StatusCode::OK, bundle(&base, name, ver, true)),
                None => kv_error(
                    StatusCode::NOT_FOUND,
                    "SecretNotFound",
                    &format!(
                        "A secret with (name/id) {name}/{version} was not found in this key vault."
                    ),
                ),
            }
        }
        ("PUT", ["secrets", name]) => {
            if v.deleted.contains_key(*name) {
                return kv_error(
                    StatusCode::CONFLICT,
                    "ObjectIsDeletedButRecoverable",
                    &format!("Secret {name} is currently in a deleted but recoverable state."),
                );
            }
            let params: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let Some(value) = params["value"].as_str() else {
                return kv_error(StatusCode::BAD_REQUEST, "BadParameter", "value missing");
            };
            v.next_id += 1;
            let ver = Version {
                id: format!("{:032x}", v.next_id),
                value: value.to_owned(),
                content_type: params["contentType"].as_str().map(str::to_owned),
                created: now(),
            };
            let out = bundle(&base, name, &ver, true);
            v.secrets.entry((*name).to_owned()).or_default().push(ver);
            reply(StatusCode::OK, out)
        }
        ("DELETE", ["secrets", name]) => match v.secrets.remove(*name) {
            None => kv_error(
                StatusCode::NOT_FOUND,
                "SecretNotFound",
                &format!("A secret with (name/id) {name} was not found in this key vault."),
            ),
            Some(versions) => {
                let mut out = bundle(&base, name, versions.last().unwrap(), false);
                out["recoveryId"] = json!(format!("{base}/deletedsecrets/{name}"));
                out["deletedDate"] = json!(now());
                out["scheduledPurgeDate"] = json!(now() + 7 * 86400);
                v.deleted.insert((*name).to_owned(), versions);
                reply(StatusCode::OK, out)
            }
        },
        ("DELETE", ["deletedsecrets", name]) => match v.deleted.remove(*name) {
            Some(_) => {
                let mut rsp = Response::new(Full::new(Bytes::new()));
                *rsp.status_mut() = StatusCode::NO_CONTENT;
                rsp
            }
            None => kv_error(
                StatusCode::NOT_FOUND,
                "SecretNotFound",
                &format!("Deleted Secret not found: {name}"),
            ),
        },
        _ => kv_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{method} {path}"),
        ),
    }
}
