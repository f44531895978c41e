//! Vector and behaviour tests of the DARE module.

use std::io::Read;

use aws_lc_rs::{digest, hmac};
use serde_json::Value;

use super::*;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/minio.json"
);

fn vectors() -> Value {
    let text = std::fs::read_to_string(VECTORS).expect("read minio.json");
    serde_json::from_str(&text).expect("parse minio.json")
}

fn hex32(value: &Value) -> [u8; 32] {
    hex_n(value)
}

fn hex_n<const N: usize>(value: &Value) -> [u8; N] {
    let bytes = hex::decode(value.as_str().expect("hex string")).expect("hex");
    bytes.try_into().expect("length")
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex string")).expect("hex")
}

fn cipher(id: &Value) -> CipherSuite {
    CipherSuite::from_id(u8::try_from(id.as_u64().expect("cipher")).expect("u8"))
        .expect("cipher id")
}

fn seq(value: &Value) -> u32 {
    u32::try_from(value.as_u64().expect("sequence_number")).expect("u32")
}

fn options(cipher: CipherSuite, nonce: [u8; 12]) -> SealOptions {
    SealOptions {
        cipher,
        nonce: Some(nonce),
        sequence_number: 0,
    }
}

fn at(seq: u32) -> DecryptOptions {
    DecryptOptions {
        sequence_number: seq,
        ..DecryptOptions::default()
    }
}

/// A deterministic pseudo-random byte pattern.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

const KEY: [u8; 32] = [7u8; 32];
const NONCE: [u8; 12] = [0x5a; 12];
const CIPHERS: [CipherSuite; 2] = [CipherSuite::Aes256Gcm, CipherSuite::ChaCha20Poly1305];

#[test]
fn dare_v2_golden_seal_and_open() {
    let v = vectors();
    let cat = &v["from_tests"]["dare_v2_golden"];
    let key = hex32(&cat["key_hex"]);
    let nonce: [u8; 12] = hex_n(&cat["random12_hex"]);
    let packages = cat["packages"].as_array().expect("packages");
    assert!(!packages.is_empty());
    for p in packages {
        let expected = bytes(&p["package_hex"]);
        let plaintext = vec![0u8; expected.len() - PACKAGE_OVERHEAD];
        let seq = seq(&p["sequence_number"]);
        let opts = SealOptions {
            cipher: cipher(&p["cipher"]),
            nonce: Some(nonce),
            sequence_number: seq,
        };
        assert_eq!(
            encrypt_to_vec(&key, &plaintext, &opts).expect("seal"),
            expected,
            "{}",
            p["id"]
        );
        for min_version in [Version::V10, Version::V20] {
            let opened = decrypt_to_vec(
                &key,
                &expected,
                &DecryptOptions {
                    min_version,
                    ..at(seq)
                },
            );
            assert_eq!(opened.expect("open"), plaintext, "{}", p["id"]);
        }
        // The same package under the wrong sequence number or key must not open.
        assert_eq!(
            decrypt_to_vec(&key, &expected, &at(seq + 1)),
            Err(DareError::Authentication)
        );
        assert_eq!(
            decrypt_to_vec(&[1u8; 32], &expected, &at(seq)),
            Err(DareError::Authentication)
        );
    }
}

#[test]
fn dare_v2_invalid_rejected() {
    let v = vectors();
    let cat = &v["from_tests"]["dare_v2_invalid"];
    let key = hex32(&cat["key_hex"]);
    let packages = cat["packages"].as_array().expect("packages");
    assert!(!packages.is_empty());
    for p in packages {
        let package = bytes(&p["package_hex"]);
        let opts = DecryptOptions {
            min_version: Version::V20,
            ..at(seq(&p["sequence_number"]))
        };
        let expected = match p["defect"].as_str().expect("defect") {
            "invalid version" => DareError::UnsupportedVersion,
            "invalid cipher ID" => DareError::UnsupportedCipher,
            "invalid payload length" | "invalid final flag" => DareError::InvalidPayloadSize,
            "invalid random value" | "invalid ciphertext" | "invalid authentication tag" => {
                DareError::Authentication
            }
            other => panic!("unknown defect {other}"),
        };
        assert_eq!(
            decrypt_to_vec(&key, &package, &opts),
            Err(expected),
            "{}",
            p["id"]
        );
        // Auto-detecting the version must reject them as well.
        assert!(
            decrypt_to_vec(
                &key,
                &package,
                &DecryptOptions {
                    min_version: Version::V10,
                    ..opts
                }
            )
            .is_err()
        );
    }
}

