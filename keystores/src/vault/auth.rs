//! Logging in to Vault and keeping the token fresh (`kes-formats.md` §5.2).
//!
//! The token is obtained on first use. Once 80 % of its TTL has passed, the next request renews
//! it (`auth/token/renew-self`); if it cannot be renewed (not renewable, expired, at its max TTL,
//! or the renewal fails) the next request logs in again. A request answered 403 also logs in
//! again once, for a token revoked early. Logins and renewals are serialised, so concurrent
//! requests share one new token.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::client::{Call, Client, failure};
use crate::Error;

/// How the keystore authenticates to Vault.
#[derive(Clone)]
pub enum VaultAuth {
    /// A fixed token (this project's extension; upstream KES has only AppRole and Kubernetes).
    /// It is used as is, never renewed.
    Token(Zeroizing<String>),
    AppRole(AppRole),
    Kubernetes(Kubernetes),
}

/// AppRole login: `POST /v1/auth/<engine>/login {"role_id","secret_id"}`.
#[derive(Clone)]
pub struct AppRole {
    /// Mount path of the AppRole auth method.
    pub engine: String,
    /// Namespace of the login: `None` or empty is the keystore's namespace, `/` the root.
    pub namespace: Option<String>,
    pub id: String,
    pub secret: Zeroizing<String>,
}

/// Kubernetes login: `POST /v1/auth/<engine>/login {"role","jwt"}`.
#[derive(Clone)]
pub struct Kubernetes {
    /// Mount path of the Kubernetes auth method.
    pub engine: String,
    /// Namespace of the login: `None` or empty is the keystore's namespace, `/` the root.
    pub namespace: Option<String>,
    pub role: String,
    pub jwt: Jwt,
}

/// The service-account token for the Kubernetes login.
#[derive(Clone)]
pub enum Jwt {
    /// The token itself.
    Token(Zeroizing<String>),
    /// A file holding the token, read again at every login: Kubernetes rotates projected
    /// service-account tokens.
    File(PathBuf),
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultAuth::Token(_) => f.write_str("Token([redacted])"),
            VaultAuth::AppRole(approle) => approle.fmt(f),
            VaultAuth::Kubernetes(k8s) => k8s.fmt(f),
        }
    }
}

impl fmt::Debug for AppRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppRole")
            .field("engine", &self.engine)
            .field("namespace", &self.namespace)
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl fmt::Debug for Kubernetes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kubernetes")
            .field("engine", &self.engine)
            .field("namespace", &self.namespace)
            .field("role", &self.role)
            .field("jwt", &self.jwt)
            .finish()
    }
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Jwt::Token(_) => f.write_str("Token([redacted])"),
            Jwt::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// A token and when it must be renewed.
struct Token {
    secret: Zeroizing<String>,
    obtained: Instant,
    /// `None`: never expires (a fixed token, or a login without a lease).
    ttl: Option<Duration>,
    renewable: bool,
}

impl Token {
    /// Whether 80 % of the TTL has passed.
    fn renewal_due(&self, now: Instant) -> bool {
        self.ttl
            .is_some_and(|ttl| now >= self.obtained + ttl.mul_f64(0.8))
    }

    fn expired(&self, now: Instant) -> bool {
        self.ttl.is_some_and(|ttl| now >= self.obtained + ttl)
    }
}

/// The login method and the current token.
pub(super) struct Auth {
    method: VaultAuth,
    /// The namespace login and renewal requests are sent in.
    namespace: Option<String>,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.method.fmt(f)
    }
}

impl Auth {
    /// The login for `method`, whose namespace defaults to `keystore_namespace`.
    pub fn new(method: VaultAuth, keystore_namespace: Option<String>) -> Auth {
        let login_namespace = match &method {
            VaultAuth::Token(_) => None,
            VaultAuth::AppRole(AppRole { namespace, .. })
            | VaultAuth::Kubernetes(Kubernetes { namespace, .. }) => namespace.clone(),
        };
        let namespace = match login_namespace.as_deref() {
            None | Some("") => keystore_namespace,
            Some("/") => None,
            Some(namespace) => Some(namespace.to_owned()),
        };
        let token = match &method {
            VaultAuth::Token(secret) => Some(Token {
                secret: secret.clone(),
                obtained: Instant::now(),
                ttl: None,
                renewable: false,
            }),
            _ => None,
        };
        Auth {
            method,
            namespace,
            token: tokio::sync::Mutex::new(token),
        }
    }

