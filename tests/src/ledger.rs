//! The secrets ledger: every plaintext, ciphertext and imported key that a [`Client`](crate::Client)
//! sends or receives is appended to the file `$KES_TEST_SECRETS`, one per line, when that
//! variable is set. The test command (`scripts/test`) then searches everything the test suite
//! printed — our servers' error and audit logs included — for any of them: no log may ever
//! contain key material, plaintext or ciphertext.

use std::io::Write as _;
use std::sync::Mutex;

use serde_json::Value;

/// The JSON fields that carry secrets in KES request and response bodies.
const SECRET_FIELDS: &[&str] = &["plaintext", "ciphertext", "bytes"];

/// Values shorter than this are too short to find reliably in logs (`""`, `"AAAA"`) and are
/// never real keys or data keys.
const MIN_LEN: usize = 16;

/// Longer values are the oversized bodies of the hostile-input tests, not secrets.
const MAX_LEN: usize = 4096;

/// Whether `s` looks like real key material or data rather than filler such as `"AAAA…"`.
fn is_secret(s: &str) -> bool {
    let mut distinct: Vec<char> = s.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    (MIN_LEN..=MAX_LEN).contains(&s.len()) && distinct.len() >= 8
}

static FILE: Mutex<()> = Mutex::new(());

/// Records the secret fields of a JSON body (or of a JSON array of them); other bodies are
/// ignored. Does nothing unless `$KES_TEST_SECRETS` is set.
pub fn record(body: &[u8]) {
    let Some(path) = std::env::var_os("KES_TEST_SECRETS") else {
        return;
    };
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut secrets = Vec::new();
    collect(&json, &mut secrets);
    if secrets.is_empty() {
        return;
    }
    let _guard = FILE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|err| panic!("cannot open $KES_TEST_SECRETS {path:?}: {err}"));
    let lines: String = secrets.iter().map(|s| format!("{s}\n")).collect();
    file.write_all(lines.as_bytes()).unwrap();
}

fn collect(json: &Value, out: &mut Vec<String>) {
    match json {
        Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(s) if SECRET_FIELDS.contains(&key.as_str()) && is_secret(s) => {
                        out.push(s.clone());
                    }
                    Value::Array(_) | Value::Object(_) => collect(value, out),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_secret_fields_at_any_depth() {
        let json: Value = serde_json::from_str(
            r#"[{"ciphertext":"Y2lwaGVydGV4dC1vbmUtdHdv","context":"bm90LWEtc2VjcmV0LXZhbHVl"},
                {"nested":{"plaintext":"cGxhaW50ZXh0LWJ5dGVzLTE="}}, {"bytes":"short"},
                {"plaintext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
                {"name":"a-key-name-that-is-long"}]"#,
        )
        .unwrap();
        let mut out = Vec::new();
        collect(&json, &mut out);
        assert_eq!(
            out,
            ["Y2lwaGVydGV4dC1vbmUtdHdv", "cGxhaW50ZXh0LWJ5dGVzLTE="]
        );
    }
}