#[test]
fn dare_v1_golden_open() {
    let v = vectors();
    let cat = &v["from_tests"]["dare_v1_golden"];
    let key = hex32(&cat["key_hex"]);
    let random8 = bytes(&cat["random8_hex"]);
    let packages = cat["packages"].as_array().expect("packages");
    assert!(!packages.is_empty());
    for p in packages {
        let package = bytes(&p["package_hex"]);
        let seq = seq(&p["sequence_number"]);
        assert_eq!(package[0], 0x10);
        assert_eq!(package[4..8], seq.to_le_bytes());
        assert_eq!(package[8..16], random8[..]);
        let plaintext = decrypt_to_vec(&key, &package, &at(seq)).expect("open v1");
        assert_eq!(
            plaintext,
            vec![0u8; package.len() - PACKAGE_OVERHEAD],
            "{}",
            p["id"]
        );
        assert_eq!(
            decrypt_to_vec(&key, &package, &at(seq + 1)),
            Err(DareError::SequenceMismatch)
        );
        let v20_only = DecryptOptions {
            min_version: Version::V20,
            ..at(seq)
        };
        assert_eq!(
            decrypt_to_vec(&key, &package, &v20_only),
            Err(DareError::UnsupportedVersion)
        );
    }
}

#[test]
fn dare_v1_invalid_rejected() {
    let v = vectors();
    let cat = &v["from_tests"]["dare_v1_invalid"];
    let key = hex32(&cat["key_hex"]);
    let packages = cat["packages"].as_array().expect("packages");
    assert!(!packages.is_empty());
    for p in packages {
        let package = bytes(&p["package_hex"]);
        let result = decrypt_to_vec(&key, &package, &at(seq(&p["sequence_number"])));
        let defect = p["defect"].as_str().expect("defect");
        let expected = match (defect, package[0]) {
            ("invalid version", 0x10 | 0x20) => None,
            ("invalid version", _) => Some(DareError::UnsupportedVersion),
            ("invalid cipher ID", _) => Some(DareError::UnsupportedCipher),
            ("invalid sequence number", _) => Some(DareError::SequenceMismatch),
            ("invalid random value" | "invalid ciphertext" | "invalid authentication tag", _) => {
                Some(DareError::Authentication)
            }
            ("invalid payload length", _) => None,
            (other, _) => panic!("unknown defect {other}"),
        };
        assert!(result.is_err(), "{} accepted", p["id"]);
        if let Some(expected) = expected {
            assert_eq!(result, Err(expected), "{}", p["id"]);
        }
    }
}

/// Parses `bytes=<first>-<last>` into (offset, length).
fn parse_range(range: &str) -> (u64, u64) {
    let spec = range.strip_prefix("bytes=").expect("bytes=");
    let (first, last) = spec.split_once('-').expect("-");
    let first: u64 = first.parse().expect("first");
    let last: u64 = last.parse().expect("last");
    (first, last - first + 1)
}

