//! The stored protobuf `KeyVersion` (spec §1.3), package `miniohq.kms`:
//!
//! ```text
//! SecretKey  { bytes Key = 1; uint32 Type = 2; }     // 1 = AES256, 2 = ChaCha20
//! HMACKey    { bytes Key = 1; uint32 Hash = 2; }     // 1 = SHA256
//! KeyVersion { SecretKey Key = 1; HMACKey HMACKey = 2;
//!              google.protobuf.Timestamp CreatedAt = 3; string CreatedBy = 4; }
//! ```
//!
//! The encoder writes what Go's `proto.Marshal` writes: fields in number order, proto3 zero
//! values omitted, `CreatedAt` always present. The decoder follows Go's `proto.Unmarshal`:
//! unknown fields and known fields with an unexpected wire type are skipped, a repeated scalar
//! keeps its last value, and repeated embedded messages are merged.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::KeyVersion;
use crate::{Error, FormatError, HmacKey, KeyType, SecretKey, go_base64};

/// The only `HMACKey.Hash` value: SHA256.
const HASH_SHA256: u8 = 1;
/// Field tags: field number << 3 | wire type (0 = varint, 2 = length-delimited).
const TAG_1_LEN: u8 = 0x0a;
const TAG_1_VARINT: u8 = 0x08;
const TAG_2_LEN: u8 = 0x12;
const TAG_2_VARINT: u8 = 0x10;
const TAG_3_LEN: u8 = 0x1a;
const TAG_4_LEN: u8 = 0x22;
/// Length of an encoded `SecretKey` or `HMACKey`: 32 key bytes and a one-byte enum.
const KEY_MESSAGE_LEN: u8 = 2 + 32 + 2;
/// Nesting limit for skipped groups.
const MAX_DEPTH: u32 = 64;

/// Encodes the protobuf `KeyVersion` and returns it as standard padded base64.
pub(super) fn encode(
    key: &SecretKey,
    hmac_key: &HmacKey,
    created_at: OffsetDateTime,
    created_by: &str,
) -> Zeroizing<String> {
    // Go's timestamppb: Unix seconds and the nanosecond of the second, both as varints;
    // negative seconds are written as ten-byte two's complement.
    let seconds = created_at.unix_timestamp() as u64;
    let nanos = u64::from(created_at.nanosecond());
    let timestamp_len = optional_varint_len(seconds) + optional_varint_len(nanos);
    let created_by_len = if created_by.is_empty() {
        0
    } else {
        1 + varint_len(created_by.len() as u64) + created_by.len()
    };
    let len = 2 * (2 + usize::from(KEY_MESSAGE_LEN))
        + 1
        + varint_len(timestamp_len as u64)
        + timestamp_len
        + created_by_len;

    let mut pb = Zeroizing::new(Vec::with_capacity(len));
    put_key_message(&mut pb, TAG_1_LEN, key.as_bytes(), key.key_type().number());
    put_key_message(&mut pb, TAG_2_LEN, hmac_key.as_bytes(), HASH_SHA256);
    pb.push(TAG_3_LEN);
    put_varint(&mut pb, timestamp_len as u64);
    if seconds != 0 {
        pb.push(TAG_1_VARINT);
        put_varint(&mut pb, seconds);
    }
    if nanos != 0 {
        pb.push(TAG_2_VARINT);
        put_varint(&mut pb, nanos);
    }
    if !created_by.is_empty() {
        pb.push(TAG_4_LEN);
        put_varint(&mut pb, created_by.len() as u64);
        pb.extend_from_slice(created_by.as_bytes());
    }
    debug_assert_eq!(pb.len(), len);

    let mut out = Zeroizing::new(String::with_capacity(pb.len().div_ceil(3) * 4));
    STANDARD.encode_string(pb.as_slice(), &mut out);
    out
}

