//! A [`KeyManager`] backed by a KES server through [`Client`], classifying KES errors exactly as
//! MinIO does (`minio-client.md` §1.5), plus MinIO's startup probe (§1.4).

use zeroize::Zeroizing;

use super::context::Context;
use super::kms::{Dek, KeyManager, KmsError, KmsFuture};
use crate::client::{ApiError, Client, Error};

/// MinIO's KMS on a KES server: every DEK is generated and decrypted by the server.
#[derive(Debug, Clone)]
pub struct KesKms {
    client: Client,
    default_key: String,
}

impl KesKms {
    /// A KMS using `client`, with `default_key` (`MINIO_KMS_KES_KEY_NAME`) for SSE-S3.
    pub fn new(client: Client, default_key: impl Into<String>) -> KesKms {
        KesKms {
            client,
            default_key: default_key.into(),
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// MinIO's startup probe: generate a DEK for the default key with the context `{}`; create
    /// the key if it does not exist. Key-exists and permission-denied answers are accepted, as
    /// MinIO accepts them; anything else is returned.
    pub async fn startup(&self) -> Result<(), KmsError> {
        let probe = self
            .client
            .generate_key(&self.default_key, &Context::new().to_canonical_json())
            .await;
        let result = match probe {
            Err(err) if err == ApiError::KEY_NOT_FOUND => {
                self.client.create_key(&self.default_key).await.map(drop)
            }
            other => other.map(drop),
        };
        match result {
            Ok(()) => Ok(()),
            Err(err) if err == ApiError::KEY_EXISTS || err == ApiError::NOT_ALLOWED => Ok(()),
            Err(err) => Err(KmsError::KeyCreationFailed(err.to_string())),
        }
    }
}

/// The KMS error MinIO derives from a KES error; `other` wraps anything unrecognised.
fn classify(err: Error, other: fn(String) -> KmsError) -> KmsError {
    if err == ApiError::KEY_NOT_FOUND {
        KmsError::KeyNotFound
    } else if err == ApiError::NOT_ALLOWED {
        KmsError::Permission
    } else if err == ApiError::DECRYPT {
        KmsError::Decrypt
    } else if err == ApiError::KEY_EXISTS {
        KmsError::KeyExists
    } else {
        other(err.to_string())
    }
}

impl KeyManager for KesKms {
    fn default_key_id(&self) -> &str {
        &self.default_key
    }

    fn generate_key<'a>(&'a self, key_id: &'a str, context: &'a Context) -> KmsFuture<'a, Dek> {
        Box::pin(async move {
            let key_id = if key_id.is_empty() {
                self.default_key.as_str()
            } else {
                key_id
            };
            let dek = self
                .client
                .generate_key(key_id, &context.to_canonical_json())
                .await
                .map_err(|err| classify(err, KmsError::KeyGenerationFailed))?;
            Ok(Dek {
                key_id: key_id.to_owned(),
                version: 0,
                plaintext: dek.plaintext,
                ciphertext: dek.ciphertext,
            })
        })
    }

    fn decrypt<'a>(
        &'a self,
        key_id: &'a str,
        ciphertext: &'a [u8],
        context: &'a Context,
    ) -> KmsFuture<'a, Zeroizing<Vec<u8>>> {
        Box::pin(async move {
            self.client
                .decrypt(key_id, ciphertext, &context.to_canonical_json())
                .await
                .map_err(|err| classify(err, KmsError::DecryptionFailed))
        })
    }
}
