//! Secret configuration values: wiped from memory on drop, never printed.

use std::fmt;

use zeroize::Zeroizing;

/// A secret from the configuration (a password, token, API key or private key). It is zeroized
/// on drop and its `Debug` output is `[redacted]`.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

/// The `tls.password` that decrypts a legacy encrypted PEM private key.
pub type Password = Secret;

impl Secret {
    pub(super) fn new(text: Zeroizing<String>) -> Secret {
        Secret(text)
    }

    /// The secret text, for handing to the code that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::new(Zeroizing::new("hunter2".to_owned()));
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some([redacted])");
        assert_eq!(secret.expose(), "hunter2");
    }
}
