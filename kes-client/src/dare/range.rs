//! Sizes and range reads: which packages hold a plaintext range, as MinIO computes it
//! (`GetDecryptedRange` in `cmd/encryption-v1.go`).

use super::decrypt::{DecryptOptions, Version};
use super::stream::decrypt_to_vec;
use super::{DareError, MAX_PACKAGE_SIZE, MAX_PAYLOAD_SIZE, PACKAGE_OVERHEAD};

const PAYLOAD: u64 = MAX_PAYLOAD_SIZE as u64;
const PACKAGE: u64 = MAX_PACKAGE_SIZE as u64;
const OVERHEAD: u64 = PACKAGE_OVERHEAD as u64;
const MAX_DECRYPTED_SIZE: u64 = 1 << 48;
const MAX_ENCRYPTED_SIZE: u64 = MAX_DECRYPTED_SIZE + (OVERHEAD << 32);

/// The DARE 2.0 stream size of `size` plaintext bytes (sio's `EncryptedSize`).
pub fn encrypted_size(size: u64) -> Result<u64, DareError> {
    if size > MAX_DECRYPTED_SIZE {
        return Err(DareError::SizeTooLarge);
    }
    let rest = size % PAYLOAD;
    Ok((size / PAYLOAD) * PACKAGE + if rest > 0 { rest + OVERHEAD } else { 0 })
}

/// The plaintext size of a DARE 2.0 stream of `size` bytes (sio's `DecryptedSize`); a trailing
/// package of at most 32 bytes is invalid.
pub fn decrypted_size(size: u64) -> Result<u64, DareError> {
    if size > MAX_ENCRYPTED_SIZE {
        return Err(DareError::SizeTooLarge);
    }
    let rest = size % PACKAGE;
    if rest > 0 && rest <= OVERHEAD {
        return Err(DareError::InvalidSize);
    }
    Ok((size / PACKAGE) * PAYLOAD + rest.saturating_sub(OVERHEAD))
}

/// Where a plaintext range lies in an encrypted (possibly multipart) object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangePlan {
    /// Index (0-based) of the part holding the first byte.
    pub part_index: usize,
    /// Offset of the first package to read, counted from the start of the whole object.
    pub encrypted_offset: u64,
    /// Encrypted bytes to read: whole packages up to the one holding the last byte.
    pub encrypted_length: u64,
    /// Plaintext bytes to drop from the first package.
    pub skip: u64,
    /// Sequence number of the first package inside its part.
    pub sequence_number: u32,
}

impl RangePlan {
    /// Options for decrypting the first part's stream from `encrypted_offset`, returning at most
    /// `length` bytes. If the range continues into later parts, each of those is read from its
    /// start with sequence number 0.
    pub fn decrypt_options(&self, length: u64) -> DecryptOptions {
        DecryptOptions {
            sequence_number: self.sequence_number,
            min_version: Version::V10,
            skip: self.skip,
            limit: Some(length),
        }
    }
}

/// Plans reading `length` plaintext bytes at `offset` of an object whose parts have the given
/// encrypted sizes (one entry for a single-part object). The range must be non-empty and lie
/// inside the object.
pub fn plan_range(
    encrypted_part_sizes: &[u64],
    offset: u64,
    length: u64,
) -> Result<RangePlan, DareError> {
    let sizes = encrypted_part_sizes
        .iter()
        .map(|&size| decrypted_size(size))
        .collect::<Result<Vec<u64>, DareError>>()?;
    let total = sizes
        .iter()
        .try_fold(0u64, |sum, &size| sum.checked_add(size));
    let end = offset.checked_add(length).ok_or(DareError::InvalidRange)?;
    if length == 0 || total.is_none_or(|total| end > total) {
        return Err(DareError::InvalidRange);
    }

    // Locate the part holding `offset`, and the plaintext and encrypted sizes before it.
    let (mut plain_before, mut enc_before) = (0u64, 0u64);
    let mut part_index = 0;
    for (index, (&plain, &enc)) in sizes.iter().zip(encrypted_part_sizes).enumerate() {
        part_index = index;
        if offset < plain_before + plain {
            break;
        }
        plain_before += plain;
        enc_before += enc;
    }
    let first_package = (offset - plain_before) / PAYLOAD;
    let skip = (offset - plain_before) % PAYLOAD;
    let encrypted_offset = enc_before + first_package * PACKAGE;

    // Locate the part and package holding the last byte.
    let last = end - 1;
    let mut last_part = part_index;
    for (index, (&plain, &enc)) in sizes
        .iter()
        .zip(encrypted_part_sizes)
        .enumerate()
        .skip(part_index)
    {
        last_part = index;
        if last < plain_before + plain {
            break;
        }
        plain_before += plain;
        enc_before += enc;
    }
    let last_package = (last - plain_before) / PAYLOAD;
    let part_end = enc_before + encrypted_part_sizes.get(last_part).copied().unwrap_or(0);
    let encrypted_end = (enc_before + (last_package + 1) * PACKAGE).min(part_end);

    Ok(RangePlan {
        part_index,
        encrypted_offset,
        encrypted_length: encrypted_end - encrypted_offset,
        skip,
        sequence_number: u32::try_from(first_package).map_err(|_| DareError::SizeTooLarge)?,
    })
}

/// Decrypts `length` bytes at plaintext `offset` of one in-memory DARE stream, opening only
/// the packages that hold the range.
pub fn decrypt_range_to_vec(
    key: &[u8; 32],
    stream: &[u8],
    offset: u64,
    length: u64,
) -> Result<Vec<u8>, DareError> {
    let plan = plan_range(&[stream.len() as u64], offset, length)?;
    let start = usize::try_from(plan.encrypted_offset).map_err(|_| DareError::InvalidRange)?;
    let len = usize::try_from(plan.encrypted_length).map_err(|_| DareError::InvalidRange)?;
    let packages = stream
        .get(start..start.saturating_add(len))
        .ok_or(DareError::InvalidRange)?;
    decrypt_to_vec(key, packages, &plan.decrypt_options(length))
}
