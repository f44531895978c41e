//! Config and IAM encryption (`internal/config/crypto.go`, spec §7.5):
//! `0x01 ‖ LE32(len(meta)) ‖ meta ‖ sio-go stream` under a KMS DEK.

use std::fmt;

use zeroize::Zeroizing;

use super::context::{Context, write_json_string};
use super::kms::{Dek, KeyManager, KmsError};
use super::primitives::{
    AeadFailure, Cipher, RandomnessError, aead_open, aead_seal, b64_decode, b64_encode, random,
};

const VERSION: u8 = 1;
const MAX_METADATA: usize = 1 << 20;
const BUF_SIZE: usize = 16 * 1024;
const TAG: usize = 16;

/// Errors of the config/IAM blob format.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigCryptoError {
    /// The first byte is not 1.
    UnknownVersion(u8),
    /// The metadata length exceeds 1 MiB.
    MetadataTooLarge,
    /// The blob ends inside the header or the metadata.
    UnexpectedEof,
    /// The metadata is not the expected JSON.
    InvalidMetadata(String),
    /// The algorithm named in the metadata is unknown.
    UnsupportedAlgorithm(String),
    /// The stream is truncated, reordered or modified, or the key is wrong.
    NotAuthentic,
    /// The KMS failed.
    Kms(KmsError),
    /// The CSPRNG failed.
    Randomness,
}

impl fmt::Display for ConfigCryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownVersion(v) => write!(f, "config: unknown ciphertext version {v}"),
            Self::MetadataTooLarge => f.write_str("config: encryption metadata is too large"),
            Self::UnexpectedEof => f.write_str("unexpected EOF"),
            Self::InvalidMetadata(e) => write!(f, "config: invalid encryption metadata: {e}"),
            Self::UnsupportedAlgorithm(a) => write!(f, "sio: algorithm '{a}' is not supported"),
            Self::NotAuthentic => f.write_str("sio: data is not authentic"),
            Self::Kms(e) => e.fmt(f),
            Self::Randomness => f.write_str("Unable to read enough randomness from the system"),
        }
    }
}

impl std::error::Error for ConfigCryptoError {}

impl From<KmsError> for ConfigCryptoError {
    fn from(e: KmsError) -> Self {
        Self::Kms(e)
    }
}

impl From<RandomnessError> for ConfigCryptoError {
    fn from(_: RandomnessError) -> Self {
        Self::Randomness
    }
}

impl From<AeadFailure> for ConfigCryptoError {
    fn from(_: AeadFailure) -> Self {
        Self::NotAuthentic
    }
}

fn algorithm_name(cipher: Cipher) -> &'static str {
    match cipher {
        Cipher::Aes256Gcm => "AES-256-GCM",
        Cipher::ChaCha20Poly1305 => "ChaCha20-Poly1305",
    }
}

/// Encrypts config/IAM data: a DEK from the default key bound to `context`,
/// the preferred cipher and a random 8-byte stream nonce.
///
/// # Errors
/// KMS errors from `generate_key`, or a CSPRNG failure.
pub async fn encrypt<K: KeyManager + ?Sized>(
    kms: &K,
    plaintext: &[u8],
    context: &Context,
) -> Result<Vec<u8>, ConfigCryptoError> {
    let dek = kms.generate_key(kms.default_key_id(), context).await?;
    seal_with_dek(&dek, Cipher::preferred(), random::<8>()?, plaintext)
}