#[test]
fn decrypted_range_vector() {
    let v = vectors();
    let cat = &v["from_tests"]["decrypted_range"];
    let input = &cat["input"];
    let expect = &cat["expect"];
    let parts = input["parts"].as_array().expect("parts");
    let sizes: Vec<u64> = parts
        .iter()
        .map(|p| p["size"].as_u64().expect("size"))
        .collect();
    for p in parts {
        let size = p["size"].as_u64().expect("size");
        assert_eq!(
            decrypted_size(size),
            Ok(p["actual_size"].as_u64().expect("actual"))
        );
    }
    assert_eq!(
        sizes.iter().sum::<u64>(),
        input["object_size"].as_u64().expect("object_size")
    );
    let (offset, length) = parse_range(input["range"].as_str().expect("range"));
    let plan = plan_range(&sizes, offset, length).expect("plan");
    assert_eq!(
        plan,
        RangePlan {
            part_index: usize::try_from(expect["part_start"].as_u64().expect("part_start"))
                .expect("usize"),
            encrypted_offset: expect["enc_off"].as_u64().expect("enc_off"),
            encrypted_length: expect["enc_length"].as_u64().expect("enc_length"),
            skip: expect["skip_len"].as_u64().expect("skip_len"),
            sequence_number: seq(&expect["seq_number"]),
        }
    );
}

#[test]
fn object_data_vector() {
    let v = vectors();
    let cat = &v["derived"]["object_data"];
    let oek = hex32(&cat["oek_hex"]);
    let nonce: [u8; 12] = hex_n(&cat["dare_random12_hex"]);
    let opts = options(CipherSuite::Aes256Gcm, nonce);

    let plaintext = cat["plaintext_utf8"]
        .as_str()
        .expect("plaintext")
        .as_bytes();
    let ciphertext = encrypt_to_vec(&oek, plaintext, &opts).expect("encrypt");
    assert_eq!(ciphertext, bytes(&cat["ciphertext_hex"]));
    assert_eq!(
        decrypt_to_vec(&oek, &ciphertext, &at(0)).expect("decrypt"),
        plaintext
    );

    assert_eq!(
        cat["big_plaintext_rule"],
        "byte[i] = (i*7) & 0xff for i in 0..65546"
    );
    let len = usize::try_from(cat["big_plaintext_len"].as_u64().expect("len")).expect("usize");
    let big: Vec<u8> = (0..len).map(|i| ((i * 7) & 0xff) as u8).collect();
    let big_ct = encrypt_to_vec(&oek, &big, &opts).expect("encrypt big");
    assert_eq!(
        big_ct.len() as u64,
        cat["big_ciphertext_len"].as_u64().expect("ct len")
    );
    assert_eq!(encrypted_size(big.len() as u64), Ok(big_ct.len() as u64));
    let sha = digest::digest(&digest::SHA256, &big_ct);
    assert_eq!(
        hex::encode(sha.as_ref()),
        cat["big_ciphertext_sha256"].as_str().expect("sha")
    );
    assert_eq!(
        big_ct[..HEADER_SIZE],
        bytes(&cat["big_pkg0_header_hex"])[..]
    );
    assert_eq!(
        big_ct[MAX_PACKAGE_SIZE..MAX_PACKAGE_SIZE + HEADER_SIZE],
        bytes(&cat["big_pkg1_header_hex"])[..]
    );
    assert_eq!(
        decrypt_to_vec(&oek, &big_ct, &at(0)).expect("decrypt big"),
        big
    );
}

#[test]
fn multipart_part_ciphertexts() {
    let v = vectors();
    let cat = &v["derived"]["multipart"];
    let oek = hex32(&cat["oek_hex"]);
    let upload_id = cat["upload_id"].as_str().expect("upload_id");
    let parts = cat["parts"].as_array().expect("parts");
    assert!(!parts.is_empty());
    for part in parts {
        let number = u32::try_from(part["part_number"].as_u64().expect("n")).expect("u32");
        // Part key and nonce belong to the sealing module; recomputed here only as inputs.
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &oek),
            &number.to_le_bytes(),
        );
        assert_eq!(
            hex::encode(tag.as_ref()),
            part["part_key_hex"].as_str().expect("key")
        );
        let part_key: [u8; 32] = tag.as_ref().try_into().expect("32");
        let hash = digest::digest(&digest::SHA256, format!("{upload_id}{number}").as_bytes());
        let nonce: [u8; 12] = hash.as_ref()[..12].try_into().expect("12");
        assert_eq!(nonce, hex_n::<12>(&part["dare_nonce12_hex"]));

        let ct = encrypt_to_vec(
            &part_key,
            b"hello world",
            &options(CipherSuite::Aes256Gcm, nonce),
        )
        .expect("encrypt part");
        assert_eq!(ct, bytes(&part["ciphertext_of_hello_hex"]));
        assert_eq!(
            decrypt_to_vec(&part_key, &ct, &at(0)).expect("decrypt part"),
            b"hello world"
        );
    }
}

