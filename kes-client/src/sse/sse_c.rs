//! SSE-C: client-provided keys (`internal/crypto/sse-c.go`, spec §6.3–§6.4).

use std::fmt;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use md5::{Digest as _, Md5};
use zeroize::Zeroizing;

use super::error::{CryptoError, SseError, SseRequestError};
use super::headers::{
    AES256, HeaderSource, SSEC_ALGORITHM, SSEC_COPY_ALGORITHM, SSEC_COPY_KEY, SSEC_COPY_KEY_MD5,
    SSEC_KEY, SSEC_KEY_MD5,
};
use super::metadata::{Metadata, parse_ssec_metadata, write_ssec_metadata};
use super::object_key::{ObjectKey, SealAlgorithm, SseKind};
use super::primitives::b64_decode;

/// A 32-byte SSE-C client key. Zeroized on drop, redacted in `Debug`, compared in constant time.
#[derive(Clone)]
pub struct ClientKey(Zeroizing<[u8; 32]>);

/// Constant time: how long a comparison takes says nothing about where two keys differ.
impl PartialEq for ClientKey {
    fn eq(&self, other: &Self) -> bool {
        verify_slices_are_equal(&self.0[..], &other.0[..]).is_ok()
    }
}

impl Eq for ClientKey {}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKey([redacted])")
    }
}

