//! Ciphertext seal/open (the work of one generate/decrypt request) and stored-key decoding (the
//! work of one key-cache miss).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use kes_crypto::{KeyType, KeyVersion};
use std::hint::black_box;

const CONTEXT: &[u8] = b"{\"bucket\":\"photos\",\"object\":\"2026/11/cat.jpg\"}";

fn ciphertext(c: &mut Criterion) {
    for key_type in [KeyType::Aes256, KeyType::ChaCha20] {
        let key = KeyVersion::generate(key_type, "bench").unwrap();
        let dek = [7u8; 32];
        let sealed = key.encrypt(&dek, CONTEXT).unwrap();
        let name = key_type.name();
        c.bench_function(&format!("ciphertext seal 32 B ({name})"), |b| {
            b.iter(|| key.encrypt(black_box(&dek), black_box(CONTEXT)).unwrap())
        });
        c.bench_function(&format!("ciphertext open 32 B ({name})"), |b| {
            b.iter(|| key.decrypt(black_box(&sealed), black_box(CONTEXT)).unwrap())
        });
    }
}

fn stored_key(c: &mut Criterion) {
    let key = KeyVersion::generate(KeyType::Aes256, "bench").unwrap();
    let stored = key.encode().unwrap();
    c.bench_function("stored key decode", |b| {
        b.iter(|| KeyVersion::parse(black_box(stored.as_bytes())).unwrap())
    });
    c.bench_function("stored key encode", |b| b.iter(|| key.encode().unwrap()));
}

criterion_group!(benches, ciphertext, stored_key);
criterion_main!(benches);
