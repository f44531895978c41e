//! Minimal single-package DARE (minio/sio) used to seal small secrets: object
//! keys, ETags, part data in tests. Streams of several packages belong to the
//! crate's `dare` module; this file only seals one final DARE 2.0 package and
//! opens one DARE 2.0 or (legacy) DARE 1.0 package.

use zeroize::Zeroizing;

use super::primitives::{AeadFailure, Cipher, aead_open, aead_seal};

const HEADER: usize = 16;
const TAG: usize = 16;
const MAX_PAYLOAD: usize = 1 << 16;

fn cipher_byte(cipher: Cipher) -> u8 {
    match cipher {
        Cipher::Aes256Gcm => 0x00,
        Cipher::ChaCha20Poly1305 => 0x01,
    }
}

fn cipher_from_byte(b: u8) -> Option<Cipher> {
    match b {
        0x00 => Some(Cipher::Aes256Gcm),
        0x01 => Some(Cipher::ChaCha20Poly1305),
        _ => None,
    }
}

/// Seals `plaintext` (1..=65536 bytes) as one final DARE 2.0 package with the
/// 12-byte `nonce` (its final bit is set here) and sequence number `seq`.
/// An empty plaintext yields an empty stream, as in sio.
pub(crate) fn seal_final_v2(
    key: &[u8],
    cipher: Cipher,
    nonce: [u8; 12],
    seq: u32,
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadFailure> {
    if plaintext.is_empty() {
        return Ok(Vec::new());
    }
    if plaintext.len() > MAX_PAYLOAD {
        return Err(AeadFailure);
    }
    let len_minus_one = u16::try_from(plaintext.len() - 1).map_err(|_| AeadFailure)?;
    let mut header = [0u8; HEADER];
    header[0] = 0x20;
    header[1] = cipher_byte(cipher);
    header[2..4].copy_from_slice(&len_minus_one.to_le_bytes());
    header[4..16].copy_from_slice(&nonce);
    header[4] |= 0x80;
    let sealed = aead_seal(
        cipher,
        key,
        v2_nonce(&header, seq),
        &header[0..4],
        plaintext,
    )?;
    let mut out = Vec::with_capacity(HEADER + sealed.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn v2_nonce(header: &[u8; HEADER], seq: u32) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&header[4..16]);
    let last = u32::from_le_bytes([nonce[8], nonce[9], nonce[10], nonce[11]]) ^ seq;
    nonce[8..12].copy_from_slice(&last.to_le_bytes());
    nonce
}

/// The oldest DARE version a caller accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MinVersion {
    /// DARE 1.0 and 2.0.
    V10,
    /// DARE 2.0 only.
    V20,
}

/// Opens a stream that consists of exactly one package with sequence number
/// `seq`: a final DARE 2.0 package, or (with [`MinVersion::V10`]) a DARE 1.0
/// package. Any structural or authentication failure is an [`AeadFailure`].
pub(crate) fn open_single(
    key: &[u8],
    stream: &[u8],
    seq: u32,
    min: MinVersion,
) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
    if stream.len() <= HEADER + TAG {
        return Err(AeadFailure);
    }
    let mut header = [0u8; HEADER];
    header.copy_from_slice(&stream[..HEADER]);
    let cipher = cipher_from_byte(header[1]).ok_or(AeadFailure)?;
    let payload = usize::from(u16::from_le_bytes([header[2], header[3]])) + 1;
    if stream.len() != HEADER + payload + TAG {
        return Err(AeadFailure);
    }
    let nonce = match (header[0], min) {
        (0x20, _) => {
            if header[4] & 0x80 == 0 {
                return Err(AeadFailure);
            }
            v2_nonce(&header, seq)
        }
        (0x10, MinVersion::V10) => {
            if u32::from_le_bytes([header[4], header[5], header[6], header[7]]) != seq {
                return Err(AeadFailure);
            }
            let mut n = [0u8; 12];
            n.copy_from_slice(&header[4..16]);
            n
        }
        _ => return Err(AeadFailure),
    };
    aead_open(cipher, key, nonce, &header[0..4], &stream[HEADER..])
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
            let cipher = cipher_from_byte(pkg[1]).unwrap();
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