/// The deterministic form of [`encrypt`]: the blob for a given DEK, cipher
/// and stream nonce.
///
/// # Errors
/// [`ConfigCryptoError::MetadataTooLarge`], or [`ConfigCryptoError::NotAuthentic`]
/// when the DEK is not a valid key for the cipher.
pub fn seal_with_dek(
    dek: &Dek,
    cipher: Cipher,
    nonce: [u8; 8],
    plaintext: &[u8],
) -> Result<Vec<u8>, ConfigCryptoError> {
    // Built by hand so that strings are escaped exactly like Go's encoder.
    let mut meta = String::from("{\"keyid\":");
    write_json_string(&mut meta, &dek.key_id);
    meta.push_str(",\"kmskey\":");
    if dek.ciphertext.is_empty() {
        meta.push_str("null");
    } else {
        meta.push('"');
        meta.push_str(&b64_encode(&dek.ciphertext));
        meta.push('"');
    }
    meta.push_str(",\"algorithm\":\"");
    meta.push_str(algorithm_name(cipher));
    meta.push_str("\",\"nonce\":\"");
    meta.push_str(&b64_encode(&nonce));
    meta.push_str("\"}");
    if meta.len() > MAX_METADATA {
        return Err(ConfigCryptoError::MetadataTooLarge);
    }
    let meta_len = u32::try_from(meta.len()).map_err(|_| ConfigCryptoError::MetadataTooLarge)?;
    let mut out = Vec::with_capacity(
        5 + meta.len() + plaintext.len() + TAG * (2 + plaintext.len() / BUF_SIZE),
    );
    out.push(VERSION);
    out.extend_from_slice(&meta_len.to_le_bytes());
    out.extend_from_slice(meta.as_bytes());
    out.extend_from_slice(&stream_seal(cipher, &dek.plaintext, nonce, plaintext)?);
    Ok(out)
}

fn stream_nonce(nonce: [u8; 8], seq: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&nonce);
    n[8..].copy_from_slice(&seq.to_le_bytes());
    n
}

fn stream_ad(
    cipher: Cipher,
    key: &[u8],
    nonce: [u8; 8],
    flag: u8,
) -> Result<[u8; 17], AeadFailure> {
    let tag = aead_seal(cipher, key, stream_nonce(nonce, 0), &[], &[])?;
    let mut ad = [0u8; 17];
    ad[0] = flag;
    ad[1..].copy_from_slice(&tag);
    Ok(ad)
}

/// sio-go stream with empty associated data and 16 KiB fragments.
fn stream_seal(
    cipher: Cipher,
    key: &[u8],
    nonce: [u8; 8],
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadFailure> {
    let body = stream_ad(cipher, key, nonce, 0x00)?;
    let last = stream_ad(cipher, key, nonce, 0x80)?;
    let mut out = Vec::with_capacity(plaintext.len() + TAG * (1 + plaintext.len() / BUF_SIZE));
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[]]
    } else {
        plaintext.chunks(BUF_SIZE).collect()
    };
    let n = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let seq = u32::try_from(i + 1).map_err(|_| AeadFailure)?;
        let ad = if i + 1 == n { &last } else { &body };
        out.extend_from_slice(&aead_seal(
            cipher,
            key,
            stream_nonce(nonce, seq),
            ad,
            chunk,
        )?);
    }
    Ok(out)
}

