//! `kes key create|import|info|ls|rm|encrypt|decrypt|dek`: key management and cryptography on
//! the server. `-e/--enclave` is accepted and ignored (enclaves are not supported, spec §5).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::{Args, Subcommand};
use kes_client::client::KeyAlgorithm;
use serde::Serialize;

use super::remote::{self, Remote, block_on};
use super::style::{ColorWhen, Output, Term, date_time, go_json, name_list, rfc3339_nano};

/// Arguments of `kes key`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCommand,
}

/// Flags every key command has.
#[derive(Debug, Args)]
struct Common {
    /// Skip TLS certificate validation.
    #[arg(short = 'k', long = "insecure")]
    insecure: bool,
    /// Operate within the specified enclave (ignored).
    #[arg(short = 'e', long = "enclave", value_name = "NAME")]
    enclave: Option<String>,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create one or more keys.
    Create {
        #[command(flatten)]
        common: Common,
        /// Key names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Import a key.
    Import {
        #[command(flatten)]
        common: Common,
        /// Key name.
        name: String,
        /// The 32-byte key, base64.
        key: String,
    },
    /// Describe a key.
    Info {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        output: Output,
        /// Key name.
        name: String,
    },
    /// List keys.
    Ls {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        output: Output,
        /// Names starting with this prefix (default `*`, all).
        pattern: Option<String>,
    },
    /// Remove one or more keys.
    Rm {
        #[command(flatten)]
        common: Common,
        /// Key names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Encrypt a message.
    Encrypt {
        #[command(flatten)]
        common: Common,
        /// Key name.
        name: String,
        /// The message.
        message: String,
    },
    /// Decrypt a ciphertext.
    Decrypt {
        #[command(flatten)]
        common: Common,
        /// Key name.
        name: String,
        /// The ciphertext, base64.
        ciphertext: String,
        /// The context (associated data), base64.
        context: Option<String>,
    },
    /// Generate a data encryption key.
    Dek {
        #[command(flatten)]
        common: Common,
        /// Key name.
        name: String,
        /// The context (associated data), base64.
        context: Option<String>,
    },
}

/// Runs `kes key …`; returns the exit code.
pub fn run(args: KeyArgs) -> i32 {
    let color = match &args.command {
        KeyCommand::Info { output, .. } | KeyCommand::Ls { output, .. } => output.color,
        _ => ColorWhen::Auto,
    };
    let term = Term::detect(color);
    remote::exit_code(&term, key(&term, args.command))
}

fn connect(common: &Common) -> Result<Remote, String> {
    remote::connect(None, None, common.insecure)
}

/// Decodes standard base64 with Go's error text.
pub fn decode_b64(s: &str) -> Result<Vec<u8>, String> {
    STANDARD.decode(s).map_err(|err| {
        let at = match err {
            base64::DecodeError::InvalidByte(at, _)
            | base64::DecodeError::InvalidLastSymbol(at, _) => at,
            base64::DecodeError::InvalidLength(len) => len,
            base64::DecodeError::InvalidPadding => s.len(),
        };
        format!("illegal base64 data at input byte {at}")
    })
}

fn key(term: &Term, command: KeyCommand) -> Result<(), String> {
    match command {
        KeyCommand::Create { common, names } => {
            let client = connect(&common)?.client;
            block_on(async {
                for name in &names {
                    client
                        .create_key(name)
                        .await
                        .map_err(|err| format!("failed to create key {name:?}: {err}"))?;
                }
                Ok(())
            })
        }
        KeyCommand::Import { common, name, key } => {
            let key = decode_b64(&key)
                .map_err(|err| format!("invalid key: {err}. See 'kes key import --help'"))?;
            let client = connect(&common)?.client;
            block_on(async {
                client
                    .import_key(&name, &key, KeyAlgorithm::Aes256)
                    .await
                    .map_err(|err| format!("failed to import {name:?}: {err}"))
            })
        }
        KeyCommand::Info {
            common,
            output,
            name,
        } => info(&common, &output, &name),
        KeyCommand::Ls {
            common,
            output,
            pattern,
        } => ls(term, &common, &output, pattern.as_deref().unwrap_or("*")),
        KeyCommand::Rm { common, names } => {
            let client = connect(&common)?.client;
            block_on(async {
                for name in &names {
                    client
                        .delete_key(name)
                        .await
                        .map_err(|err| format!("failed to remove key {name:?}: {err}"))?;
                }
                Ok(())
            })
        }
        KeyCommand::Encrypt {
            common,
            name,
            message,
        } => {
            let client = connect(&common)?.client;
            let ciphertext = block_on(async {
                client
                    .encrypt(&name, message.as_bytes(), b"")
                    .await
                    .map_err(|err| format!("failed to encrypt message: {err}"))
            })?;
            let ciphertext = STANDARD.encode(ciphertext);
            if term.is_terminal {
                println!("\nciphertext: {ciphertext}");
            } else {
                print!(r#"{{"ciphertext":"{ciphertext}"}}"#);
            }
            Ok(())
        }
        KeyCommand::Decrypt {
            common,
            name,
            ciphertext,
            context,
        } => {
            let ciphertext = decode_b64(&ciphertext).map_err(|err| {
                format!("invalid ciphertext: {err}. See 'kes key decrypt --help'")
            })?;
            let context = match context {
                Some(c) => decode_b64(&c).map_err(|err| {
                    format!("invalid context: {err}. See 'kes key decrypt --help'")
                })?,
                None => Vec::new(),
            };
            let client = connect(&common)?.client;
            let plaintext = block_on(async {
                client
                    .decrypt(&name, &ciphertext, &context)
                    .await
                    .map_err(|err| format!("failed to decrypt ciphertext: {err}"))
            })?;
            let plaintext = STANDARD.encode(plaintext.as_slice());
            if term.is_terminal {
                println!("\nplaintext: {plaintext}");
            } else {
                print!(r#"{{"plaintext":"{plaintext}"}}"#);
            }
            Ok(())
        }
        KeyCommand::Dek {
            common,
            name,
            context,
        } => {
            let context = match context {
                Some(c) => decode_b64(&c)
                    .map_err(|err| format!("invalid context: {err}. See 'kes key dek --help'"))?,
                None => Vec::new(),
            };
            let client = connect(&common)?.client;
            let dek = block_on(async {
                client
                    .generate_key(&name, &context)
                    .await
                    .map_err(|err| format!("failed to derive key: {err}"))
            })?;
            let plaintext = STANDARD.encode(dek.plaintext.as_slice());
            let ciphertext = STANDARD.encode(&dek.ciphertext);
            if term.is_terminal {
                println!("\nplaintext:  {plaintext}\nciphertext: {ciphertext}");
            } else {
                print!(r#"{{"plaintext":"{plaintext}","ciphertext":"{ciphertext}"}}"#);
            }
            Ok(())
        }
    }
}

/// kms-go's `KeyInfo` JSON: the algorithm is omitted for AES256 (Go's zero value).
#[derive(Serialize)]
struct KeyInfoJson<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithm: Option<&'static str>,
    created_at: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    created_by: &'a str,
}

fn info(common: &Common, output: &Output, name: &str) -> Result<(), String> {
    let client = connect(common)?.client;
    let info = block_on(async {
        client
            .describe_key(name)
            .await
            .map_err(|err| format!("failed to describe keys: {err}"))
    })?;
    let algorithm = info.algorithm.unwrap_or(KeyAlgorithm::Aes256);
    if output.json {
        let json = KeyInfoJson {
            name: &info.name,
            algorithm: match algorithm {
                KeyAlgorithm::Aes256 => None,
                KeyAlgorithm::ChaCha20 => Some(algorithm.as_str()),
            },
            created_at: rfc3339_nano(Some(info.created_at)),
            created_by: &info.created_by,
        };
        print!(
            "{}",
            go_json(&json, false).map_err(|err| format!("failed to describe keys: {err}"))?
        );
        return Ok(());
    }
    // Upstream ends the table without a newline.
    print!(
        "{:<11} {}\n{:<11} {}\n{:<11} {}\n{:<11} {}",
        "Name",
        info.name,
        "Algorithm",
        algorithm.as_str(),
        "Date",
        date_time(Some(info.created_at)),
        "Owner",
        info.created_by
    );
    Ok(())
}

fn ls(term: &Term, common: &Common, output: &Output, pattern: &str) -> Result<(), String> {
    let client = connect(common)?.client;
    let mut names = block_on(async {
        client
            .list_keys(pattern)
            .await
            .map_err(|err| format!("failed to list keys: {err}"))
    })?;
    names.sort();
    print!("{}", name_list(term, output, "Key", &names)?);
    Ok(())
}
