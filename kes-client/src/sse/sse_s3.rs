//! SSE-S3: object keys sealed with a DEK from the default KMS key
//! (`internal/crypto/sse-s3.go`, spec §6.1, §6.5).

use super::context::Context;
use super::dek_seal::DekSeal;
use super::error::{SseError, SseRequestError};
use super::headers::{AES256, AWS_KMS, HeaderSource, SSE};
use super::kms::{KeyManager, KmsError};
use super::metadata::{Metadata, parse_kms_metadata};
use super::object_key::{ObjectKey, SseKind};

/// Whether SSE-S3 is requested: `X-Amz-Server-Side-Encryption` is present
/// (even empty) and not `aws:kms` (case-insensitive).
#[must_use]
pub fn is_requested(h: &(impl HeaderSource + ?Sized)) -> bool {
    h.header(SSE)
        .is_some_and(|v| !v.eq_ignore_ascii_case(AWS_KMS))
}

/// Checks the SSE-S3 request: the header value must be exactly `AES256`.
///
/// # Errors
/// [`SseRequestError::InvalidEncryptionMethod`] otherwise (also when absent).
pub fn parse_http(h: &(impl HeaderSource + ?Sized)) -> Result<(), SseRequestError> {
    if h.header(SSE) == Some(AES256) {
        Ok(())
    } else {
        Err(SseRequestError::InvalidEncryptionMethod)
    }
}

/// Seals a fresh OEK for a PUT (spec §6.1): a DEK from the default key bound
/// to `{bucket: path.Join(bucket, object)}`, a random IV, domain `SSE-S3`.
/// Writes the SSE-S3 entries into `metadata` and returns the OEK.
///
/// # Errors
/// KMS errors from `generate_key`, or a CSPRNG failure.
pub async fn seal_object_key<K: KeyManager + ?Sized>(
    kms: &K,
    bucket: &str,
    object: &str,
    metadata: &mut Metadata,
) -> Result<ObjectKey, SseError> {
    seal_with_default_key(kms, None, bucket, object, metadata).await
}

/// Seals `oek` (a new one for `None`) under a data key from the default key, bound to
/// `{bucket: path.Join(bucket, object)}`.
async fn seal_with_default_key<K: KeyManager + ?Sized>(
    kms: &K,
    oek: Option<ObjectKey>,
    bucket: &str,
    object: &str,
    metadata: &mut Metadata,
) -> Result<ObjectKey, SseError> {
    let context = Context::for_object(bucket, object);
    let seal = DekSeal {
        kind: SseKind::S3,
        key_id: kms.default_key_id(),
        context: &context,
        stored_context: None,
        bucket,
        object,
    };
    seal.seal(kms, oek, metadata).await
}

/// Unseals the OEK of an SSE-S3 object (GET, HEAD, COPY source) with the
/// stored key id, never the default key.
///
/// # Errors
/// Metadata errors, KMS errors from `decrypt`, or a key mismatch. A legacy
/// object without a key id gives [`KmsError::KeyNotFound`] unless the KMS's
/// own default key id is empty (spec §8).
pub async fn unseal_object_key<K: KeyManager + ?Sized>(
    kms: &K,
    metadata: &Metadata,
    bucket: &str,
    object: &str,
) -> Result<ObjectKey, SseError> {
    let parsed = parse_kms_metadata(metadata, SseKind::S3)?;
    if parsed.key_id.is_empty() && !kms.default_key_id().is_empty() {
        return Err(KmsError::KeyNotFound.into());
    }
    let ctx = Context::for_object(bucket, object);
    let key = kms.decrypt(&parsed.key_id, &parsed.kms_key, &ctx).await?;
    Ok(ObjectKey::unseal(
        &key,
        &parsed.sealed_key,
        SseKind::S3,
        bucket,
        object,
    )?)
}

