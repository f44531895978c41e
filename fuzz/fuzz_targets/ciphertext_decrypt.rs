//! Ciphertext parsing and decryption, all three layouts (raw, msgpack, JSON), with typed keys of
//! both algorithms and an untyped legacy key. Input: `key selector ‖ AD length ‖ AD ‖ ciphertext`.
//! Also checks that whatever is encrypted decrypts to itself.
#![no_main]

use std::sync::LazyLock;

use kes_crypto::KeyVersion;
use libfuzzer_sys::fuzz_target;

/// The keys the vectors use (`/work/shared/vectors/kes.json`), as stored values.
const STORED: [&str; 5] = [
    r#"{"bytes":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","algorithm":"AES256-GCM_SHA256"}"#,
    r#"{"bytes":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","algorithm":"XCHACHA20-POLY1305"}"#,
    r#"{"bytes":"dDHbTWgo+Yh3u804SYB5OyVMy6RiLeJYBQth1f6KlEU=","algorithm":"AES256-GCM_SHA256"}"#,
    r#"{"bytes":"dDHbTWgo+Yh3u804SYB5OyVMy6RiLeJYBQth1f6KlEU=","algorithm":"XCHACHA20-POLY1305"}"#,
    // Untyped (KES before v0.19.2): ChaCha20 is tried first for a structured ciphertext.
    r#"{"bytes":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}"#,
];

static KEYS: LazyLock<Vec<KeyVersion>> = LazyLock::new(|| {
    STORED
        .iter()
        .map(|s| KeyVersion::parse(s.as_bytes()).expect("fixed stored key parses"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let [selector, ad_len, rest @ ..] = data else {
        return;
    };
    let key = &KEYS[usize::from(*selector) % KEYS.len()];
    let (ad, ciphertext) = rest.split_at(usize::from(*ad_len).min(rest.len()));
    let _ = key.decrypt(ciphertext, ad);

    let sealed = key.encrypt(ciphertext, ad).expect("encryption never fails");
    let opened = key.decrypt(&sealed, ad).expect("own ciphertext decrypts");
    assert_eq!(&opened[..], ciphertext);
});
