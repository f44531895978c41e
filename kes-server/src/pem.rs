//! PEM loading for certificates and private keys; the implementation lives in
//! [`kes_client::pem`] so that the server and the client share one legacy-PEM decryptor.

pub use kes_client::pem::{encode, load_ca_certificates, load_certificates, load_private_key};
