//! What the client commands (`ls`, `key`, `policy`, `identity info|ls`, `status`) share: the
//! connection from flags and environment (spec §10.2, first variable *set* wins, as Go's
//! `LookupEnv`), the runtime, and upstream's `Error: ` exit.

use std::path::PathBuf;

use kes_client::client::{Credentials, ServerTrust};
use kes_client::{ApiKey, Client};

use super::style::Term;

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
        (None, Some(key), Some(cert)) => Credentials::Files {
            cert: PathBuf::from(cert),
            key: PathBuf::from(key),
            password: None,
        },
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