const SIZES: [usize; 10] = [
    0,
    1,
    31,
    MAX_PAYLOAD_SIZE - 1,
    MAX_PAYLOAD_SIZE,
    MAX_PAYLOAD_SIZE + 1,
    2 * MAX_PAYLOAD_SIZE,
    3 * MAX_PAYLOAD_SIZE + 17,
    4 << 20,
    (5 << 20) + 12345,
];

/// Reads `reader` to the end in chunks of `chunk` bytes.
fn read_all(mut reader: impl Read, chunk: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// A reader that hands out at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn round_trips_of_many_sizes() {
    for (i, &size) in SIZES.iter().enumerate() {
        let plaintext = pattern(size, i as u64);
        for cipher in CIPHERS {
            let opts = options(cipher, NONCE);
            let ct = encrypt_to_vec(&KEY, &plaintext, &opts).expect("encrypt");
            assert_eq!(
                ct.len() as u64,
                encrypted_size(size as u64).expect("size"),
                "size {size}"
            );
            assert_eq!(decrypted_size(ct.len() as u64), Ok(size as u64));
            assert_eq!(
                decrypt_to_vec(&KEY, &ct, &at(0)).expect("decrypt"),
                plaintext,
                "size {size}"
            );

            // The streaming adapters produce the same bytes, whatever the read sizes.
            for (chunk, step) in [(1 << 20, 1 << 20), (4096, 777), (MAX_PACKAGE_SIZE, 65537)] {
                if size > (1 << 20) && chunk < MAX_PACKAGE_SIZE {
                    continue; // keep the 1-byte-ish paths to small inputs
                }
                let enc = EncryptReader::new(
                    Trickle {
                        data: &plaintext,
                        step,
                    },
                    &KEY,
                    &opts,
                )
                .expect("reader");
                assert_eq!(
                    read_all(enc, chunk).expect("encrypt stream"),
                    ct,
                    "size {size}"
                );
                let dec =
                    DecryptReader::new(Trickle { data: &ct, step }, &KEY, &at(0)).expect("reader");
                assert_eq!(
                    read_all(dec, chunk).expect("decrypt stream"),
                    plaintext,
                    "size {size}"
                );
            }
        }
    }
    // Tiny reads across package boundaries.
    let plaintext = pattern(MAX_PAYLOAD_SIZE + 3, 99);
    let ct = encrypt_to_vec(
        &KEY,
        &plaintext,
        &options(CipherSuite::ChaCha20Poly1305, NONCE),
    )
    .expect("encrypt");
    let enc = EncryptReader::new(
        &plaintext[..],
        &KEY,
        &options(CipherSuite::ChaCha20Poly1305, NONCE),
    )
    .expect("reader");
    assert_eq!(read_all(enc, 5).expect("encrypt"), ct);
    let dec = DecryptReader::new(Trickle { data: &ct, step: 3 }, &KEY, &at(0)).expect("reader");
    assert_eq!(read_all(dec, 7).expect("decrypt"), plaintext);
}

#[test]
fn random_nonce_and_header_layout() {
    let a = encrypt_to_vec(&KEY, b"x", &SealOptions::default()).expect("encrypt");
    let b = encrypt_to_vec(&KEY, b"x", &SealOptions::default()).expect("encrypt");
    assert_ne!(a, b, "each stream draws a fresh nonce");
    assert_eq!(a[0], 0x20);
    assert_eq!(a[1], CipherSuite::preferred().id());
    assert_eq!(a[2..4], [0, 0]);
    assert_eq!(a[4] & 0x80, 0x80);

    let ct = encrypt_to_vec(
        &KEY,
        &pattern(2 * MAX_PAYLOAD_SIZE + 5, 1),
        &options(CipherSuite::Aes256Gcm, [0xff; 12]),
    )
    .expect("encrypt");
    let headers: Vec<&[u8]> = ct
        .chunks(MAX_PACKAGE_SIZE)
        .map(|p| &p[..HEADER_SIZE])
        .collect();
    assert_eq!(headers.len(), 3);
    assert_eq!(headers[0][..5], [0x20, 0x00, 0xff, 0xff, 0x7f]);
    assert_eq!(headers[1][..5], [0x20, 0x00, 0xff, 0xff, 0x7f]);
    assert_eq!(headers[2][..5], [0x20, 0x00, 0x04, 0x00, 0xff]);
    assert!(headers.iter().all(|h| h[5..] == [0xff; 11]));
}

