//! Typed responses of the KES API (spec `kes-api.md` §3, §11.1).

use std::collections::BTreeSet;
use std::time::Duration;

use time::OffsetDateTime;
use zeroize::Zeroizing;

/// `GET /version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The server's release identifier.
    pub version: String,
    /// The server's git revision; empty if the server does not send it.
    pub commit: String,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The server's release identifier.
    pub version: String,
    /// Operating system, Go style (`linux`).
    pub os: String,
    /// CPU architecture, Go style (`amd64`).
    pub arch: String,
    /// Time since the server started.
    pub uptime: Duration,
    /// Logical CPUs.
    pub cpus: u64,
    /// CPUs usable by the server process.
    pub usable_cpus: u64,
    /// Heap bytes in use.
    pub heap_alloc: u64,
    /// Stack bytes in use.
    pub stack_alloc: u64,
    /// Keystore latency, decoded as a Go duration in nanoseconds as kms-go does (servers send
    /// milliseconds, so this is displayed too small; §3.2).
    pub keystore_latency: Duration,
    /// The keystore is unreachable.
    pub keystore_unreachable: bool,
}

/// One item of `GET /v1/api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// The HTTP method.
    pub method: String,
    /// The route prefix, e.g. `/v1/key/create/`.
    pub path: String,
    /// The maximum request body in bytes.
    pub max_body: i64,
    /// The route timeout; zero means none.
    pub timeout: Duration,
}

/// A key's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// AES-256-GCM (`AES256`, legacy `AES256-GCM_SHA256`).
    Aes256,
    /// ChaCha20-Poly1305 (`ChaCha20`, legacy `XCHACHA20-POLY1305`).
    ChaCha20,
}

impl KeyAlgorithm {
    /// The name the import route expects.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Aes256 => "AES256",
            KeyAlgorithm::ChaCha20 => "ChaCha20",
        }
    }

    /// Parses every spelling kms-go accepts.
    pub fn parse(s: &str) -> Option<KeyAlgorithm> {
        match s {
            "AES256" | "AES256-GCM_SHA256" => Some(KeyAlgorithm::Aes256),
            "ChaCha20" | "XCHACHA20-POLY1305" => Some(KeyAlgorithm::ChaCha20),
            _ => None,
        }
    }
}

/// `GET /v1/key/describe/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key name.
    pub name: String,
    /// The algorithm; `None` if the server omitted it.
    pub algorithm: Option<KeyAlgorithm>,
    /// Creation time (`0001-01-01T00:00:00Z` for legacy keys without a date).
    pub created_at: OffsetDateTime,
    /// The creator's identity; empty if unknown.
    pub created_by: String,
}

/// A data encryption key: 32 plaintext bytes and their ciphertext under a KES key.
#[derive(Debug, Clone)]
pub struct Dek {
    /// The plaintext key, wiped on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The ciphertext to store next to the data.
    pub ciphertext: Vec<u8>,
}

/// One ciphertext of a bulk decrypt request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiphertextItem {
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// The associated data it was sealed with; empty for none.
    pub context: Vec<u8>,
}

/// `GET /v1/policy/describe/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    /// The policy name.
    pub name: String,
    /// When the policy was loaded.
    pub created_at: Option<OffsetDateTime>,
    /// Who created it (the admin identity).
    pub created_by: String,
}

/// `GET /v1/policy/read/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Allowed path patterns.
    pub allow: BTreeSet<String>,
    /// Denied path patterns.
    pub deny: BTreeSet<String>,
    /// When the policy was loaded.
    pub created_at: Option<OffsetDateTime>,
    /// Who created it.
    pub created_by: String,
}

/// `GET /v1/identity/describe/<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityInfo {
    /// The identity described.
    pub identity: String,
    /// Its policy; empty for the admin.
    pub policy: String,
    /// Whether it is the admin.
    pub admin: bool,
    /// Time-to-live as a Go duration string, if the server sends one.
    pub ttl: Option<String>,
    /// Expiry, if any.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was registered.
    pub created_at: Option<OffsetDateTime>,
    /// Who registered it.
    pub created_by: String,
    /// Identities it created (always empty on current servers).
    pub children: BTreeSet<String>,
}

/// `GET /v1/identity/self/describe`: the caller's identity and its policy (flat form, §3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfIdentity {
    /// The caller's identity.
    pub identity: String,
    /// Whether the caller is the admin.
    pub admin: bool,
    /// The name of the caller's policy; empty for the admin.
    pub policy_name: String,
    /// The caller's policy (empty for the admin).
    pub policy: Policy,
    /// Time-to-live as a Go duration string, if the server sends one.
    pub ttl: Option<String>,
    /// Expiry, if any.
    pub expires_at: Option<OffsetDateTime>,
    /// When the identity was registered.
    pub created_at: Option<OffsetDateTime>,
    /// Who registered it.
    pub created_by: String,
}

/// One event of `/v1/log/audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When the request completed.
    pub time: OffsetDateTime,
    /// The caller's IP address, if known.
    pub ip: Option<String>,
    /// The request path.
    pub path: String,
    /// The caller's identity, if known.
    pub identity: Option<String>,
    /// The response status.
    pub status: u16,
    /// The request latency (sent as Go duration nanoseconds).
    pub latency: Duration,
}

/// One event of `/v1/log/error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEvent {
    /// One error-log line without its newline.
    pub message: String,
}

/// `GET /v1/metrics`, decoded as kms-go does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// 2xx responses, summed over status codes.
    pub requests_ok: u64,
    /// 4xx responses.
    pub requests_err: u64,
    /// 5xx responses.
    pub requests_fail: u64,
    /// In-flight requests.
    pub requests_active: u64,
    /// Audit events sent to stream subscribers.
    pub audit_events: u64,
    /// Error events sent to stream subscribers.
    pub error_events: u64,
    /// Response-time histogram: upper bound → cumulative count (`+Inf` excluded).
    pub latency_histogram: Vec<(Duration, u64)>,
    /// Server uptime.
    pub uptime: Duration,
    /// Logical CPUs.
    pub cpus: u64,
    /// Usable CPUs.
    pub usable_cpus: u64,
    /// Threads.
    pub threads: u64,
    /// Heap bytes in use.
    pub heap_alloc: u64,
    /// Heap objects.
    pub heap_objects: u64,
    /// Stack bytes in use.
    pub stack_alloc: u64,
}
