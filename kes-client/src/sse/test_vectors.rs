//! Test helpers: the shared vector file and small converters.

use std::sync::OnceLock;

use serde_json::Value;

use super::builtin_kms::BuiltinKms;
use super::metadata::Metadata;

/// The parsed `shared/vectors/minio.json`.
pub(crate) fn vectors() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/minio.json"
        );
        let text = std::fs::read_to_string(path).expect("read minio.json");
        serde_json::from_str(&text).expect("parse minio.json")
    })
}

/// Hex to a fixed-size array.
pub(crate) fn hex_arr<const N: usize>(s: &str) -> [u8; N] {
    hex::decode(s).expect("hex").try_into().expect("length")
}

/// A JSON object of strings as a metadata map.
pub(crate) fn to_meta(v: &Value) -> Metadata {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
        .collect()
}

/// The builtin KMS of the derived worked examples.
pub(crate) fn builtin(v: &Value) -> BuiltinKms {
    BuiltinKms::parse(
        v["derived"]["builtin_generate"]["secret_key_env"]
            .as_str()
            .expect("env"),
    )
    .expect("secret key")
}