fn put_key_message(out: &mut Vec<u8>, tag: u8, key: &[u8; 32], number: u8) {
    out.extend_from_slice(&[tag, KEY_MESSAGE_LEN, TAG_1_LEN, 32]);
    out.extend_from_slice(key);
    out.extend_from_slice(&[TAG_2_VARINT, number]);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Length of a varint field with a one-byte tag, omitted when zero.
fn optional_varint_len(v: u64) -> usize {
    if v == 0 { 0 } else { 1 + varint_len(v) }
}

/// Decodes and validates a stored base64 protobuf value.
pub(super) fn parse(stored: &[u8]) -> Result<KeyVersion, Error> {
    let pb = Zeroizing::new(go_base64::decode(stored).ok_or(FormatError::Base64)?);
    let fields = KeyVersionFields::decode(&pb)?;

    let key = fields.key.ok_or(Error::SecretKeyNotInitialized)?;
    if key.bytes.len() != 32 {
        return Err(FormatError::SecretKeyLength(key.bytes.len()).into());
    }
    let key_type =
        KeyType::from_number(key.number).ok_or(FormatError::SecretKeyType(key.number))?;
    let hmac_key = fields.hmac_key.ok_or(Error::HmacKeyNotInitialized)?;
    if hmac_key.number != u32::from(HASH_SHA256) {
        return Err(FormatError::HmacHash(hmac_key.number).into());
    }
    let created_at = match fields.created_at {
        None => OffsetDateTime::UNIX_EPOCH,
        Some(t) => {
            let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
            OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| FormatError::CreatedAt)?
        }
    };
    Ok(KeyVersion {
        key: SecretKey::new(key_type, key.bytes)?,
        hmac_key: Some(
            HmacKey::new(hmac_key.bytes).ok_or(FormatError::HmacKeyLength(hmac_key.bytes.len()))?,
        ),
        created_at,
        created_by: fields.created_by.to_owned(),
        untyped: false,
    })
}

/// `SecretKey` and `HMACKey` share one shape: key bytes (1) and an enum (2).
#[derive(Default)]
struct KeyFields<'a> {
    bytes: &'a [u8],
    number: u32,
}

#[derive(Default)]
struct Timestamp {
    seconds: i64,
    nanos: i32,
}

#[derive(Default)]
struct KeyVersionFields<'a> {
    key: Option<KeyFields<'a>>,
    hmac_key: Option<KeyFields<'a>>,
    created_at: Option<Timestamp>,
    created_by: &'a str,
}

impl<'a> KeyVersionFields<'a> {
    fn decode(buf: &'a [u8]) -> Result<Self, FormatError> {
        let mut fields = KeyVersionFields::default();
        let mut reader = Reader(buf);
        while let Some((number, value)) = reader.field()? {
            match (number, value) {
                (1, Value::Bytes(b)) => fields.key.get_or_insert_default().merge(b)?,
                (2, Value::Bytes(b)) => fields.hmac_key.get_or_insert_default().merge(b)?,
                (3, Value::Bytes(b)) => fields.created_at.get_or_insert_default().merge(b)?,
                (4, Value::Bytes(b)) => {
                    fields.created_by =
                        std::str::from_utf8(b).map_err(|_| FormatError::Protobuf)?;
                }
                _ => {}
            }
        }
        Ok(fields)
    }
}

impl<'a> KeyFields<'a> {
    fn merge(&mut self, buf: &'a [u8]) -> Result<(), FormatError> {
        let mut reader = Reader(buf);
        while let Some((number, value)) = reader.field()? {
            match (number, value) {
                (1, Value::Bytes(b)) => self.bytes = b,
                // uint32 keeps the low 32 bits of the varint, as in Go.
                (2, Value::Varint(v)) => self.number = v as u32,
                _ => {}
            }
        }
        Ok(())
    }
}

