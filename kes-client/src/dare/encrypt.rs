//! The I/O-free DARE 2.0 encryption state machine behind every encrypting adapter.

use zeroize::Zeroize;

use super::cipher::CipherSuite;
use super::package::Sealer;
use super::transform::Transform;
use super::{DareError, HEADER_SIZE, MAX_PACKAGE_SIZE, MAX_PAYLOAD_SIZE, TAG_SIZE};

/// How a DARE 2.0 stream is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealOptions {
    /// The cipher of every package; [`CipherSuite::preferred`] by default.
    pub cipher: CipherSuite,
    /// The 12-byte stream nonce; `None` (the default) draws it from the system RNG. A fixed
    /// nonce must never be used twice with the same key (MinIO fixes it only for multipart
    /// parts, whose keys are unique).
    pub nonce: Option<[u8; 12]>,
    /// The sequence number of the first package; 0 by default.
    pub sequence_number: u32,
}

impl Default for SealOptions {
    fn default() -> Self {
        Self {
            cipher: CipherSuite::preferred(),
            nonce: None,
            sequence_number: 0,
        }
    }
}

/// Buffers up to 64 KiB + 1 plaintext bytes: the extra byte tells whether more data follows,
/// i.e. whether the package to seal is the final one.
#[derive(Debug)]
pub(crate) struct EncryptCore {
    sealer: Sealer,
    /// Plaintext at `HEADER_SIZE..HEADER_SIZE + filled`; a sealed package while `out` is set.
    buf: Vec<u8>,
    filled: usize,
    eof: bool,
    out_start: usize,
    out_end: usize,
    /// The look-ahead byte moved to the next package once the current one is drained.
    carry: Option<u8>,
    done: bool,
}

/// The package sealer of a new stream: `options`' nonce or a random one.
pub(crate) fn sealer(key: &[u8; 32], options: &SealOptions) -> Result<Sealer, DareError> {
    let nonce = match options.nonce {
        Some(nonce) => nonce,
        None => {
            let mut nonce = [0u8; 12];
            aws_lc_rs::rand::fill(&mut nonce).map_err(|_| DareError::Random)?;
            nonce
        }
    };
    Sealer::new(key, options.cipher, nonce, options.sequence_number)
}

impl EncryptCore {
    pub(crate) fn new(key: &[u8; 32], options: &SealOptions) -> Result<Self, DareError> {
        Ok(Self {
            sealer: sealer(key, options)?,
            buf: vec![0u8; MAX_PACKAGE_SIZE],
            filled: 0,
            eof: false,
            out_start: 0,
            out_end: 0,
            carry: None,
            done: false,
        })
    }
}

impl Transform for EncryptCore {
    fn pending_output(&self) -> &[u8] {
        self.buf
            .get(self.out_start..self.out_end)
            .unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.out_start = self.out_end.min(self.out_start.saturating_add(n));
        if self.out_start == self.out_end
            && let Some(byte) = self.carry.take()
        {
            self.buf[HEADER_SIZE] = byte;
            self.filled = 1;
        }
    }

    fn is_done(&self) -> bool {
        self.done && self.out_start == self.out_end
    }

    fn needs_input(&self) -> bool {
        !self.done && !self.eof && self.out_start == self.out_end && self.filled <= MAX_PAYLOAD_SIZE
    }

    fn input_space(&mut self) -> &mut [u8] {
        let start = HEADER_SIZE + self.filled;
        self.buf
            .get_mut(start..HEADER_SIZE + MAX_PAYLOAD_SIZE + 1)
            .unwrap_or_default()
    }

    fn advance(&mut self, n: usize) {
        if n == 0 {
            self.eof = true;
        } else {
            self.filled = (self.filled + n).min(MAX_PAYLOAD_SIZE + 1);
        }
    }

    fn process(&mut self) -> Result<(), DareError> {
        if self.filled > MAX_PAYLOAD_SIZE {
            self.carry = Some(self.buf[HEADER_SIZE + MAX_PAYLOAD_SIZE]);
            self.sealer.seal(&mut self.buf[..MAX_PACKAGE_SIZE], false)?;
            self.out_end = MAX_PACKAGE_SIZE;
        } else if self.filled > 0 {
            let len = HEADER_SIZE + self.filled + TAG_SIZE;
            self.sealer.seal(&mut self.buf[..len], true)?;
            self.out_end = len;
            self.done = true;
        } else {
            // An empty plaintext is an empty stream, as in sio.
            self.done = true;
        }
        self.out_start = 0;
        self.filled = 0;
        Ok(())
    }
}

impl Drop for EncryptCore {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}