fn stream_open(
    cipher: Cipher,
    key: &[u8],
    nonce: [u8; 8],
    stream: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
    if stream.is_empty() {
        return Err(AeadFailure);
    }
    let body = stream_ad(cipher, key, nonce, 0x00)?;
    let last = stream_ad(cipher, key, nonce, 0x80)?;
    let mut out = Zeroizing::new(Vec::with_capacity(stream.len()));
    let fragments: Vec<&[u8]> = stream.chunks(BUF_SIZE + TAG).collect();
    let n = fragments.len();
    for (i, frag) in fragments.into_iter().enumerate() {
        let seq = u32::try_from(i + 1).map_err(|_| AeadFailure)?;
        let ad = if i + 1 == n { &last } else { &body };
        out.extend_from_slice(&aead_open(cipher, key, stream_nonce(nonce, seq), ad, frag)?);
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct Meta {
    keyid: String,
    kmskey: Option<String>,
    algorithm: String,
    nonce: Option<String>,
}

/// The parsed header of a config blob.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parsed<'a> {
    key_id: String,
    kms_key: Vec<u8>,
    cipher: Cipher,
    nonce: Vec<u8>,
    stream: &'a [u8],
}

fn parse(blob: &[u8]) -> Result<Parsed<'_>, ConfigCryptoError> {
    let (&version, rest) = blob.split_first().ok_or(ConfigCryptoError::UnexpectedEof)?;
    if rest.len() < 4 {
        return Err(ConfigCryptoError::UnexpectedEof);
    }
    if version != VERSION {
        return Err(ConfigCryptoError::UnknownVersion(version));
    }
    let size = usize::try_from(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]))
        .map_err(|_| ConfigCryptoError::MetadataTooLarge)?;
    if size > MAX_METADATA {
        return Err(ConfigCryptoError::MetadataTooLarge);
    }
    let rest = &rest[4..];
    if rest.len() < size {
        return Err(ConfigCryptoError::UnexpectedEof);
    }
    let (meta, stream) = rest.split_at(size);
    let meta: Meta = serde_json::from_slice(meta)
        .map_err(|e| ConfigCryptoError::InvalidMetadata(e.to_string()))?;
    let decode = |s: Option<String>| -> Result<Vec<u8>, ConfigCryptoError> {
        s.map_or(Ok(Vec::new()), |s| {
            b64_decode(&s).map_err(|e| ConfigCryptoError::InvalidMetadata(e.to_string()))
        })
    };
    let cipher = match meta.algorithm.as_str() {
        "AES-256-GCM" => Cipher::Aes256Gcm,
        "ChaCha20-Poly1305" => Cipher::ChaCha20Poly1305,
        other => return Err(ConfigCryptoError::UnsupportedAlgorithm(other.to_owned())),
    };
    Ok(Parsed {
        key_id: meta.keyid,
        kms_key: decode(meta.kmskey)?,
        cipher,
        nonce: decode(meta.nonce)?,
        stream,
    })
}

/// Decrypts a config/IAM blob: the DEK is decrypted with the **stored** key id
/// and the caller's `context`.
///
/// # Errors
/// Format errors, KMS errors from `decrypt`, or [`ConfigCryptoError::NotAuthentic`].
pub async fn decrypt<K: KeyManager + ?Sized>(
    kms: &K,
    blob: &[u8],
    context: &Context,
) -> Result<Zeroizing<Vec<u8>>, ConfigCryptoError> {
    let p = parse(blob)?;
    let key = kms.decrypt(&p.key_id, &p.kms_key, context).await?;
    let nonce: [u8; 8] = p
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| ConfigCryptoError::NotAuthentic)?;
    Ok(stream_open(p.cipher, &key, nonce, p.stream)?)
}

