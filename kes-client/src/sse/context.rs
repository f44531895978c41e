//! The KMS associated-data context (`kms.Context`) and Go's `path.Join`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A string-to-string map bound to every KMS ciphertext as associated data.
///
/// Keys are kept sorted by byte order, which is the order of the canonical
/// encoding (spec §3.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context(BTreeMap<String, String>);

impl Context {
    /// An empty context; it encodes as `{}`.
    #[must_use]
    pub fn new() -> Self {
        Self(BTreeMap::new())
    }

    /// Inserts or replaces an entry.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// The value stored under `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether an entry with `key` exists.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Whether the context has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The entries in canonical (byte) order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The context MinIO binds to an SSE-S3 DEK: `{bucket: path.Join(bucket, object)}`.
    #[must_use]
    pub fn for_object(bucket: &str, object: &str) -> Self {
        let mut ctx = Self::new();
        ctx.insert(bucket, path_join(bucket, object));
        ctx
    }

    /// The context of a bucket's remote-target metadata:
    /// `{bucket: bucket, "bucket-targets.json": "bucket-targets.json"}`.
    #[must_use]
    pub fn for_bucket_targets(bucket: &str) -> Self {
        let mut ctx = Self::new();
        ctx.insert(bucket, bucket);
        ctx.insert("bucket-targets.json", "bucket-targets.json");
        ctx
    }

    /// The canonical bytes (`kms.Context.MarshalText`): `{}` when empty, else
    /// compact JSON with sorted keys and Go's HTML-safe string escaping.
    #[must_use]
    pub fn to_canonical_json(&self) -> Vec<u8> {
        let mut out = String::with_capacity(2 + 8 * self.0.len());
        out.push('{');
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(&mut out, k);
            out.push(':');
            write_json_string(&mut out, v);
        }
        out.push('}');
        out.into_bytes()
    }

    /// Parses a JSON object of strings to strings, as found in the SSE-KMS
    /// context header and the stored `…-Context` metadata. JSON `null` gives `None`.
    ///
    /// # Errors
    /// The `serde_json` error text when `json` is not such an object.
    pub fn from_json(json: &[u8]) -> Result<Option<Self>, String> {
        serde_json::from_slice::<Option<BTreeMap<String, String>>>(json)
            .map(|m| m.map(Self))
            .map_err(|e| e.to_string())
    }
}

impl FromIterator<(String, String)> for Context {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Context {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }
}

/// Writes `s` as a JSON string the way Go's `encoding/json` does with HTML
/// escaping on. Rust strings are valid UTF-8, so the `\ufffd` replacement of
/// invalid bytes cannot arise here.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `path.Join(bucket, object)`: joins the non-empty elements with `/` and
/// cleans the result (collapses slashes, drops `.`, resolves `..`, drops a
/// trailing slash). Returns the empty string when both are empty.
#[must_use]
pub fn path_join(bucket: &str, object: &str) -> String {
    let joined = match (bucket.is_empty(), object.is_empty()) {
        (true, true) => return String::new(),
        (false, true) => bucket.to_owned(),
        (true, false) => object.to_owned(),
        (false, false) => format!("{bucket}/{object}"),
    };
    clean(&joined)
}

/// Go's `path.Clean` (lexical).
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for elem in path.split('/') {
        match elem {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            e => parts.push(e),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::test_vectors::vectors;

    #[test]
    fn context_encoding_vectors() {
        let v = vectors();
        let cases = v["derived"]["context_encoding"].as_array().unwrap();
        assert!(!cases.is_empty());
        for case in cases {
            let ctx: Context = case["context"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let want = hex::decode(case["canonical_hex"].as_str().unwrap()).unwrap();
            assert_eq!(ctx.to_canonical_json(), want, "{}", case["id"]);
            assert_eq!(
                ctx.to_canonical_json(),
                case["canonical"].as_str().unwrap().as_bytes()
            );
        }
    }

    #[test]
    fn escaping_edge_cases() {
        let ctx: Context = [("a\"\\", "<>&\u{1f}")].into_iter().collect();
        assert_eq!(
            ctx.to_canonical_json(),
            br#"{"a\"\\":"\u003c\u003e\u0026\u001f"}"#
        );
        assert_eq!(Context::new().to_canonical_json(), b"{}");
    }

    #[test]
    fn path_join_vectors() {
        let v = vectors();
        for case in v["derived"]["path_join_bucket_object"]["cases"]
            .as_array()
            .unwrap()
        {
            let got = path_join(
                case["bucket"].as_str().unwrap(),
                case["object"].as_str().unwrap(),
            );
            assert_eq!(got, case["joined"].as_str().unwrap(), "{}", case["id"]);
        }
        assert_eq!(path_join("", ""), "");
        assert_eq!(path_join("b", "../../x"), "../x");
        assert_eq!(path_join("/b", "../../x"), "/x");
    }

    #[test]
    fn from_json() {
        assert_eq!(Context::from_json(b"null").unwrap(), None);
        let ctx = Context::from_json(br#"{"bucket": "some-bucket"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(ctx.get("bucket"), Some("some-bucket"));
        assert!(Context::from_json(br#"{"bucket": 1}"#).is_err());
        assert!(Context::from_json(br#"{"bucket": "x""#).is_err());
    }
}
