//! HashiCorp Vault / OpenBao keystore: the K/V secrets engine, v1 or v2, in the upstream KES
//! layout (`kes-formats.md` §5.2).
//!
//! Each key is one secret at `<engine>/<prefix>/<name>` whose only field is named after the key
//! and holds the value as a string. KV v2 creates write with `cas: 0`, so a create never
//! overwrites, and reads pin version 1. With `transit`, the stored string is Vault's transit
//! ciphertext (`vault:v<N>:…`) of `base64(value)`.
//!
//! Layout: this file holds the options and the [`KeyStore`] implementation; `client` speaks
//! HTTP to Vault (TLS, namespaces, timeouts, error mapping); `auth` logs in (token, AppRole,
//! Kubernetes) and keeps the token fresh.
//!
//! The HTTP calls are made with reqwest directly rather than `vaultrs`: vaultrs reads `VAULT_*`
//! environment variables on its own, binds one namespace to a client (KES needs a separate login
//! namespace and a namespace-free health check), panics on an invalid address, and its errors do
//! not tell a network failure ([`Error::Unreachable`]) from a Vault error.

mod auth;
mod client;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::{Error, KeyStore, Status};

pub use auth::{AppRole, Jwt, Kubernetes, VaultAuth};
use client::{Call, Client};

/// How long one HTTP request to Vault (connecting included) may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Values that are not UTF-8 text (never written by KES, which stores base64 text) are stored
/// as this marker followed by their base64; values starting with the marker are stored the same
/// way, so every byte string round-trips.
const BINARY_MARKER: &str = "kes-rs:base64:";

/// The K/V secrets engine version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvVersion {
    V1,
    V2,
}

/// Encrypt stored values with a Vault transit key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transit {
    /// Mount path of the transit engine.
    pub engine: String,
    /// Name of the transit key.
    pub key: String,
}

/// The TLS side of the connection to Vault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultTls {
    /// A PEM file, or a directory of PEM files, with the CAs trusted for Vault's certificate.
    /// Unset: the system's trusted roots.
    pub ca: Option<PathBuf>,
    /// A client certificate (PEM file) and its private key (PEM file), for mTLS to Vault.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// Where and how to reach Vault.
#[derive(Clone, Debug)]
pub struct VaultOptions {
    /// `http(s)://host:port` of Vault.
    pub endpoint: String,
    /// Mount path of the K/V engine.
    pub engine: String,
    pub version: KvVersion,
    /// Sent as `X-Vault-Namespace` with every K/V and transit request when non-empty.
    pub namespace: Option<String>,
    /// A directory inside the engine that holds the keys.
    pub prefix: Option<String>,
    pub auth: VaultAuth,
    pub transit: Option<Transit>,
    pub tls: VaultTls,
    /// The bound on each HTTP request, connecting included.
    pub timeout: Duration,
}

/// A keystore in a Vault K/V engine.
pub struct VaultKeyStore {
    client: Client,
    auth: auth::Auth,
    version: KvVersion,
    engine: Vec<String>,
    prefix: Vec<String>,
    namespace: Option<String>,
    transit: Option<Transit>,
    /// KV v1 has no atomic create: serialise this process's check-then-write creates.
    v1_create: tokio::sync::Mutex<()>,
}

impl fmt::Debug for VaultKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKeyStore")
            .field("endpoint", &self.client.endpoint())
            .field("engine", &self.engine.join("/"))
            .field("version", &self.version)
            .field("namespace", &self.namespace)
            .field("prefix", &self.prefix.join("/"))
            .field("auth", &self.auth)
            .field("transit", &self.transit)
            .finish()
    }
}

impl VaultKeyStore {
    /// A store for `options`. Fails with [`Error::Unavailable`] if the endpoint is not an
    /// http(s) URL or the TLS files cannot be loaded. Nothing is sent to Vault until the first
    /// operation, so a server whose Vault is down still starts.
    pub fn new(options: VaultOptions) -> Result<VaultKeyStore, Error> {
        let client = Client::new(&options.endpoint, &options.tls, options.timeout)?;
        let namespace = options.namespace.filter(|ns| !ns.is_empty());
        let auth = auth::Auth::new(options.auth, namespace.clone());
        Ok(VaultKeyStore {
            client,
            auth,
            version: options.version,
            engine: clean_path(&options.engine),
            prefix: clean_path(options.prefix.as_deref().unwrap_or("")),
            namespace,
            transit: options.transit,
            v1_create: tokio::sync::Mutex::new(()),
        })
    }