/// A three-package stream (two full, one final of 100 bytes).
fn three_packages(cipher: CipherSuite) -> (Vec<u8>, Vec<u8>) {
    let plaintext = pattern(2 * MAX_PAYLOAD_SIZE + 100, 3);
    let ct = encrypt_to_vec(&KEY, &plaintext, &options(cipher, NONCE)).expect("encrypt");
    (plaintext, ct)
}

#[test]
fn tampering_is_detected() {
    for cipher in CIPHERS {
        let (_, ct) = three_packages(cipher);
        for position in [
            0,
            1,
            2,
            3,
            4,
            5,
            15,
            16,
            100,
            MAX_PACKAGE_SIZE - 1,
            MAX_PACKAGE_SIZE + 4,
            ct.len() - 1,
        ] {
            let mut bad = ct.clone();
            bad[position] ^= 0x01;
            assert!(
                decrypt_to_vec(&KEY, &bad, &at(0)).is_err(),
                "flip at {position}"
            );
            let reader = DecryptReader::new(&bad[..], &KEY, &at(0)).expect("reader");
            assert!(read_all(reader, 4096).is_err(), "flip at {position}");
        }
        let mut bad = ct.clone();
        bad[1] ^= 1; // a different cipher in the first package fails authentication
        assert_eq!(
            decrypt_to_vec(&KEY, &bad, &at(0)),
            Err(DareError::Authentication)
        );
        let mut bad = ct.clone();
        bad[MAX_PACKAGE_SIZE + 1] ^= 1; // a cipher switch mid-stream
        assert_eq!(
            decrypt_to_vec(&KEY, &bad, &at(0)),
            Err(DareError::UnsupportedCipher)
        );
        let mut bad = ct.clone();
        bad[MAX_PACKAGE_SIZE + 6] ^= 1; // another stream's nonce
        assert_eq!(
            decrypt_to_vec(&KEY, &bad, &at(0)),
            Err(DareError::NonceMismatch)
        );
        assert_eq!(
            decrypt_to_vec(&[9u8; 32], &ct, &at(0)),
            Err(DareError::Authentication)
        );
    }
}

