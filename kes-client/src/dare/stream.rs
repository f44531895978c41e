//! Blocking adapters (`std::io::Read`) and whole-buffer helpers.

use std::io::{self, Read};

use zeroize::Zeroize as _;

use super::cipher::Keys;
use super::decrypt::{DecryptCore, DecryptOptions};
use super::encrypt::{EncryptCore, SealOptions};
use super::package::{OpenerV20, VERSION_20};
use super::transform::Transform;
use super::{DareError, HEADER_SIZE, MAX_PACKAGE_SIZE};

/// Either an error of the wrapped reader or a DARE failure.
enum Failure {
    Io(io::Error),
    Dare(DareError),
}

impl From<Failure> for io::Error {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Io(err) => err,
            Failure::Dare(err) => err.into(),
        }
    }
}

/// Drives `core` until `dst` receives bytes or the stream ends. DARE failures are sticky
/// (recorded in `failed`); errors of the source are not, so the caller may retry.
fn drive<T: Transform>(
    core: &mut T,
    failed: &mut Option<DareError>,
    dst: &mut [u8],
    mut fill: impl FnMut(&mut [u8]) -> io::Result<usize>,
) -> Result<usize, Failure> {
    if let Some(err) = *failed {
        return Err(Failure::Dare(err));
    }
    if dst.is_empty() {
        return Ok(0);
    }
    loop {
        let out = core.pending_output();
        if !out.is_empty() {
            let n = out.len().min(dst.len());
            dst[..n].copy_from_slice(&out[..n]);
            core.consume(n);
            return Ok(n);
        }
        if core.is_done() {
            return Ok(0);
        }
        if core.needs_input() {
            let n = fill(core.input_space()).map_err(Failure::Io)?;
            core.advance(n);
        } else if let Err(err) = core.process() {
            *failed = Some(err);
            return Err(Failure::Dare(err));
        }
    }
}

