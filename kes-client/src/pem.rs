//! PEM loading for certificates and private keys, including the legacy RFC 1423 encrypted
//! private keys (`Proc-Type: 4,ENCRYPTED`) that `tls.password` decrypts.

use std::fs;
use std::io;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use zeroize::Zeroizing;

/// `der` as a PEM block with the given label (64-character lines).
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// `der` as an RFC 1423 encrypted PEM block (`Proc-Type: 4,ENCRYPTED`, AES-256-CBC, key from
/// the password by OpenSSL's `EVP_BytesToKey`), the format of Go's `x509.EncryptPEMBlock` with
/// `PEMCipherAES256` that `kes identity new --encrypt` writes and `tls.password` reads.
pub fn encode_encrypted(label: &str, der: &[u8], password: &str) -> Result<String, String> {
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut iv).map_err(|_| "no randomness for the IV".to_owned())?;
    let key = bytes_to_key(password.as_bytes(), &iv[..8], 32);
    let encryptor = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv)
        .map_err(|_| "invalid key or IV length".to_owned())?;
    let mut buffer = Zeroizing::new(der.to_vec());
    buffer.resize(der.len() + 16, 0);
    let ciphertext = encryptor
        .encrypt_padded_mut::<Pkcs7>(&mut buffer, der.len())
        .map_err(|_| "padding failed".to_owned())?;
    let b64 = STANDARD.encode(ciphertext);
    let mut out = format!(
        "-----BEGIN {label}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{}\n\n",
        hex::encode(iv)
    );
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    Ok(out)
}

/// Every `CERTIFICATE` block of the PEM file at `path`.
pub fn load_certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|err| {
            io::Error::other(format!(
                "failed to read certificate '{}': {err}",
                path.display()
            ))
        })
}

/// The certificates of a PEM file, or of every file in a directory.
pub fn load_ca_certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    if !path.is_dir() {
        return load_certificates(path);
    }
    let mut entries: Vec<_> = fs::read_dir(path)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut certs = Vec::new();
    for entry in entries {
        if entry.path().is_file() {
            certs.extend(load_certificates(&entry.path())?);
        }
    }
    Ok(certs)
}

/// The first private key of the PEM file at `path`. A legacy encrypted key is decrypted with
/// `password`; an encrypted key without a password is an error.
pub fn load_private_key(path: &Path, password: Option<&str>) -> io::Result<PrivateKeyDer<'static>> {
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|err| {
        io::Error::other(format!(
            "failed to read private key '{}': {err}",
            path.display()
        ))
    })?);
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        let Some(password) = password else {
            return Err(io::Error::other(format!(
                "private key '{}' is encrypted: set tls.password",
                path.display()
            )));
        };
        return decrypt_legacy_pem(&text, password).map_err(|msg| {
            io::Error::other(format!(
                "failed to decrypt private key '{}': {msg}",
                path.display()
            ))
        });
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|err| {
        io::Error::other(format!(
            "failed to read private key '{}': {err}",
            path.display()
        ))
    })
}

