//! The client's TLS configuration: TLS ≥ 1.2 on aws-lc-rs, a client certificate, server trust.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use zeroize::Zeroizing;

use super::Error;
use crate::ApiKey;
use crate::pem;

/// How the client proves its identity. `Debug` never prints secrets.
pub enum Credentials {
    /// The self-signed certificate derived from a `kes:v1:` API key.
    ApiKey(ApiKey),
    /// A PEM certificate and private key file; `password` decrypts a legacy encrypted key.
    Files {
        /// The certificate chain (PEM).
        cert: PathBuf,
        /// The private key (PEM, exactly one block).
        key: PathBuf,
        /// Password of a legacy RFC 1423 encrypted key (`Proc-Type: 4,ENCRYPTED`).
        password: Option<Zeroizing<String>>,
    },
    /// An already loaded certificate chain and key.
    Der(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ApiKey(key) => f.debug_tuple("ApiKey").field(key).finish(),
            Credentials::Files {
                cert,
                key,
                password,
            } => f
                .debug_struct("Files")
                .field("cert", cert)
                .field("key", key)
                .field("password", &password.as_ref().map(|_| "[redacted]"))
                .finish(),
            Credentials::Der(chain, _) => f
                .debug_tuple("Der")
                .field(&chain.len())
                .field(&"[redacted]")
                .finish(),
        }
    }
}

/// Which server certificates the client trusts.
#[derive(Debug, Clone)]
pub enum ServerTrust {
    /// The system roots only.
    System,
    /// The system roots plus the PEM certificates of a file or directory, with MinIO's rules
    /// (spec `minio-client.md` §1.6): a missing path is ignored, a file must hold a certificate,
    /// unreadable or invalid files in a directory are skipped.
    SystemAndCaPath(PathBuf),
    /// Exactly these roots (no system roots).
    Roots(Vec<CertificateDer<'static>>),
    /// Accept any server certificate (handshake signatures are still checked). Only for tests
    /// and `kes … -k`; never use it in production.
    DangerAcceptInvalidCerts,
}

/// The aws-lc-rs provider the client uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the rustls configuration: TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`.
pub(super) fn client_config(
    credentials: &Credentials,
    trust: &ServerTrust,
) -> Result<rustls::ClientConfig, Error> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Config(e.to_string()))?;
    let builder = match trust {
        ServerTrust::DangerAcceptInvalidCerts => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert(
                provider.signature_verification_algorithms,
            ))),
        ServerTrust::System => builder.with_root_certificates(system_roots()),
        ServerTrust::SystemAndCaPath(path) => {
            let mut roots = system_roots();
            for cert in ca_path_certificates(path)? {
                roots
                    .add(cert)
                    .map_err(|e| Error::Config(format!("CA certificate: {e}")))?;
            }
            builder.with_root_certificates(roots)
        }
        ServerTrust::Roots(certs) => {
            let mut roots = RootCertStore::empty();
            for cert in certs {
                roots
                    .add(cert.clone())
                    .map_err(|e| Error::Config(format!("CA certificate: {e}")))?;
            }
            builder.with_root_certificates(roots)
        }
    };
    let (chain, key) = load_credentials(credentials)?;
    let mut config = builder
        .with_client_auth_cert(chain, key)
        .map_err(|e| Error::Config(format!("client certificate: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn load_credentials(
    credentials: &Credentials,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    match credentials {
        Credentials::ApiKey(key) => {
            let cert = key
                .certificate()
                .map_err(|e| Error::Config(format!("API key: {e}")))?;
            Ok((vec![cert.cert_der], cert.key_der))
        }
        Credentials::Files {
            cert,
            key,
            password,
        } => {
            let chain = pem::load_certificates(cert)
                .map_err(|e| Error::Config(format!("unable to load client certificate: {e}")))?;
            let key = pem::load_private_key(key, password.as_deref().map(String::as_str))
                .map_err(|e| Error::Config(format!("unable to load client private key: {e}")))?;
            Ok((chain, key))
        }
        Credentials::Der(chain, key) => Ok((chain.clone(), key.clone_key())),
    }
}

/// The system roots plus the Kubernetes service-account CAs; empty if unavailable.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for cert in dir_certificates(Path::new("/var/run/secrets/kubernetes.io/serviceaccount")) {
        let _ = roots.add(cert);
    }
    roots
}

/// The certificates of a CA file or directory, with MinIO's rules (§1.6).
pub(super) fn ca_path_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(Vec::new());
    };
    if meta.is_dir() {
        return Ok(dir_certificates(path));
    }
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(Vec::new());
    };
    let certs = pem_certificates(&bytes);
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "cert: \"{}\" does not contain a valid X.509 PEM-encoded certificate",
            path.display()
        )));
    }
    Ok(certs)
}

fn dir_certificates(dir: &Path) -> Vec<CertificateDer<'static>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut certs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file()
            && let Ok(bytes) = std::fs::read(&path)
        {
            certs.extend(pem_certificates(&bytes));
        }
    }
    certs
}

fn pem_certificates(bytes: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject as _;
    CertificateDer::pem_slice_iter(bytes)
        .filter_map(Result::ok)
        .filter(|c| x509_parser::parse_x509_certificate(c).is_ok())
        .collect()
}

/// Accepts any server certificate but still verifies the handshake signature.
#[derive(Debug)]
struct AcceptAnyServerCert(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