#[test]
fn truncation_reordering_and_trailing_data() {
    let (_, ct) = three_packages(CipherSuite::Aes256Gcm);
    // Dropping the final package, or cutting at any point, is never accepted.
    assert_eq!(
        decrypt_to_vec(&KEY, &ct[..2 * MAX_PACKAGE_SIZE], &at(0)),
        Err(DareError::UnexpectedEof)
    );
    assert_eq!(
        decrypt_to_vec(&KEY, &ct[..MAX_PACKAGE_SIZE], &at(0)),
        Err(DareError::UnexpectedEof)
    );
    for cut in [
        1,
        15,
        16,
        32,
        33,
        MAX_PACKAGE_SIZE - 1,
        MAX_PACKAGE_SIZE + 1,
        ct.len() - 1,
    ] {
        assert!(
            decrypt_to_vec(&KEY, &ct[..cut], &at(0)).is_err(),
            "cut at {cut}"
        );
    }
    assert_eq!(
        decrypt_to_vec(&KEY, &ct[..40], &at(0)),
        Err(DareError::InvalidPayloadSize)
    );

    // Swapping the two full packages breaks the sequence numbers.
    let mut swapped = ct[MAX_PACKAGE_SIZE..2 * MAX_PACKAGE_SIZE].to_vec();
    swapped.extend_from_slice(&ct[..MAX_PACKAGE_SIZE]);
    swapped.extend_from_slice(&ct[2 * MAX_PACKAGE_SIZE..]);
    assert_eq!(
        decrypt_to_vec(&KEY, &swapped, &at(0)),
        Err(DareError::Authentication)
    );
    // Starting mid-stream needs the matching sequence number.
    assert_eq!(
        decrypt_to_vec(&KEY, &ct[MAX_PACKAGE_SIZE..], &at(0)),
        Err(DareError::Authentication)
    );
    assert!(decrypt_to_vec(&KEY, &ct[MAX_PACKAGE_SIZE..], &at(1)).is_ok());

    // Anything after the final package.
    let full = encrypt_to_vec(
        &KEY,
        &pattern(MAX_PAYLOAD_SIZE, 5),
        &options(CipherSuite::Aes256Gcm, NONCE),
    )
    .expect("encrypt");
    let mut trailing = full.clone();
    trailing.extend_from_slice(&full);
    assert_eq!(
        decrypt_to_vec(&KEY, &trailing, &at(0)),
        Err(DareError::UnexpectedData)
    );
    let mut trailing = ct.clone();
    trailing.push(0);
    assert_eq!(
        decrypt_to_vec(&KEY, &trailing, &at(0)),
        Err(DareError::InvalidPayloadSize)
    );
}

#[test]
fn reader_errors_are_sticky_and_typed() {
    let (plaintext, ct) = three_packages(CipherSuite::Aes256Gcm);
    let mut bad = ct.clone();
    bad[MAX_PACKAGE_SIZE + 100] ^= 1;
    let mut reader = DecryptReader::new(&bad[..], &KEY, &at(0)).expect("reader");
    let mut first = vec![0u8; MAX_PAYLOAD_SIZE];
    reader
        .read_exact(&mut first)
        .expect("first package verifies");
    assert_eq!(first, plaintext[..MAX_PAYLOAD_SIZE]);
    let mut buf = [0u8; 10];
    for _ in 0..2 {
        let err = reader.read(&mut buf).expect_err("tampered second package");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(DareError::from_io(&err), Some(DareError::Authentication));
        assert_eq!(err.to_string(), "sio: authentication failed");
    }
    let mut reader = DecryptReader::new(&ct[..100], &KEY, &at(0)).expect("reader");
    let err = read_all(&mut reader, 4096).expect_err("truncated");
    assert_eq!(
        DareError::from_io(&err),
        Some(DareError::InvalidPayloadSize)
    );
    let err = read_all(
        DecryptReader::new(&ct[..MAX_PACKAGE_SIZE], &KEY, &at(0)).expect("r"),
        99,
    )
    .expect_err("no final package");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(err.to_string(), "sio: unexpected EOF");
}

#[test]
fn empty_streams() {
    assert_eq!(
        encrypt_to_vec(&KEY, b"", &SealOptions::default()),
        Ok(Vec::new())
    );
    assert_eq!(decrypt_to_vec(&KEY, b"", &at(0)), Ok(Vec::new()));
    let reader = DecryptReader::new(&b""[..], &KEY, &at(0)).expect("reader");
    assert_eq!(read_all(reader, 10).expect("empty"), b"");
    assert_eq!(
        decrypt_to_vec(&KEY, &[0x30], &at(0)),
        Err(DareError::UnsupportedVersion)
    );
}

#[test]
fn garbage_never_panics() {
    for len in (0..200).chain([
        MAX_PACKAGE_SIZE - 1,
        MAX_PACKAGE_SIZE,
        MAX_PACKAGE_SIZE + 1,
        3 * MAX_PACKAGE_SIZE,
    ]) {
        for first in [0x10u8, 0x20, 0x00] {
            let mut data = pattern(len, len as u64 + u64::from(first));
            if let Some(b) = data.first_mut() {
                *b = first;
            }
            if len > 2 {
                data[1] &= 1;
            }
            for min_version in [Version::V10, Version::V20] {
                let opts = DecryptOptions {
                    min_version,
                    ..at(0)
                };
                let result = decrypt_to_vec(&KEY, &data, &opts);
                assert!(len == 0 || result.is_err());
            }
        }
    }
}

