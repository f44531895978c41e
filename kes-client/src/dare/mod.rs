//! DARE, MinIO's "Data At Rest Encryption" format (minio/sio v0.4.1), byte-compatible.
//!
//! A stream is a sequence of packages `header(16) ‖ ciphertext(1..=64 KiB) ‖ tag(16)`.
//! DARE 2.0 is written and read (AES-256-GCM or ChaCha20-Poly1305, one random nonce per
//! stream, a final-package flag); DARE 1.0 is read only. Layout:
//!
//! - `package`: sealing and opening one package, with sio's checks and errors;
//! - `encrypt`, `decrypt`: I/O-free state machines that hold at most one package;
//! - `stream`: `std::io::Read` adapters and the `encrypt_to_vec`/`decrypt_to_vec` helpers;
//! - `tokio_io`: the same adapters for `tokio::io::AsyncRead`;
//! - `range`: stream sizes and which packages a plaintext range needs (MinIO's range reads);
//! - `cipher`, `error`: cipher suites and [`DareError`].

mod cipher;
mod decrypt;
mod encrypt;
mod error;
mod package;
mod range;
mod stream;
mod tokio_io;
mod transform;

#[cfg(test)]
mod tests;

pub use cipher::CipherSuite;
pub use decrypt::{DecryptOptions, Version};
pub use encrypt::SealOptions;
pub use error::DareError;
pub use range::{RangePlan, decrypt_range_to_vec, decrypted_size, encrypted_size, plan_range};
pub use stream::{DecryptReader, EncryptReader, decrypt_to_vec, encrypt_to_vec};
pub use tokio_io::{AsyncDecryptReader, AsyncEncryptReader};

/// Size of a package header.
pub const HEADER_SIZE: usize = 16;
/// Size of a package's authentication tag.
pub const TAG_SIZE: usize = 16;
/// Bytes a package adds to its payload.
pub const PACKAGE_OVERHEAD: usize = HEADER_SIZE + TAG_SIZE;
/// The payload of every non-final DARE 2.0 package, and the most any package carries.
pub const MAX_PAYLOAD_SIZE: usize = 1 << 16;
/// Size of a full package.
pub const MAX_PACKAGE_SIZE: usize = MAX_PAYLOAD_SIZE + PACKAGE_OVERHEAD;
