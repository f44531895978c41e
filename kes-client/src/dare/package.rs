//! Sealing and opening single packages: `header(16) ‖ ciphertext ‖ tag(16)`.

use std::ops::Range;

use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::cipher::{CipherSuite, Keys};
use super::{DareError, HEADER_SIZE, MAX_PAYLOAD_SIZE, TAG_SIZE};

/// Header byte 0 of a DARE 1.0 package.
pub(crate) const VERSION_10: u8 = 0x10;
/// Header byte 0 of a DARE 2.0 package.
pub(crate) const VERSION_20: u8 = 0x20;
/// The bit of header byte 4 that marks the final DARE 2.0 package.
const FINAL_FLAG: u8 = 0x80;

/// The payload length a header announces (`LE16(len - 1)` in bytes 2..4).
fn header_payload_len(header: &[u8]) -> usize {
    match header {
        [_, _, lo, hi, ..] => usize::from(u16::from_le_bytes([*lo, *hi])) + 1,
        _ => 0,
    }
}

/// The AEAD nonce of a DARE 2.0 package: the header nonce with its last four bytes XORed
/// (little-endian) with the sequence number.
fn nonce_v20(header_nonce: &[u8], seq: u32) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(header_nonce);
    let [a, b, c, d] = seq.to_le_bytes();
    nonce[8] ^= a;
    nonce[9] ^= b;
    nonce[10] ^= c;
    nonce[11] ^= d;
    nonce
}

/// Converts the running package counter to a DARE sequence number.
fn sequence(seq: u64) -> Result<u32, DareError> {
    u32::try_from(seq).map_err(|_| DareError::SizeTooLarge)
}

/// Writes DARE 2.0 packages with one random nonce and ascending sequence numbers.
#[derive(Debug)]
pub(crate) struct Sealer {
    keys: Keys,
    cipher: CipherSuite,
    nonce: [u8; 12],
    seq: u64,
}

impl Sealer {
    pub(crate) fn new(
        key: &[u8; 32],
        cipher: CipherSuite,
        nonce: [u8; 12],
        seq: u32,
    ) -> Result<Self, DareError> {
        Ok(Self {
            keys: Keys::new(key)?,
            cipher,
            nonce,
            seq: u64::from(seq),
        })
    }

    /// Seals `package` in place: the payload must already sit at `HEADER_SIZE..len - TAG_SIZE`
    /// and be 1..=64 KiB long; header and tag are written around it.
    pub(crate) fn seal(&mut self, package: &mut [u8], is_final: bool) -> Result<(), DareError> {
        let payload_len = package
            .len()
            .checked_sub(HEADER_SIZE + TAG_SIZE)
            .filter(|len| (1..=MAX_PAYLOAD_SIZE).contains(len))
            .ok_or(DareError::InvalidPayloadSize)?;
        let seq = sequence(self.seq)?;
        let len_field =
            u16::try_from(payload_len - 1).map_err(|_| DareError::InvalidPayloadSize)?;
        let (header, body) = package.split_at_mut(HEADER_SIZE);
        header[0] = VERSION_20;
        header[1] = self.cipher.id();
        header[2..4].copy_from_slice(&len_field.to_le_bytes());
        header[4..].copy_from_slice(&self.nonce);
        if is_final {
            header[4] |= FINAL_FLAG;
        } else {
            header[4] &= !FINAL_FLAG;
        }
        let nonce = nonce_v20(&header[4..], seq);
        self.keys.seal(self.cipher, nonce, &header[..4], body)?;
        self.seq += 1;
        Ok(())
    }
}

/// Checks and decrypts the packages of one DARE 2.0 stream in order.
#[derive(Debug)]
pub(crate) struct OpenerV20 {
    keys: Keys,
    seq: u64,
    reference: Option<[u8; HEADER_SIZE]>,
    finalized: bool,
}

impl OpenerV20 {
    pub(crate) fn new(keys: Keys, seq: u32) -> Self {
        Self {
            keys,
            seq: u64::from(seq),
            reference: None,
            finalized: false,
        }
    }

    /// Whether the final package has been opened.
    pub(crate) fn is_finalized(&self) -> bool {
        self.finalized
    }