    /// The path segments of `<engine>/[section/]<prefix>/[name]`.
    fn path(&self, section: Option<&str>, name: Option<&str>) -> Vec<String> {
        let mut path = self.engine.clone();
        path.extend(section.map(str::to_owned));
        path.extend(self.prefix.iter().cloned());
        path.extend(name.map(str::to_owned));
        path
    }

    /// Sends an authenticated request in the keystore's namespace. A 403 answer may mean the
    /// token was revoked or expired early: log in again once and retry.
    async fn call(
        &self,
        method: Method,
        path: &[String],
        query: Option<(&str, &str)>,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), Error> {
        let mut retried = false;
        loop {
            let token = self.auth.token(&self.client).await?;
            let reply = self
                .client
                .send(Call {
                    method: method.clone(),
                    path,
                    query,
                    namespace: self.namespace.as_deref(),
                    token: Some(token.as_str()),
                    body,
                })
                .await?;
            if reply.0 == StatusCode::FORBIDDEN && !retried && self.auth.can_login() {
                self.auth.invalidate(&token).await;
                retried = true;
                continue;
            }
            return Ok(reply);
        }
    }

    /// The string stored for `value`: the value itself, marked base64 for non-text values,
    /// or its transit ciphertext.
    async fn seal(&self, value: &[u8]) -> Result<String, Error> {
        let Some(transit) = &self.transit else {
            return Ok(match std::str::from_utf8(value) {
                Ok(text) if !text.starts_with(BINARY_MARKER) => text.to_owned(),
                _ => format!("{BINARY_MARKER}{}", BASE64.encode(value)),
            });
        };
        let mut path = clean_path(&transit.engine);
        path.extend(["encrypt".to_owned(), transit.key.clone()]);
        let body = json!({ "plaintext": BASE64.encode(value) });
        let (status, reply) = self.call(Method::POST, &path, None, Some(&body)).await?;
        if !status.is_success() {
            return Err(client::failure("transit encrypt", status, &reply));
        }
        match reply["data"]["ciphertext"].as_str() {
            Some(ciphertext) if is_transit_ciphertext(ciphertext) => Ok(ciphertext.to_owned()),
            _ => Err(Error::Unavailable(
                "vault: transit encrypt returned no 'vault:v<N>:' ciphertext".to_owned(),
            )),
        }
    }

    /// The value for the stored string `stored` (the inverse of [`VaultKeyStore::seal`]).
    async fn unseal(&self, stored: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        if is_transit_ciphertext(stored) {
            let Some(transit) = &self.transit else {
                return Err(Error::Unavailable(
                    "vault: the key is transit-encrypted but no transit key is configured"
                        .to_owned(),
                ));
            };
            let mut path = clean_path(&transit.engine);
            path.extend(["decrypt".to_owned(), transit.key.clone()]);
            let body = json!({ "ciphertext": stored });
            let (status, reply) = self.call(Method::POST, &path, None, Some(&body)).await?;
            if !status.is_success() {
                return Err(client::failure("transit decrypt", status, &reply));
            }
            let plaintext = reply["data"]["plaintext"].as_str().ok_or_else(|| {
                Error::Unavailable("vault: transit decrypt returned no plaintext".to_owned())
            })?;
            return BASE64.decode(plaintext).map(Zeroizing::new).map_err(|_| {
                Error::Unavailable("vault: transit plaintext is not base64".to_owned())
            });
        }
        match stored.strip_prefix(BINARY_MARKER) {
            Some(encoded) => BASE64.decode(encoded).map(Zeroizing::new).map_err(|_| {
                Error::Unavailable("vault: invalid base64 after the binary marker".to_owned())
            }),
            None => Ok(Zeroizing::new(stored.as_bytes().to_vec())),
        }
    }

