//! DARE throughput against the machine's raw AES-256-GCM throughput on one core (the physical
//! ceiling: DARE is AES-256-GCM over 64 KiB packages plus a 32-byte header and tag each), and
//! SSE-S3 object-key seal/unseal.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kes_client::dare::{self, CipherSuite, DecryptOptions, SealOptions};
use kes_client::sse::{ObjectKey, SealedKey, SseKind};
use std::hint::black_box;

const SIZE: usize = 4 << 20;
const PACKAGE: usize = 64 << 10;

fn throughput(c: &mut Criterion) {
    let key = [9u8; 32];
    let plaintext = vec![0x5au8; SIZE];
    let mut group = c.benchmark_group("aes-256-gcm 4 MiB");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(20);

    // The ceiling: seal 64 KiB chunks in place, no framing, no allocation.
    let raw = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).unwrap());
    let mut buf = plaintext.clone();
    group.bench_function("raw aws-lc-rs seal (64 KiB chunks)", |b| {
        b.iter(|| {
            for (i, chunk) in buf.chunks_mut(PACKAGE).enumerate() {
                let mut nonce = [0u8; 12];
                nonce[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let tag = raw
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::empty(),
                        chunk,
                    )
                    .unwrap();
                let _ = black_box(tag);
            }
        })
    });

    let seal = SealOptions {
        cipher: CipherSuite::Aes256Gcm,
        ..SealOptions::default()
    };
    group.bench_function("DARE encrypt", |b| {
        b.iter(|| dare::encrypt_to_vec(&key, black_box(&plaintext), &seal).unwrap())
    });
    let sealed = dare::encrypt_to_vec(&key, &plaintext, &seal).unwrap();
    let open = DecryptOptions::default();
    group.bench_function("DARE decrypt", |b| {
        b.iter(|| dare::decrypt_to_vec(&key, black_box(&sealed), &open).unwrap())
    });
    group.finish();
}

fn sse_s3(c: &mut Criterion) {
    let external = [3u8; 32];
    let oek = ObjectKey::generate(&external).unwrap();
    let sealed: SealedKey = oek
        .seal(&external, SseKind::S3, "photos", "2026/11/cat.jpg")
        .unwrap();
    c.bench_function("SSE-S3 object key generate+seal", |b| {
        b.iter(|| {
            ObjectKey::generate(black_box(&external))
                .unwrap()
                .seal(&external, SseKind::S3, "photos", "2026/11/cat.jpg")
                .unwrap()
        })
    });
    c.bench_function("SSE-S3 object key unseal", |b| {
        b.iter(|| {
            ObjectKey::unseal(
                black_box(&external),
                &sealed,
                SseKind::S3,
                "photos",
                "2026/11/cat.jpg",
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, throughput, sse_s3);
criterion_main!(benches);
