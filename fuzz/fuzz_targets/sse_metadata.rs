//! MinIO object metadata: SSE-S3, SSE-KMS and SSE-C internal entries, the KMS context, sealed
//! keys and sealed ETags. Input: a JSON object of strings (the metadata). A metadata set that
//! parses is unsealed with the vectors' keys (`derived.sse_s3` and `derived.sse_c` in
//! `/work/shared/vectors/minio.json`), and every value is tried as a sealed ETag.
#![no_main]

use kes_client::sse::metadata::{
    self, encryption_of, parse_kms_metadata, parse_ssec_metadata, remove_internal_entries,
};
use kes_client::sse::{Context, ObjectKey, SseKind, etag};
use libfuzzer_sys::fuzz_target;

/// The SSE-S3 DEK of `derived.sse_s3` (its external key).
const DEK: [u8; 32] = [
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
];
/// The SSE-C client key of `derived.sse_c`.
const CLIENT_KEY: &[u8; 32] = b"32byteslongsecretkeymustprovided";

fuzz_target!(|data: &[u8]| {
    let _ = Context::from_json(data);
    let Ok(mut metadata) = serde_json::from_slice::<metadata::Metadata>(data) else {
        return;
    };
    let _ = encryption_of(&metadata);
    for kind in [SseKind::S3, SseKind::Kms] {
        if let Ok(parsed) = parse_kms_metadata(&metadata, kind) {
            if let Ok(oek) = ObjectKey::unseal(&DEK, &parsed.sealed_key, kind, "bucket", "object") {
                for value in metadata.values() {
                    let _ = etag::decrypt_etag(&oek, value);
                }
            }
        }
    }
    if let Ok(sealed) = parse_ssec_metadata(&metadata) {
        let _ = ObjectKey::unseal(CLIENT_KEY, &sealed, SseKind::C, "bucket", "object");
    }
    let oek = ObjectKey::from_bytes(DEK);
    for value in metadata.values() {
        let _ = etag::is_etag_sealed(value.as_bytes());
        let _ = etag::decrypt_etag(&oek, value);
    }
    remove_internal_entries(&mut metadata);
    assert!(!metadata.contains_key(metadata::META_IV));
    assert!(!metadata.contains_key(metadata::META_ALGORITHM));
});