    /// The secret at `name` (`data` of KV v1, `data.data` of KV v2 version 1), or `None`.
    async fn read(&self, name: &str) -> Result<Option<serde_json::Map<String, Value>>, Error> {
        let (path, query) = match self.version {
            KvVersion::V1 => (self.path(None, Some(name)), None),
            KvVersion::V2 => (self.path(Some("data"), Some(name)), Some(("version", "1"))),
        };
        let (status, mut reply) = self.call(Method::GET, &path, query, None).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(client::failure("read", status, &reply));
        }
        let data = match self.version {
            KvVersion::V1 => reply["data"].take(),
            // A destroyed or deleted version 1 has `data: null`.
            KvVersion::V2 => reply["data"]["data"].take(),
        };
        match data {
            Value::Object(map) => Ok(Some(map)),
            Value::Null => Ok(None),
            _ => Err(Error::Unavailable("vault: invalid K/V format".to_owned())),
        }
    }
}

/// Whether `text` is a Vault transit ciphertext, `vault:v<N>:…` for a decimal N ≥ 1
/// (`kes-formats.md` §5.2: any key version is accepted, not only v1).
fn is_transit_ciphertext(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("vault:v") else {
        return false;
    };
    let Some((version, _)) = rest.split_once(':') else {
        return false;
    };
    !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
        && version.bytes().any(|b| b != b'0')
}

/// The segments of a slash-separated path, cleaned like Go's `path.Join`: empty and `.`
/// segments vanish and `..` removes the previous one.
fn clean_path(path: &str) -> Vec<String> {
    let mut segments: Vec<String> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other.to_owned()),
        }
    }
    segments
}

/// Refuses names that would not stay one path segment below the prefix.
fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Error::InvalidName(name.to_owned()));
    }
    Ok(())
}

#[async_trait]
impl KeyStore for VaultKeyStore {
    /// Vault's health endpoint, always without a namespace: 200 (active), 429 (standby) and
    /// 472/473 (replication standbys) are healthy; 501 (uninitialised) and 503 (sealed) are
    /// [`Error::Unavailable`].
    async fn status(&self) -> Result<Status, Error> {
        let start = Instant::now();
        let path = ["sys".to_owned(), "health".to_owned()];
        let (status, reply) = self
            .client
            .send(Call {
                method: Method::GET,
                path: &path,
                query: None,
                namespace: None,
                token: None,
                body: None,
            })
            .await?;
        match status.as_u16() {
            200 | 429 | 472 | 473 => Ok(Status {
                latency: start.elapsed(),
            }),
            501 => Err(Error::Unavailable("vault: not initialized".to_owned())),
            503 => Err(Error::Unavailable("vault: sealed".to_owned())),
            _ => Err(client::failure("health", status, &reply)),
        }
    }

    async fn create(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        check_name(name)?;
        let stored = Zeroizing::new(self.seal(value).await?);
        let mut fields = serde_json::Map::new();
        fields.insert(name.to_owned(), Value::String(stored.to_string()));
        match self.version {
            KvVersion::V1 => {
                let _serial = self.v1_create.lock().await;
                if self.read(name).await?.is_some() {
                    return Err(Error::AlreadyExists);
                }
                let body = Value::Object(fields);
                let path = self.path(None, Some(name));
                let (status, reply) = self.call(Method::PUT, &path, None, Some(&body)).await?;
                if !status.is_success() {
                    return Err(client::failure("write", status, &reply));
                }
                Ok(())
            }
            KvVersion::V2 => {
                // `cas: 0` makes the write create-only: Vault refuses it (400) if any version
                // exists, which closes the race a read-then-write would leave open.
                let body = json!({ "options": { "cas": 0 }, "data": fields });
                let path = self.path(Some("data"), Some(name));
                let (status, reply) = self.call(Method::PUT, &path, None, Some(&body)).await?;
                if status.is_success() {
                    return Ok(());
                }
                if status == StatusCode::BAD_REQUEST && client::is_cas_mismatch(&reply) {
                    return Err(Error::AlreadyExists);
                }
                Err(client::failure("write", status, &reply))
            }
        }
    }

