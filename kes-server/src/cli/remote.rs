//! What the client commands (`ls`, `key`, `policy`, `identity info|ls`, `status`) share: the
//! connection from flags and environment (spec §10.2, first variable *set* wins, as Go's
//! `LookupEnv`), the runtime, and upstream's `Error: ` exit.

use std::path::PathBuf;

use kes_client::client::{Credentials, ServerTrust};
use kes_client::{ApiKey, Client};

use super::style::{self, Term};

/// The endpoint used when no variable names one.
const DEFAULT_SERVER: &str = "127.0.0.1:7373";

/// The value of the first of `names` that is set (even to the empty string).
fn lookup_env(names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| std::env::var(name).ok())
}

/// The server list: the flag, else `MINIO_KES_SERVER`, `KES_SERVER`, `MINIO_KMS_KES_ENDPOINT`.
fn server_list(flag: Option<&str>) -> String {
    match flag.filter(|s| !s.is_empty()) {
        Some(s) => s.to_owned(),
        None => lookup_env(&["MINIO_KES_SERVER", "KES_SERVER", "MINIO_KMS_KES_ENDPOINT"])
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
    }
}

/// The endpoints of a comma-separated list: trimmed, `http://` stripped, `https://` added.
fn endpoints(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .map(|e| {
            let e = e.strip_prefix("http://").unwrap_or(e);
            if e.starts_with("https://") {
                e.to_owned()
            } else {
                format!("https://{e}")
            }
        })
        .collect()
}

/// A connected client and the endpoints it was given, in the given order.
pub struct Remote {
    /// The API client.
    pub client: Client,
    /// The configured endpoints (`https://host:port`).
    pub endpoints: Vec<String>,
}

/// Builds the client like upstream's `newClient`: `server` and `api_key` override the
/// environment (only `kes ls` has such flags); `insecure` skips server certificate checks.
pub fn connect(
    server: Option<&str>,
    api_key: Option<&str>,
    insecure: bool,
) -> Result<Remote, String> {
    let endpoints = endpoints(&server_list(server));
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let api_key = match api_key.filter(|s| !s.is_empty()) {
        Some(key) => Some(key.to_owned()),
        None => nonempty(lookup_env(&[
            "MINIO_KES_API_KEY",
            "KES_API_KEY",
            "MINIO_KMS_KES_API_KEY",
        ])),
    };
    let key_file = nonempty(lookup_env(&[
        "MINIO_KES_KEY_FILE",
        "KES_CLIENT_KEY",
        "MINIO_KES_CLIENT_KEY",
    ]));
    let cert_file = nonempty(lookup_env(&[
        "MINIO_KES_CERT_FILE",
        "KES_CLIENT_CERT",
        "MINIO_KES_CLIENT_CERT",
    ]));
    let credentials = match (api_key, key_file, cert_file) {
        (None, None, None) => {
            return Err("no API key specified. Consider setting MINIO_KES_API_KEY".to_owned());
        }
        (Some(_), Some(_), _) => {
            return Err("API key and private key file cannot be used at the same time".to_owned());
        }
        (Some(_), None, Some(_)) => {
            return Err("API key and certificate file cannot be used at the same time".to_owned());
        }
        (Some(key), None, None) => Credentials::ApiKey(
            ApiKey::parse(&key).map_err(|err| format!("parsing API key: {err}"))?,
        ),
        (None, Some(_), None) => {
            return Err(
                "no certificate file specified. Consider setting MINIO_KES_CERT_FILE".to_owned(),
            );
        }
        (None, None, Some(_)) => {
            return Err(
                "no private key file specified. Consider setting MINIO_KES_KEY_FILE".to_owned(),
            );
        }
        (None, Some(key), Some(cert)) => key_files(PathBuf::from(cert), PathBuf::from(key))?,
    };
    let trust = if insecure {
        ServerTrust::DangerAcceptInvalidCerts
    } else {
        ServerTrust::System
    };
    let client = Client::builder(&endpoints, credentials)
        .server_trust(trust)
        .build()
        .map_err(|err| err.to_string())?;
    Ok(Remote { client, endpoints })
}

/// Client certificate and key files, checked like upstream's `newClient`: both readable, the
/// certificate file with a `CERTIFICATE` block, the key file with a private key block. An
/// encrypted (legacy RFC 1423) key asks for its password on the terminal.
fn key_files(cert: PathBuf, key: PathBuf) -> Result<Credentials, String> {
    let cert_pem = std::fs::read(&cert).map_err(|err| {
        format!(
            "reading certificate file: {}",
            style::go_path_error("open", &cert, &err)
        )
    })?;
    // Upstream's filter: only CERTIFICATE blocks, at least one.
    let cert_text = String::from_utf8_lossy(&cert_pem);
    let labels = pem_labels(&cert_text);
    if labels.is_empty() {
        return Err("reading certificate file: https: no valid PEM data".to_owned());
    }
    if labels.iter().any(|l| *l != "CERTIFICATE") {
        return Err("reading certificate file: https: unsupported PEM data block".to_owned());
    }
    let key_pem = zeroize::Zeroizing::new(std::fs::read(&key).map_err(|err| {
        format!(
            "reading private key file: {}",
            style::go_path_error("open", &key, &err)
        )
    })?);
    let key_text = String::from_utf8_lossy(&key_pem);
    let has_key = pem_labels(&key_text)
        .iter()
        .any(|l| l.ends_with("PRIVATE KEY"));
    if !has_key {
        return Err("failed to read TLS private key: no PEM-encoded private key found".to_owned());
    }
    let password = if key_text.contains("Proc-Type: 4,ENCRYPTED") {
        let password = super::password::read("Enter password for private key: ")
            .map_err(|err| format!("reading password: {err}"))?;
        if let Err(err) = kes_client::pem::load_private_key(&key, Some(&password)) {
            return Err(if err.to_string().contains("wrong password") {
                "incorrect password".to_owned()
            } else {
                format!("failed to decrypt private key: {err}")
            });
        }
        Some(password)
    } else {
        None
    };
    Ok(Credentials::Files {
        cert,
        key,
        password,
    })
}

/// The labels of the `-----BEGIN <label>-----` lines of a PEM text.
fn pem_labels(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("-----BEGIN "))
        .filter_map(|l| l.strip_suffix("-----"))
        .collect()
}

/// Runs `fut` to completion on a single-threaded runtime.
pub fn block_on<T>(fut: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("failed to start runtime: {err}"))?
        .block_on(fut)
}

/// The exit code of a client command: 0, or 1 after printing `Error: <msg>` (red on a colour
/// terminal) to stderr.
pub fn exit_code(term: &Term, result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("{}{msg}", term.error_prefix());
            1
        }
    }
}
