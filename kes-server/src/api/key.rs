//! Key routes: create, import, describe, list, delete, generate, encrypt, decrypt, hmac and the
//! restored bulk decrypt.

use std::sync::Arc;

use axum::response::Response;
use kes_crypto::{KeyType, KeyVersion, SecretKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Request;
use super::body::{B64, SecretB64, decode, decode_array, empty, encode_b64, json, secret_json};
use crate::cache::LoadError;
use crate::error::ApiError;
use crate::timefmt::rfc3339;

/// Bulk decrypt accepts at most this many ciphertexts per request.
const MAX_BULK_ITEMS: usize = 1000;

/// The resource as a key name, or the 400 that names it.
fn key_name(resource: &str) -> Result<&str, ApiError> {
    if policies::is_valid_name(resource) {
        Ok(resource)
    } else {
        Err(ApiError::InvalidKeyName(resource.to_owned()))
    }
}

/// The key stored under `name`, through the key cache.
async fn load_key(req: &Request, name: &str) -> Result<Arc<KeyVersion>, ApiError> {
    req.server.cache().get(name).await.map_err(|err| match err {
        LoadError::Keystore(err) => ApiError::from_keystore(err, ApiError::ReadKey),
        LoadError::Parse(err) => ApiError::ReadKey(format!("key '{name}': {err}")),
    })
}

async fn store_key(req: &Request, name: &str, key: &KeyVersion) -> Result<(), ApiError> {
    let value = key
        .encode()
        .map_err(|err| ApiError::GenerateKey(err.to_string()))?;
    req.server
        .keystore()
        .create(name, value.as_bytes())
        .await
        .map_err(|err| ApiError::from_keystore(err, ApiError::CreateKey))
}

pub async fn create(req: Request) -> Result<Response, ApiError> {
    let name = key_name(&req.resource)?;
    let key = KeyVersion::generate(KeyType::platform_default(), req.identity.as_str())
        .map_err(|err| ApiError::GenerateKey(err.to_string()))?;
    store_key(&req, name, &key).await?;
    Ok(empty())
}

pub async fn import(req: Request) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    struct Import {
        #[serde(default, alias = "bytes")]
        key: B64,
        #[serde(default, alias = "algorithm")]
        cipher: String,
    }
    let name = key_name(&req.resource)?;
    let body: Import = decode(req.body.as_ref()).ok_or(ApiError::InvalidImportBody)?;
    let cipher = if body.cipher.is_empty() {
        KeyType::Aes256.name().to_owned()
    } else {
        body.cipher
    };
    let key_type =
        KeyType::parse(&cipher).ok_or_else(|| ApiError::AlgorithmNotSupported(cipher.clone()))?;
    let secret =
        SecretKey::new(key_type, &body.key.0).map_err(|_| ApiError::InvalidKeySize(cipher))?;
    let key = KeyVersion::import(secret, req.identity.as_str())
        .map_err(|err| ApiError::GenerateKey(err.to_string()))?;
    store_key(&req, name, &key).await?;
    Ok(empty())
}

pub async fn describe(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Describe<'a> {
        name: &'a str,
        algorithm: &'static str,
        created_at: String,
        #[serde(skip_serializing_if = "str::is_empty")]
        created_by: &'a str,
    }
    let name = key_name(&req.resource)?;
    let key = load_key(&req, name).await?;
    Ok(json(&Describe {
        name,
        algorithm: key.key().key_type().name(),
        created_at: rfc3339(key.created_at()),
        created_by: key.created_by(),
    }))
}

pub async fn list(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct List {
        names: Vec<String>,
        continue_at: &'static str,
    }
    let prefix = super::policy::list_prefix(&req.resource)?;
    let names = req
        .server
        .keystore()
        .list(prefix)
        .await
        .map_err(|err| ApiError::ListKeys(err.to_string()))?;
    Ok(json(&List {
        names,
        continue_at: "",
    }))
}

pub async fn delete(req: Request) -> Result<Response, ApiError> {
    let name = key_name(&req.resource)?;
    req.server
        .cache()
        .delete(name)
        .await
        .map_err(|err| ApiError::from_keystore(err, ApiError::DeleteKey))?;
    Ok(empty())
}