    async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        check_name(name)?;
        let Some(mut data) = self.read(name).await? else {
            return Err(Error::NotFound);
        };
        let stored = match data.remove(name) {
            Some(Value::String(text)) => Zeroizing::new(text),
            _ => {
                return Err(Error::Unavailable(format!(
                    "vault: invalid K/V format: no field '{name}'"
                )));
            }
        };
        self.unseal(&stored).await
    }

    /// Vault deletes a missing entry without complaint, so look first to report
    /// [`Error::NotFound`]. KV v2 removes the metadata, and so every version.
    async fn delete(&self, name: &str) -> Result<(), Error> {
        check_name(name)?;
        let path = match self.version {
            KvVersion::V1 => self.path(None, Some(name)),
            KvVersion::V2 => self.path(Some("metadata"), Some(name)),
        };
        let (status, reply) = self.call(Method::GET, &path, None, None).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(Error::NotFound);
        }
        if !status.is_success() {
            return Err(client::failure("read", status, &reply));
        }
        let (status, reply) = self.call(Method::DELETE, &path, None, None).await?;
        if !status.is_success() {
            return Err(client::failure("delete", status, &reply));
        }
        Ok(())
    }

    /// Lists the prefix directory and keeps the entries (not sub-directories) that start with
    /// `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let path = match self.version {
            KvVersion::V1 => self.path(None, None),
            KvVersion::V2 => self.path(Some("metadata"), None),
        };
        let (status, reply) = self
            .call(Method::GET, &path, Some(("list", "true")), None)
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !status.is_success() {
            return Err(client::failure("list", status, &reply));
        }
        let Some(keys) = reply["data"]["keys"].as_array() else {
            return Err(Error::Unavailable(
                "vault: list returned no 'keys'".to_owned(),
            ));
        };
        let mut names: Vec<String> = keys
            .iter()
            .filter_map(Value::as_str)
            .filter(|name| !name.ends_with('/') && name.starts_with(prefix))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transit_ciphertexts_of_any_version() {
        for yes in ["vault:v1:abc", "vault:v2:abc", "vault:v10:", "vault:v01:x"] {
            assert!(is_transit_ciphertext(yes), "{yes}");
        }
        for no in [
            "vault:v0:abc",
            "vault:v:abc",
            "vault:vx:abc",
            "vault:v1",
            "abc",
            "",
        ] {
            assert!(!is_transit_ciphertext(no), "{no}");
        }
    }

    #[test]
    fn paths_are_cleaned_like_go_path_join() {
        assert_eq!(clean_path(""), Vec::<String>::new());
        assert_eq!(clean_path("/a//b/./c/"), ["a", "b", "c"]);
        assert_eq!(clean_path("a/../b"), ["b"]);
        assert!(check_name("a/b").is_err());
        assert!(check_name("..").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("my-key_1").is_ok());
    }

    fn store(transit: bool) -> VaultKeyStore {
        VaultKeyStore::new(VaultOptions {
            endpoint: "http://127.0.0.1:1".to_owned(),
            engine: "kv".to_owned(),
            version: KvVersion::V1,
            namespace: None,
            prefix: Some("/a//b/".to_owned()),
            auth: VaultAuth::Token(Zeroizing::new("s.secret-token".to_owned())),
            transit: transit.then(|| Transit {
                engine: "transit".to_owned(),
                key: "kes".to_owned(),
            }),
            tls: VaultTls::default(),
            timeout: Duration::from_millis(300),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn values_round_trip_through_the_stored_string() {
        let store = store(false);
        for value in [
            &b"plain base64 text=="[..],
            b"",
            &[0xff, 0x00, 0x80],
            b"kes-rs:base64:looks-marked",
        ] {
            let stored = store.seal(value).await.unwrap();
            assert_eq!(store.unseal(&stored).await.unwrap().as_slice(), value);
        }
        // KES's base64 text is stored unchanged: the upstream layout.
        assert_eq!(store.seal(b"QUJD").await.unwrap(), "QUJD");
        assert_eq!(
            store.path(None, Some("k")),
            ["kv", "a", "b", "k"].map(str::to_owned)
        );
    }

    #[tokio::test]
    async fn transit_values_need_a_transit_key() {
        let err = store(false).unseal("vault:v1:abcd").await.unwrap_err();
        assert!(matches!(err, Error::Unavailable(_)), "{err}");
    }

    #[tokio::test]
    async fn dead_vault_is_unreachable_fast() {
        let store = store(false);
        let start = Instant::now();
        let err = store.get("k").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn silent_vault_times_out() {
        let (port, _held) = crate::test_util::silent_port().await;
        let mut store = store(false);
        store.client = Client::new(
            &format!("http://127.0.0.1:{port}"),
            &VaultTls::default(),
            Duration::from_millis(300),
        )
        .unwrap();
        let start = Instant::now();
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn debug_hides_the_token() {
        let text = format!("{:?}", store(true));
        assert!(!text.contains("secret-token"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
