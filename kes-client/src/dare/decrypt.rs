//! The I/O-free decryption state machine behind every decrypting adapter: DARE 2.0 and 1.0,
//! with optional range skipping and limiting.

use std::ops::Range;

use zeroize::Zeroize;

use super::cipher::Keys;
use super::package::{OpenerV10, OpenerV20, VERSION_10, VERSION_20};
use super::transform::Transform;
use super::{DareError, HEADER_SIZE, MAX_PACKAGE_SIZE};

/// The oldest DARE version a reader accepts; the first byte of the stream selects the format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Version {
    /// Accept DARE 1.0 and 2.0 (sio's default, used for object data and ETags).
    #[default]
    V10,
    /// Accept only DARE 2.0 (MinIO's `DAREv2-HMAC-SHA256` key unsealing).
    V20,
}

/// How a stream is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecryptOptions {
    /// The sequence number of the first package read; for a range read, the plaintext offset
    /// of the first package divided by 64 KiB.
    pub sequence_number: u32,
    /// The oldest accepted format.
    pub min_version: Version,
    /// Plaintext bytes to discard before output starts (the offset inside the first package).
    pub skip: u64,
    /// At most this many plaintext bytes are returned; the reader then stops without reading
    /// further input, so a range may end before the final package.
    pub limit: Option<u64>,
}

#[derive(Debug)]
enum Opener {
    /// No byte seen yet; the keys wait for the version byte.
    Undecided(Keys),
    V10(OpenerV10),
    V20(OpenerV20),
    /// Only while switching from `Undecided`.
    Empty,
}

#[derive(Debug)]
pub(crate) struct DecryptCore {
    opener: Opener,
    sequence_number: u32,
    min_version: Version,
    /// The package being read at `..filled`; after opening, the plaintext at `out`.
    buf: Vec<u8>,
    filled: usize,
    eof: bool,
    out: Range<usize>,
    skip: u64,
    remaining: Option<u64>,
    done: bool,
}

impl DecryptCore {
    pub(crate) fn new(key: &[u8; 32], options: &DecryptOptions) -> Result<Self, DareError> {
        Ok(Self {
            opener: Opener::Undecided(Keys::new(key)?),
            sequence_number: options.sequence_number,
            min_version: options.min_version,
            buf: vec![0u8; MAX_PACKAGE_SIZE],
            filled: 0,
            eof: false,
            out: 0..0,
            skip: options.skip,
            remaining: options.limit,
            done: options.limit == Some(0),
        })
    }

    /// How many bytes the current package needs in `buf`.
    fn target(&self) -> usize {
        match &self.opener {
            Opener::Undecided(_) | Opener::Empty => 1,
            Opener::V20(_) => MAX_PACKAGE_SIZE,
            Opener::V10(_) if self.filled < HEADER_SIZE => HEADER_SIZE,
            Opener::V10(_) => OpenerV10::package_len(&self.buf[..HEADER_SIZE]),
        }
    }

    fn choose_format(&mut self) -> Result<(), DareError> {
        let Opener::Undecided(keys) = std::mem::replace(&mut self.opener, Opener::Empty) else {
            return Err(DareError::UnsupportedVersion);
        };
        self.opener = match (self.buf[0], self.min_version) {
            (VERSION_20, _) => Opener::V20(OpenerV20::new(keys, self.sequence_number)),
            (VERSION_10, Version::V10) => Opener::V10(OpenerV10::new(keys, self.sequence_number)),
            _ => return Err(DareError::UnsupportedVersion),
        };
        Ok(())
    }

    /// Exposes a freshly opened plaintext, minus what `skip` and `limit` cut away.
    fn emit(&mut self, plaintext: Range<usize>) {
        let len = plaintext.len() as u64;
        let skipped = self.skip.min(len);
        self.skip -= skipped;
        let mut out = plaintext.start + skipped as usize..plaintext.end;
        if let Some(remaining) = self.remaining {
            out.end = out.start + (out.len() as u64).min(remaining) as usize;
        }
        self.out = out;
        self.filled = 0;
    }
}

impl Transform for DecryptCore {
    fn pending_output(&self) -> &[u8] {
        self.buf.get(self.out.clone()).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.out.len());
        self.out.start += n;
        if let Some(remaining) = &mut self.remaining {
            *remaining = remaining.saturating_sub(n as u64);
            if *remaining == 0 {
                self.done = true;
            }
        }
    }

    fn is_done(&self) -> bool {
        self.done && self.out.is_empty()
    }

    fn needs_input(&self) -> bool {
        !self.done && !self.eof && self.out.is_empty() && self.filled < self.target()
    }

    fn input_space(&mut self) -> &mut [u8] {
        let end = self.target();
        self.buf.get_mut(self.filled..end).unwrap_or_default()
    }

    fn advance(&mut self, n: usize) {
        if n == 0 {
            self.eof = true;
        } else {
            self.filled = (self.filled + n).min(MAX_PACKAGE_SIZE);
        }
    }

    fn process(&mut self) -> Result<(), DareError> {
        match &mut self.opener {
            Opener::Undecided(_) | Opener::Empty if self.filled == 0 => {
                // An empty stream is the encryption of an empty plaintext.
                self.done = true;
                Ok(())
            }
            Opener::Undecided(_) | Opener::Empty => self.choose_format(),
            Opener::V20(opener) if self.filled == 0 => {
                if opener.is_finalized() {
                    self.done = true;
                    Ok(())
                } else {
                    Err(DareError::UnexpectedEof)
                }
            }
            Opener::V20(opener) => {
                let plaintext = opener.open(&mut self.buf[..self.filled])?;
                self.emit(plaintext);
                Ok(())
            }
            Opener::V10(_) if self.filled == 0 => {
                self.done = true;
                Ok(())
            }
            Opener::V10(opener) => {
                if self.filled < HEADER_SIZE
                    || self.filled < OpenerV10::package_len(&self.buf[..HEADER_SIZE])
                {
                    return Err(DareError::UnexpectedEof);
                }
                let plaintext = opener.open(&mut self.buf[..self.filled])?;
                self.emit(plaintext);
                Ok(())
            }
        }
    }
}

impl Drop for DecryptCore {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}