#[test]
fn size_functions() {
    assert_eq!(encrypted_size(0), Ok(0));
    assert_eq!(encrypted_size(1), Ok(33));
    assert_eq!(encrypted_size(65536), Ok(65568));
    assert_eq!(encrypted_size(65537), Ok(65568 + 33));
    assert_eq!(encrypted_size(1 << 48), Ok((1 << 32) * 65568));
    assert_eq!(encrypted_size((1 << 48) + 1), Err(DareError::SizeTooLarge));
    assert_eq!(decrypted_size(65568 + 33), Ok(65537));
    assert_eq!(decrypted_size(65568 + 32), Err(DareError::InvalidSize));
    assert_eq!(decrypted_size(1), Err(DareError::InvalidSize));
    assert_eq!(decrypted_size(u64::MAX), Err(DareError::SizeTooLarge));
}

#[test]
fn range_reads_open_only_needed_packages() {
    let plaintext = pattern(5 * MAX_PAYLOAD_SIZE + 1000, 11);
    let ct =
        encrypt_to_vec(&KEY, &plaintext, &options(CipherSuite::Aes256Gcm, NONCE)).expect("encrypt");
    let p = MAX_PAYLOAD_SIZE as u64;
    let total = plaintext.len() as u64;
    for (offset, length) in [
        (0, 1),
        (0, total),
        (1, 10),
        (p - 1, 2),
        (p, p),
        (p + 5, 3 * p),
        (2 * p + 7, 100),
        (5 * p, 1000),
        (5 * p + 999, 1),
        (total - 1, 1),
        (3, total - 3),
    ] {
        let got = decrypt_range_to_vec(&KEY, &ct, offset, length).expect("range");
        let (o, l) = (offset as usize, length as usize);
        assert_eq!(got, plaintext[o..o + l], "range {offset}+{length}");

        let plan = plan_range(&[ct.len() as u64], offset, length).expect("plan");
        assert_eq!(u64::from(plan.sequence_number), offset / p);
        assert_eq!(plan.skip, offset % p);
        assert_eq!(
            plan.encrypted_offset,
            u64::from(plan.sequence_number) * MAX_PACKAGE_SIZE as u64
        );
        let last_package = (offset + length - 1) / p;
        let end = ((last_package + 1) * MAX_PACKAGE_SIZE as u64).min(ct.len() as u64);
        assert_eq!(plan.encrypted_length, end - plan.encrypted_offset);
        // Tampering outside the needed packages does not matter.
        let mut bad = ct.clone();
        if plan.encrypted_offset > 0 {
            bad[0] ^= 1;
        }
        if end < ct.len() as u64 {
            bad[ct.len() - 1] ^= 1;
        }
        assert_eq!(
            decrypt_range_to_vec(&KEY, &bad, offset, length).expect("range"),
            got
        );
    }
    assert_eq!(
        decrypt_range_to_vec(&KEY, &ct, total, 1),
        Err(DareError::InvalidRange)
    );
    assert_eq!(
        decrypt_range_to_vec(&KEY, &ct, 0, 0),
        Err(DareError::InvalidRange)
    );
    assert_eq!(
        decrypt_range_to_vec(&KEY, &ct, u64::MAX, 2),
        Err(DareError::InvalidRange)
    );
    assert_eq!(
        plan_range(&[ct.len() as u64, 5], 0, 1),
        Err(DareError::InvalidSize)
    );
}

