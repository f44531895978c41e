//! Key routes: create, import, describe, delete, list, generate, encrypt, decrypt, bulk
//! decrypt and HMAC (spec `kes-api.md` §3.3, §3.4, §11.1).

use reqwest::Method;
use zeroize::Zeroizing;

use super::transport::Request;
use super::types::{CiphertextItem, Dek, KeyAlgorithm, KeyInfo};
use super::wire::{self, DecryptBody};
use super::{Client, Error, MAX_BODY, api_path, decode, encode, path_escape};

/// Read limit of the HMAC response (kms-go reads about 1 KB).
const MAX_HMAC_BODY: usize = 1000;

/// What a list page holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum ListOf {
    /// `names` / ndjson `name`.
    Names,
    /// `identities` / ndjson `identity`.
    Identities,
}

impl Client {
    /// Creates the key `name`. Errors include [`ApiError::KEY_EXISTS`](super::ApiError::KEY_EXISTS)
    /// and [`ApiError::NOT_ALLOWED`](super::ApiError::NOT_ALLOWED).
    pub async fn create_key(&self, name: &str) -> Result<(), Error> {
        self.call(Method::POST, &api_path("/v1/key/create/", name), None, 0)
            .await
            .map(drop)
    }

    /// Imports the 32-byte `key` as `name` with `algorithm`.
    pub async fn import_key(
        &self,
        name: &str,
        key: &[u8],
        algorithm: KeyAlgorithm,
    ) -> Result<(), Error> {
        let body = Zeroizing::new(encode(&wire::ImportBody {
            key,
            cipher: algorithm.as_str(),
        })?);
        self.call(
            Method::POST,
            &api_path("/v1/key/import/", name),
            Some(body.to_vec()),
            0,
        )
        .await
        .map(drop)
    }

    /// Describes the key `name`; an algorithm other than AES256 or ChaCha20 is an error.
    pub async fn describe_key(&self, name: &str) -> Result<KeyInfo, Error> {
        let body: wire::DescribeKeyBody = self
            .call_json(
                Method::GET,
                &api_path("/v1/key/describe/", name),
                None,
                MAX_BODY,
            )
            .await?;
        let algorithm = match body.algorithm.as_str() {
            "" => None,
            other => Some(KeyAlgorithm::parse(other).ok_or_else(|| {
                Error::InvalidResponse(format!("unknown key algorithm '{other}'"))
            })?),
        };
        Ok(KeyInfo {
            name: body.name,
            algorithm,
            created_at: body
                .created_at
                .unwrap_or(time::PrimitiveDateTime::MIN.assume_utc()),
            created_by: body.created_by,
        })
    }

    /// Deletes the key `name`.
    pub async fn delete_key(&self, name: &str) -> Result<(), Error> {
        self.call(Method::DELETE, &api_path("/v1/key/delete/", name), None, 0)
            .await
            .map(drop)
    }