    /// Decrypts one whole package in place and returns where its plaintext lies in `package`.
    /// The checks and their order follow sio, so each defect yields sio's error.
    pub(crate) fn open(&mut self, package: &mut [u8]) -> Result<Range<usize>, DareError> {
        let (header, body) = package.split_at_mut(HEADER_SIZE.min(package.len()));
        let payload_len = self.open_split(header, body)?;
        Ok(HEADER_SIZE..HEADER_SIZE + payload_len)
    }

    /// [`OpenerV20::open`] for a package whose header and body (payload and tag) lie apart:
    /// decrypts `body` in place and returns the payload length (the plaintext is
    /// `body[..len]`). The checks are the same, in the same order.
    pub(crate) fn open_split(
        &mut self,
        header: &[u8],
        body: &mut [u8],
    ) -> Result<usize, DareError> {
        if self.finalized {
            return Err(DareError::UnexpectedData);
        }
        if header.len() + body.len() <= HEADER_SIZE + TAG_SIZE {
            return Err(DareError::InvalidPayloadSize);
        }
        let Ok(header) = <&[u8; HEADER_SIZE]>::try_from(header) else {
            return Err(DareError::InvalidPayloadSize);
        };
        let mut reference = *self.reference.get_or_insert(*header);
        if header[0] != VERSION_20 {
            return Err(DareError::UnsupportedVersion);
        }
        let cipher = CipherSuite::from_id(header[1])
            .filter(|_| header[1] == reference[1])
            .ok_or(DareError::UnsupportedCipher)?;
        let payload_len = header_payload_len(header);
        if HEADER_SIZE + payload_len + TAG_SIZE != HEADER_SIZE + body.len() {
            return Err(DareError::InvalidPayloadSize);
        }
        let is_final = header[4] & FINAL_FLAG == FINAL_FLAG;
        if !is_final && payload_len != MAX_PAYLOAD_SIZE {
            return Err(DareError::InvalidPayloadSize);
        }
        if is_final {
            self.finalized = true;
            reference[4] |= FINAL_FLAG;
        }
        verify_slices_are_equal(&header[4..], &reference[4..])
            .map_err(|_| DareError::NonceMismatch)?;
        let seq = sequence(self.seq)?;
        let nonce = nonce_v20(&header[4..], seq);
        self.keys.open(cipher, nonce, &header[..4], body)?;
        self.seq += 1;
        Ok(payload_len)
    }
}

/// Checks and decrypts the packages of one DARE 1.0 stream in order.
#[derive(Debug)]
pub(crate) struct OpenerV10 {
    keys: Keys,
    seq: u64,
}

impl OpenerV10 {
    pub(crate) fn new(keys: Keys, seq: u32) -> Self {
        Self {
            keys,
            seq: u64::from(seq),
        }
    }

    /// The total package length its (complete) header announces.
    pub(crate) fn package_len(header: &[u8]) -> usize {
        HEADER_SIZE + header_payload_len(header) + TAG_SIZE
    }

    /// Decrypts one whole package in place and returns where its plaintext lies in `package`.
    pub(crate) fn open(&mut self, package: &mut [u8]) -> Result<Range<usize>, DareError> {
        if package.len() < HEADER_SIZE {
            return Err(DareError::UnexpectedEof);
        }
        let (header, body) = package.split_at_mut(HEADER_SIZE);
        if header[0] != VERSION_10 {
            return Err(DareError::UnsupportedVersion);
        }
        let cipher = CipherSuite::from_id(header[1]).ok_or(DareError::UnsupportedCipher)?;
        let payload_len = header_payload_len(header);
        if payload_len + TAG_SIZE != body.len() {
            return Err(DareError::InvalidPayloadSize);
        }
        let seq = sequence(self.seq)?;
        if u32::from_le_bytes([header[4], header[5], header[6], header[7]]) != seq {
            return Err(DareError::SequenceMismatch);
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&header[4..]);
        self.keys.open(cipher, nonce, &header[..4], body)?;
        self.seq += 1;
        Ok(HEADER_SIZE..HEADER_SIZE + payload_len)
    }
}
