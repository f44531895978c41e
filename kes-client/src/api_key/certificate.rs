//! The self-signed client certificate of an API key (spec §2.2) and the identity of any
//! certificate (spec §2.1).

use std::fmt;

use aws_lc_rs::signature::Ed25519KeyPair;
use policies::Identity;
use rcgen::string::PrintableString;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, KeyUsagePurpose, PKCS_ED25519, SerialNumber,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::error::ApiKeyError;

/// How long a generated client certificate is valid.
const VALIDITY: Duration = Duration::days(90);

/// Length of the random serial number: 128 bits.
const SERIAL_LEN: usize = 16;

/// OID of the basicConstraints extension.
const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];

/// DER of basicConstraints with `cA` FALSE (the default, hence omitted): an empty SEQUENCE.
const NOT_A_CA: [u8; 2] = [0x30, 0x00];

/// A client certificate and its private key, ready for a TLS client configuration.
pub struct ClientCertificate {
    /// The DER X.509 certificate.
    pub cert_der: CertificateDer<'static>,
    /// The PKCS#8 (v1) Ed25519 private key.
    pub key_der: PrivateKeyDer<'static>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("cert_der", &self.cert_der)
            .field("key_der", &"[redacted]")
            .finish()
    }
}

/// Builds the certificate of §2.2 for `key_pair`, whose identity is `identity`.
pub(super) fn self_signed(
    key_pair: &Ed25519KeyPair,
    identity: &Identity,
) -> Result<ClientCertificate, ApiKeyError> {
    // PKCS#8 v1, as Go's MarshalPKCS8PrivateKey and `openssl genpkey` write it.
    let pkcs8 = key_pair.to_pkcs8v1().map_err(|_| ApiKeyError::KeyPair)?;
    let key_der = PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
    let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&key_der, &PKCS_ED25519)
        .map_err(certificate_error)?;

    let mut serial = [0u8; SERIAL_LEN];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| ApiKeyError::Randomness)?;
    let mut subject = DistinguishedName::new();
    let common_name = PrintableString::try_from(identity.as_str()).map_err(certificate_error)?;
    subject.push(DnType::CommonName, DnValue::PrintableString(common_name));
    // rcgen's `IsCa::ExplicitNoCa` would add a SubjectKeyIdentifier, which Go only writes for CAs.
    let mut basic_constraints =
        CustomExtension::from_oid_content(BASIC_CONSTRAINTS, NOT_A_CA.to_vec());
    basic_constraints.set_criticality(true);
    let now = OffsetDateTime::now_utc();

    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.distinguished_name = subject;
    params.not_before = now;
    params.not_after = now + VALIDITY;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.custom_extensions = vec![basic_constraints];
    let cert = params.self_signed(&signer).map_err(certificate_error)?;

    Ok(ClientCertificate {
        cert_der: cert.into(),
        key_der: key_der.into(),
    })
}

fn certificate_error(err: impl fmt::Display) -> ApiKeyError {
    ApiKeyError::Certificate(err.to_string())
}

