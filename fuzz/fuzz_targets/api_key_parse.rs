//! API-key parsing (`kes:v1:` text). A parsed key prints back to a text that parses to the same
//! identity, and its `Debug` output never shows the text.
#![no_main]

use kes_client::ApiKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = ApiKey::parse(text) else {
        return;
    };
    let printed = key.to_text();
    let again = ApiKey::parse(&printed).expect("a printed key parses");
    assert_eq!(again.identity(), key.identity());
    assert_eq!(again.public_key(), key.public_key());
    let debug = format!("{key:?}");
    assert!(
        !debug.contains(printed.trim_start_matches("kes:v1:")),
        "Debug shows the key"
    );
});
