//! Policy match: the authorization check every non-admin request runs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use policies::{Identity, PolicyDef, PolicySet};
use std::hint::black_box;

fn policy_match(c: &mut Criterion) {
    let minio = Identity::from("a".repeat(64));
    let other = Identity::from("b".repeat(64));
    let set = PolicySet::new(
        Identity::from("c".repeat(64)),
        vec![
            PolicyDef {
                name: "minio".to_owned(),
                allow: vec![
                    "/v1/key/create/minio-*".to_owned(),
                    "/v1/key/generate/minio-*".to_owned(),
                    "/v1/key/decrypt/minio-*".to_owned(),
                    "/v1/key/bulk/decrypt/minio-*".to_owned(),
                    "/v1/key/list/*".to_owned(),
                    "/v1/status".to_owned(),
                    "/v1/metrics".to_owned(),
                ],
                deny: vec!["/v1/key/decrypt/minio-secret-*".to_owned()],
                identities: vec![minio.clone()],
            },
            PolicyDef {
                name: "other".to_owned(),
                allow: vec!["/v1/key/describe/*".to_owned()],
                deny: vec![],
                identities: vec![other],
            },
        ],
    )
    .unwrap();
    c.bench_function("policy match: allowed", |b| {
        b.iter(|| {
            assert!(set.authorize(
                black_box(&minio),
                black_box("/v1/key/decrypt/minio-default-key")
            ))
        })
    });
    c.bench_function("policy match: denied", |b| {
        b.iter(|| {
            assert!(!set.authorize(
                black_box(&minio),
                black_box("/v1/key/decrypt/minio-secret-key")
            ))
        })
    });
}

criterion_group!(benches, policy_match);
criterion_main!(benches);
