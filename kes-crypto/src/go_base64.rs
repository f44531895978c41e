//! Base64 decoding with the rules of Go's `base64.StdEncoding`, which wrote every base64 value
//! KES reads: standard alphabet, `=` padding required, `\r` and `\n` ignored anywhere, and
//! non-zero trailing bits accepted.

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes `input`, or returns `None` if it is not valid base64 under Go's rules.
///
/// The caller wraps the result in `Zeroizing` when it is secret; a copy made to drop line
/// breaks is zeroized here.
pub fn decode(input: &[u8]) -> Option<Vec<u8>> {
    if input.iter().any(|&c| c == b'\r' || c == b'\n') {
        let stripped: Zeroizing<Vec<u8>> = Zeroizing::new(
            input
                .iter()
                .copied()
                .filter(|&c| c != b'\r' && c != b'\n')
                .collect(),
        );
        GO_STD.decode(stripped.as_slice()).ok()
    } else {
        GO_STD.decode(input).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_required_and_line_breaks_ignored() {
        assert_eq!(decode(b"AAE="), Some(vec![0, 1]));
        assert_eq!(decode(b"AA\r\nE=\n"), Some(vec![0, 1]));
        assert_eq!(decode(b""), Some(vec![]));
        assert_eq!(decode(b"AAE"), None);
        assert_eq!(decode(b"AAE=="), None);
        assert_eq!(decode(b" AAE="), None);
        assert_eq!(decode(b"AA-_"), None);
    }

    #[test]
    fn trailing_bits_are_accepted_like_go() {
        // "AAF=" has non-zero bits after the last full byte; Go decodes it to [0, 1].
        assert_eq!(decode(b"AAF="), Some(vec![0, 1]));
    }
}
