//! Request decoding and response encoding shared by the handlers.
//!
//! Request JSON is decoded the way the reference's Go decoder does it where clients can tell:
//! unknown fields are ignored, data after the first JSON value is ignored, `null` for a byte
//! field means empty, and byte fields are standard base64 with padding (`\r` and `\n` ignored).

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

/// Decodes the first JSON value of `body` as a JSON object; `None` if the body was over its
/// limit or is not a valid `T`. (serde would also accept an array for a struct; Go does not.)
pub fn decode<T: DeserializeOwned>(body: Option<&Bytes>) -> Option<T> {
    first_value_is(body?, b'{').then_some(())?;
    decode_any(body)
}

/// Decodes the first JSON value of `body` as a JSON array of `T`.
pub fn decode_array<T: DeserializeOwned>(body: Option<&Bytes>) -> Option<Vec<T>> {
    first_value_is(body?, b'[').then_some(())?;
    decode_any(body)
}

fn first_value_is(body: &[u8], open: u8) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&open)
}

fn decode_any<T: DeserializeOwned>(body: Option<&Bytes>) -> Option<T> {
    let body = body?;
    serde_json::Deserializer::from_slice(body)
        .into_iter::<T>()
        .next()?
        .ok()
}

/// A base64 byte field; zeroized on drop because it may hold plaintext.
#[derive(Default)]
pub struct B64(pub Zeroizing<Vec<u8>>);

impl std::fmt::Debug for B64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for B64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
        match text {
            None => Ok(B64::default()),
            Some(text) => decode_b64(&text)
                .map(|bytes| B64(Zeroizing::new(bytes)))
                .ok_or_else(|| serde::de::Error::custom("invalid base64")),
        }
    }
}

/// Decodes base64 as Go's `base64.StdEncoding` does (padding required, `\r` and `\n` ignored,
/// non-zero trailing bits accepted), which is how the reference decodes JSON byte fields.
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    kes_crypto::go_base64::decode(text.as_bytes())
}

/// Encodes bytes as standard base64 with padding.
pub fn encode_b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Secret bytes as base64 text for a response; the text is zeroized on drop.
pub struct SecretB64(Zeroizing<String>);

impl SecretB64 {
    pub fn encode(bytes: &[u8]) -> SecretB64 {
        SecretB64(Zeroizing::new(STANDARD.encode(bytes)))
    }
}

impl Serialize for SecretB64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A 200 response with `value` as compact JSON followed by a newline.
pub fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(mut body) => {
            body.push(b'\n');
            with_content_type(body, "application/json")
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A 200 response whose body is secret (plaintext keys): the buffer is zeroized after it is
/// handed to the connection.
pub fn secret_json<T: Serialize>(value: &T) -> Response {
    let mut body = Zeroizing::new(Vec::with_capacity(128));
    if serde_json::to_writer(&mut *body, value).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    body.push(b'\n');
    with_content_type(SecretBody(body), "application/json")
}

/// An empty 200 response (`Content-Length: 0`).
pub fn empty() -> Response {
    StatusCode::OK.into_response()
}

fn with_content_type(body: impl Into<axum::body::Body>, content_type: &'static str) -> Response {
    let mut response = Response::new(body.into());
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Response bytes that are wiped from memory once sent.
struct SecretBody(Zeroizing<Vec<u8>>);

impl From<SecretBody> for axum::body::Body {
    fn from(body: SecretBody) -> Self {
        axum::body::Body::from(Bytes::from_owner(body))
    }
}

impl AsRef<[u8]> for SecretBody {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Req {
        #[serde(default)]
        plaintext: B64,
    }

    fn parse(text: &str) -> Option<Req> {
        decode(Some(&Bytes::copy_from_slice(text.as_bytes())))
    }

    #[test]
    fn go_compatible_decoding() {
        assert_eq!(
            *parse(r#"{"plaintext":"aGk="}"#).unwrap().plaintext.0,
            b"hi"
        );
        assert_eq!(
            *parse(r#"{"plaintext":"aG\nk="}"#).unwrap().plaintext.0,
            b"hi"
        );
        assert!(
            parse(r#"{"plaintext":null}"#)
                .unwrap()
                .plaintext
                .0
                .is_empty()
        );
        assert!(parse(r#"{"other":1}"#).unwrap().plaintext.0.is_empty());
        assert_eq!(
            *parse(r#"{"plaintext":"aGk="} trailing"#)
                .unwrap()
                .plaintext
                .0,
            b"hi"
        );
        assert!(parse(r#"{"plaintext":"aGk"}"#).is_none(), "unpadded");
        assert!(parse(r#"{"plaintext":"a-k="}"#).is_none(), "url alphabet");
        assert!(parse(r#"{"plaintext":5}"#).is_none(), "wrong type");
        assert!(parse(r#"{"plaintext":"aGk="#).is_none(), "truncated");
        assert!(parse("").is_none());
        assert!(decode::<Req>(None).is_none());
        assert!(parse("[]").is_none(), "an array is not an object");
        assert!(parse(r#"["aGk="]"#).is_none());
        let list = Bytes::from_static(br#"[{"plaintext":"aGk="}]"#);
        assert_eq!(decode_array::<Req>(Some(&list)).unwrap().len(), 1);
        assert!(decode_array::<Req>(Some(&Bytes::from_static(b"{}"))).is_none());
    }
}
