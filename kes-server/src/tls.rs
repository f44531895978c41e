//! TLS for the server: the rustls configuration (TLS 1.2+, ALPN h2 and http/1.1), client
//! certificate policies, and the caller identity derived from the peer certificate.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use policies::Identity;
use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::config::ClientAuth;
use crate::pem;

/// The connection's peer as the request pipeline sees it.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    pub identity: PeerIdentity,
}

/// What the peer's certificate chain says about its identity (spec §1.2).
#[derive(Debug, Clone)]
pub enum PeerIdentity {
    /// Exactly one non-CA certificate: its identity.
    Certificate(Identity),
    /// No non-CA certificate was sent (only possible when client certificates are optional).
    NoCertificate,
    /// More than one non-CA certificate was sent.
    MoreThanOne,
}

impl PeerIdentity {
    /// Derives the identity from the certificates the peer presented: CA certificates are
    /// dropped, exactly one must remain.
    pub fn from_chain(chain: Option<&[CertificateDer<'_>]>) -> PeerIdentity {
        let mut found = None;
        for der in chain.unwrap_or_default() {
            let Ok((_, cert)) = X509Certificate::from_der(der) else {
                continue;
            };
            let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
            if is_ca {
                continue;
            }
            if found.is_some() {
                return PeerIdentity::MoreThanOne;
            }
            found = Some(Identity::from_spki_der(
                cert.tbs_certificate.subject_pki.raw,
            ));
        }
        found.map_or(PeerIdentity::NoCertificate, PeerIdentity::Certificate)
    }
}

/// The server's TLS settings, resolved from the configuration.
#[derive(Debug)]
pub struct TlsSettings<'a> {
    /// The server certificate chain, leaf first.
    pub certs: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub auth: ClientAuth,
    /// Extra trusted CAs (a PEM file or a directory of them) for verified client certificates.
    pub ca: Option<&'a Path>,
    /// Whether some route skips authentication, which makes the client certificate optional.
    pub certificate_optional: bool,
}

/// Builds the rustls server configuration: TLS 1.2 and 1.3, ALPN h2 and http/1.1, and the client
/// certificate policy of `settings.auth`.
pub fn server_config(settings: TlsSettings<'_>) -> io::Result<ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let Some(leaf) = settings.certs.first() else {
        return Err(io::Error::other(
            "invalid TLS certificate: no certificate found",
        ));
    };
    check_san(leaf)?;

    let verifier: Arc<dyn ClientCertVerifier> = match settings.auth {
        ClientAuth::Off => Arc::new(AnyClientCertificate {
            algorithms: provider.signature_verification_algorithms,
            mandatory: !settings.certificate_optional,
        }),
        ClientAuth::On => {
            let roots = root_store(settings.ca)?;
            let builder =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider));
            let builder = if settings.certificate_optional {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            builder.build().map_err(io::Error::other)?
        }
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(io::Error::other)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(settings.certs, settings.key)
        .map_err(|err| io::Error::other(format!("invalid TLS certificate or key: {err}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn check_san(leaf: &CertificateDer<'_>) -> io::Result<()> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = X509Certificate::from_der(leaf)
        .map_err(|err| io::Error::other(format!("invalid TLS certificate: {err}")))?;
    let has_san = matches!(cert.subject_alternative_name(), Ok(Some(san))
        if san.value.general_names.iter().any(|n| matches!(n, GeneralName::DNSName(_) | GeneralName::IPAddress(_))));
    if has_san {
        Ok(())
    } else {
        Err(io::Error::other(
            "invalid TLS certificate: certificate does not contain any DNS or IP address as SAN",
        ))
    }
}

/// The system roots plus the PEM certificates of `ca` (a file or a directory of files).
fn root_store(ca: Option<&Path>) -> io::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // An unparsable system certificate is skipped, as Go's system pool does.
        let _ = roots.add(cert);
    }
    if let Some(ca) = ca {
        for cert in pem::load_ca_certificates(ca)? {
            roots.add(cert).map_err(|err| {
                io::Error::other(format!(
                    "invalid CA certificate in '{}': {err}",
                    ca.display()
                ))
            })?;
        }
    }
    Ok(roots)
}

/// Accepts any client certificate chain without verifying it against roots, but still verifies
/// the handshake signature, so the peer proves it holds the certificate's private key. This is
/// the reference's default (`tls.auth` unset) and what makes self-signed API-key certificates work.
#[derive(Debug)]
struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
    mandatory: bool,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
