//! A KES-compatible key server and the `kes` command line.
//!
//! Layout:
//! - [`config`]: the KES YAML config file, parsed into validated types;
//! - [`startup`]: a validated config becomes a [`state::Server`] plus its TLS configuration;
//! - [`serve`]: the listener loop (TLS handshake, peer identity, HTTP/1.1 and HTTP/2);
//! - [`cache`]: parsed keys in front of the keystore, expiry timers and the health check;
//! - `api`: the route table, the request pipeline and the handlers, one file per route group;
//! - [`error`]: every API error with its exact KES status and message, in one place;
//! - `tls`, `pem`: server TLS configuration, client-certificate identity, PEM loading;
//! - `logs`, `metrics`: the error and audit logs and their streams, Prometheus metrics;
//! - [`cli`]: the `kes` command line; `main.rs` only parses arguments and calls it.
//!
//! Key material and ciphertext formats live in `kes-crypto`, keystores in `keystores`, and
//! identities and policies in `policies`.

pub mod api;
mod buildinfo;
pub mod cache;
pub mod cli;
pub mod config;
pub mod error;
mod keystore;
mod logs;
mod metrics;
mod mlock;
mod pem;
pub mod serve;
pub mod startup;
pub mod state;
mod sysinfo;
mod timefmt;
mod tls;

/// What the router needs to know about a request's connection (an extension on every request):
/// public so that the router can be driven without a TLS listener (the `api_request` fuzz target).
pub use tls::{Peer, PeerIdentity};
