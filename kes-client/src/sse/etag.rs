//! ETag sealing with the OEK (`internal/crypto/key.go SealETag`,
//! `cmd/object-api-utils.go`, spec §7.1).

use std::fmt;

use super::dare::{self, MinVersion};
use super::object_key::ObjectKey;
use super::primitives::{Cipher, RandomnessError, random};

/// Errors decrypting a stored ETag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ETagError {
    /// Not `<32 hex>-<int32>` and not hex.
    Malformed(String),
    /// The sealed ETag does not open under the OEK.
    NotAuthentic,
}

impl fmt::Display for ETagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "etag: invalid ETag '{e}'"),
            Self::NotAuthentic => {
                f.write_str("The secret key does not match the secret key used during upload")
            }
        }
    }
}

impl std::error::Error for ETagError {}

/// Seals a content MD5 (or any ETag bytes) under HMAC-SHA256(OEK, "SSE-etag")
/// as one DARE 2.0 package with a random nonce: 48 bytes for an MD5. An empty
/// ETag stays empty.
///
/// # Errors
/// [`RandomnessError`] when the CSPRNG fails.
pub fn seal_etag(oek: &ObjectKey, etag: &[u8]) -> Result<Vec<u8>, RandomnessError> {
    seal_etag_with(oek, etag, Cipher::preferred(), random::<12>()?)
}

/// The deterministic form of [`seal_etag`].
///
/// # Errors
/// None in practice; [`RandomnessError`] is shared with [`seal_etag`].
pub fn seal_etag_with(
    oek: &ObjectKey,
    etag: &[u8],
    cipher: Cipher,
    nonce: [u8; 12],
) -> Result<Vec<u8>, RandomnessError> {
    if etag.is_empty() {
        return Ok(Vec::new());
    }
    dare::seal_final_v2(&*oek.etag_key(), cipher, nonce, 0, etag).map_err(|_| RandomnessError)
}

/// The stored ETag of an object written without an MD5: a random 16-byte
/// value sealed under the OEK, shown as `hex(sealed)[..32] + "-1"`.
///
/// # Errors
/// [`RandomnessError`] when the CSPRNG fails.
pub fn random_etag(oek: &ObjectKey) -> Result<String, RandomnessError> {
    let sealed = seal_etag(oek, &random::<16>()?)?;
    let mut hex = hex::encode(sealed);
    hex.truncate(32);
    Ok(hex + "-1")
}

/// Whether stored ETag bytes are sealed (`crypto.IsETagSealed`): longer than 16 bytes.
#[must_use]
pub fn is_etag_sealed(etag: &[u8]) -> bool {
    etag.len() > 16
}

/// Decrypts a stored ETag string to the hex ETag clients may see.
///
/// An ETag with `-` must be `<32 hex>-<int32>` and is returned unchanged;
/// otherwise it is hex-decoded and, if at least 32 bytes, opened with the OEK.
///
/// # Errors
/// [`ETagError::Malformed`] for bad syntax, [`ETagError::NotAuthentic`] when
/// the sealed value does not open.
pub fn decrypt_etag(oek: &ObjectKey, etag: &str) -> Result<String, ETagError> {
    if let Some((prefix, suffix)) = etag.split_once('-') {
        let hex_ok = prefix.len() == 32 && prefix.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_ok || suffix.parse::<i32>().is_err() {
            return Err(ETagError::Malformed(etag.to_owned()));
        }
        return Ok(etag.to_owned());
    }
    let raw = hex::decode(etag).map_err(|_| ETagError::Malformed(etag.to_owned()))?;
    if raw.len() < 32 {
        return Ok(hex::encode(raw));
    }
    let plain = dare::open_single(&*oek.etag_key(), &raw, 0, MinVersion::V10)
        .map_err(|_| ETagError::NotAuthentic)?;
    Ok(hex::encode(&*plain))
}

/// What S3 clients see for an SSE-C or SSE-KMS single-part ETag: the last
/// 16 bytes (the DARE tag) of the sealed value, in hex.
#[must_use]
pub fn sealed_etag_for_client(sealed: &[u8]) -> String {
    hex::encode(&sealed[sealed.len().saturating_sub(16)..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::test_vectors::{hex_arr, vectors};

    #[test]
    fn decrypt_vectors() {
        let v = vectors();
        let t = &v["from_tests"]["etag_decrypt"];
        let oek = ObjectKey::from_bytes([0; 32]);
        assert_eq!(
            hex::encode(*oek.etag_key()),
            t["etag_key_hex_derived"].as_str().unwrap()
        );
        for case in t["cases"].as_array().unwrap() {
            let got = decrypt_etag(&oek, case["etag"].as_str().unwrap());
            if case["should_fail"].as_bool() == Some(true) {
                assert!(got.is_err(), "{}", case["id"]);
            } else {
                assert_eq!(
                    got.unwrap(),
                    case["expect"].as_str().unwrap(),
                    "{}",
                    case["id"]
                );
            }
        }
        // Wrong OEK.
        let sealed = t["cases"][0]["etag"].as_str().unwrap();
        assert_eq!(
            decrypt_etag(&ObjectKey::from_bytes([1; 32]), sealed),
            Err(ETagError::NotAuthentic)
        );
        assert_eq!(decrypt_etag(&oek, "abcd").unwrap(), "abcd");
    }

    #[test]
    fn is_sealed_vectors() {
        let v = vectors();
        for case in v["from_tests"]["is_etag_sealed"]["cases"]
            .as_array()
            .unwrap()
        {
            let raw = hex::decode(case["etag_hex"].as_str().unwrap()).unwrap();
            assert_eq!(is_etag_sealed(&raw), case["sealed"].as_bool().unwrap());
        }
    }

    #[test]
    fn derived_etag() {
        let v = vectors();
        let d = &v["derived"]["etag"];
        let oek = ObjectKey::from_bytes(hex_arr(d["oek_hex"].as_str().unwrap()));
        assert_eq!(
            hex::encode(*oek.etag_key()),
            d["etag_key_hex"].as_str().unwrap()
        );
        let md5 = hex::decode(d["md5_hex"].as_str().unwrap()).unwrap();
        let sealed = seal_etag_with(
            &oek,
            &md5,
            Cipher::Aes256Gcm,
            hex_arr(d["dare_random12_hex"].as_str().unwrap()),
        )
        .unwrap();
        assert_eq!(hex::encode(&sealed), d["sealed_etag_hex"].as_str().unwrap());
        assert_eq!(sealed.len() as u64, d["sealed_etag_len"].as_u64().unwrap());
        assert_eq!(
            sealed_etag_for_client(&sealed),
            d["s3_formatted_if_not_decrypted"].as_str().unwrap()
        );
        assert_eq!(
            decrypt_etag(&oek, &hex::encode(&sealed)).unwrap(),
            d["md5_hex"].as_str().unwrap()
        );
        // Random nonce path and the MD5-less ETag.
        let s = seal_etag(&oek, &md5).unwrap();
        assert_eq!(
            decrypt_etag(&oek, &hex::encode(&s)).unwrap(),
            d["md5_hex"].as_str().unwrap()
        );
        assert!(seal_etag(&oek, &[]).unwrap().is_empty());
        let r = random_etag(&oek).unwrap();
        assert_eq!(r.len(), 34);
        assert_eq!(decrypt_etag(&oek, &r).unwrap(), r);
    }
}
