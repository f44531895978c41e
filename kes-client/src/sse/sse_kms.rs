//! SSE-KMS: object keys sealed with a DEK from a client-chosen KMS key and
//! an optional client context (`internal/crypto/sse-kms.go`, spec §6.2, §6.5).

use super::context::{Context, path_join};
use super::dek_seal::DekSeal;
use super::error::{CryptoError, SseError, SseRequestError};
use super::headers::{
    AES256, ARN_PREFIX, AWS_KMS, HeaderSource, SSE, SSE_KMS_CONTEXT, SSE_KMS_KEY_ID,
};
use super::kms::KeyManager;
use super::metadata::{Encryption, Metadata, encryption_of, parse_kms_metadata};
use super::object_key::{ObjectKey, SseKind};
use super::primitives::b64_decode;

/// A parsed SSE-KMS request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsRequest {
    /// The key id without `arn:aws:kms:`; empty means the default key.
    pub key_id: String,
    /// The client context, `None` when absent or JSON `null`.
    pub context: Option<Context>,
}

/// Whether SSE-KMS is requested: the key-id or context header is present, or
/// `X-Amz-Server-Side-Encryption` is present and not `AES256` (upper-cased).
#[must_use]
pub fn is_requested(h: &(impl HeaderSource + ?Sized)) -> bool {
    if h.header(SSE_KMS_KEY_ID).is_some() || h.header(SSE_KMS_CONTEXT).is_some() {
        return true;
    }
    h.header(SSE).is_some_and(|v| v.to_uppercase() != AES256)
}

/// Parses the SSE-KMS headers.
///
/// # Errors
/// `InvalidEncryptionMethod` unless the SSE header is exactly `aws:kms`;
/// `InvalidContext` for a context header that is not base64 of a JSON string
/// map; `InvalidEncryptionKeyId` for a key id with leading/trailing spaces.
pub fn parse_http(h: &(impl HeaderSource + ?Sized)) -> Result<KmsRequest, SseRequestError> {
    if h.header(SSE) != Some(AWS_KMS) {
        return Err(SseRequestError::InvalidEncryptionMethod);
    }
    let context = match h.header(SSE_KMS_CONTEXT) {
        Some(b64) => {
            let json =
                b64_decode(b64).map_err(|e| SseRequestError::InvalidContext(e.to_string()))?;
            Context::from_json(&json).map_err(SseRequestError::InvalidContext)?
        }
        None => None,
    };
    let key_id = h.header(SSE_KMS_KEY_ID).unwrap_or_default();
    if key_id.starts_with(' ') || key_id.ends_with(' ') {
        return Err(SseRequestError::InvalidEncryptionKeyId);
    }
    Ok(KmsRequest {
        key_id: key_id.strip_prefix(ARN_PREFIX).unwrap_or(key_id).to_owned(),
        context,
    })
}

/// The `X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id` response value:
/// `arn:aws:kms:<key id>` (prefix added if absent).
#[must_use]
pub fn key_id_response_value(key_id: &str) -> String {
    if key_id.starts_with(ARN_PREFIX) {
        key_id.to_owned()
    } else {
        format!("{ARN_PREFIX}{key_id}")
    }
}

/// The KMS context of an SSE-KMS object: the client context plus
/// `{bucket: path.Join(bucket, object)}` unless it already has a `bucket` key.
#[must_use]
pub fn kms_context(client: Option<&Context>, bucket: &str, object: &str) -> Context {
    let mut ctx = client.cloned().unwrap_or_default();
    if !ctx.contains_key(bucket) {
        ctx.insert(bucket, path_join(bucket, object));
    }
    ctx
}

/// Seals a fresh OEK for a PUT (spec §6.2): a DEK from `key_id` (empty means
/// the default key) bound to [`kms_context`], a random IV, domain `SSE-KMS`.
/// Writes the SSE-KMS entries (the client context only if non-empty).
///
/// # Errors
/// KMS errors from `generate_key` (e.g. 404 `kms:KeyNotFound`), or a CSPRNG failure.
pub async fn seal_object_key<K: KeyManager + ?Sized>(
    kms: &K,
    key_id: &str,
    client_context: Option<&Context>,
    bucket: &str,
    object: &str,
    metadata: &mut Metadata,
) -> Result<ObjectKey, SseError> {
    let context = kms_context(client_context, bucket, object);
    let seal = DekSeal {
        kind: SseKind::Kms,
        key_id,
        context: &context,
        stored_context: client_context,
        bucket,
        object,
    };
    seal.seal(kms, None, metadata).await
}

/// Unseals the OEK of an SSE-KMS object with the stored key id and context.
///
/// # Errors
/// Metadata errors, KMS errors from `decrypt`, or a key mismatch.
pub async fn unseal_object_key<K: KeyManager + ?Sized>(
    kms: &K,
    metadata: &Metadata,
    bucket: &str,
    object: &str,
) -> Result<ObjectKey, SseError> {
    unseal_parsed(kms, metadata, bucket, object)
        .await
        .map(|(oek, _)| oek)
}

