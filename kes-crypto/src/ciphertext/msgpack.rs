//! The msgpack framing written from v0.19.2 to 2024-01-11 (spec §3.3): a fixarray of exactly
//! five items `[algorithm str, key id str, iv bin(16), nonce bin(12), sealed‖tag bin]` and
//! nothing after it.

use std::borrow::Cow;

use super::{Ciphertext, MSGPACK_ARRAY_5};
use crate::KeyType;

/// Parses a msgpack framing, or returns `None` for anything else. The key id must be a string
/// but is otherwise ignored.
pub(super) fn parse(bytes: &[u8]) -> Option<Ciphertext<'_>> {
    let (&header, mut rest) = bytes.split_first()?;
    if header != MSGPACK_ARRAY_5 {
        return None;
    }
    let algorithm = read_str(&mut rest)?;
    let _key_id = read_str(&mut rest)?;
    let iv = read_bin(&mut rest)?.try_into().ok()?;
    let nonce = read_bin(&mut rest)?.try_into().ok()?;
    let sealed_and_tag = read_bin(&mut rest)?;
    if !rest.is_empty() {
        return None;
    }
    let declared = KeyType::parse(std::str::from_utf8(algorithm).ok()?)?;
    Some(Ciphertext {
        sealed_and_tag: Cow::Borrowed(sealed_and_tag),
        iv,
        nonce,
        declared: Some(declared),
    })
}

/// Reads a str (fixstr, str8, str16 or str32); bin is not accepted.
fn read_str<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (&lead, rest) = input.split_first()?;
    *input = rest;
    let len = match lead {
        0xa0..=0xbf => usize::from(lead & 0x1f),
        0xd9 => read_len(input, 1)?,
        0xda => read_len(input, 2)?,
        0xdb => read_len(input, 4)?,
        _ => return None,
    };
    take(input, len)
}

/// Reads a bin (bin8, bin16 or bin32); str is not accepted.
fn read_bin<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (&lead, rest) = input.split_first()?;
    *input = rest;
    let len = match lead {
        0xc4 => read_len(input, 1)?,
        0xc5 => read_len(input, 2)?,
        0xc6 => read_len(input, 4)?,
        _ => return None,
    };
    take(input, len)
}

/// Reads a big-endian length of `width` bytes.
fn read_len(input: &mut &[u8], width: usize) -> Option<usize> {
    let bytes = take(input, width)?;
    bytes.iter().try_fold(0usize, |len, &b| {
        len.checked_mul(256)?.checked_add(usize::from(b))
    })
}

fn take<'a>(input: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    let (head, rest) = input.split_at_checked(len)?;
    *input = rest;
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a framing from already encoded items.
    fn framing(items: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![MSGPACK_ARRAY_5];
        for item in items {
            out.extend_from_slice(item);
        }
        out
    }

    fn bin8(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![0xc4, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    const IV: [u8; 16] = [1; 16];
    const NONCE: [u8; 12] = [2; 12];

    fn valid_items() -> Vec<Vec<u8>> {
        vec![
            b"\xa6AES256".to_vec(),
            b"\xa0".to_vec(),
            bin8(&IV),
            bin8(&NONCE),
            bin8(&[3; 20]),
        ]
    }

    fn parse_items(items: &[Vec<u8>]) -> Option<Ciphertext<'static>> {
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        let bytes = framing(&refs);
        parse(&bytes).map(|c| Ciphertext {
            sealed_and_tag: Cow::Owned(c.sealed_and_tag.into_owned()),
            ..c
        })
    }

    #[test]
    fn parses_every_str_and_bin_width() {
        let c = parse_items(&valid_items()).unwrap();
        assert_eq!(c.declared, Some(KeyType::Aes256));
        assert_eq!(c.iv, IV);
        assert_eq!(c.nonce, NONCE);
        assert_eq!(&*c.sealed_and_tag, &[3; 20]);

        for algorithm in [
            b"\xd9\x08ChaCha20".to_vec(),
            b"\xda\x00\x08ChaCha20".to_vec(),
            b"\xdb\x00\x00\x00\x08ChaCha20".to_vec(),
            b"\xb2XCHACHA20-POLY1305".to_vec(),
        ] {
            let mut items = valid_items();
            items[0] = algorithm;
            assert_eq!(
                parse_items(&items).unwrap().declared,
                Some(KeyType::ChaCha20)
            );
        }

        let mut items = valid_items();
        items[1] = b"\xda\x00\x03abc".to_vec();
        items[2] = [b"\xc5\x00\x10".as_slice(), &IV].concat();
        items[3] = [b"\xc6\x00\x00\x00\x0c".as_slice(), &NONCE].concat();
        items[4] = b"\xc6\x00\x00\x00\x00".to_vec();
        let c = parse_items(&items).unwrap();
        assert_eq!(c.iv, IV);
        assert_eq!(c.nonce, NONCE);
        assert!(c.sealed_and_tag.is_empty());
    }

    #[test]
    fn rejects_deviations() {
        let cases: Vec<(usize, Vec<u8>)> = vec![
            (0, b"\xc4\x06AES256".to_vec()),               // algorithm as bin
            (0, b"\xa5AES25".to_vec()),                    // unknown name
            (0, b"\xa3AES".to_vec()),                      // unknown name
            (0, b"\xb8AES-256-GCM-HMAC-SHA-256".to_vec()), // JSON-era name
            (1, bin8(b"id")),                              // key id as bin
            (1, b"\xc0".to_vec()),                         // key id nil
            (2, bin8(&[1; 15])),                           // short iv
            (2, b"\xb0AAAAAAAAAAAAAAAA".to_vec()),         // iv as str
            (3, bin8(&[2; 13])),                           // long nonce
            (4, b"\xa1x".to_vec()),                        // payload as str
            (4, b"\xc4\x05abc".to_vec()),                  // truncated payload
        ];
        for (index, item) in cases {
            let mut items = valid_items();
            items[index] = item.clone();
            assert!(parse_items(&items).is_none(), "item {index}: {item:x?}");
        }

        let mut items = valid_items();
        items.push(b"\xc0".to_vec());
        assert!(parse_items(&items).is_none(), "trailing bytes");
        items.truncate(4);
        assert!(parse_items(&items).is_none(), "four items");

        // An array16 of five items is not the header KES wrote.
        let items = valid_items();
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        let mut bytes = framing(&refs);
        bytes.splice(0..1, [0xdc, 0x00, 0x05]);
        assert!(parse(&bytes).is_none());
    }
}
