//! The API error type: every failure a request can end in, mapped to its exact KES status and
//! message in one exhaustive `match`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// A request failure. The `Display`/message text is what KES clients compare byte for byte.
///
/// Variants that stand for an internal failure carry a detail for the error log; the detail is
/// never sent to the client.
#[derive(Debug)]
pub enum ApiError {
    InsecureConnection,
    MoreThanOneClientCertificate,
    ClientCertificateRequired,
    NotAllowed,
    MethodNotAllowed {
        got: http::Method,
        want: &'static str,
    },
    InvalidKeyName(String),
    InvalidPolicyName(String),
    InvalidIdentity(String),
    InvalidPattern(String),
    KeyExists,
    KeyNotFound,
    PolicyNotFound,
    IdentityNotFound,
    NotAuthentic,
    InvalidRequestBody,
    InvalidImportBody,
    TooManyCiphertexts,
    AlgorithmNotSupported(String),
    InvalidKeySize(String),
    HmacNotSupported,
    GenerateKey(String),
    Encrypt(String),
    Decrypt(String),
    CreateKey(String),
    ReadKey(String),
    DeleteKey(String),
    ListKeys(String),
    KeystoreUnavailable(String),
    KeystoreUnreachable(String),
    Timeout,
}

impl ApiError {
    /// The HTTP status and the exact client-facing message.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        use ApiError as E;
        let (status, msg): (StatusCode, String) = match self {
            E::InsecureConnection => (
                StatusCode::BAD_REQUEST,
                "insecure connection: TLS is required".into(),
            ),
            E::MoreThanOneClientCertificate => (
                StatusCode::BAD_REQUEST,
                "tls: received more than one client certificate".into(),
            ),
            E::ClientCertificateRequired => (
                StatusCode::BAD_REQUEST,
                "tls: client certificate is required".into(),
            ),
            E::NotAllowed => (
                StatusCode::FORBIDDEN,
                "not authorized: insufficient permissions".into(),
            ),
            E::MethodNotAllowed { got, want } => (
                StatusCode::METHOD_NOT_ALLOWED,
                format!("received method '{got}' expected '{want}'"),
            ),
            E::InvalidKeyName(n) => (
                StatusCode::BAD_REQUEST,
                format!("key name '{n}' is empty, too long or contains invalid characters"),
            ),
            E::InvalidPolicyName(n) => (
                StatusCode::BAD_REQUEST,
                format!("policy name '{n}' is empty, too long or contains invalid characters"),
            ),
            E::InvalidIdentity(n) => (
                StatusCode::BAD_REQUEST,
                format!("identity '{n}' is empty, too long or contains invalid characters"),
            ),
            E::InvalidPattern(p) => (
                StatusCode::BAD_REQUEST,
                format!("listing pattern '{p}' is empty, too long or is invalid"),
            ),
            E::KeyExists => (StatusCode::BAD_REQUEST, "key already exists".into()),
            E::KeyNotFound => (StatusCode::NOT_FOUND, "key does not exist".into()),
            E::PolicyNotFound => (StatusCode::NOT_FOUND, "policy does not exist".into()),
            E::IdentityNotFound => (StatusCode::NOT_FOUND, "identity does not exist".into()),
            E::NotAuthentic => (
                StatusCode::BAD_REQUEST,
                "decryption failed: ciphertext is not authentic".into(),
            ),
            E::InvalidRequestBody => (StatusCode::BAD_REQUEST, "invalid request body".into()),
            E::InvalidImportBody => (
                StatusCode::BAD_REQUEST,
                "invalid import key request body".into(),
            ),
            E::TooManyCiphertexts => (StatusCode::BAD_REQUEST, "too many ciphertexts".into()),
            E::AlgorithmNotSupported(c) => (
                StatusCode::NOT_ACCEPTABLE,
                format!("algorithm '{c}' is not supported"),
            ),
            E::InvalidKeySize(c) => (
                StatusCode::NOT_ACCEPTABLE,
                format!("invalid key size for '{c}'"),
            ),
            E::HmacNotSupported => (StatusCode::CONFLICT, "key does not support HMAC".into()),
            E::GenerateKey(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "failed to generate encryption key".into(),
            ),
            E::Encrypt(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "failed to encrypt plaintext".into(),
            ),
            E::Decrypt(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "failed to decrypt ciphertext".into(),
            ),
            E::CreateKey(_) => (StatusCode::BAD_GATEWAY, "failed to create key".into()),
            E::ReadKey(_) => (StatusCode::BAD_GATEWAY, "failed to read key".into()),
            E::DeleteKey(_) => (StatusCode::BAD_GATEWAY, "failed to delete key".into()),
            E::ListKeys(_) => (StatusCode::BAD_GATEWAY, "failed to list keys".into()),
            E::KeystoreUnavailable(_) => {
                (StatusCode::BAD_GATEWAY, "key store is unavailable".into())
            }
            E::KeystoreUnreachable(_) => (
                StatusCode::GATEWAY_TIMEOUT,
                "key store is not reachable".into(),
            ),
            // Go clients retry a 503 on another attempt, as they retry the aborted connection
            // the reference server leaves behind.
            E::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "request timeout exceeded".into(),
            ),
        };
        (status, msg)
    }

    /// The internal detail worth an error-log line, if this error hides one from the client.
    pub fn detail(&self) -> Option<&str> {
        use ApiError as E;
        match self {
            E::GenerateKey(d)
            | E::Encrypt(d)
            | E::Decrypt(d)
            | E::CreateKey(d)
            | E::ReadKey(d)
            | E::DeleteKey(d)
            | E::ListKeys(d)
            | E::KeystoreUnavailable(d)
            | E::KeystoreUnreachable(d) => Some(d),
            _ => None,
        }
    }

    /// Maps a keystore failure: "not found" and "exists" keep their meaning, anything else becomes
    /// the route's own 5xx error built by `fallback`.
    pub fn from_keystore(err: keystores::Error, fallback: fn(String) -> ApiError) -> ApiError {
        match err {
            keystores::Error::NotFound => ApiError::KeyNotFound,
            keystores::Error::AlreadyExists => ApiError::KeyExists,
            keystores::Error::InvalidName(name) => ApiError::InvalidKeyName(name),
            err @ (keystores::Error::Unreachable(_) | keystores::Error::Unavailable(_)) => {
                fallback(err.to_string())
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.status_and_message().1)
    }
}

impl std::error::Error for ApiError {}

/// An error body as the reference encodes it: `{"message":<json string>\n}`.
pub fn error_response(status: StatusCode, message: &str) -> Response {
    let quoted = serde_json::Value::String(message.to_owned()).to_string();
    let body = format!("{{\"message\":{quoted}\n}}");
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = self.status_and_message();
        let mut response = error_response(status, &message);
        if let ApiError::MethodNotAllowed { want, .. } = &self {
            let value = HeaderValue::from_static(want);
            response.headers_mut().insert(header::ACCEPT, value.clone());
            response.headers_mut().insert(header::ALLOW, value);
        }
        response
    }
}
