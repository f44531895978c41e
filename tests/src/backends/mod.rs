//! Real keystore backends started by the tests on 127.0.0.1 (`backends.md`): one module per
//! backend, each with a handle that starts the server, tells how to reach it, and stops it on
//! drop. Starting a backend that is missing or broken panics with the reason: the full suite
//! never skips a backend. `scripts/install-peers` installs every backend used here.

pub mod kv_stub;
pub mod minio;
pub mod moto;
pub mod openbao;
pub mod postgres;

use std::process::Command;

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// The standard output of `cmd`, which must succeed.
pub(crate) fn run_output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|err| panic!("{cmd:?}: {err}"));
    assert!(out.status.success(), "{cmd:?} failed");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The per-user cache `scripts/install-peers` installs backends into (`$KES_PEERS_CACHE`, or
/// `~/.cache/kes-rs`).
pub fn peers_cache() -> std::path::PathBuf {
    match std::env::var_os("KES_PEERS_CACHE") {
        Some(dir) => dir.into(),
        None => {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".cache/kes-rs")
        }
    }
}