    /// Whether a new token can be obtained (not for a fixed token).
    pub fn can_login(&self) -> bool {
        !matches!(self.method, VaultAuth::Token(_))
    }

    /// A valid token: the current one, a renewed one, or one from a new login.
    pub async fn token(&self, client: &Client) -> Result<Zeroizing<String>, Error> {
        let mut current = self.token.lock().await;
        let now = Instant::now();
        if let Some(token) = current.as_ref() {
            if !token.renewal_due(now) {
                return Ok(token.secret.clone());
            }
            if token.renewable && !token.expired(now) {
                // A failed renewal is not an error: the login below replaces the token.
                if let Ok(renewed) = self.renew(client, &token.secret).await {
                    let secret = renewed.secret.clone();
                    *current = Some(renewed);
                    return Ok(secret);
                }
            }
        }
        let token = self.login(client).await?;
        let secret = token.secret.clone();
        *current = Some(token);
        Ok(secret)
    }

    /// Forgets `used` (answered 403) so that the next request logs in again; a token that a
    /// concurrent request already replaced is kept.
    pub async fn invalidate(&self, used: &str) {
        let mut current = self.token.lock().await;
        if current.as_ref().is_some_and(|t| t.secret.as_str() == used) {
            *current = None;
        }
    }

    /// The path and body of the login request. Reads the JWT file, if any, every time.
    pub(super) fn login_request(&self) -> Result<(Vec<String>, Value), Error> {
        let login_path = |engine: &str| {
            let mut path = super::clean_path("auth");
            path.extend(super::clean_path(engine));
            path.push("login".to_owned());
            path
        };
        match &self.method {
            VaultAuth::Token(_) => Err(Error::Unavailable(
                "vault: a fixed token cannot log in again".to_owned(),
            )),
            VaultAuth::AppRole(approle) => Ok((
                login_path(&approle.engine),
                json!({ "role_id": approle.id, "secret_id": approle.secret.as_str() }),
            )),
            VaultAuth::Kubernetes(k8s) => {
                let jwt = match &k8s.jwt {
                    Jwt::Token(jwt) => jwt.clone(),
                    Jwt::File(path) => std::fs::read_to_string(path)
                        .map(|text| Zeroizing::new(text.trim().to_owned()))
                        .map_err(|err| {
                            Error::Unavailable(format!(
                                "vault: cannot read the Kubernetes JWT file '{}': {err}",
                                path.display()
                            ))
                        })?,
                };
                Ok((
                    login_path(&k8s.engine),
                    json!({ "role": k8s.role, "jwt": jwt.as_str() }),
                ))
            }
        }
    }

    async fn login(&self, client: &Client) -> Result<Token, Error> {
        let (path, body) = self.login_request()?;
        let (status, reply) = client
            .send(Call {
                method: Method::POST,
                path: &path,
                query: None,
                namespace: self.namespace.as_deref(),
                token: None,
                body: Some(&body),
            })
            .await?;
        if !status.is_success() {
            return Err(failure("login", status, &reply));
        }
        token_of(&reply)
            .ok_or_else(|| Error::Unavailable("vault: login returned no client token".to_owned()))
    }

    async fn renew(&self, client: &Client, secret: &str) -> Result<Token, Error> {
        let path = super::clean_path("auth/token/renew-self");
        let (status, reply) = client
            .send(Call {
                method: Method::POST,
                path: &path,
                query: None,
                namespace: self.namespace.as_deref(),
                token: Some(secret),
                body: Some(&json!({})),
            })
            .await?;
        if !status.is_success() {
            return Err(failure("token renewal", status, &reply));
        }
        match token_of(&reply) {
            // A token at its max TTL renews to (almost) nothing: log in instead.
            Some(token) if token.ttl.is_none_or(|ttl| ttl >= Duration::from_secs(1)) => Ok(token),
            _ => Err(Error::Unavailable(
                "vault: token renewal returned no usable lease".to_owned(),
            )),
        }
    }
}