/// Decrypts the first RFC 1423 encrypted PEM block (OpenSSL's "traditional" format).
fn decrypt_legacy_pem(text: &str, password: &str) -> Result<PrivateKeyDer<'static>, String> {
    let begin = text.find("-----BEGIN ").ok_or("no PEM block")?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or("malformed PEM header")?;
    let label = &rest[..label_end];
    let end_marker = format!("-----END {label}-----");
    let body_end = rest.find(&end_marker).ok_or("missing PEM footer")?;
    let block = &rest[label_end + 5..body_end];

    let mut dek_info = None;
    let mut base64 = Zeroizing::new(String::new());
    let mut in_headers = true;
    for line in block.lines().map(str::trim) {
        if in_headers {
            if line.is_empty() {
                if dek_info.is_some() {
                    in_headers = false;
                }
                continue;
            }
            if let Some(value) = line.strip_prefix("DEK-Info:") {
                dek_info = Some(value.trim().to_owned());
                continue;
            }
            if line.contains(':') {
                continue;
            }
            in_headers = false;
        }
        base64.push_str(line);
    }
    let dek_info = dek_info.ok_or("missing DEK-Info header")?;
    let (cipher, iv_hex) = dek_info
        .split_once(',')
        .ok_or("malformed DEK-Info header")?;
    let iv = hex::decode(iv_hex.trim()).map_err(|_| "malformed DEK-Info IV")?;
    let mut data = Zeroizing::new(
        STANDARD
            .decode(base64.as_bytes())
            .map_err(|_| "invalid base64")?,
    );

    let plain_len = match cipher.trim() {
        "AES-128-CBC" => decrypt_cbc::<aes::Aes128>(&mut data, password, &iv, 16)?,
        "AES-192-CBC" => decrypt_cbc::<aes::Aes192>(&mut data, password, &iv, 24)?,
        "AES-256-CBC" => decrypt_cbc::<aes::Aes256>(&mut data, password, &iv, 32)?,
        "DES-EDE3-CBC" => decrypt_cbc::<des::TdesEde3>(&mut data, password, &iv, 24)?,
        "DES-CBC" => decrypt_cbc::<des::Des>(&mut data, password, &iv, 8)?,
        other => return Err(format!("unsupported cipher '{other}'")),
    };
    let der = data[..plain_len].to_vec();
    match label {
        "RSA PRIVATE KEY" => Ok(PrivatePkcs1KeyDer::from(der).into()),
        "EC PRIVATE KEY" => Ok(PrivateSec1KeyDer::from(der).into()),
        "PRIVATE KEY" => Ok(PrivatePkcs8KeyDer::from(der).into()),
        other => Err(format!("unsupported PEM block '{other}'")),
    }
}

fn decrypt_cbc<C>(
    data: &mut [u8],
    password: &str,
    iv: &[u8],
    key_len: usize,
) -> Result<usize, String>
where
    C: cbc::cipher::BlockCipher + cbc::cipher::BlockDecrypt + cbc::cipher::KeyInit,
{
    let key = bytes_to_key(
        password.as_bytes(),
        iv.get(..8).ok_or("IV too short")?,
        key_len,
    );
    let decryptor =
        cbc::Decryptor::<C>::new_from_slices(&key, iv).map_err(|_| "invalid key or IV length")?;
    decryptor
        .decrypt_padded_mut::<Pkcs7>(data)
        .map(|plain| plain.len())
        .map_err(|_| "wrong password or corrupt key".to_owned())
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration, as RFC 1423 PEM encryption uses it.
fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut prev: Option<[u8; 16]> = None;
    while key.len() < len {
        let mut md5 = Md5::new();
        if let Some(prev) = prev {
            md5.update(prev);
        }
        md5.update(password);
        md5.update(salt);
        let digest: [u8; 16] = md5.finalize().into();
        key.extend_from_slice(&digest);
        prev = Some(digest);
    }
    key.truncate(len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server's TLS fixtures (encrypted legacy keys made with OpenSSL).
    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kes-server/tests/fixtures/tls")
            .join(name)
    }

    #[test]
    fn loads_encrypted_legacy_keys() {
        for (encrypted, plain) in [
            ("rsa-aes256.key", "rsa.key"),
            ("ec-aes128.key", "ec.key"),
            ("ec-des3.key", "ec.key"),
        ] {
            let key = load_private_key(&fixture(encrypted), Some("kes-password")).unwrap();
            let want = load_private_key(&fixture(plain), None).unwrap();
            assert_eq!(key.secret_der(), want.secret_der(), "{encrypted}");
            assert!(load_private_key(&fixture(encrypted), Some("wrong")).is_err());
            assert!(load_private_key(&fixture(encrypted), None).is_err());
        }
    }

    #[test]
    fn encrypted_keys_round_trip() {
        let plain = load_private_key(&fixture("ec.key"), None).unwrap();
        let pem = encode_encrypted("PRIVATE KEY", plain.secret_der(), "pässword").unwrap();
        assert!(pem.starts_with(
            "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,"
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        fs::write(&path, &pem).unwrap();
        let key = load_private_key(&path, Some("pässword")).unwrap();
        assert_eq!(key.secret_der(), plain.secret_der());
        assert!(load_private_key(&path, Some("wrong")).is_err());
    }
}
