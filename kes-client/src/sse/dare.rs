//! Single-package DARE for sealing small secrets (object keys, ETags): thin wrappers over the
//! crate's [`crate::dare`] streams that turn every failure into an [`AeadFailure`].

use zeroize::Zeroizing;

use super::primitives::{AeadFailure, Cipher};
use crate::dare::{DecryptOptions, SealOptions, Version, decrypt_to_vec, encrypt_to_vec};

/// The oldest DARE version a caller accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MinVersion {
    /// DARE 1.0 and 2.0.
    V10,
    /// DARE 2.0 only.
    V20,
}

fn key32(key: &[u8]) -> Result<&[u8; 32], AeadFailure> {
    key.try_into().map_err(|_| AeadFailure)
}

/// Seals `plaintext` (at most 64 KiB, so one final package) as DARE 2.0 with the 12-byte
/// `nonce` and sequence number `seq`. An empty plaintext yields an empty stream, as in sio.
pub(crate) fn seal_final_v2(
    key: &[u8],
    cipher: Cipher,
    nonce: [u8; 12],
    seq: u32,
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadFailure> {
    if plaintext.len() > crate::dare::MAX_PAYLOAD_SIZE {
        return Err(AeadFailure);
    }
    let options = SealOptions {
        cipher,
        nonce: Some(nonce),
        sequence_number: seq,
    };
    encrypt_to_vec(key32(key)?, plaintext, &options).map_err(|_| AeadFailure)
}

/// Opens a DARE stream whose first package has sequence number `seq`: DARE 2.0, or with
/// [`MinVersion::V10`] also DARE 1.0.
pub(crate) fn open_single(
    key: &[u8],
    stream: &[u8],
    seq: u32,
    min: MinVersion,
) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
    let options = DecryptOptions {
        sequence_number: seq,
        min_version: match min {
            MinVersion::V10 => Version::V10,
            MinVersion::V20 => Version::V20,
        },
        ..DecryptOptions::default()
    };
    if stream.is_empty() {
        return Err(AeadFailure);
    }
    decrypt_to_vec(key32(key)?, stream, &options)
        .map(Zeroizing::new)
        .map_err(|_| AeadFailure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::test_vectors::{hex_arr, vectors};

    #[test]
    fn golden_v2_single_packages() {
        let v = vectors();
        let g = &v["from_tests"]["dare_v2_golden"];
        let key = hex::decode(g["key_hex"].as_str().unwrap()).unwrap();
        let nonce: [u8; 12] = hex_arr(g["random12_hex"].as_str().unwrap());
        for p in g["packages"].as_array().unwrap() {
            let pkg = hex::decode(p["package_hex"].as_str().unwrap()).unwrap();
            let seq = u32::try_from(p["sequence_number"].as_u64().unwrap()).unwrap();
            let cipher = Cipher::from_id(pkg[1]).unwrap();
            let plain = vec![0u8; pkg.len() - 32];
            assert_eq!(
                seal_final_v2(&key, cipher, nonce, seq, &plain).unwrap(),
                pkg
            );
            assert_eq!(
                *open_single(&key, &pkg, seq, MinVersion::V20).unwrap(),
                plain
            );
        }
    }

    #[test]
    fn rejects_tampering() {
        let key = [3u8; 32];
        let pkg = seal_final_v2(&key, Cipher::Aes256Gcm, [9; 12], 0, &[1; 32]).unwrap();
        assert_eq!(pkg.len(), 64);
        for i in 0..pkg.len() {
            let mut bad = pkg.clone();
            bad[i] ^= 1;
            assert!(
                open_single(&key, &bad, 0, MinVersion::V10).is_err(),
                "byte {i}"
            );
        }
        assert!(open_single(&key, &pkg, 1, MinVersion::V20).is_err());
        assert!(open_single(&[4; 32], &pkg, 0, MinVersion::V20).is_err());
        assert!(open_single(&key, &pkg[..63], 0, MinVersion::V20).is_err());
        assert!(open_single(&key, &[], 0, MinVersion::V20).is_err());
        assert!(
            seal_final_v2(&key, Cipher::Aes256Gcm, [0; 12], 0, &[])
                .unwrap()
                .is_empty()
        );
        assert!(seal_final_v2(&key, Cipher::Aes256Gcm, [0; 12], 0, &vec![0; 65537]).is_err());
    }

    #[test]
    fn v1_packages_only_with_v10() {
        let v = vectors();
        let g = &v["from_tests"]["dare_v1_golden"];
        let key = hex::decode(g["key_hex"].as_str().unwrap()).unwrap();
        for p in g["packages"].as_array().unwrap() {
            let pkg = hex::decode(p["package_hex"].as_str().unwrap()).unwrap();
            let seq = u32::try_from(p["sequence_number"].as_u64().unwrap()).unwrap();
            let plain = open_single(&key, &pkg, seq, MinVersion::V10).unwrap();
            assert_eq!(*plain, vec![0u8; pkg.len() - 32]);
            assert!(open_single(&key, &pkg, seq, MinVersion::V20).is_err());
        }
    }
}