#[derive(Deserialize, Default)]
struct GenerateBody {
    #[serde(default)]
    context: B64,
}

pub async fn generate(req: Request) -> Result<Response, ApiError> {
    #[derive(Serialize)]
    struct Dek {
        plaintext: SecretB64,
        ciphertext: String,
    }
    let name = key_name(&req.resource)?;
    // The body is optional: absent or empty means "no context".
    let body: GenerateBody = match req.body.as_ref() {
        Some(bytes) if bytes.is_empty() => GenerateBody::default(),
        body => decode(body).ok_or(ApiError::InvalidRequestBody)?,
    };
    let key = load_key(&req, name).await?;
    let mut dek = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(&mut *dek)
        .map_err(|_| ApiError::GenerateKey("random source failed".into()))?;
    let ciphertext = key
        .encrypt(&*dek, &body.context.0)
        .map_err(|err| ApiError::GenerateKey(err.to_string()))?;
    Ok(secret_json(&Dek {
        plaintext: SecretB64::encode(&*dek),
        ciphertext: encode_b64(&ciphertext),
    }))
}

pub async fn encrypt(req: Request) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    struct Encrypt {
        #[serde(default)]
        plaintext: B64,
        #[serde(default)]
        context: B64,
    }
    #[derive(Serialize)]
    struct Ciphertext {
        ciphertext: String,
    }
    let name = key_name(&req.resource)?;
    let body: Encrypt = decode(req.body.as_ref()).ok_or(ApiError::InvalidRequestBody)?;
    let key = load_key(&req, name).await?;
    let ciphertext = key
        .encrypt(&body.plaintext.0, &body.context.0)
        .map_err(|err| ApiError::Encrypt(err.to_string()))?;
    Ok(json(&Ciphertext {
        ciphertext: encode_b64(&ciphertext),
    }))
}

#[derive(Deserialize)]
struct DecryptItem {
    #[serde(default)]
    ciphertext: B64,
    #[serde(default)]
    context: B64,
}

#[derive(Serialize)]
struct Plaintext {
    plaintext: SecretB64,
}

fn open(key: &KeyVersion, item: &DecryptItem) -> Result<Plaintext, ApiError> {
    match key.decrypt(&item.ciphertext.0, &item.context.0) {
        Ok(plaintext) => Ok(Plaintext {
            plaintext: SecretB64::encode(&plaintext),
        }),
        Err(kes_crypto::Error::NotAuthentic) => Err(ApiError::NotAuthentic),
        Err(err) => Err(ApiError::Decrypt(err.to_string())),
    }
}

pub async fn decrypt(req: Request) -> Result<Response, ApiError> {
    let name = key_name(&req.resource)?;
    let body: DecryptItem = decode(req.body.as_ref()).ok_or(ApiError::InvalidRequestBody)?;
    let key = load_key(&req, name).await?;
    let plaintext = open(&key, &body)?;
    Ok(secret_json(&plaintext))
}

pub async fn bulk_decrypt(req: Request) -> Result<Response, ApiError> {
    let name = key_name(&req.resource)?;
    let items: Vec<DecryptItem> =
        decode_array(req.body.as_ref()).ok_or(ApiError::InvalidRequestBody)?;
    if items.len() > MAX_BULK_ITEMS {
        return Err(ApiError::TooManyCiphertexts);
    }
    let key = load_key(&req, name).await?;
    let plaintexts = items
        .iter()
        .map(|item| open(&key, item))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(secret_json(&plaintexts))
}

pub async fn hmac(req: Request) -> Result<Response, ApiError> {
    #[derive(Deserialize)]
    struct Hmac {
        #[serde(default)]
        message: B64,
    }
    #[derive(Serialize)]
    struct Sum {
        hmac: String,
    }
    let name = key_name(&req.resource)?;
    let body: Hmac = decode(req.body.as_ref()).ok_or(ApiError::InvalidRequestBody)?;
    let key = load_key(&req, name).await?;
    let sum = match key.hmac(&body.message.0) {
        Ok(sum) => sum,
        Err(kes_crypto::Error::HmacNotSupported) => return Err(ApiError::HmacNotSupported),
        Err(err) => return Err(ApiError::ReadKey(err.to_string())),
    };
    Ok(json(&Sum {
        hmac: encode_b64(&sum),
    }))
}
