//! What SSE-S3 and SSE-KMS share: an object key sealed under a fresh data key from the KMS,
//! and the metadata entries that record it (spec §6.1, §6.2, §6.5).

use super::context::Context;
use super::error::SseError;
use super::kms::KeyManager;
use super::metadata::{Metadata, write_kms_metadata};
use super::object_key::{ObjectKey, SseKind};

/// Where and under which KMS key and context an object key is sealed.
#[derive(Debug)]
pub(super) struct DekSeal<'a> {
    pub kind: SseKind,
    /// The KMS key; empty means the KMS's default key.
    pub key_id: &'a str,
    /// The context the data key is bound to.
    pub context: &'a Context,
    /// The client context stored with an SSE-KMS object (ignored for SSE-S3).
    pub stored_context: Option<&'a Context>,
    pub bucket: &'a str,
    pub object: &'a str,
}

impl DekSeal<'_> {
    /// Asks the KMS for a new data key, seals `oek` under it with a fresh IV — or, for `None`,
    /// a new object key derived from the data key (a PUT) — and writes the entries into
    /// `metadata`. Returns the object key.
    pub(super) async fn seal<K: KeyManager + ?Sized>(
        &self,
        kms: &K,
        oek: Option<ObjectKey>,
        metadata: &mut Metadata,
    ) -> Result<ObjectKey, SseError> {
        let dek = kms.generate_key(self.key_id, self.context).await?;
        let oek = match oek {
            Some(oek) => oek,
            None => ObjectKey::generate(&dek.plaintext)?,
        };
        let sealed = oek.seal(&dek.plaintext, self.kind, self.bucket, self.object)?;
        write_kms_metadata(
            metadata,
            self.kind,
            &dek.key_id,
            &dek.ciphertext,
            &sealed,
            self.stored_context,
        );
        Ok(oek)
    }
}