impl ClientKey {
    /// Wraps raw key bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Whether any SSE-C header is present.
#[must_use]
pub fn is_requested(h: &(impl HeaderSource + ?Sized)) -> bool {
    [SSEC_ALGORITHM, SSEC_KEY, SSEC_KEY_MD5]
        .iter()
        .any(|n| h.header(n).is_some())
}

/// Whether any copy-source SSE-C header is present.
#[must_use]
pub fn is_copy_requested(h: &(impl HeaderSource + ?Sized)) -> bool {
    [SSEC_COPY_ALGORITHM, SSEC_COPY_KEY, SSEC_COPY_KEY_MD5]
        .iter()
        .any(|n| h.header(n).is_some())
}

/// Parses the SSE-C headers into the client key.
///
/// # Errors
/// In this order: `InvalidCustomerAlgorithm`, `MissingCustomerKey`,
/// `MissingCustomerKeyMd5`, `InvalidCustomerKey`, `CustomerKeyMd5Mismatch`
/// (an MD5 that is not base64 is a mismatch, as in MinIO).
pub fn parse_http(h: &(impl HeaderSource + ?Sized)) -> Result<ClientKey, SseRequestError> {
    parse(h, [SSEC_ALGORITHM, SSEC_KEY, SSEC_KEY_MD5])
}

/// Like [`parse_http`] for the `X-Amz-Copy-Source-…` headers.
///
/// # Errors
/// As [`parse_http`].
pub fn parse_copy_http(h: &(impl HeaderSource + ?Sized)) -> Result<ClientKey, SseRequestError> {
    parse(h, [SSEC_COPY_ALGORITHM, SSEC_COPY_KEY, SSEC_COPY_KEY_MD5])
}

fn parse(h: &(impl HeaderSource + ?Sized), names: [&str; 3]) -> Result<ClientKey, SseRequestError> {
    let get = |n: &str| h.header(n).unwrap_or_default();
    if get(names[0]) != AES256 {
        return Err(SseRequestError::InvalidCustomerAlgorithm);
    }
    let (b64_key, b64_md5) = (get(names[1]), get(names[2]));
    if b64_key.is_empty() {
        return Err(SseRequestError::MissingCustomerKey);
    }
    if b64_md5.is_empty() {
        return Err(SseRequestError::MissingCustomerKeyMd5);
    }
    let key = Zeroizing::new(b64_decode(b64_key).map_err(|_| SseRequestError::InvalidCustomerKey)?);
    let key: [u8; 32] = key
        .as_slice()
        .try_into()
        .map_err(|_| SseRequestError::InvalidCustomerKey)?;
    let key = ClientKey::from_bytes(key);
    let md5 = b64_decode(b64_md5).map_err(|_| SseRequestError::CustomerKeyMd5Mismatch)?;
    // The digest of a secret key: compared in constant time.
    if verify_slices_are_equal(Md5::digest(key.as_bytes()).as_slice(), &md5).is_err() {
        return Err(SseRequestError::CustomerKeyMd5Mismatch);
    }
    Ok(key)
}

/// Generates an OEK from the client key, seals it for (`bucket`, `object`)
/// with a fresh IV and writes Seal-Algorithm, Iv and Sealed-Key.
///
/// # Errors
/// [`CryptoError::Randomness`] when the CSPRNG fails.
pub fn seal_object_key(
    key: &ClientKey,
    bucket: &str,
    object: &str,
    metadata: &mut Metadata,
) -> Result<ObjectKey, CryptoError> {
    let oek = ObjectKey::generate(key.as_bytes())?;
    let sealed = oek.seal(key.as_bytes(), SseKind::C, bucket, object)?;
    write_ssec_metadata(metadata, &sealed);
    Ok(oek)
}

/// Unseals the OEK of an SSE-C object with the client key.
///
/// # Errors
/// Metadata errors (spec §6.3) or [`CryptoError::SecretKeyMismatch`].
pub fn unseal_object_key(
    key: &ClientKey,
    metadata: &Metadata,
    bucket: &str,
    object: &str,
) -> Result<ObjectKey, CryptoError> {
    let sealed = parse_ssec_metadata(metadata)?;
    ObjectKey::unseal(key.as_bytes(), &sealed, SseKind::C, bucket, object)
}

/// Parses the request's SSE-C headers, then unseals (`SSEC.UnsealObjectKey`).
///
/// # Errors
/// Header errors first, then metadata errors and key mismatch.
pub fn unseal_object_key_from_request(
    h: &(impl HeaderSource + ?Sized),
    metadata: &Metadata,
    bucket: &str,
    object: &str,
) -> Result<ObjectKey, SseError> {
    let key = parse_http(h)?;
    Ok(unseal_object_key(&key, metadata, bucket, object)?)
}

/// Like [`unseal_object_key_from_request`] with the copy-source headers.
///
/// # Errors
/// As [`unseal_object_key_from_request`].
pub fn unseal_copy_object_key_from_request(
    h: &(impl HeaderSource + ?Sized),
    metadata: &Metadata,
    bucket: &str,
    object: &str,
) -> Result<ObjectKey, SseError> {
    let key = parse_copy_http(h)?;
    Ok(unseal_object_key(&key, metadata, bucket, object)?)
}

/// SSE-C key rotation by same-object COPY (spec §6.4): unseal with `old`,
/// re-seal the same OEK with `new`, **reusing the IV**, and rewrite
/// Seal-Algorithm, Iv and Sealed-Key. Returns `false` when nothing had to
/// change (same key, already `DAREv2-HMAC-SHA256`).
///
/// # Errors
/// Metadata errors; on unseal failure [`SseRequestError::InvalidSseParameters`]
/// when `old == new`, else [`SseRequestError::InvalidCustomerKey`].
pub fn rotate_key(
    old: &ClientKey,
    new: &ClientKey,
    metadata: &mut Metadata,
    bucket: &str,
    object: &str,
) -> Result<bool, SseError> {
    let sealed = parse_ssec_metadata(metadata)?;
    let oek =
        ObjectKey::unseal(old.as_bytes(), &sealed, SseKind::C, bucket, object).map_err(|_| {
            if old == new {
                SseRequestError::InvalidSseParameters
            } else {
                SseRequestError::InvalidCustomerKey
            }
        })?;
    if old == new && sealed.algorithm == SealAlgorithm::DareV2HmacSha256 {
        return Ok(false);
    }
    let resealed = oek.seal_with_iv(new.as_bytes(), sealed.iv, SseKind::C, bucket, object)?;
    write_ssec_metadata(metadata, &resealed);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::metadata::{META_ALGORITHM, META_SEALED_KEY_SSEC};
    use crate::sse::object_key::derive_kek;
    use crate::sse::primitives::{Cipher, b64_encode};
    use crate::sse::test_vectors::{hex_arr, to_meta, vectors};

    fn headers(alg: &str, key: &str, md5: &str) -> Vec<(String, String)> {
        let mut h = vec![
            (SSEC_ALGORITHM.to_owned(), alg.to_owned()),
            (SSEC_KEY.to_owned(), key.to_owned()),
        ];
        if !md5.is_empty() {
            h.push((SSEC_KEY_MD5.to_owned(), md5.to_owned()));
        }
        h
    }

    fn as_refs(h: &[(String, String)]) -> Vec<(&str, &str)> {
        h.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
    }

    fn copy_names(h: &[(String, String)]) -> Vec<(String, String)> {
        h.iter()
            .map(|(k, v)| {
                (
                    k.replace("X-Amz-Server-Side", "X-Amz-Copy-Source-Server-Side"),
                    v.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn client_keys_compare_by_value() {
        let key = |b: u8| ClientKey::from_bytes([b; 32]);
        assert_eq!(key(7), key(7));
        assert_ne!(key(7), key(8));
        let mut last = [7; 32];
        last[31] = 8;
        assert_ne!(key(7), ClientKey::from_bytes(last));
    }

    #[test]
    fn request_header_vectors() {
        let v = vectors();
        for case in v["from_tests"]["sse_request_headers"]["ssec_parse"]["cases"]
            .as_array()
            .unwrap()
        {
            let h = headers(
                case["alg"].as_str().unwrap(),
                case["key"].as_str().unwrap(),
                case["md5"].as_str().unwrap(),
            );
            let want = match case["error"].as_str() {
                None => None,
                Some("ErrInvalidCustomerAlgorithm") => {
                    Some(SseRequestError::InvalidCustomerAlgorithm)
                }
                Some("ErrInvalidCustomerKey") => Some(SseRequestError::InvalidCustomerKey),
                Some("ErrMissingCustomerKeyMD5") => Some(SseRequestError::MissingCustomerKeyMd5),
                Some("ErrCustomerKeyMD5Mismatch") => Some(SseRequestError::CustomerKeyMd5Mismatch),
                Some(other) => panic!("unknown {other}"),
            };
            assert_eq!(
                parse_http(as_refs(&h).as_slice()).err(),
                want,
                "{}",
                case["id"]
            );
            let c = copy_names(&h);
            assert_eq!(
                parse_copy_http(as_refs(&c).as_slice()).err(),
                want,
                "{}",
                case["id"]
            );
        }
        let h: &[(&str, &str)] = &[(SSEC_ALGORITHM, "AES256")];
        assert_eq!(
            parse_http(h).err(),
            Some(SseRequestError::MissingCustomerKey)
        );
    }

    #[test]
    fn unseal_object_key_vectors() {
        let v = vectors();
        let t = &v["from_tests"]["ssec_unseal_object_key"];
        let base_headers: Vec<(String, String)> = t["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let base_meta = to_meta(&t["metadata"]);
        // The intermediate values of case 0.
        let key = parse_http(as_refs(&base_headers).as_slice()).unwrap();
        assert_eq!(
            key.as_bytes(),
            t["client_key_ascii_derived"].as_str().unwrap().as_bytes()
        );
        let sealed = parse_ssec_metadata(&base_meta).unwrap();
        assert_eq!(
            hex::encode(*derive_kek(
                key.as_bytes(),
                &sealed.iv,
                SseKind::C,
                "bucket",
                "object"
            )),
            t["kek_hex_derived"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(&sealed.key[..16]),
            t["sealed_key_header_hex_derived"].as_str().unwrap()
        );
        for copy in [false, true] {
            for case in t["cases"].as_array().unwrap() {
                let mut h = base_headers.clone();
                if let Some(w) = case["headers_without"].as_str() {
                    h.retain(|(k, _)| k != w);
                }
                let mut meta = base_meta.clone();
                if let Some(w) = case["metadata_without"].as_str() {
                    meta.remove(w);
                }
                let (b, o) = (
                    case["bucket"].as_str().unwrap(),
                    case["object"].as_str().unwrap(),
                );
                let got = if copy {
                    let c = copy_names(&h);
                    unseal_copy_object_key_from_request(as_refs(&c).as_slice(), &meta, b, o)
                } else {
                    unseal_object_key_from_request(as_refs(&h).as_slice(), &meta, b, o)
                };
                match case["expect"].as_str().unwrap() {
                    "ok" => assert_eq!(
                        hex::encode(got.unwrap().as_bytes()),
                        t["oek_hex_derived"].as_str().unwrap()
                    ),
                    "ErrSecretKeyMismatch" => {
                        assert_eq!(
                            got.unwrap_err(),
                            SseError::Crypto(CryptoError::SecretKeyMismatch)
                        );
                    }
                    "errMissingInternalSealAlgorithm" => assert_eq!(
                        got.unwrap_err().to_string(),
                        "The object metadata is missing the internal seal algorithm"
                    ),
                    "ErrMissingCustomerKeyMD5" => assert_eq!(
                        got.unwrap_err().to_string(),
                        "The SSE-C request is missing the customer key MD5"
                    ),
                    other => panic!("unknown {other}"),
                }
            }
        }
    }

    #[test]
    fn derived_sse_c_and_rotation() {
        let v = vectors();
        let d = &v["derived"]["sse_c"];
        let key = ClientKey::from_bytes(
            b64_decode(d["client_key_b64"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        );
        let h: &[(&str, &str)] = &[
            (SSEC_ALGORITHM, "AES256"),
            (SSEC_KEY, d["client_key_b64"].as_str().unwrap()),
            (SSEC_KEY_MD5, d["client_key_md5_b64"].as_str().unwrap()),
        ];
        assert_eq!(parse_http(h).unwrap(), key);
        let oek = ObjectKey::generate_with_nonce(
            key.as_bytes(),
            &hex_arr(d["oek_nonce_hex"].as_str().unwrap()),
        );
        assert_eq!(hex::encode(oek.as_bytes()), d["oek_hex"].as_str().unwrap());
        let iv: [u8; 32] = hex_arr(d["iv_hex"].as_str().unwrap());
        let (b, o) = (d["bucket"].as_str().unwrap(), d["object"].as_str().unwrap());
        assert_eq!(
            hex::encode(*derive_kek(key.as_bytes(), &iv, SseKind::C, b, o)),
            d["kek_hex"].as_str().unwrap()
        );
        let nonce = hex_arr(d["dare_random12_hex"].as_str().unwrap());
        let sealed = oek
            .seal_deterministic(
                key.as_bytes(),
                iv,
                SseKind::C,
                b,
                o,
                Cipher::Aes256Gcm,
                nonce,
            )
            .unwrap();
        assert_eq!(
            hex::encode(sealed.key),
            d["sealed_key_aes_hex"].as_str().unwrap()
        );
        let mut meta = Metadata::new();
        write_ssec_metadata(&mut meta, &sealed);
        assert_eq!(meta, to_meta(&d["metadata"]));
        assert_eq!(unseal_object_key(&key, &meta, b, o).unwrap(), oek);

        // Rotation: same OEK, same IV, new sealed key.
        let r = &d["rotation"];
        let new = ClientKey::from_bytes(
            b64_decode(r["new_client_key_b64"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        );
        let h2: &[(&str, &str)] = &[
            (SSEC_ALGORITHM, "AES256"),
            (SSEC_KEY, r["new_client_key_b64"].as_str().unwrap()),
            (SSEC_KEY_MD5, r["new_client_key_md5_b64"].as_str().unwrap()),
        ];
        assert_eq!(parse_http(h2).unwrap(), new);
        let resealed = oek
            .seal_deterministic(
                new.as_bytes(),
                iv,
                SseKind::C,
                b,
                o,
                Cipher::Aes256Gcm,
                nonce,
            )
            .unwrap();
        assert_eq!(
            hex::encode(resealed.key),
            r["new_sealed_key_aes_hex"].as_str().unwrap()
        );
        assert_eq!(
            hex::encode(*derive_kek(new.as_bytes(), &iv, SseKind::C, b, o)),
            r["new_kek_hex"].as_str().unwrap()
        );
        let mut rotated = meta.clone();
        assert!(rotate_key(&key, &new, &mut rotated, b, o).unwrap());
        let after = parse_ssec_metadata(&rotated).unwrap();
        assert_eq!(hex::encode(after.iv), r["iv_reused_hex"].as_str().unwrap());
        assert_eq!(unseal_object_key(&new, &rotated, b, o).unwrap(), oek);
        assert_eq!(
            unseal_object_key(&key, &rotated, b, o).unwrap_err(),
            CryptoError::SecretKeyMismatch
        );
        // Same key, current algorithm: nothing to do.
        let mut same = meta.clone();
        assert!(!rotate_key(&key, &key, &mut same, b, o).unwrap());
        assert_eq!(same, meta);
        // Wrong old key.
        let mut m = meta.clone();
        assert_eq!(
            rotate_key(&new, &key, &mut m, b, o).unwrap_err(),
            SseError::Request(SseRequestError::InvalidCustomerKey)
        );
        assert_eq!(
            rotate_key(&new, &new, &mut m, b, o)
                .unwrap_err()
                .to_string(),
            "The provided encryption parameters did not match the ones used originally."
        );
    }

    #[test]
    fn random_roundtrip_and_tamper() {
        let key = ClientKey::from_bytes([9; 32]);
        let mut meta = Metadata::new();
        let oek = seal_object_key(&key, "b", "dir/o", &mut meta).unwrap();
        assert_eq!(unseal_object_key(&key, &meta, "b", "dir//o/").unwrap(), oek);
        assert!(unseal_object_key(&key, &meta, "b", "dir/p").is_err());
        let mut bad = meta.clone();
        let mut raw = b64_decode(&bad[META_SEALED_KEY_SSEC]).unwrap();
        raw[40] ^= 1;
        bad.insert(META_SEALED_KEY_SSEC.into(), b64_encode(&raw));
        assert_eq!(
            unseal_object_key(&key, &bad, "b", "dir/o").unwrap_err(),
            CryptoError::SecretKeyMismatch
        );
        let mut bad = meta.clone();
        bad.insert(META_ALGORITHM.into(), "DAREv3".into());
        assert_eq!(
            unseal_object_key(&key, &bad, "b", "dir/o").unwrap_err(),
            CryptoError::InvalidInternalSealAlgorithm
        );
        assert_eq!(format!("{key:?}"), "ClientKey([redacted])");
    }
}
