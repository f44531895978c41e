//! KES key material and its byte formats, compatible with MinIO KES.
//!
//! Everything the server needs to know about a key, without I/O: generating and importing keys,
//! the value a keystore holds in every era (base64 protobuf today, JSON before), encryption and
//! decryption of every ciphertext framing KES ever returned, and the HMAC endpoint's MAC. The
//! authority is `kes-formats.md` §1 – §4 and §7.
//!
//! Layout:
//! - [`KeyVersion`] (`key_version.rs`): a stored key, with the protobuf codec in
//!   `key_version/protobuf.rs` and the legacy JSON reader in `key_version/legacy_json.rs`;
//! - [`SecretKey`] (`secret_key.rs`): the 32-byte encryption key. `aead.rs` derives the
//!   per-message key (HMAC-SHA256 or `hchacha.rs`) and runs the AEAD;
//! - `ciphertext.rs`: format detection for decryption, with the legacy framings in
//!   `ciphertext/msgpack.rs` and `ciphertext/json.rs`;
//! - [`HmacKey`] (`hmac_key.rs`), [`KeyType`] (`key_type.rs`), [`Error`] (`error.rs`);
//! - `go_base64.rs`: base64 decoding with the rules of Go, which wrote every stored value.
//!
//! All secret bytes live in types that are zeroized on drop and redacted in `Debug`.

mod aead;
mod ciphertext;
mod error;
pub mod go_base64;
mod hchacha;
mod hmac_key;
mod key_type;
mod key_version;
mod secret_key;

#[cfg(test)]
mod vector_tests;

pub use error::{Error, FormatError};
pub use hchacha::hchacha20;
pub use hmac_key::HmacKey;
pub use key_type::KeyType;
pub use key_version::KeyVersion;
pub use secret_key::SecretKey;