    /// Every key name starting with `prefix` (empty or `*` = all), following `continue_at` as
    /// kms-go's iterator does; legacy ndjson answers are accepted.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.list("/v1/key/list/", prefix, ListOf::Names).await
    }

    /// A new data key under `name`; `context` (empty for none) is the associated data.
    pub async fn generate_key(&self, name: &str, context: &[u8]) -> Result<Dek, Error> {
        let body = encode(&wire::ContextBody { context })?;
        let dek: wire::DekBody = self
            .call_json(
                Method::POST,
                &api_path("/v1/key/generate/", name),
                Some(body),
                MAX_BODY,
            )
            .await?;
        Ok(Dek {
            plaintext: Zeroizing::new(dek.plaintext),
            ciphertext: dek.ciphertext,
        })
    }

    /// Encrypts `plaintext` with the key `name` and associated data `context`.
    pub async fn encrypt(
        &self,
        name: &str,
        plaintext: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let body = Zeroizing::new(encode(&wire::EncryptBody { plaintext, context })?);
        let out: wire::CiphertextBody = self
            .call_json(
                Method::POST,
                &api_path("/v1/key/encrypt/", name),
                Some(body.to_vec()),
                MAX_BODY,
            )
            .await?;
        Ok(out.ciphertext)
    }

    /// Decrypts `ciphertext` with the key `name` and associated data `context`. A wrong key,
    /// context or tampering gives [`ApiError::DECRYPT`](super::ApiError::DECRYPT).
    pub async fn decrypt(
        &self,
        name: &str,
        ciphertext: &[u8],
        context: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let body = encode(&DecryptBody {
            ciphertext,
            context,
        })?;
        let out: wire::PlaintextBody = self
            .call_json(
                Method::POST,
                &api_path("/v1/key/decrypt/", name),
                Some(body),
                MAX_BODY,
            )
            .await?;
        Ok(Zeroizing::new(out.plaintext))
    }

    /// Decrypts up to 1000 ciphertexts in one request (`/v1/key/bulk/decrypt/`, a route this
    /// project restores; upstream servers after 2023-10 answer 404). The first failure fails all.
    pub async fn bulk_decrypt(
        &self,
        name: &str,
        items: &[CiphertextItem],
    ) -> Result<Vec<Zeroizing<Vec<u8>>>, Error> {
        let body: Vec<DecryptBody<'_>> = items
            .iter()
            .map(|i| DecryptBody {
                ciphertext: &i.ciphertext,
                context: &i.context,
            })
            .collect();
        let out: Vec<wire::PlaintextBody> = self
            .call_json(
                Method::POST,
                &api_path("/v1/key/bulk/decrypt/", name),
                Some(encode(&body)?),
                MAX_BODY,
            )
            .await?;
        Ok(out
            .into_iter()
            .map(|p| Zeroizing::new(p.plaintext))
            .collect())
    }

    /// HMAC-SHA256 of `message` under the key `name`'s HMAC key (sent as PUT, without a
    /// content type, like kms-go).
    pub async fn hmac(&self, name: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
        let body = encode(&wire::HmacBody { message })?;
        let path = api_path("/v1/key/hmac/", name);
        let request = Request {
            method: Method::PUT,
            path: &path,
            body: Some(body),
            json: false,
        };
        let (_, bytes) = self.call_request(request, MAX_HMAC_BODY).await?;
        let out: wire::HmacResponse = decode(&bytes)?;
        Ok(out.hmac)
    }

    /// Lists `route` from `prefix`, following `continue_at` as the next prefix.
    pub(super) async fn list(
        &self,
        route: &str,
        prefix: &str,
        of: ListOf,
    ) -> Result<Vec<String>, Error> {
        let mut all = Vec::new();
        let mut prefix = prefix.to_owned();
        loop {
            // An empty prefix keeps the trailing slash (minio-client.md §2.1).
            let path = format!("{route}{}", path_escape(&prefix));
            let (content_type, bytes) = self.call(Method::GET, &path, None, MAX_BODY).await?;
            if content_type.is_some_and(|t| t.starts_with("application/x-ndjson")) {
                all.extend(ndjson_names(&bytes, of)?);
                return Ok(all);
            }
            let page: wire::ListBody = decode(&bytes)?;
            let names = match of {
                ListOf::Names => page.names,
                ListOf::Identities => page.identities,
            };
            all.extend(names.unwrap_or_default());
            if page.continue_at.is_empty() || page.continue_at == prefix {
                return Ok(all);
            }
            prefix = page.continue_at;
        }
    }
}

/// The names of a legacy ndjson listing; an `error` line fails the listing.
fn ndjson_names(bytes: &[u8], of: ListOf) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line: wire::ListLine = decode(line)?;
        if !line.error.is_empty() {
            return Err(Error::InvalidResponse(line.error));
        }
        names.push(match of {
            ListOf::Names => line.name,
            ListOf::Identities => line.identity,
        });
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_ndjson_listing() {
        let names = ndjson_names(b"{\"name\":\"a\"}\n{\"name\":\"b\"}\n", ListOf::Names).unwrap();
        assert_eq!(names, ["a", "b"]);
        let ids = ndjson_names(b"{\"identity\":\"x\"}\n", ListOf::Identities).unwrap();
        assert_eq!(ids, ["x"]);
        assert!(ndjson_names(b"{\"error\":\"boom\"}\n", ListOf::Names).is_err());
    }
}
