//! S3 request header names and the lookup abstraction used by the parsers.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use super::error::SseRequestError;
use super::object_key::SseKind;

/// `X-Amz-Server-Side-Encryption`.
pub const SSE: &str = "X-Amz-Server-Side-Encryption";
/// `X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id`.
pub const SSE_KMS_KEY_ID: &str = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id";
/// `X-Amz-Server-Side-Encryption-Context`.
pub const SSE_KMS_CONTEXT: &str = "X-Amz-Server-Side-Encryption-Context";
/// `X-Amz-Server-Side-Encryption-Customer-Algorithm`.
pub const SSEC_ALGORITHM: &str = "X-Amz-Server-Side-Encryption-Customer-Algorithm";
/// `X-Amz-Server-Side-Encryption-Customer-Key`.
pub const SSEC_KEY: &str = "X-Amz-Server-Side-Encryption-Customer-Key";
/// `X-Amz-Server-Side-Encryption-Customer-Key-Md5`.
pub const SSEC_KEY_MD5: &str = "X-Amz-Server-Side-Encryption-Customer-Key-Md5";
/// `X-Amz-Copy-Source-Server-Side-Encryption-Customer-Algorithm`.
pub const SSEC_COPY_ALGORITHM: &str = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-Algorithm";
/// `X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key`.
pub const SSEC_COPY_KEY: &str = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key";
/// `X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key-Md5`.
pub const SSEC_COPY_KEY_MD5: &str = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key-Md5";
/// The SSE-S3 and SSE-C algorithm value.
pub const AES256: &str = "AES256";
/// The SSE-KMS algorithm value.
pub const AWS_KMS: &str = "aws:kms";
/// The prefix stripped from SSE-KMS key ids and added in responses.
pub const ARN_PREFIX: &str = "arn:aws:kms:";

/// Read access to request headers: the first value of a header, matched
/// case-insensitively. A present but empty header returns `Some("")`.
pub trait HeaderSource {
    /// The first value of `name`, if present.
    fn header(&self, name: &str) -> Option<&str>;
}

impl<S: BuildHasher> HeaderSource for HashMap<String, String, S> {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str).or_else(|| {
            self.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
    }
}

impl HeaderSource for BTreeMap<String, String> {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str).or_else(|| {
            self.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
    }
}

impl HeaderSource for [(&str, &str)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Which SSE type a PUT/COPY destination requests, if any.
///
/// # Errors
/// [`SseRequestError::IncompatibleEncryptionMethod`] when SSE-C headers come
/// with SSE-S3 or SSE-KMS headers.
pub fn requested_sse(h: &(impl HeaderSource + ?Sized)) -> Result<Option<SseKind>, SseRequestError> {
    let ssec = super::sse_c::is_requested(h);
    let s3 = super::sse_s3::is_requested(h);
    let kms = super::sse_kms::is_requested(h);
    match (ssec, s3, kms) {
        (true, false, false) => Ok(Some(SseKind::C)),
        (true, _, _) => Err(SseRequestError::IncompatibleEncryptionMethod),
        (false, true, _) => Ok(Some(SseKind::S3)),
        (false, false, true) => Ok(Some(SseKind::Kms)),
        (false, false, false) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_kinds() {
        let h: &[(&str, &str)] = &[("x-amz-server-side-encryption", "AES256")];
        assert_eq!(requested_sse(h), Ok(Some(SseKind::S3)));
        let h: &[(&str, &str)] = &[(SSE, "aws:kms")];
        assert_eq!(requested_sse(h), Ok(Some(SseKind::Kms)));
        let h: &[(&str, &str)] = &[(SSEC_KEY, "x")];
        assert_eq!(requested_sse(h), Ok(Some(SseKind::C)));
        let h: &[(&str, &str)] = &[(SSEC_KEY, "x"), (SSE, "AES256")];
        assert_eq!(
            requested_sse(h),
            Err(SseRequestError::IncompatibleEncryptionMethod)
        );
        let h: &[(&str, &str)] = &[];
        assert_eq!(requested_sse(h), Ok(None));
        let mut m = HashMap::new();
        m.insert("x-amz-server-side-encryption".to_owned(), String::new());
        assert_eq!(m.header(SSE), Some(""));
    }
}