async fn unseal_parsed<K: KeyManager + ?Sized>(
    kms: &K,
    metadata: &Metadata,
    bucket: &str,
    object: &str,
) -> Result<(ObjectKey, Option<Context>), SseError> {
    let parsed = parse_kms_metadata(metadata, SseKind::Kms)?;
    let ctx = kms_context(parsed.context.as_ref(), bucket, object);
    let key = kms.decrypt(&parsed.key_id, &parsed.kms_key, &ctx).await?;
    let oek = ObjectKey::unseal(&key, &parsed.sealed_key, SseKind::Kms, bucket, object)?;
    Ok((oek, parsed.context))
}

/// Re-wraps an SSE-KMS object's OEK under a new DEK from `new_key_id` with a
/// fresh IV (batch key rotation, spec §6.5). The context is `job_context`
/// if non-empty, else the stored one; it is stored again as `…-Context`.
///
/// # Errors
/// [`CryptoError::NotEncrypted`] if the object is not SSE-KMS (SSE-KMS →
/// SSE-S3 and other conversions are refused), plus the errors of
/// [`unseal_object_key`] and [`seal_object_key`].
pub async fn rotate<K: KeyManager + ?Sized>(
    kms: &K,
    new_key_id: &str,
    job_context: Option<&Context>,
    metadata: &mut Metadata,
    bucket: &str,
    object: &str,
) -> Result<(), SseError> {
    if encryption_of(metadata) != Encryption::Sse(SseKind::Kms) {
        return Err(CryptoError::NotEncrypted(SseKind::Kms).into());
    }
    let (oek, stored) = unseal_parsed(kms, metadata, bucket, object).await?;
    let client = match job_context {
        Some(ctx) if !ctx.is_empty() => Some(ctx.clone()),
        _ => stored,
    };
    let context = kms_context(client.as_ref(), bucket, object);
    let seal = DekSeal {
        kind: SseKind::Kms,
        key_id: new_key_id,
        context: &context,
        stored_context: client.as_ref(),
        bucket,
        object,
    };
    seal.seal(kms, Some(oek), metadata).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::kms::KmsError;
    use crate::sse::metadata::{META_CONTEXT, META_SEALED_KEY_KMS, write_kms_metadata};
    use crate::sse::object_key::derive_kek;
    use crate::sse::primitives::{Cipher, b64_encode};
    use crate::sse::test_vectors::{builtin, hex_arr, to_meta, vectors};

    #[test]
    fn request_vectors() {
        let v = vectors();
        let cases = v["from_tests"]["sse_request_headers"]["sse_kms_parse"]["cases"]
            .as_array()
            .unwrap();
        for case in cases {
            let h: Vec<(&str, &str)> = case["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .collect();
            assert_eq!(
                parse_http(h.as_slice()).is_err(),
                case["should_fail"].as_bool().unwrap(),
                "{}",
                case["id"]
            );
        }
        let h: &[(&str, &str)] = &[(SSE, "aws:kms"), (SSE_KMS_KEY_ID, "arn:aws:kms:my-key")];
        assert_eq!(parse_http(h).unwrap().key_id, "my-key");
        let h: &[(&str, &str)] = &[(SSE, "aws:kms"), (SSE_KMS_KEY_ID, " my-key")];
        assert_eq!(
            parse_http(h).unwrap_err(),
            SseRequestError::InvalidEncryptionKeyId
        );
        let h: &[(&str, &str)] = &[(SSE, "aws:kms"), (SSE_KMS_CONTEXT, "bnVsbA==")];
        assert_eq!(parse_http(h).unwrap().context, None);
        let h: &[(&str, &str)] = &[(SSE, "aes256")];
        assert!(!is_requested(h));
        let h: &[(&str, &str)] = &[(SSE, "aws:kms")];
        assert!(is_requested(h));
        assert_eq!(key_id_response_value("k"), "arn:aws:kms:k");
        assert_eq!(key_id_response_value("arn:aws:kms:k"), "arn:aws:kms:k");
    }

    #[tokio::test]
    async fn derived_sse_kms() {
        let v = vectors();
        let d = &v["derived"]["sse_kms"];
        let (b, o) = (d["bucket"].as_str().unwrap(), d["object"].as_str().unwrap());
        let h: &[(&str, &str)] = &[
            (SSE, "aws:kms"),
            (SSE_KMS_KEY_ID, d["kms_key_id"].as_str().unwrap()),
            (
                SSE_KMS_CONTEXT,
                d["request_header_context_b64"].as_str().unwrap(),
            ),
        ];
        let req = parse_http(h).unwrap();
        let client = req.context.clone().unwrap();
        assert_eq!(
            client.get("project"),
            d["client_context"]["project"].as_str()
        );
        let ctx = kms_context(Some(&client), b, o);
        assert_eq!(
            ctx.to_canonical_json(),
            d["kms_associated_data"].as_str().unwrap().as_bytes()
        );
        let kms = builtin(v);
        let g = &v["derived"]["builtin_generate"];
        let dek = kms
            .generate_deterministic(
                &hex_arr(g["iv_hex"].as_str().unwrap()),
                hex_arr(g["nonce_hex"].as_str().unwrap()),
                &hex::decode(d["dek_plaintext_hex"].as_str().unwrap()).unwrap(),
                &ctx,
            )
            .unwrap();
        assert_eq!(dek.key_id, req.key_id);
        assert_eq!(
            b64_encode(&dek.ciphertext),
            d["dek_ciphertext_b64"].as_str().unwrap()
        );
        let oek = ObjectKey::from_bytes(hex_arr(d["oek_hex"].as_str().unwrap()));
        let iv = hex_arr(d["iv_hex"].as_str().unwrap());
        assert_eq!(
            hex::encode(*derive_kek(&dek.plaintext, &iv, SseKind::Kms, b, o)),
            d["kek_hex"].as_str().unwrap()
        );
        let sealed = oek
            .seal_deterministic(
                &dek.plaintext,
                iv,
                SseKind::Kms,
                b,
                o,
                Cipher::Aes256Gcm,
                hex_arr(d["dare_random12_hex"].as_str().unwrap()),
            )
            .unwrap();
        assert_eq!(
            hex::encode(sealed.key),
            d["sealed_key_aes_hex"].as_str().unwrap()
        );
        let mut meta = Metadata::new();
        write_kms_metadata(
            &mut meta,
            SseKind::Kms,
            &dek.key_id,
            &dek.ciphertext,
            &sealed,
            Some(&client),
        );
        assert_eq!(meta, to_meta(&d["metadata"]));
        assert_eq!(unseal_object_key(&kms, &meta, b, o).await.unwrap(), oek);
    }

    #[tokio::test]
    async fn roundtrip_rotation_and_failures() {
        let v = vectors();
        let kms = builtin(v);
        let client: Context = [("project", "x")].into_iter().collect();
        let mut meta = Metadata::new();
        let oek = seal_object_key(&kms, "", Some(&client), "bkt", "obj", &mut meta)
            .await
            .unwrap();
        assert!(meta.contains_key(META_CONTEXT));
        assert_eq!(
            unseal_object_key(&kms, &meta, "bkt", "obj").await.unwrap(),
            oek
        );
        // No client context: nothing stored, bucket entry still bound.
        let mut plain = Metadata::new();
        let oek2 = seal_object_key(&kms, "my-key", None, "bkt", "obj", &mut plain)
            .await
            .unwrap();
        assert!(!plain.contains_key(META_CONTEXT));
        assert_eq!(
            unseal_object_key(&kms, &plain, "bkt", "obj").await.unwrap(),
            oek2
        );
        // Unknown key.
        let mut m = Metadata::new();
        assert_eq!(
            seal_object_key(&kms, "nope", None, "bkt", "obj", &mut m)
                .await
                .unwrap_err(),
            SseError::Kms(KmsError::KeyNotFound)
        );
        // A changed stored context breaks the KMS binding.
        let mut bad = meta.clone();
        bad.insert(META_CONTEXT.into(), b64_encode(br#"{"project":"y"}"#));
        assert_eq!(
            unseal_object_key(&kms, &bad, "bkt", "obj")
                .await
                .unwrap_err(),
            SseError::Kms(KmsError::Decrypt)
        );
        // Rotation with a job context.
        let job: Context = [("job", "1")].into_iter().collect();
        rotate(&kms, "my-key", Some(&job), &mut meta, "bkt", "obj")
            .await
            .unwrap();
        assert_eq!(
            unseal_object_key(&kms, &meta, "bkt", "obj").await.unwrap(),
            oek
        );
        let stored = crate::sse::metadata::parse_kms_metadata(&meta, SseKind::Kms).unwrap();
        assert_eq!(stored.context, Some(job));
        // Rotation without a job context keeps the stored one.
        rotate(&kms, "my-key", None, &mut meta, "bkt", "obj")
            .await
            .unwrap();
        assert_eq!(
            unseal_object_key(&kms, &meta, "bkt", "obj").await.unwrap(),
            oek
        );
        // Not an SSE-KMS object.
        let mut s3 = Metadata::new();
        crate::sse::sse_s3::seal_object_key(&kms, "bkt", "obj", &mut s3)
            .await
            .unwrap();
        assert_eq!(
            rotate(&kms, "my-key", None, &mut s3, "bkt", "obj")
                .await
                .unwrap_err(),
            SseError::Crypto(CryptoError::NotEncrypted(SseKind::Kms))
        );
        // Domain separation: an SSE-KMS sealed key relabelled as SSE-S3 fails.
        let mut relabel = plain.clone();
        let sealed = relabel.remove(META_SEALED_KEY_KMS).unwrap();
        relabel.insert(crate::sse::metadata::META_SEALED_KEY_S3.into(), sealed);
        assert_eq!(
            crate::sse::sse_s3::unseal_object_key(&kms, &relabel, "bkt", "obj")
                .await
                .unwrap_err(),
            SseError::Crypto(CryptoError::SecretKeyMismatch)
        );
    }
}