/// The identity of a DER X.509 certificate: SHA-256 of its raw SubjectPublicKeyInfo, whatever
/// the key type. Fails unless the input is exactly one well-formed certificate.
pub fn identity_of_certificate(cert_der: &[u8]) -> Result<Identity, ApiKeyError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|err| ApiKeyError::InvalidCertificate(err.to_string()))?;
    if !rest.is_empty() {
        return Err(ApiKeyError::InvalidCertificate(
            "trailing data after the certificate".to_owned(),
        ));
    }
    Ok(Identity::from_spki_der(
        cert.tbs_certificate.subject_pki.raw,
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
    use x509_parser::der_parser::asn1_rs::Tag;
    use x509_parser::oid_registry::{
        OID_SIG_ED25519, OID_X509_EXT_BASIC_CONSTRAINTS, OID_X509_EXT_EXTENDED_KEY_USAGE,
        OID_X509_EXT_KEY_USAGE,
    };
    use x509_parser::prelude::*;

    use crate::ApiKey;

    use super::*;

    const PLAY: &str = "kes:v1:AD9E7FSYWrMD+VjhI6q545cYT9YOyFxZb7UnjEepYDRc";

    #[test]
    fn certificate_has_the_identity_of_the_key() {
        for key in [ApiKey::parse(PLAY).unwrap(), ApiKey::generate().unwrap()] {
            let cert = key.certificate().unwrap();
            assert_eq!(
                identity_of_certificate(&cert.cert_der).unwrap(),
                key.identity()
            );
        }
    }

    #[test]
    fn certificate_has_the_listed_properties() {
        let key = ApiKey::parse(PLAY).unwrap();
        let before = OffsetDateTime::now_utc().unix_timestamp();
        let generated = key.certificate().unwrap();
        let after = OffsetDateTime::now_utc().unix_timestamp();
        let (rest, cert) = parse_x509_certificate(&generated.cert_der).unwrap();
        assert!(rest.is_empty());

        assert_eq!(cert.version(), X509Version::V3);
        // A non-negative 128-bit integer: at most 16 bytes, plus a 0 byte when the top bit is set.
        let serial = cert.raw_serial();
        assert!(
            serial.len() <= SERIAL_LEN + 1 && serial[0] & 0x80 == 0,
            "{serial:02x?}"
        );
        assert!(cert.serial.bits() <= 128);

        let identity = key.identity();
        let cns: Vec<_> = cert.subject().iter_common_name().collect();
        assert_eq!(cns.len(), 1);
        assert_eq!(cns[0].as_str().unwrap(), identity.as_str());
        assert_eq!(cns[0].attr_value().tag(), Tag::PrintableString);
        assert_eq!(cert.subject().iter().count(), 1);
        assert_eq!(cert.issuer().as_raw(), cert.subject().as_raw());

        let not_before = cert.validity().not_before.timestamp();
        let not_after = cert.validity().not_after.timestamp();
        assert!(
            (before..=after).contains(&not_before),
            "{not_before} not in {before}..={after}"
        );
        assert_eq!(not_after - not_before, 90 * 24 * 60 * 60);

        let oids: Vec<_> = cert.extensions().iter().map(|e| e.oid.clone()).collect();
        assert_eq!(
            oids,
            [
                OID_X509_EXT_KEY_USAGE,
                OID_X509_EXT_EXTENDED_KEY_USAGE,
                OID_X509_EXT_BASIC_CONSTRAINTS
            ],
            "no other extension, in particular no SAN"
        );
        let key_usage = cert.key_usage().unwrap().unwrap();
        assert!(key_usage.critical);
        assert_eq!(key_usage.value.flags, 1, "digitalSignature only");
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth);
        assert!(!eku.any && !eku.server_auth && !eku.code_signing && !eku.email_protection);
        assert!(!eku.time_stamping && !eku.ocsp_signing && eku.other.is_empty());
        let basic = cert.basic_constraints().unwrap().unwrap();
        assert!(basic.critical);
        assert!(!basic.value.ca);
        assert_eq!(basic.value.path_len_constraint, None);
        assert!(cert.subject_alternative_name().unwrap().is_none());

        assert_eq!(cert.signature_algorithm.algorithm, OID_SIG_ED25519);
        assert_eq!(cert.tbs_certificate.signature.algorithm, OID_SIG_ED25519);
        assert_eq!(cert.public_key().algorithm.algorithm, OID_SIG_ED25519);
        assert_eq!(
            cert.public_key().subject_public_key.as_ref(),
            key.public_key()
        );
        UnparsedPublicKey::new(&ED25519, key.public_key())
            .verify(cert.tbs_certificate.as_ref(), cert.signature_value.as_ref())
            .unwrap();
    }

    #[test]
    fn serials_are_random() {
        let key = ApiKey::generate().unwrap();
        let a = key.certificate().unwrap();
        let b = key.certificate().unwrap();
        let serial = |der: &[u8]| parse_x509_certificate(der).unwrap().1.raw_serial().to_vec();
        assert_ne!(serial(&a.cert_der), serial(&b.cert_der));
    }

    #[test]
    fn private_key_is_pkcs8_v1_of_the_seed() {
        let key = ApiKey::parse(PLAY).unwrap();
        let cert = key.certificate().unwrap();
        let PrivateKeyDer::Pkcs8(pkcs8) = &cert.key_der else {
            panic!("not PKCS#8: {:?}", cert.key_der);
        };
        let der = pkcs8.secret_pkcs8_der();
        // SEQUENCE { INTEGER 0, ... }: version v1.
        assert_eq!(der[..5], [0x30, 0x2e, 0x02, 0x01, 0x00]);
        let pair = Ed25519KeyPair::from_pkcs8(der).unwrap();
        use aws_lc_rs::signature::KeyPair as _;
        assert_eq!(pair.public_key().as_ref(), key.public_key());
    }

    #[test]
    fn rustls_accepts_the_certificate_and_key() {
        let key = ApiKey::generate().unwrap();
        let cert = key.certificate().unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_client_auth_cert(vec![cert.cert_der], cert.key_der)
            .unwrap();
    }

    #[test]
    fn debug_redacts_the_key() {
        let cert = ApiKey::parse(PLAY).unwrap().certificate().unwrap();
        let text = format!("{cert:?}");
        assert!(text.contains("[redacted]"));
        let PrivateKeyDer::Pkcs8(pkcs8) = &cert.key_der else {
            panic!("not PKCS#8");
        };
        let seed_hex: String = pkcs8.secret_pkcs8_der()[16..]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let bytes_decimal = format!("{:?}", &pkcs8.secret_pkcs8_der()[16..]);
        assert!(
            !text.contains(&seed_hex) && !text.contains(&bytes_decimal[1..bytes_decimal.len() - 1])
        );
    }

    #[test]
    fn identity_of_other_certificates() {
        // An ECDSA certificate: the identity is the SHA-256 of its SPKI, whatever the key type.
        let signer = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = CertificateParams::default().self_signed(&signer).unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&signer);
        assert_eq!(
            identity_of_certificate(cert.der()).unwrap(),
            Identity::from_spki_der(&spki)
        );
    }

    #[test]
    fn identity_of_garbage_fails() {
        assert!(matches!(
            identity_of_certificate(b""),
            Err(ApiKeyError::InvalidCertificate(_))
        ));
        assert!(matches!(
            identity_of_certificate(b"not a cert"),
            Err(ApiKeyError::InvalidCertificate(_))
        ));
        let cert = ApiKey::generate().unwrap().certificate().unwrap();
        let mut trailing = cert.cert_der.to_vec();
        trailing.push(0);
        assert_eq!(
            identity_of_certificate(&trailing).unwrap_err().to_string(),
            "kes: invalid certificate: trailing data after the certificate"
        );
    }
}