#[test]
fn multipart_range_across_parts() {
    // Two parts with their own keys; the range starts in part 0 and ends in part 1.
    let part0 = pattern(2 * MAX_PAYLOAD_SIZE + 10, 21);
    let part1 = pattern(MAX_PAYLOAD_SIZE + 20, 22);
    let (key0, key1) = ([1u8; 32], [2u8; 32]);
    let ct0 =
        encrypt_to_vec(&key0, &part0, &options(CipherSuite::Aes256Gcm, [1; 12])).expect("part 0");
    let ct1 =
        encrypt_to_vec(&key1, &part1, &options(CipherSuite::Aes256Gcm, [2; 12])).expect("part 1");
    let mut object = ct0.clone();
    object.extend_from_slice(&ct1);
    let sizes = [ct0.len() as u64, ct1.len() as u64];

    let (offset, length) = (MAX_PAYLOAD_SIZE as u64 + 3, MAX_PAYLOAD_SIZE as u64 + 40);
    let plan = plan_range(&sizes, offset, length).expect("plan");
    assert_eq!(plan.part_index, 0);
    assert_eq!(plan.sequence_number, 1);
    assert_eq!(plan.skip, 3);
    assert_eq!(plan.encrypted_offset, MAX_PACKAGE_SIZE as u64);
    assert_eq!(
        plan.encrypted_length,
        ct0.len() as u64 - MAX_PACKAGE_SIZE as u64 + MAX_PACKAGE_SIZE as u64
    );

    let start = plan.encrypted_offset as usize;
    let window = &object[start..start + plan.encrypted_length as usize];
    let (first, second) = window.split_at(ct0.len() - start);
    let mut got = read_all(
        DecryptReader::new(first, &key0, &plan.decrypt_options(length)).expect("r"),
        999,
    )
    .expect("part 0");
    let rest = length - got.len() as u64;
    let next = DecryptOptions {
        limit: Some(rest),
        ..DecryptOptions::default()
    };
    got.extend(
        read_all(DecryptReader::new(second, &key1, &next).expect("r"), 999).expect("part 1"),
    );
    let mut expected = part0[offset as usize..].to_vec();
    expected.extend_from_slice(&part1[..(rest as usize)]);
    assert_eq!(got, expected);

    let plan = plan_range(&sizes, part0.len() as u64 + 5, 1).expect("plan");
    assert_eq!(plan.part_index, 1);
    assert_eq!(plan.sequence_number, 0);
    assert_eq!(plan.encrypted_offset, ct0.len() as u64);
    assert_eq!(plan.encrypted_length, MAX_PACKAGE_SIZE as u64);
}

#[tokio::test]
async fn async_adapters() {
    use tokio::io::AsyncReadExt;

    for &size in &SIZES[..8] {
        let plaintext = pattern(size, 77);
        for cipher in CIPHERS {
            let opts = options(cipher, NONCE);
            let expected = encrypt_to_vec(&KEY, &plaintext, &opts).expect("encrypt");
            let mut enc = AsyncEncryptReader::new(&plaintext[..], &KEY, &opts).expect("reader");
            let mut ct = Vec::new();
            enc.read_to_end(&mut ct).await.expect("encrypt");
            assert_eq!(ct, expected, "size {size}");
            let mut dec = AsyncDecryptReader::new(&ct[..], &KEY, &at(0)).expect("reader");
            let mut pt = Vec::new();
            dec.read_to_end(&mut pt).await.expect("decrypt");
            assert_eq!(pt, plaintext, "size {size}");
        }
    }
    let (_, ct) = three_packages(CipherSuite::ChaCha20Poly1305);
    let mut bad = ct.clone();
    bad[2 * MAX_PACKAGE_SIZE + 20] ^= 1;
    let mut dec = AsyncDecryptReader::new(&bad[..], &KEY, &at(0)).expect("reader");
    let mut pt = Vec::new();
    let err = dec.read_to_end(&mut pt).await.expect_err("tampered");
    assert_eq!(DareError::from_io(&err), Some(DareError::Authentication));
    assert_eq!(
        pt.len(),
        2 * MAX_PAYLOAD_SIZE,
        "only verified packages are returned"
    );
    let mut dec = AsyncDecryptReader::new(&ct[..MAX_PACKAGE_SIZE], &KEY, &at(0)).expect("reader");
    let err = dec
        .read_to_end(&mut Vec::new())
        .await
        .expect_err("truncated");
    assert_eq!(DareError::from_io(&err), Some(DareError::UnexpectedEof));
}