/// The context MinIO binds to config and IAM data: `{".minio.sys": ".minio.sys/<path>"}`.
#[must_use]
pub fn minio_sys_context(path: &str) -> Context {
    let mut ctx = Context::new();
    ctx.insert(".minio.sys", format!(".minio.sys/{path}"));
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::BuiltinKms;
    use crate::sse::test_vectors::{builtin, hex_arr, vectors};

    #[tokio::test]
    async fn derived_config_encryption() {
        let v = vectors();
        let d = &v["derived"]["config_encryption"];
        let ctx = minio_sys_context("config/config.json");
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
        assert_eq!(
            b64_encode(&dek.ciphertext),
            d["dek_ciphertext_b64"].as_str().unwrap()
        );
        let nonce: [u8; 8] = hex_arr(d["stream_nonce8_hex"].as_str().unwrap());
        let pt = d["plaintext_utf8"].as_str().unwrap().as_bytes();
        let blob = seal_with_dek(&dek, Cipher::Aes256Gcm, nonce, pt).unwrap();
        assert_eq!(b64_encode(&blob), d["blob_b64"].as_str().unwrap());
        let meta = d["header_metadata_json"].as_str().unwrap();
        assert_eq!(&blob[5..5 + meta.len()], meta.as_bytes());
        assert_eq!(
            hex::encode(&blob[5 + meta.len()..]),
            d["stream_ciphertext_hex"].as_str().unwrap()
        );
        assert_eq!(*decrypt(&kms, &blob, &ctx).await.unwrap(), pt);
        let empty = stream_seal(Cipher::Aes256Gcm, &dek.plaintext, nonce, &[]).unwrap();
        assert_eq!(
            hex::encode(&empty),
            d["empty_plaintext_stream_hex"].as_str().unwrap()
        );
        let big =
            stream_seal(Cipher::Aes256Gcm, &dek.plaintext, nonce, &[0; 2 * BUF_SIZE]).unwrap();
        assert_eq!(
            big.len() as u64,
            d["exact_2x16KiB_stream_len"].as_u64().unwrap()
        );
        assert_eq!(
            *stream_open(Cipher::Aes256Gcm, &dek.plaintext, nonce, &big).unwrap(),
            vec![0; 2 * BUF_SIZE]
        );
        let chacha = stream_seal(Cipher::ChaCha20Poly1305, &dek.plaintext, nonce, pt).unwrap();
        assert_eq!(
            hex::encode(&chacha),
            d["chacha_stream_of_plaintext_hex"].as_str().unwrap()
        );
        // Truncation and tampering.
        assert!(
            stream_open(
                Cipher::Aes256Gcm,
                &dek.plaintext,
                nonce,
                &big[..BUF_SIZE + TAG]
            )
            .is_err()
        );
        for i in [0, 5, 20, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert!(decrypt(&kms, &bad, &ctx).await.is_err(), "byte {i}");
        }
        assert_eq!(
            decrypt(&kms, &blob, &minio_sys_context("x"))
                .await
                .unwrap_err(),
            ConfigCryptoError::Kms(KmsError::Decrypt)
        );
    }

    #[tokio::test]
    async fn roundtrip_vectors() {
        let v = vectors();
        let t = &v["from_tests"]["config_encrypt_decrypt"];
        let kms = BuiltinKms::new(
            t["builtin_key_id"].as_str().unwrap(),
            hex_arr(t["builtin_key_hex"].as_str().unwrap()),
        );
        let cases = t["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        for case in cases {
            let data = match case["data_hex"].as_str() {
                Some(h) => hex::decode(h).unwrap(),
                None if case["data"] == "nil" => Vec::new(),
                None => vec![0; 1 << 20],
            };
            let ctx: Context = case["context"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let blob = encrypt(&kms, &data, &ctx).await.unwrap();
            assert_eq!(
                *decrypt(&kms, &blob, &ctx).await.unwrap(),
                data,
                "{}",
                case["id"]
            );
        }
    }

    #[tokio::test]
    async fn malformed_blobs() {
        let kms = BuiltinKms::new("k", [2; 32]);
        let ctx = Context::new();
        assert_eq!(
            decrypt(&kms, &[], &ctx).await.unwrap_err(),
            ConfigCryptoError::UnexpectedEof
        );
        assert_eq!(
            decrypt(&kms, &[2, 0, 0, 0, 0], &ctx)
                .await
                .unwrap_err()
                .to_string(),
            "config: unknown ciphertext version 2"
        );
        assert_eq!(
            decrypt(&kms, &[1, 1, 0, 0x10, 0], &ctx).await.unwrap_err(),
            ConfigCryptoError::MetadataTooLarge
        );
        assert_eq!(
            decrypt(&kms, &[1, 9, 0, 0, 0, b'{'], &ctx)
                .await
                .unwrap_err(),
            ConfigCryptoError::UnexpectedEof
        );
        assert!(matches!(
            decrypt(&kms, &[1, 2, 0, 0, 0, b'{', b'}'], &ctx)
                .await
                .unwrap_err(),
            ConfigCryptoError::InvalidMetadata(_)
        ));
        let meta = br#"{"keyid":"k","kmskey":null,"algorithm":"AES-128-GCM","nonce":null}"#;
        let mut blob = vec![1];
        blob.extend_from_slice(&u32::try_from(meta.len()).unwrap().to_le_bytes());
        blob.extend_from_slice(meta);
        assert!(matches!(
            decrypt(&kms, &blob, &ctx).await.unwrap_err(),
            ConfigCryptoError::UnsupportedAlgorithm(_)
        ));
    }
}