impl Timestamp {
    fn merge(&mut self, buf: &[u8]) -> Result<(), FormatError> {
        let mut reader = Reader(buf);
        while let Some((number, value)) = reader.field()? {
            match (number, value) {
                (1, Value::Varint(v)) => self.seconds = v as i64,
                (2, Value::Varint(v)) => self.nanos = v as i32,
                _ => {}
            }
        }
        Ok(())
    }
}

/// A decoded field value; fixed-size values and groups are only skipped.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Skipped,
}

/// Reads protobuf fields from a buffer. Every malformation is [`FormatError::Protobuf`].
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Reads the next field, or `None` at the end of the buffer.
    fn field(&mut self) -> Result<Option<(u32, Value<'a>)>, FormatError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let (number, wire_type) = self.tag()?;
        let value = self.value(number, wire_type, 0)?;
        Ok(Some((number, value)))
    }

    fn tag(&mut self) -> Result<(u32, u8), FormatError> {
        let tag = self.varint()?;
        let number = u32::try_from(tag >> 3).map_err(|_| FormatError::Protobuf)?;
        if !(1..=0x1fff_ffff).contains(&number) {
            return Err(FormatError::Protobuf);
        }
        Ok((number, (tag & 7) as u8))
    }

    fn value(&mut self, number: u32, wire_type: u8, depth: u32) -> Result<Value<'a>, FormatError> {
        match wire_type {
            0 => self.varint().map(Value::Varint),
            1 => self.take(8).map(|_| Value::Skipped),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| FormatError::Protobuf)?;
                self.take(len).map(Value::Bytes)
            }
            3 => self.skip_group(number, depth).map(|()| Value::Skipped),
            5 => self.take(4).map(|_| Value::Skipped),
            _ => Err(FormatError::Protobuf),
        }
    }

    /// Skips a group up to its end tag, which must carry the same field number.
    fn skip_group(&mut self, number: u32, depth: u32) -> Result<(), FormatError> {
        if depth >= MAX_DEPTH {
            return Err(FormatError::Protobuf);
        }
        loop {
            let (inner, wire_type) = self.tag()?;
            if wire_type == 4 {
                return if inner == number {
                    Ok(())
                } else {
                    Err(FormatError::Protobuf)
                };
            }
            self.value(inner, wire_type, depth + 1)?;
        }
    }

    fn varint(&mut self) -> Result<u64, FormatError> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.0.split_first().ok_or(FormatError::Protobuf)?;
            self.0 = rest;
            if i == 9 && b > 1 {
                return Err(FormatError::Protobuf);
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(FormatError::Protobuf)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], FormatError> {
        let (head, rest) = self.0.split_at_checked(len).ok_or(FormatError::Protobuf)?;
        self.0 = rest;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: [u8; 32] = [0x11; 32];
    const HMAC: [u8; 32] = [0x22; 32];

    fn key_message(tag: u8, bytes: &[u8], number: u8) -> Vec<u8> {
        let mut body = vec![TAG_1_LEN, bytes.len() as u8];
        body.extend_from_slice(bytes);
        body.extend_from_slice(&[TAG_2_VARINT, number]);
        let mut out = vec![tag, body.len() as u8];
        out.extend(body);
        out
    }

    fn valid() -> Vec<u8> {
        let mut pb = key_message(TAG_1_LEN, &KEY, 2);
        pb.extend(key_message(TAG_2_LEN, &HMAC, 1));
        pb
    }

    fn parse_pb(pb: &[u8]) -> Result<KeyVersion, Error> {
        parse(STANDARD.encode(pb).as_bytes())
    }

    #[test]
    fn minimal_value_defaults() {
        let key = parse_pb(&valid()).unwrap();
        assert_eq!(key.key().key_type(), KeyType::ChaCha20);
        assert_eq!(key.key().as_bytes(), &KEY);
        assert_eq!(key.hmac_key().unwrap().as_bytes(), &HMAC);
        assert_eq!(key.created_at(), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(key.created_by(), "");
    }

    #[test]
    fn unknown_fields_and_wire_types_are_skipped() {
        let mut pb = valid();
        pb.extend([0x28, 0x96, 0x01]); // field 5 varint
        pb.extend([0x31, 1, 2, 3, 4, 5, 6, 7, 8]); // field 6 fixed64
        pb.extend([0x3d, 1, 2, 3, 4]); // field 7 fixed32
        pb.extend([0x43, 0x08, 0x01, 0x4b, 0x4c, 0x44]); // group 8 holding group 9
        pb.extend([0x20, 0x05]); // field 4 as varint: wrong wire type, skipped
        pb.extend([0x82, 0x01, 0x00]); // field 16, empty bytes
        let key = parse_pb(&pb).unwrap();
        assert_eq!(key.created_by(), "");
        assert_eq!(key.key().as_bytes(), &KEY);
    }

    #[test]
    fn repeated_messages_merge_and_scalars_keep_the_last_value() {
        let mut pb = valid();
        pb.extend([TAG_1_LEN, 2, TAG_2_VARINT, 1]); // second SecretKey: only the type
        pb.extend([TAG_4_LEN, 1, b'a', TAG_4_LEN, 1, b'b']);
        pb.extend([TAG_3_LEN, 2, TAG_1_VARINT, 5, TAG_3_LEN, 2, TAG_2_VARINT, 7]);
        let key = parse_pb(&pb).unwrap();
        assert_eq!(key.key().key_type(), KeyType::Aes256);
        assert_eq!(key.key().as_bytes(), &KEY);
        assert_eq!(key.created_by(), "b");
        assert_eq!(
            key.created_at(),
            datetime!(1970-01-01 0:00:05.000000007 UTC)
        );
    }

    #[test]
    fn type_is_a_truncated_uint32() {
        let mut pb = key_message(TAG_1_LEN, &KEY, 0);
        pb.truncate(pb.len() - 1);
        pb.extend([0x81, 0x80, 0x80, 0x80, 0x10]); // 2^32 + 1
        pb[1] += 4;
        pb.extend(key_message(TAG_2_LEN, &HMAC, 1));
        assert_eq!(parse_pb(&pb).unwrap().key().key_type(), KeyType::Aes256);
    }

    #[test]
    fn validation_errors() {
        let hmac = key_message(TAG_2_LEN, &HMAC, 1);
        let cases: Vec<(Vec<u8>, Error)> = vec![
            (hmac.clone(), Error::SecretKeyNotInitialized),
            (
                key_message(TAG_1_LEN, &KEY, 1),
                Error::HmacKeyNotInitialized,
            ),
            (
                [key_message(TAG_1_LEN, &KEY[..31], 1), hmac.clone()].concat(),
                FormatError::SecretKeyLength(31).into(),
            ),
            (
                [vec![TAG_1_LEN, 0], hmac.clone()].concat(),
                FormatError::SecretKeyLength(0).into(),
            ),
            (
                [key_message(TAG_1_LEN, &KEY, 3), hmac.clone()].concat(),
                FormatError::SecretKeyType(3).into(),
            ),
            (
                [key_message(TAG_1_LEN, &KEY, 0), hmac.clone()].concat(),
                FormatError::SecretKeyType(0).into(),
            ),
            (
                [
                    key_message(TAG_1_LEN, &KEY, 1),
                    key_message(TAG_2_LEN, &HMAC[..16], 1),
                ]
                .concat(),
                FormatError::HmacKeyLength(16).into(),
            ),
            (
                [
                    key_message(TAG_1_LEN, &KEY, 1),
                    key_message(TAG_2_LEN, &HMAC, 2),
                ]
                .concat(),
                FormatError::HmacHash(2).into(),
            ),
            (vec![], Error::SecretKeyNotInitialized),
        ];
        for (pb, expected) in cases {
            assert_eq!(parse_pb(&pb).unwrap_err(), expected, "{pb:x?}");
        }
        assert_eq!(
            Error::SecretKeyNotInitialized.to_string(),
            "crypto: secret key is not initialized"
        );
    }

    #[test]
    fn malformed_wire_data() {
        let cases: Vec<Vec<u8>> = vec![
            [valid(), vec![TAG_4_LEN, 2, 0xff, 0xfe]].concat(), // CreatedBy not UTF-8
            [valid(), vec![TAG_4_LEN, 5, b'a']].concat(),       // truncated length
            [valid(), vec![0x28]].concat(),                     // truncated varint
            [
                valid(),
                vec![
                    0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
                ],
            ]
            .concat(), // varint overflow
            [valid(), vec![0x2e]].concat(),                     // wire type 6
            [valid(), vec![0x2c]].concat(),                     // end group without start
            [valid(), vec![0x43, 0x4c]].concat(),               // group end mismatch
            [valid(), vec![0x43]].concat(),                     // unterminated group
            [valid(), vec![0x02, 0x00]].concat(),               // field number 0
            [valid(), vec![TAG_3_LEN, 0x01, 0x08]].concat(),    // bad nested timestamp
        ];
        for pb in cases {
            assert_eq!(
                parse_pb(&pb).unwrap_err(),
                FormatError::Protobuf.into(),
                "{pb:x?}"
            );
        }
        let deep = [valid(), vec![0x43; 100], vec![0x44; 100]].concat();
        assert!(parse_pb(&deep).is_err());
    }

    #[test]
    fn base64_rules() {
        let text = STANDARD.encode(valid());
        let wrapped = format!("{}\r\n{}\n", &text[..20], &text[20..]);
        assert!(parse(wrapped.as_bytes()).is_ok());
        assert_eq!(
            parse(text.trim_end_matches('=').as_bytes()).unwrap_err(),
            FormatError::Base64.into()
        );
        assert_eq!(
            parse(format!(" {text}").as_bytes()).unwrap_err(),
            FormatError::Base64.into()
        );
        // The v0.2 – v0.4 Vault value, bare base64 of 32 bytes, fails validation (spec §1.6).
        assert!(parse(STANDARD.encode(KEY).as_bytes()).is_err());
    }

    #[test]
    fn timestamps_encode_like_go() {
        let key = SecretKey::new(KeyType::Aes256, &KEY).unwrap();
        let hmac = HmacKey::new(&HMAC).unwrap();
        for (created_at, created_by) in [
            (OffsetDateTime::UNIX_EPOCH, ""),
            (datetime!(1969-12-31 23:59:59.5 UTC), "x"),
            (datetime!(0001-01-01 0:00 UTC), &"y".repeat(200)),
            (datetime!(2024-01-12 11:39:20.886816 +01:00), "id"),
            (datetime!(1970-01-01 0:00:00.000000001 UTC), ""),
        ] {
            let text = encode(&key, &hmac, created_at, created_by);
            let pb = STANDARD.decode(text.as_bytes()).unwrap();
            let fields = KeyVersionFields::decode(&pb).unwrap();
            let ts = fields.created_at.unwrap();
            assert_eq!(ts.seconds, created_at.unix_timestamp());
            assert_eq!(ts.nanos as u32, created_at.nanosecond());
            let parsed = parse(text.as_bytes()).unwrap();
            assert_eq!(parsed.created_at(), created_at);
            assert_eq!(parsed.created_by(), created_by);
            assert_eq!(text.capacity(), text.len(), "exact capacity");
        }
        // An epoch timestamp is written as an empty message, as by Go.
        let text = encode(&key, &hmac, OffsetDateTime::UNIX_EPOCH, "");
        let pb = STANDARD.decode(text.as_bytes()).unwrap();
        assert_eq!(&pb[pb.len() - 2..], &[TAG_3_LEN, 0]);
    }

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u64::MAX >> 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
            assert_eq!(Reader(&out).varint().unwrap(), v);
        }
    }
}