/// Re-wraps an SSE-S3 object's OEK under a new DEK from the **current
/// default key** with a fresh IV (batch key rotation, spec §6.5). Data,
/// ETag and part keys stay valid.
///
/// # Errors
/// As [`unseal_object_key`] and [`seal_object_key`].
pub async fn rotate<K: KeyManager + ?Sized>(
    kms: &K,
    metadata: &mut Metadata,
    bucket: &str,
    object: &str,
) -> Result<(), SseError> {
    let oek = unseal_object_key(kms, metadata, bucket, object).await?;
    seal_with_default_key(kms, Some(oek), bucket, object, metadata).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::BuiltinKms;
    use crate::sse::error::CryptoError;
    use crate::sse::metadata::{
        META_DATA_ENCRYPTION_KEY, META_KEY_ID, META_SEALED_KEY_S3, write_kms_metadata,
    };
    use crate::sse::object_key::derive_kek;
    use crate::sse::primitives::{Cipher, b64_decode, b64_encode};
    use crate::sse::test_vectors::{builtin, hex_arr, to_meta, vectors};

    #[test]
    fn request_vectors() {
        let v = vectors();
        let t = &v["from_tests"]["sse_request_headers"];
        for case in t["sse_s3_is_requested"]["cases"].as_array().unwrap() {
            let h: Vec<(&str, &str)> = case
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.starts_with("X-Amz"))
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .collect();
            assert_eq!(
                is_requested(h.as_slice()),
                case["requested"].as_bool().unwrap()
            );
        }
        for case in t["sse_s3_parse"]["cases"].as_array().unwrap() {
            let name = case["header_name"].as_str().unwrap_or(SSE);
            let value = case["value"].as_str().unwrap_or("AES256");
            let h: &[(&str, &str)] = &[(name, value)];
            let want = case["error"]
                .as_str()
                .map(|_| SseRequestError::InvalidEncryptionMethod);
            assert_eq!(parse_http(h).err(), want, "{}", case["id"]);
        }
    }

    #[tokio::test]
    async fn derived_sse_s3() {
        let v = vectors();
        let d = &v["derived"]["sse_s3"];
        let (b, o) = (d["bucket"].as_str().unwrap(), d["object"].as_str().unwrap());
        let ctx = Context::for_object(b, o);
        assert_eq!(
            ctx.to_canonical_json(),
            d["kms_associated_data"].as_str().unwrap().as_bytes()
        );
        let kms = builtin(v);
        let dek = kms
            .generate_deterministic(
                &hex_arr(v["derived"]["builtin_generate"]["iv_hex"].as_str().unwrap()),
                hex_arr(
                    v["derived"]["builtin_generate"]["nonce_hex"]
                        .as_str()
                        .unwrap(),
                ),
                &hex::decode(d["dek_plaintext_hex"].as_str().unwrap()).unwrap(),
                &ctx,
            )
            .unwrap();
        assert_eq!(
            b64_encode(&dek.ciphertext),
            d["dek_ciphertext_b64"].as_str().unwrap()
        );
        let oek = ObjectKey::generate_with_nonce(
            &dek.plaintext,
            &hex_arr(d["oek_nonce_hex"].as_str().unwrap()),
        );
        assert_eq!(hex::encode(oek.as_bytes()), d["oek_hex"].as_str().unwrap());
        let iv: [u8; 32] = hex_arr(d["iv_hex"].as_str().unwrap());
        let kek_input = hex::decode(d["kek_input_hex"].as_str().unwrap()).unwrap();
        assert_eq!(
            kek_input,
            [&iv[..], b"SSE-S3DAREv2-HMAC-SHA256bucket/object"].concat()
        );
        assert_eq!(
            hex::encode(*derive_kek(&dek.plaintext, &iv, SseKind::S3, b, o)),
            d["kek_hex"].as_str().unwrap()
        );
        let nonce = hex_arr(d["dare_random12_hex"].as_str().unwrap());
        let aes = oek
            .seal_deterministic(
                &dek.plaintext,
                iv,
                SseKind::S3,
                b,
                o,
                Cipher::Aes256Gcm,
                nonce,
            )
            .unwrap();
        assert_eq!(
            hex::encode(aes.key),
            d["sealed_key_aes_hex"].as_str().unwrap()
        );
        let chacha = oek
            .seal_deterministic(
                &dek.plaintext,
                iv,
                SseKind::S3,
                b,
                o,
                Cipher::ChaCha20Poly1305,
                nonce,
            )
            .unwrap();
        assert_eq!(
            hex::encode(chacha.key),
            d["sealed_key_chacha_hex"].as_str().unwrap()
        );
        let mut meta = Metadata::new();
        write_kms_metadata(
            &mut meta,
            SseKind::S3,
            &dek.key_id,
            &dek.ciphertext,
            &aes,
            None,
        );
        assert_eq!(meta, to_meta(&d["metadata"]));
        // GET path with the real builtin KMS decrypt.
        assert_eq!(unseal_object_key(&kms, &meta, b, o).await.unwrap(), oek);
        // The ChaCha20 sealed key unseals too.
        let mut cmeta = meta.clone();
        cmeta.insert(META_SEALED_KEY_S3.into(), b64_encode(&chacha.key));
        assert_eq!(unseal_object_key(&kms, &cmeta, b, o).await.unwrap(), oek);
    }

    #[tokio::test]
    async fn roundtrip_rotation_and_failures() {
        let v = vectors();
        let kms = builtin(v);
        let mut meta = Metadata::new();
        let oek = seal_object_key(&kms, "bkt", "a/b", &mut meta)
            .await
            .unwrap();
        assert_eq!(
            unseal_object_key(&kms, &meta, "bkt", "a/b").await.unwrap(),
            oek
        );
        // Other object name: the KMS context differs, so the KMS refuses.
        assert_eq!(
            unseal_object_key(&kms, &meta, "bkt", "a/c")
                .await
                .unwrap_err(),
            SseError::Kms(KmsError::Decrypt)
        );
        let before = meta.clone();
        rotate(&kms, &mut meta, "bkt", "a/b").await.unwrap();
        assert_ne!(before, meta);
        assert_eq!(
            unseal_object_key(&kms, &meta, "bkt", "a/b").await.unwrap(),
            oek
        );
        // Tampered sealed key.
        let mut bad = meta.clone();
        let mut raw = b64_decode(&bad[META_SEALED_KEY_S3]).unwrap();
        raw[20] ^= 0x40;
        bad.insert(META_SEALED_KEY_S3.into(), b64_encode(&raw));
        assert_eq!(
            unseal_object_key(&kms, &bad, "bkt", "a/b")
                .await
                .unwrap_err(),
            SseError::Crypto(CryptoError::SecretKeyMismatch)
        );
        // Unknown key id.
        let mut bad = meta.clone();
        bad.insert(META_KEY_ID.into(), "other".into());
        assert_eq!(
            unseal_object_key(&kms, &bad, "bkt", "a/b")
                .await
                .unwrap_err(),
            SseError::Kms(KmsError::KeyNotFound)
        );
        // Legacy object without key id, KMS with a named key: refused locally.
        let mut legacy = meta.clone();
        legacy.insert(META_KEY_ID.into(), String::new());
        legacy.insert(META_DATA_ENCRYPTION_KEY.into(), String::new());
        assert_eq!(
            unseal_object_key(&kms, &legacy, "bkt", "a/b")
                .await
                .unwrap_err(),
            SseError::Kms(KmsError::KeyNotFound)
        );
        // Missing IV.
        let mut bad = meta.clone();
        bad.remove(crate::sse::metadata::META_IV);
        assert_eq!(
            unseal_object_key(&kms, &bad, "bkt", "a/b")
                .await
                .unwrap_err(),
            SseError::Crypto(CryptoError::MissingInternalIv)
        );
        // A KMS with another secret cannot decrypt.
        let other =
            BuiltinKms::parse("my-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
        assert_eq!(
            unseal_object_key(&other, &meta, "bkt", "a/b")
                .await
                .unwrap_err(),
            SseError::Kms(KmsError::Decrypt)
        );
    }
}
