//! Multipart uploads: per-part keys and deterministic part nonces
//! (`internal/crypto/key.go DerivePartKey`, spec §7.3).

use super::metadata::{META_MULTIPART, Metadata};
use super::object_key::{ObjectKey, Secret32};
use super::primitives::sha256;

/// The key of part `part_number`: HMAC-SHA256(OEK, LE32(part_number)).
#[must_use]
pub fn part_key(oek: &ObjectKey, part_number: u32) -> Secret32 {
    oek.derive_part_key(part_number)
}

/// The DARE nonce of a part: SHA-256(upload_id ‖ decimal(part_number))[..12].
#[must_use]
pub fn part_nonce(upload_id: &str, part_number: u32) -> [u8; 12] {
    let digest = sha256(&[upload_id.as_bytes(), part_number.to_string().as_bytes()]);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&digest[..12]);
    nonce
}

/// Marks an encrypted multipart upload (`X-Minio-Internal-Encrypted-Multipart: ""`).
pub fn mark_multipart(metadata: &mut Metadata) {
    metadata.insert(META_MULTIPART.to_owned(), String::new());
}

/// Whether the metadata carries the encrypted-multipart flag.
#[must_use]
pub fn is_multipart(metadata: &Metadata) -> bool {
    metadata.contains_key(META_MULTIPART)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::dare::seal_final_v2;
    use crate::sse::primitives::Cipher;
    use crate::sse::test_vectors::{hex_arr, to_meta, vectors};

    #[test]
    fn derived_multipart() {
        let v = vectors();
        let d = &v["derived"]["multipart"];
        let oek = ObjectKey::from_bytes(hex_arr(d["oek_hex"].as_str().unwrap()));
        let upload = d["upload_id"].as_str().unwrap();
        let parts = d["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 3);
        for p in parts {
            let n = u32::try_from(p["part_number"].as_u64().unwrap()).unwrap();
            let key = part_key(&oek, n);
            assert_eq!(hex::encode(*key), p["part_key_hex"].as_str().unwrap());
            let nonce = part_nonce(upload, n);
            assert_eq!(hex::encode(nonce), p["dare_nonce12_hex"].as_str().unwrap());
            let ct = seal_final_v2(&*key, Cipher::Aes256Gcm, nonce, 0, b"hello world").unwrap();
            assert_eq!(
                hex::encode(ct),
                p["ciphertext_of_hello_hex"].as_str().unwrap()
            );
        }
        let mut meta = Metadata::new();
        assert!(!is_multipart(&meta));
        mark_multipart(&mut meta);
        assert!(is_multipart(&meta));
        assert_eq!(meta, to_meta(&d["metadata_flag"]));
    }
}
