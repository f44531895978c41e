//! JSON bodies as they travel, decoded into the typed responses of `types`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Standard base64 with padding, as Go encodes `[]byte`; `null` decodes as empty.
pub(super) mod b64 {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(Vec::new()),
            Some(t) => STANDARD.decode(t).map_err(serde::de::Error::custom),
        }
    }
}

/// An optional RFC 3339 timestamp; empty strings and `null` are `None`.
pub(super) fn timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref() {
        None | Some("") => Ok(None),
        Some(t) => OffsetDateTime::parse(t, &Rfc3339)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error: String,
}

#[derive(Deserialize)]
pub(super) struct VersionBody {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub commit: String,
}

#[derive(Deserialize)]
pub(super) struct StatusBody {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub uptime: f64,
    #[serde(default)]
    pub num_cpu: u64,
    #[serde(default)]
    pub num_cpu_used: u64,
    #[serde(default)]
    pub mem_heap_used: u64,
    #[serde(default)]
    pub mem_stack_used: u64,
    #[serde(default)]
    pub keystore_latency: u64,
    #[serde(default)]
    pub keystore_unreachable: bool,
    #[serde(default)]
    pub keystore_unavailable: bool,
}

#[derive(Deserialize)]
pub(super) struct ApiBody {
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub max_body: i64,
    #[serde(default)]
    pub timeout: i64,
}

#[derive(Serialize)]
pub(super) struct ImportBody<'a> {
    #[serde(with = "b64")]
    pub key: &'a [u8],
    pub cipher: &'static str,
}

#[derive(Deserialize)]
pub(super) struct DescribeKeyBody {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub algorithm: String,
    #[serde(default, deserialize_with = "timestamp")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub created_by: String,
}

#[derive(Serialize)]
pub(super) struct ContextBody<'a> {
    #[serde(with = "b64", skip_serializing_if = "<[u8]>::is_empty")]
    pub context: &'a [u8],
}

#[derive(Serialize)]
pub(super) struct EncryptBody<'a> {
    #[serde(with = "b64")]
    pub plaintext: &'a [u8],
    #[serde(with = "b64", skip_serializing_if = "<[u8]>::is_empty")]
    pub context: &'a [u8],
}

#[derive(Serialize)]
pub(super) struct DecryptBody<'a> {
    #[serde(with = "b64")]
    pub ciphertext: &'a [u8],
    #[serde(with = "b64", skip_serializing_if = "<[u8]>::is_empty")]
    pub context: &'a [u8],
}

#[derive(Serialize)]
pub(super) struct HmacBody<'a> {
    #[serde(with = "b64")]
    pub message: &'a [u8],
}

#[derive(Deserialize)]
pub(super) struct DekBody {
    #[serde(default, with = "b64")]
    pub plaintext: Vec<u8>,
    #[serde(default, with = "b64")]
    pub ciphertext: Vec<u8>,
}

#[derive(Deserialize)]
pub(super) struct CiphertextBody {
    #[serde(default, with = "b64")]
    pub ciphertext: Vec<u8>,
}

#[derive(Deserialize)]
pub(super) struct PlaintextBody {
    #[serde(default, with = "b64")]
    pub plaintext: Vec<u8>,
}

#[derive(Deserialize)]
pub(super) struct HmacResponse {
    #[serde(default, with = "b64")]
    pub hmac: Vec<u8>,
}

/// A page of `/v1/{key,policy}/list/` (`names`) or `/v1/identity/list/` (`identities`).
#[derive(Deserialize)]
pub(super) struct ListBody {
    #[serde(default)]
    pub names: Option<Vec<String>>,
    #[serde(default)]
    pub identities: Option<Vec<String>>,
    #[serde(default)]
    pub continue_at: String,
}

/// One legacy ndjson list line.
#[derive(Deserialize)]
pub(super) struct ListLine {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub identity: String,
    #[serde(default)]
    pub error: String,
}

#[derive(Deserialize)]
pub(super) struct PolicyBody {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub allow: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub deny: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "timestamp")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub created_by: String,
}

#[derive(Deserialize)]
pub(super) struct IdentityBody {
    #[serde(default)]
    pub identity: String,
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub ttl: Option<String>,
    #[serde(default, deserialize_with = "timestamp")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "timestamp")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub children: Option<Vec<String>>,
    #[serde(default)]
    pub allow: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub deny: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
pub(super) struct AuditBody {
    #[serde(deserialize_with = "timestamp")]
    pub time: Option<OffsetDateTime>,
    #[serde(default)]
    pub request: AuditRequest,
    #[serde(default)]
    pub response: AuditResponse,
}

#[derive(Deserialize, Default)]
pub(super) struct AuditRequest {
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub identity: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct AuditResponse {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub time: u64,
}

#[derive(Deserialize)]
pub(super) struct ErrorEventBody {
    #[serde(default)]
    pub message: String,
}
