//! Caller identities (spec §2.1).

use std::fmt;

use aws_lc_rs::digest;

/// A caller identity: the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of the caller's
/// certificate, or, when configured, any string (such as `disabled`) compared byte for byte.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity(String);

impl Identity {
    /// The identity of the certificate whose DER SubjectPublicKeyInfo is `spki`.
    pub fn from_spki_der(spki: &[u8]) -> Identity {
        Identity(hex::encode(digest::digest(&digest::SHA256, spki)))
    }

    /// The "unknown identity" of a caller without a certificate: the empty string.
    pub fn unknown() -> Identity {
        Identity(String::new())
    }

    /// Reports whether this is the unknown (empty) identity.
    pub fn is_unknown(&self) -> bool {
        self.0.is_empty()
    }

    /// The identity as a string, exactly as configured or computed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Takes a configured identity verbatim: no validation and no case normalisation.
impl From<String> for Identity {
    fn from(s: String) -> Identity {
        Identity(s)
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_spki() {
        // SPKI of the play server's Ed25519 key (spec §2.2).
        let spki = hex::decode(
            "302a300506032b6570032100bce7ef7e567e6487fe084ab3ee223d6ce264c9967625abfecaafa9e5be5b04b1",
        )
        .unwrap();
        let id = Identity::from_spki_der(&spki);
        assert_eq!(
            id.as_str(),
            "3ecfcdf38fcbe141ae26a1030f81e96b753365a46760ae6b578698a97c59fd22"
        );
        assert_eq!(id.to_string(), id.as_str());
        assert!(!id.is_unknown());
    }

    #[test]
    fn unknown_is_empty() {
        assert!(Identity::unknown().is_unknown());
        assert_eq!(Identity::unknown(), Identity::from(String::new()));
        assert_eq!(Identity::unknown().as_str(), "");
    }

    #[test]
    fn configured_identities_compare_exactly() {
        let lower = Identity::from(
            "3ecfcdf38fcbe141ae26a1030f81e96b753365a46760ae6b578698a97c59fd22".to_owned(),
        );
        let upper = Identity::from(lower.as_str().to_uppercase());
        assert_ne!(lower, upper);
        assert_eq!(Identity::from("disabled".to_owned()).as_str(), "disabled");
    }
}