/// The token in the `auth` section of a login or renewal answer.
fn token_of(reply: &Value) -> Option<Token> {
    let auth = &reply["auth"];
    let secret = auth["client_token"].as_str().filter(|t| !t.is_empty())?;
    let lease = auth["lease_duration"].as_u64().unwrap_or(0);
    Some(Token {
        secret: Zeroizing::new(secret.to_owned()),
        obtained: Instant::now(),
        ttl: (lease > 0).then(|| Duration::from_secs(lease)),
        renewable: auth["renewable"].as_bool().unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubernetes(jwt: Jwt, namespace: Option<&str>) -> Auth {
        Auth::new(
            VaultAuth::Kubernetes(Kubernetes {
                engine: "kubernetes".to_owned(),
                namespace: namespace.map(str::to_owned),
                role: "kes".to_owned(),
                jwt,
            }),
            Some("team".to_owned()),
        )
    }

    #[test]
    fn kubernetes_login_rereads_the_jwt_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "first.jwt\n").unwrap();
        let auth = kubernetes(Jwt::File(file.clone()), None);
        let (path, body) = auth.login_request().unwrap();
        assert_eq!(path, ["auth", "kubernetes", "login"]);
        assert_eq!(body, json!({"role": "kes", "jwt": "first.jwt"}));
        // Kubernetes rotated the projected token: the next login sends the new one.
        std::fs::write(&file, "second.jwt").unwrap();
        let (_, body) = auth.login_request().unwrap();
        assert_eq!(body, json!({"role": "kes", "jwt": "second.jwt"}));
        std::fs::remove_file(&file).unwrap();
        let err = auth.login_request().unwrap_err();
        assert!(matches!(err, Error::Unavailable(_)), "{err}");
    }

    #[test]
    fn kubernetes_login_with_an_inline_jwt_and_namespaces() {
        let auth = kubernetes(Jwt::Token(Zeroizing::new("inline.jwt".to_owned())), None);
        let (_, body) = auth.login_request().unwrap();
        assert_eq!(body["jwt"], "inline.jwt");
        assert!(!format!("{auth:?}").contains("inline.jwt"));
        // The login namespace: the keystore's by default, the root for "/", or its own.
        assert_eq!(auth.namespace.as_deref(), Some("team"));
        assert_eq!(
            kubernetes(Jwt::File("/t".into()), Some("/")).namespace,
            None
        );
        assert_eq!(
            kubernetes(Jwt::File("/t".into()), Some("auth-ns"))
                .namespace
                .as_deref(),
            Some("auth-ns")
        );
    }

    #[test]
    fn approle_login_request() {
        let auth = Auth::new(
            VaultAuth::AppRole(AppRole {
                engine: "/my/approle/".to_owned(),
                namespace: None,
                id: "role-id".to_owned(),
                secret: Zeroizing::new("secret-id".to_owned()),
            }),
            None,
        );
        let (path, body) = auth.login_request().unwrap();
        assert_eq!(path, ["auth", "my", "approle", "login"]);
        assert_eq!(
            body,
            json!({"role_id": "role-id", "secret_id": "secret-id"})
        );
        assert!(!format!("{auth:?}").contains("secret-id"));
    }

    #[test]
    fn renewal_is_due_at_80_percent_of_the_ttl() {
        let now = Instant::now();
        let token = Token {
            secret: Zeroizing::new(String::new()),
            obtained: now,
            ttl: Some(Duration::from_secs(100)),
            renewable: true,
        };
        assert!(!token.renewal_due(now + Duration::from_secs(79)));
        assert!(token.renewal_due(now + Duration::from_secs(80)));
        assert!(!token.expired(now + Duration::from_secs(99)));
        assert!(token.expired(now + Duration::from_secs(100)));
        let forever = Token { ttl: None, ..token };
        assert!(!forever.renewal_due(now + Duration::from_secs(1 << 30)));
    }

    #[test]
    fn tokens_from_login_answers() {
        let token = token_of(&json!({"auth": {
            "client_token": "s.abc", "lease_duration": 60, "renewable": true
        }}))
        .unwrap();
        assert_eq!(token.secret.as_str(), "s.abc");
        assert_eq!(token.ttl, Some(Duration::from_secs(60)));
        assert!(token.renewable);
        let root = token_of(&json!({"auth": {"client_token": "s.r", "lease_duration": 0}}));
        assert_eq!(root.unwrap().ttl, None);
        assert!(token_of(&json!({"auth": null})).is_none());
    }
}
