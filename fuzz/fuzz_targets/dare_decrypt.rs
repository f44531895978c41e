//! DARE 1.0 and 2.0 decryption of a whole stream and of a range. Input:
//! `options byte ‖ sequence number (4 bytes) ‖ stream`; the key is the vectors' key.
#![no_main]

use std::io::Read as _;

use kes_client::dare::{self, DareError, DecryptOptions, DecryptReader, SealOptions, Version};
use libfuzzer_sys::fuzz_target;

/// `dare_v2_golden.key_hex` in `/work/shared/vectors/minio.json`.
const KEY: [u8; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    26, 27, 28, 29, 30, 31,
];

fuzz_target!(|data: &[u8]| {
    let [flags, s0, s1, s2, s3, stream @ ..] = data else {
        return;
    };
    let options = DecryptOptions {
        sequence_number: u32::from_le_bytes([*s0, *s1, *s2, *s3]),
        min_version: if flags & 1 == 0 {
            Version::V10
        } else {
            Version::V20
        },
        skip: u64::from(flags >> 4) * 1000,
        limit: (flags & 2 != 0).then(|| u64::from(*s0) * 300),
    };
    let whole = dare::decrypt_to_vec(&KEY, stream, &options);
    if let Ok(plaintext) = &whole {
        if let Some(limit) = options.limit {
            assert!(plaintext.len() as u64 <= limit);
        }
    }
    // The streaming reader gives the same plaintext or the same error (decrypt_to_vec opens
    // whole DARE 2.0 streams by its own path).
    let mut streamed = Vec::new();
    let read = DecryptReader::new(stream, &KEY, &options)
        .expect("reader")
        .read_to_end(&mut streamed);
    match (&read, &whole) {
        (Ok(_), Ok(out)) => assert_eq!(&streamed, out),
        (Err(err), Err(expected)) => assert_eq!(DareError::from_io(err), Some(*expected)),
        _ => panic!("reader and decrypt_to_vec disagree: {read:?} {whole:?}"),
    }
    if let Ok(size) = dare::decrypted_size(stream.len() as u64) {
        let _ = dare::encrypted_size(size);
    }

    // The stream's bytes as plaintext: encrypted and decrypted again, whole and as a range.
    let sealed = dare::encrypt_to_vec(&KEY, stream, &SealOptions::default()).expect("encrypts");
    let opened = dare::decrypt_to_vec(&KEY, &sealed, &DecryptOptions::default()).expect("decrypts");
    assert_eq!(opened, stream);
    let len = stream.len() as u64;
    let offset = u64::from(*s1) * 64 % len.max(1);
    let length = (u64::from(*s2) * 257).min(len - offset.min(len));
    if let Ok(range) = dare::decrypt_range_to_vec(&KEY, &sealed, offset, length) {
        assert_eq!(range, &stream[offset as usize..(offset + length) as usize]);
    }
});
