//! Tampering with genuine DARE 2.0 streams. `dare_decrypt` feeds random bytes, which almost never
//! pass the first tag; this target encrypts a plaintext of up to four packages, applies up to
//! seven edits (bit flips, truncation, dropped, repeated, swapped, spliced or appended packages)
//! and decrypts whole, through the streaming reader with odd read sizes, and as a range.
//!
//! The property: decryption never returns a wrong byte. It succeeds on the whole stream only
//! if the stream is unchanged; a limited or ranged read may succeed before it reaches an edit,
//! and then returns exactly the plaintext asked for.
//!
//! Input: `flags ‖ sequence number (4 bytes, LE) ‖ size ‖ read size ‖ edits (4 bytes each) ‖
//! plaintext seed`. The plaintext is the seed repeated to `size × 1 KiB + seed length` bytes.
#![no_main]

use std::io::Read;

use kes_client::dare::{
    self, CipherSuite, DareError, DecryptOptions, DecryptReader, SealOptions, Version,
};
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [7; 32];
/// A whole DARE 2.0 package: 16-byte header, 64 KiB payload, 16-byte tag.
const PACKAGE: usize = 16 + 65536 + 16;

/// A `Read` over a slice that returns at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn packages(stream: &[u8]) -> Vec<Vec<u8>> {
    stream.chunks(PACKAGE).map(<[u8]>::to_vec).collect()
}

/// Applies one edit; `other` is a second stream of the same plaintext under another nonce.
fn edit(stream: &mut Vec<u8>, other: &[u8], op: u8, pos: u16, val: u8) {
    let at = usize::from(pos) * 41 % stream.len().max(1);
    let mut parts = packages(stream);
    let n = parts.len();
    let k = usize::from(pos) % n.max(1);
    match op % 8 {
        0 if !stream.is_empty() => stream[at] ^= val | 1,
        1 => stream.truncate(at),
        2 if n > 0 => {
            parts.remove(k);
            *stream = parts.concat();
        }
        3 if n > 0 => {
            let copy = parts[k].clone();
            parts.insert(k, copy);
            *stream = parts.concat();
        }
        4 if n > 1 && k + 1 < n => {
            parts.swap(k, k + 1);
            *stream = parts.concat();
        }
        // Splicing in the same-position package of another stream (two or more packages).
        5 if n > 1 => {
            if let Some(theirs) = packages(other).get(k) {
                parts[k] = theirs.clone();
                *stream = parts.concat();
            }
        }
        6 => stream.extend(std::iter::repeat_n(val, usize::from(pos % 64) + 1)),
        7 => stream.insert(at.min(stream.len()), val),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, s0, s1, s2, s3, size, step, rest @ ..] = data else {
        return;
    };
    let edits = usize::from((flags >> 2) & 7);
    let Some((edit_bytes, seed)) = rest.split_at_checked(edits * 4) else {
        return;
    };
    let len = usize::from(*size % 200) * 1024 + seed.len();
    let plaintext: Vec<u8> = if seed.is_empty() {
        vec![0; len]
    } else {
        seed.iter().copied().cycle().take(len).collect()
    };
    let sequence_number = if flags & 0x20 != 0 {
        u32::from_le_bytes([*s0, *s1, *s2, *s3])
    } else {
        0
    };
    let nonce = [*s0, *s1, *s2, *s3, *size, *step, 1, 2, 3, 4, 5, 6];
    let seal = |nonce: [u8; 12]| SealOptions {
        cipher: if flags & 1 == 0 {
            CipherSuite::Aes256Gcm
        } else {
            CipherSuite::ChaCha20Poly1305
        },
        nonce: Some(nonce),
        sequence_number,
    };
    let Ok(sealed) = dare::encrypt_to_vec(&KEY, &plaintext, &seal(nonce)) else {
        // Only a sequence number that would wrap around within the stream is refused.
        let packages = (len as u64).div_ceil(65536);
        assert!(u64::from(sequence_number) + packages - 1 > u64::from(u32::MAX));
        return;
    };
    let mut other_nonce = nonce;
    other_nonce[11] ^= 0x80;
    let other = dare::encrypt_to_vec(&KEY, &plaintext, &seal(other_nonce)).expect("encrypts");

    let mut stream = sealed.clone();
    for e in edit_bytes.chunks_exact(4) {
        edit(
            &mut stream,
            &other,
            e[0],
            u16::from_le_bytes([e[1], e[2]]),
            e[3],
        );
    }
    // Splices can replace every package, which yields the other genuine stream.
    let tampered = stream != sealed && stream != other;

    // Whole, optionally skipped and limited.
    let skip = if flags & 2 != 0 {
        u64::from(*s1) * 517
    } else {
        0
    };
    let limit = (flags & 0x40 != 0).then(|| u64::from(*s2) * 1031);
    let options = DecryptOptions {
        sequence_number,
        min_version: if flags & 0x80 != 0 {
            Version::V20
        } else {
            Version::V10
        },
        skip,
        limit,
    };
    let start = (skip as usize).min(plaintext.len());
    let end = limit.map_or(plaintext.len(), |l| {
        (start + l as usize).min(plaintext.len())
    });
    let expected = &plaintext[start..end];
    let whole = dare::decrypt_to_vec(&KEY, &stream, &options);
    match &whole {
        // An empty stream is an empty plaintext (as in sio); MinIO checks object sizes.
        Ok(out) if stream.is_empty() => assert!(out.is_empty()),
        Ok(out) => assert_eq!(out.as_slice(), expected, "wrong plaintext"),
        Err(_) => assert!(tampered || limit == Some(0), "untampered stream refused"),
    }
    if limit.is_none() && skip == 0 && !stream.is_empty() {
        assert_eq!(whole.is_ok(), !tampered, "tampered stream accepted");
    }

    // The streaming reader agrees with the in-memory decryption.
    let mut reader = DecryptReader::new(
        Trickle {
            data: &stream,
            step: usize::from(*step).max(1) * 97,
        },
        &KEY,
        &options,
    )
    .expect("reader");
    let mut streamed = Vec::new();
    // (decrypt_to_vec opens whole DARE 2.0 streams in its own buffer; the reader uses the
    // streaming core: same result, same error.)
    let read = reader.read_to_end(&mut streamed);
    match (&read, &whole) {
        (Ok(_), Ok(out)) => assert_eq!(&streamed, out),
        (Err(err), Err(expected)) => assert_eq!(DareError::from_io(err), Some(*expected)),
        _ => panic!("reader and decrypt_to_vec disagree: {read:?} {whole:?}"),
    }

    // A range read opens only the packages that hold the range (sequence numbers from 0).
    if sequence_number == 0 && !plaintext.is_empty() {
        let offset = (u64::from(*s3) * 1297) % plaintext.len() as u64;
        let length = (u64::from(*s2) * 769 + 1).min(plaintext.len() as u64 - offset);
        if let Ok(range) = dare::decrypt_range_to_vec(&KEY, &stream, offset, length) {
            assert_eq!(
                range,
                &plaintext[offset as usize..(offset + length) as usize],
                "range returned wrong bytes"
            );
        } else {
            assert!(tampered, "untampered range refused");
        }
    }
});
