//! Stored-key decoding: base64 protobuf (today) and every JSON era. Whatever parses must encode
//! and parse back to the same key.
#![no_main]

use kes_crypto::KeyVersion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = KeyVersion::parse(data) else {
        return;
    };
    let _ = key.hmac(data);
    let _ = key.decrypt(data, b"");
    // Legacy JSON keys have no HMAC key and are never re-encoded (decision F4).
    if key.hmac_key().is_none() {
        assert!(key.encode().is_err());
        return;
    }
    let encoded = key.encode().expect("a parsed key with an HMAC key encodes");
    let again = KeyVersion::parse(encoded.as_bytes()).expect("an encoded key parses");
    assert_eq!(again.key().key_type(), key.key().key_type());
    assert_eq!(again.created_by(), key.created_by());
    let sealed = key.encrypt(b"fuzz", b"ad").expect("encryption never fails");
    let opened = again
        .decrypt(&sealed, b"ad")
        .expect("the re-parsed key decrypts");
    assert_eq!(&opened[..], b"fuzz");
});
