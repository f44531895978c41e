//! The builtin single-key KMS (`MINIO_KMS_SECRET_KEY`,
//! `internal/kms/secret-key.go`, spec §9).

use std::fmt;

use zeroize::Zeroizing;

use super::context::Context;
use super::kms::{Dek, KeyManager, KmsError, KmsFuture};
use super::primitives::{Cipher, aead_open, aead_seal, b64_decode, hchacha20, hmac_sha256, random};

/// Errors parsing `MINIO_KMS_SECRET_KEY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretKeyError {
    /// No `:` separates the key id from the key.
    InvalidFormat,
    /// The key is not valid base64.
    InvalidBase64,
    /// The key does not decode to exactly 32 bytes.
    InvalidLength(usize),
}

impl fmt::Display for SecretKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFormat => f.write_str("kms: invalid secret key format"),
            Self::InvalidBase64 => f.write_str("kms: invalid secret key: illegal base64 data"),
            Self::InvalidLength(n) => write!(f, "kms: invalid key length {n}"),
        }
    }
}

impl std::error::Error for SecretKeyError {}

/// A KMS with one named 256-bit key. Redacted in `Debug`.
#[derive(Clone)]
pub struct BuiltinKms {
    key_id: String,
    secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for BuiltinKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltinKms")
            .field("key_id", &self.key_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct LegacyCiphertext {
    aead: String,
    iv: String,
    nonce: String,
    bytes: String,
}

impl BuiltinKms {
    /// A KMS with the given key name and secret.
    #[must_use]
    pub fn new(key_id: impl Into<String>, secret: [u8; 32]) -> Self {
        Self {
            key_id: key_id.into(),
            secret: Zeroizing::new(secret),
        }
    }

    /// Parses `<key-id>:<base64 of 32 bytes>`, split at the first `:`; the key
    /// id may be empty and is not trimmed. Go's decoder ignores `\r`/`\n`, so
    /// a file's trailing newline is tolerated.
    ///
    /// # Errors
    /// [`SecretKeyError::InvalidFormat`] without `:`; [`SecretKeyError::InvalidBase64`];
    /// [`SecretKeyError::InvalidLength`] unless the key decodes to 32 bytes.
    pub fn parse(s: &str) -> Result<Self, SecretKeyError> {
        let (id, b64) = s.split_once(':').ok_or(SecretKeyError::InvalidFormat)?;
        let key = Zeroizing::new(b64_decode(b64).map_err(|_| SecretKeyError::InvalidBase64)?);
        let secret: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| SecretKeyError::InvalidLength(key.len()))?;
        Ok(Self::new(id, secret))
    }

    /// The key name.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn check_name(&self, name: &str) -> Result<(), KmsError> {
        if name == self.key_id {
            Ok(())
        } else {
            Err(KmsError::KeyNotFound)
        }
    }

    /// GenerateKey with given randomness: ciphertext =
    /// AES-256-GCM(HMAC-SHA256(secret, iv)).Seal(nonce, dek, canonical ctx) ‖ iv ‖ nonce.
    ///
    /// # Errors
    /// [`KmsError::KeyGenerationFailed`] if the AEAD fails.
    pub fn generate_deterministic(
        &self,
        iv: &[u8; 16],
        nonce: [u8; 12],
        plaintext: &[u8],
        context: &Context,
    ) -> Result<Dek, KmsError> {
        let sealing_key = hmac_sha256(&*self.secret, &[iv]);
        let mut ciphertext = aead_seal(
            Cipher::Aes256Gcm,
            &*sealing_key,
            nonce,
            &context.to_canonical_json(),
            plaintext,
        )
        .map_err(|_| KmsError::KeyGenerationFailed("AEAD seal failed".into()))?;
        ciphertext.extend_from_slice(iv);
        ciphertext.extend_from_slice(&nonce);
        Ok(Dek {
            key_id: self.key_id.clone(),
            version: 0,
            plaintext: Zeroizing::new(plaintext.to_vec()),
            ciphertext,
        })
    }