/// Reads from `src`, retrying on `Interrupted`.
fn read_retrying(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match src.read(buf) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Runs a whole in-memory input through `core`.
fn transform_slice<T: Transform>(
    core: &mut T,
    mut input: &[u8],
    capacity: usize,
) -> Result<Vec<u8>, DareError> {
    // Output goes straight from the core's buffer into `output` and input straight from the
    // slice into the core: one copy each way, no bounce buffer.
    let mut output = Vec::with_capacity(capacity);
    loop {
        let out = core.pending_output();
        if !out.is_empty() {
            output.extend_from_slice(out);
            let n = out.len();
            core.consume(n);
            continue;
        }
        if core.is_done() {
            return Ok(output);
        }
        if core.needs_input() {
            let space = core.input_space();
            // An empty read is the end of the input, as `Read` reports it.
            let n = space.len().min(input.len());
            space[..n].copy_from_slice(&input[..n]);
            input = &input[n..];
            core.advance(n);
        } else {
            core.process()?;
        }
    }
}

/// Encrypts `plaintext` into a DARE 2.0 stream held in memory.
pub fn encrypt_to_vec(
    key: &[u8; 32],
    plaintext: &[u8],
    options: &SealOptions,
) -> Result<Vec<u8>, DareError> {
    // The whole plaintext is at hand: each package is copied once into the output and sealed
    // there, in place. The packages are those `EncryptReader` produces.
    let size = super::encrypted_size(plaintext.len() as u64)?;
    let mut sealer = super::encrypt::sealer(key, options)?;
    let mut output = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let packages = plaintext.len().div_ceil(super::MAX_PAYLOAD_SIZE);
    for (i, payload) in plaintext.chunks(super::MAX_PAYLOAD_SIZE).enumerate() {
        let start = output.len();
        output.resize(start + super::HEADER_SIZE, 0);
        output.extend_from_slice(payload);
        output.resize(output.len() + super::TAG_SIZE, 0);
        if let Err(err) = sealer.seal(&mut output[start..], i + 1 == packages) {
            output.zeroize();
            return Err(err);
        }
    }
    Ok(output)
}

/// Decrypts a whole DARE 2.0 or 1.0 stream held in memory; an empty input is an empty
/// plaintext. Nothing is returned unless the entire stream (or the `limit`ed range) verified.
pub fn decrypt_to_vec(
    key: &[u8; 32],
    ciphertext: &[u8],
    options: &DecryptOptions,
) -> Result<Vec<u8>, DareError> {
    if ciphertext.first() == Some(&VERSION_20) && options.skip == 0 && options.limit.is_none() {
        return decrypt_v20_to_vec(key, ciphertext, options.sequence_number);
    }
    let mut core = DecryptCore::new(key, options)?;
    transform_slice(&mut core, ciphertext, ciphertext.len())
}

/// [`decrypt_to_vec`] of a whole DARE 2.0 stream: each package's payload and tag are copied
/// once, into the output, and opened there in place (the streaming core copies each package
/// into its buffer and the plaintext out again). Packages, checks and errors are the core's:
/// the input is cut into whole packages and a missing final package is `UnexpectedEof`.
fn decrypt_v20_to_vec(
    key: &[u8; 32],
    ciphertext: &[u8],
    sequence_number: u32,
) -> Result<Vec<u8>, DareError> {
    let mut opener = OpenerV20::new(Keys::new(key)?, sequence_number);
    let mut output = Vec::with_capacity(ciphertext.len());
    let mut opened = || -> Result<(), DareError> {
        for package in ciphertext.chunks(MAX_PACKAGE_SIZE) {
            let (header, body) = package.split_at(HEADER_SIZE.min(package.len()));
            let start = output.len();
            output.extend_from_slice(body);
            let payload_len = opener.open_split(header, &mut output[start..])?;
            output.truncate(start + payload_len);
        }
        if opener.is_finalized() {
            Ok(())
        } else {
            Err(DareError::UnexpectedEof)
        }
    };
    match opened() {
        Ok(()) => Ok(output),
        Err(err) => {
            // The plaintext of the packages before the failure is not returned; wipe it.
            output.zeroize();
            Err(err)
        }
    }
}

/// A `Read` adapter that encrypts everything read from `R` as one DARE 2.0 stream, holding at
/// most one package in memory.
#[derive(Debug)]
pub struct EncryptReader<R> {
    inner: R,
    core: EncryptCore,
    failed: Option<DareError>,
}

impl<R: Read> EncryptReader<R> {
    /// Wraps `inner`; fails only if the nonce cannot be drawn or the key cannot be set up.
    pub fn new(inner: R, key: &[u8; 32], options: &SealOptions) -> Result<Self, DareError> {
        Ok(Self {
            inner,
            core: EncryptCore::new(key, options)?,
            failed: None,
        })
    }

    /// Returns the wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for EncryptReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        Ok(drive(&mut self.core, &mut self.failed, buf, |space| {
            read_retrying(inner, space)
        })?)
    }
}

/// A `Read` adapter that decrypts a DARE 2.0 or 1.0 stream read from `R`, one package at a
/// time. Plaintext of a package is only returned after its tag verified; a DARE failure is an
/// `io::Error` wrapping a [`DareError`] (see [`DareError::from_io`]) and repeats on every
/// later call.
#[derive(Debug)]
pub struct DecryptReader<R> {
    inner: R,
    core: DecryptCore,
    failed: Option<DareError>,
}

impl<R: Read> DecryptReader<R> {
    /// Wraps `inner`, which must be positioned at the first package to read.
    pub fn new(inner: R, key: &[u8; 32], options: &DecryptOptions) -> Result<Self, DareError> {
        Ok(Self {
            inner,
            core: DecryptCore::new(key, options)?,
            failed: None,
        })
    }

    /// Returns the wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for DecryptReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        Ok(drive(&mut self.core, &mut self.failed, buf, |space| {
            read_retrying(inner, space)
        })?)
    }
}