    fn generate(&self, name: &str, context: &Context) -> Result<Dek, KmsError> {
        let name = if name.is_empty() { &self.key_id } else { name };
        self.check_name(name)?;
        let fail = |_| KmsError::KeyGenerationFailed("out of entropy".into());
        let r = random::<28>().map_err(fail)?;
        let dek = Zeroizing::new(random::<32>().map_err(fail)?);
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&r[..16]);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&r[16..]);
        self.generate_deterministic(&iv, nonce, &*dek, context)
    }

    /// Decrypts a ciphertext of this KMS: binary (assumed AES) or the legacy
    /// JSON form. Any failure is [`KmsError::Decrypt`].
    fn open(
        &self,
        name: &str,
        ciphertext: &[u8],
        context: &Context,
    ) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        self.check_name(name)?;
        let legacy;
        let (cipher, data) =
            if ciphertext.first() == Some(&b'{') && ciphertext.last() == Some(&b'}') {
                match serde_json::from_slice::<LegacyCiphertext>(ciphertext) {
                    Ok(l) => {
                        legacy = legacy_to_binary(&l)?;
                        let cipher = match l.aead.as_str() {
                            "AES-256-GCM-HMAC-SHA-256" => Cipher::Aes256Gcm,
                            "ChaCha20Poly1305" => Cipher::ChaCha20Poly1305,
                            _ => return Err(KmsError::Decrypt),
                        };
                        (cipher, legacy.as_slice())
                    }
                    Err(_) => (Cipher::Aes256Gcm, ciphertext),
                }
            } else {
                (Cipher::Aes256Gcm, ciphertext)
            };
        let split = data.len().checked_sub(28).ok_or(KmsError::Decrypt)?;
        let (sealed, tail) = data.split_at(split);
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&tail[..16]);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&tail[16..]);
        let key = match cipher {
            Cipher::Aes256Gcm => hmac_sha256(&*self.secret, &[&iv]),
            Cipher::ChaCha20Poly1305 => hchacha20(&self.secret, &iv),
        };
        aead_open(cipher, &*key, nonce, &context.to_canonical_json(), sealed)
            .map_err(|_| KmsError::Decrypt)
    }

    /// MAC: HMAC-SHA256(secret, message), used for root-credential derivation.
    ///
    /// # Errors
    /// [`KmsError::KeyNotFound`] for another name (empty means this key).
    pub fn mac(&self, name: &str, message: &[u8]) -> Result<[u8; 32], KmsError> {
        self.check_name(if name.is_empty() { &self.key_id } else { name })?;
        Ok(*hmac_sha256(&*self.secret, &[message]))
    }

    /// CreateKey: the builtin key already exists; other keys cannot be created.
    ///
    /// # Errors
    /// Always: [`KmsError::KeyExists`] for this key's name, else [`KmsError::NotSupported`].
    pub fn create_key(&self, name: &str) -> Result<(), KmsError> {
        if name == self.key_id {
            Err(KmsError::KeyExists)
        } else {
            Err(KmsError::NotSupported)
        }
    }

    /// ListKeys: the single key if its name has `prefix`.
    #[must_use]
    pub fn list_keys(&self, prefix: &str) -> Vec<String> {
        if self.key_id.starts_with(prefix) {
            vec![self.key_id.clone()]
        } else {
            Vec::new()
        }
    }
}

fn legacy_to_binary(l: &LegacyCiphertext) -> Result<Vec<u8>, KmsError> {
    let iv = b64_decode(&l.iv).map_err(|_| KmsError::Decrypt)?;
    let nonce = b64_decode(&l.nonce).map_err(|_| KmsError::Decrypt)?;
    if iv.len() != 16 || nonce.len() != 12 {
        return Err(KmsError::Decrypt);
    }
    let mut out = b64_decode(&l.bytes).map_err(|_| KmsError::Decrypt)?;
    out.extend_from_slice(&iv);
    out.extend_from_slice(&nonce);
    Ok(out)
}

impl KeyManager for BuiltinKms {
    fn default_key_id(&self) -> &str {
        &self.key_id
    }

    fn generate_key<'a>(&'a self, key_id: &'a str, context: &'a Context) -> KmsFuture<'a, Dek> {
        Box::pin(std::future::ready(self.generate(key_id, context)))
    }

    fn decrypt<'a>(
        &'a self,
        key_id: &'a str,
        ciphertext: &'a [u8],
        context: &'a Context,
    ) -> KmsFuture<'a, Zeroizing<Vec<u8>>> {
        Box::pin(std::future::ready(self.open(key_id, ciphertext, context)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::primitives::b64_encode;
    use crate::sse::test_vectors::{hex_arr, vectors};

    fn ctx_of(v: &serde_json::Value) -> Context {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn legacy_json_vectors() {
        let v = vectors();
        let t = &v["from_tests"]["builtin_kms_decrypt_legacy_json"];
        let kms = BuiltinKms::parse(t["secret_key_env"].as_str().unwrap()).unwrap();
        for case in t["cases"].as_array().unwrap() {
            let ctx = ctx_of(&case["context"]);
            assert_eq!(
                ctx.to_canonical_json(),
                case["associated_data_derived"].as_str().unwrap().as_bytes()
            );
            let got = kms
                .decrypt(
                    case["key_id"].as_str().unwrap(),
                    case["ciphertext"].as_str().unwrap().as_bytes(),
                    &ctx,
                )
                .await
                .unwrap();
            assert_eq!(b64_encode(&got), case["plaintext"].as_str().unwrap());
            // Wrong context, wrong name.
            let other: Context = [("k", "v")].into_iter().collect();
            assert_eq!(
                kms.decrypt(
                    "my-key",
                    case["ciphertext"].as_str().unwrap().as_bytes(),
                    &other
                )
                .await
                .unwrap_err(),
                KmsError::Decrypt
            );
            assert_eq!(
                kms.decrypt("x", case["ciphertext"].as_str().unwrap().as_bytes(), &ctx)
                    .await
                    .unwrap_err(),
                KmsError::KeyNotFound
            );
        }
        // Round trip.
        let rt =
            BuiltinKms::parse(t["roundtrip_case"]["secret_key_env"].as_str().unwrap()).unwrap();
        let dek = rt.generate_key("my-key", &Context::new()).await.unwrap();
        assert_eq!(dek.ciphertext.len(), 76);
        let pt = rt
            .decrypt(&dek.key_id, &dek.ciphertext, &Context::new())
            .await
            .unwrap();
        assert_eq!(*pt, *dek.plaintext);
    }

    #[tokio::test]
    async fn derived_generate() {
        let v = vectors();
        let g = &v["derived"]["builtin_generate"];
        let kms = BuiltinKms::parse(g["secret_key_env"].as_str().unwrap()).unwrap();
        assert_eq!(kms.key_id(), g["key_id"].as_str().unwrap());
        let ctx = ctx_of(&g["context"]);
        assert_eq!(
            ctx.to_canonical_json(),
            g["associated_data"].as_str().unwrap().as_bytes()
        );
        let iv: [u8; 16] = hex_arr(g["iv_hex"].as_str().unwrap());
        assert_eq!(
            hex::encode(*hmac_sha256(&*kms.secret, &[&iv])),
            g["sealing_key_hex"].as_str().unwrap()
        );
        assert_eq!(
            g["random28_hex"].as_str().unwrap(),
            format!(
                "{}{}",
                g["iv_hex"].as_str().unwrap(),
                g["nonce_hex"].as_str().unwrap()
            )
        );
        let pt = hex::decode(g["dek_plaintext_hex"].as_str().unwrap()).unwrap();
        let dek = kms
            .generate_deterministic(&iv, hex_arr(g["nonce_hex"].as_str().unwrap()), &pt, &ctx)
            .unwrap();
        assert_eq!(
            b64_encode(&dek.ciphertext),
            g["ciphertext_b64"].as_str().unwrap()
        );
        assert_eq!(
            dek.ciphertext.len() as u64,
            g["ciphertext_len"].as_u64().unwrap()
        );
        let back = kms.decrypt("my-key", &dek.ciphertext, &ctx).await.unwrap();
        assert_eq!(*back, pt);
        // Tampering anywhere is a decrypt error.
        for i in 0..dek.ciphertext.len() {
            let mut bad = dek.ciphertext.clone();
            bad[i] ^= 1;
            assert_eq!(
                kms.decrypt("my-key", &bad, &ctx).await.unwrap_err(),
                KmsError::Decrypt
            );
        }
        assert_eq!(
            kms.decrypt("my-key", &[1, 2, 3], &ctx).await.unwrap_err(),
            KmsError::Decrypt
        );
        assert_eq!(
            kms.decrypt("my-key", b"{}", &ctx).await.unwrap_err(),
            KmsError::Decrypt
        );
        // Empty name means the default key for generate only.
        assert_eq!(kms.generate_key("", &ctx).await.unwrap().key_id, "my-key");
        assert_eq!(
            kms.decrypt("", &dek.ciphertext, &ctx).await.unwrap_err(),
            KmsError::KeyNotFound
        );
        assert_eq!(
            kms.generate_key("other", &ctx).await.unwrap_err(),
            KmsError::KeyNotFound
        );
    }

    #[test]
    fn parse_errors_and_misc() {
        assert_eq!(
            BuiltinKms::parse("no-colon").unwrap_err().to_string(),
            "kms: invalid secret key format"
        );
        assert_eq!(
            BuiltinKms::parse("k:AAAA").unwrap_err().to_string(),
            "kms: invalid key length 3"
        );
        let k = BuiltinKms::parse(":eEm+JI9/q4JhH8QwKvf3LKo4DEBl6QbfvAl1CAbMIv8=\n").unwrap();
        assert_eq!(k.key_id(), "");
        let k = BuiltinKms::parse("a:b:eEm+JI9/q4JhH8QwKvf3LKo4DEBl6QbfvAl1CAbMIv8=");
        assert_eq!(k.unwrap_err(), SecretKeyError::InvalidBase64);
        let k = BuiltinKms::new("my-key", [1; 32]);
        assert_eq!(k.create_key("my-key"), Err(KmsError::KeyExists));
        assert_eq!(k.create_key("x"), Err(KmsError::NotSupported));
        assert_eq!(k.list_keys("my"), vec!["my-key".to_owned()]);
        assert!(k.list_keys("x").is_empty());
        assert_eq!(k.mac("", b"m").unwrap(), *hmac_sha256(&[1; 32], &[b"m"]));
        assert_eq!(k.mac("x", b"m"), Err(KmsError::KeyNotFound));
        assert!(!format!("{k:?}").contains("1, 1"));
    }
}
