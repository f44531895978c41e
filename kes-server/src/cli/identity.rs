//! `kes identity [KEY | FILE]`, `kes identity new` and `kes identity of` (spec §2.3): API keys,
//! identities and self-signed certificates, all computed locally. `kes identity info` and
//! `kes identity ls` ask the server; they live in `identity_admin`.

use std::io::{IsTerminal as _, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use kes_client::{ApiKey, identity_of_certificate};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose,
    PKCS_ED25519, SanType, SerialNumber,
};
use x509_parser::pem::Pem;

use super::style::{ColorWhen, Style, Term};
use super::{identity_admin, remote};

/// Validity of a certificate made by `kes identity new` unless `--expiry` says otherwise.
const DEFAULT_EXPIRY: &str = "720h";

/// `kes identity [KEY | FILE]` or `kes identity <command>`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct IdentityArgs {
    #[command(subcommand)]
    command: Option<IdentityCommand>,
    #[command(flatten)]
    bare: BareArgs,
}

#[derive(Debug, Subcommand)]
enum IdentityCommand {
    /// Create a new KES identity.
    New(NewArgs),
    /// Compute a KES identity from an API key or a certificate.
    Of(OfArgs),
    /// Get information about a KES identity.
    Info(identity_admin::InfoArgs),
    /// List KES identities.
    Ls(identity_admin::LsArgs),
}

/// Runs `kes identity …`; returns the exit code.
pub fn run(args: IdentityArgs) -> i32 {
    let term = Term::detect(ColorWhen::Auto);
    match args.command {
        None => remote::exit_code(&term, bare(args.bare)),
        Some(IdentityCommand::New(args)) => remote::exit_code(&term, new(args)),
        Some(IdentityCommand::Of(args)) => remote::exit_code(&term, of(args)),
        Some(IdentityCommand::Info(args)) => identity_admin::run_info(args),
        Some(IdentityCommand::Ls(args)) => identity_admin::run_ls(args),
    }
}

/// `kes identity [KEY | FILE]`: the arguments of the bare form.
#[derive(Debug, Args)]
struct BareArgs {
    /// An API key (prints its identity), a PEM certificate (prints its identity) or a PEM
    /// Ed25519 private key (prints its API key). Without it, a new API key is printed.
    #[arg(value_name = "KEY | FILE")]
    input: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    $ kes identity new\n  \
    $ kes identity new --ip \"192.168.0.182\" --ip \"10.0.0.92\" --key private.key --cert public.crt localhost\n  \
    $ kes identity new --key server.key --cert server.crt --encrypt --expiry 8760h kes-server.local")]
struct NewArgs {
    /// The certificate's subject common name (default: the identity).
    subject: Option<String>,
    /// Optional path for the private key.
    #[arg(long, value_name = "PATH")]
    key: Option<PathBuf>,
    /// Optional path for the certificate.
    #[arg(long, value_name = "PATH")]
    cert: Option<PathBuf>,
    /// Add IP as subject alternative name (SAN). Requires --key and --cert.
    #[arg(long, value_name = "IP", value_delimiter = ',')]
    ip: Vec<IpAddr>,
    /// Add DOMAIN as subject alternative name (SAN). Requires --key and --cert.
    #[arg(long, value_name = "DOMAIN", value_delimiter = ',')]
    dns: Vec<String>,
    /// Duration until the certificate expires [default: 720h]. Requires --key and --cert.
    #[arg(long, value_name = "DURATION")]
    expiry: Option<String>,
    /// Encrypt the private key with a password read from the terminal. Requires --key and
    /// --cert.
    #[arg(long)]
    encrypt: bool,
    /// Overwrite an existing private key and/or certificate.
    #[arg(short, long)]
    force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    $ kes identity of kes:v1:ACQpoGqx3rHHjT938Hfu5hVVQJHZWSqVI2Xp1KlYxFVw\n  \
    $ kes identity of client.crt")]
struct OfArgs {
    /// An API key (`kes:v1:…`) or a PEM certificate file.
    #[arg(value_name = "API-KEY | CERTIFICATE")]
    input: Option<String>,
    /// Further arguments are ignored, as upstream does.
    #[arg(hide = true)]
    ignored: Vec<String>,
}

fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Prints `text` with no trailing newline, as upstream does for piped output.
fn print_bare(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|err| err.to_string())
}

/// Prints `lines` as upstream's terminal box: one column of padding all round, every line padded
/// to the widest.
fn print_box(lines: &[String]) {
    let width = lines.iter().map(|l| visible_len(l)).max().unwrap_or(0);
    let blank = " ".repeat(width + 2);
    println!("{blank}");
    for line in lines {
        let pad = " ".repeat(width - visible_len(line));
        println!(" {line}{pad} ");
    }
    println!("{blank}");
}

/// `text` in bold when stdout is a colour terminal (upstream's lipgloss rendering).
fn bold(text: &str) -> String {
    Term::detect(ColorWhen::Auto).render(Style::new().bold(), text)
}

/// The number of characters of `s` a terminal shows: SGR escape sequences take no room.
fn visible_len(s: &str) -> usize {
    let mut len = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            len += 1;
        }
    }
    len
}

/// Go's wording for the common file errors: `open <path>: no such file or directory`.
fn read_error(path: &str, err: &std::io::Error) -> String {
    let reason = match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => err.to_string(),
    };
    format!("open {path}: {reason}")
}

fn bare(args: BareArgs) -> Result<(), String> {
    let Some(input) = args.input else {
        let key = ApiKey::generate().map_err(|err| err.to_string())?;
        if !stdout_is_terminal() {
            return print_bare(key.to_text().as_str());
        }
        let text = key.to_text();
        print_box(&[
            "Your API key:".to_owned(),
            String::new(),
            format!("   {}", bold(text.as_str())),
            String::new(),
            "This is the only time it is shown. Keep it secret and secure!".to_owned(),
            String::new(),
            "Your API key's identity:".to_owned(),
            String::new(),
            format!("   {}", bold(&key.identity().to_string())),
            String::new(),
            "The identity is not a secret and can be shared securely.".to_owned(),
            "Peers need your identity in order to verify your API key.".to_owned(),
            String::new(),
            "This identity can be re-computed again via:".to_owned(),
            String::new(),
            format!("  $ kes identity {}", text.as_str()),
        ]);
        return Ok(());
    };
    if let Ok(key) = ApiKey::parse(&input) {
        return print_identity_boxed(&key.identity().to_string());
    }
    let data = std::fs::read(&input).map_err(|err| read_error(&input, &err))?;
    let Some(pem) = Pem::iter_from_buffer(&data).find_map(Result::ok) else {
        return Err(format!(
            "'{input}' contains no valid PEM certificate or private key"
        ));
    };
    match pem.label.as_str() {
        "CERTIFICATE" => {
            let identity = identity_of_certificate(&pem.contents).map_err(|err| err.to_string())?;
            print_identity_boxed(&identity.to_string())
        }
        "PRIVATE KEY" => {
            let key = api_key_of_pkcs8(&pem.contents).ok_or_else(|| {
                format!("'{input}' contains unsupported private key. Only ed25519 private keys are supported")
            })?;
            let text = key.to_text();
            if !stdout_is_terminal() {
                return print_bare(text.as_str());
            }
            print_box(&[
                "Your API key:".to_owned(),
                String::new(),
                format!("   {}", bold(text.as_str())),
                String::new(),
                format!("It corresponds to the private key in: {input}."),
                "Keep it secret and secure!".to_owned(),
            ]);
            Ok(())
        }
        _ => Err(format!(
            "'{input}' contains unsupported private key. Only ed25519 private keys are supported"
        )),
    }
}

fn print_identity_boxed(identity: &str) -> Result<(), String> {
    if !stdout_is_terminal() {
        return print_bare(identity);
    }
    print_box(&[
        "Identity:".to_owned(),
        String::new(),
        format!("   {}", bold(identity)),
        String::new(),
        "An identity is a fingerprint of your API key".to_owned(),
        "or certificate and can be shared securely.".to_owned(),
    ]);
    Ok(())
}

/// DER prefix of a PKCS#8 v1 Ed25519 private key (RFC 8410), followed by the 32-byte seed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The API key of a PKCS#8 v1 Ed25519 private key, or `None` for any other key.
fn api_key_of_pkcs8(der: &[u8]) -> Option<ApiKey> {
    let seed = der.strip_prefix(&ED25519_PKCS8_PREFIX[..])?;
    if seed.len() != 32 {
        return None;
    }
    let mut raw = zeroize::Zeroizing::new(vec![0u8]);
    raw.extend_from_slice(seed);
    let text = zeroize::Zeroizing::new(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        &raw[..],
    ));
    ApiKey::parse(&text).ok()
}

fn of(args: OfArgs) -> Result<(), String> {
    let Some(input) = args.input else {
        return Err("no API key or certificate specified. See 'kes identity of --help'".to_owned());
    };
    let identity = if input.starts_with("kes:v1:") {
        ApiKey::parse(&input)
            .map_err(|err| err.to_string())?
            .identity()
            .to_string()
    } else {
        let data = std::fs::read(&input).map_err(|err| read_error(&input, &err))?;
        let mut blocks = Pem::iter_from_buffer(&data);
        let pem = match blocks.next() {
            Some(Ok(pem)) if pem.label == "CERTIFICATE" => pem,
            Some(Ok(_)) => {
                return Err(format!(
                    "failed to parse certificate in '{input}': https: unsupported PEM data block"
                ));
            }
            // A block this parser cannot read (e.g. with encryption headers) that is no
            // certificate is an unsupported block to upstream too.
            Some(Err(_))
                if String::from_utf8_lossy(&data)
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("-----BEGIN "))
                    .is_some_and(|l| l != "CERTIFICATE-----") =>
            {
                return Err(format!(
                    "failed to parse certificate in '{input}': https: unsupported PEM data block"
                ));
            }
            Some(Err(_)) | None => {
                return Err(format!(
                    "failed to parse certificate in '{input}': https: no valid PEM data"
                ));
            }
        };
        identity_of_certificate(&pem.contents)
            .map_err(|err| format!("failed to parse certificate in '{input}': {err}"))?
            .to_string()
    };
    if stdout_is_terminal() {
        println!("Identity:\n\n   {}", bold(&identity));
        Ok(())
    } else {
        print_bare(&identity)
    }
}

fn new(args: NewArgs) -> Result<(), String> {
    let files = match (&args.key, &args.cert) {
        (Some(key), Some(cert)) => Some((key.as_path(), cert.as_path())),
        (Some(_), None) => {
            return Err(
                "private key file specified but no certificate file. Set the '--cert' flag"
                    .to_owned(),
            );
        }
        (None, Some(_)) => {
            return Err(
                "certificate file specified but no private key file. Set the '--key' flag"
                    .to_owned(),
            );
        }
        (None, None) => None,
    };
    if files.is_none() {
        for (flag, set) in [
            ("--encrypt", args.encrypt),
            ("--force", args.force),
            ("--expiry", args.expiry.is_some()),
            ("--ip", !args.ip.is_empty()),
            ("--dns", !args.dns.is_empty()),
        ] {
            if set {
                return Err(format!(
                    "'{flag}' requires a private key and certificate file. Set the '--cert' and '--key' flag"
                ));
            }
        }
    }
    let expiry_text = args.expiry.as_deref().unwrap_or(DEFAULT_EXPIRY);
    let expiry = match crate::config::duration::parse(expiry_text) {
        Some(d) if !d.negative && d.nanos > 0 => d.to_std(),
        // Go's time.ParseDuration wording, as pflag reports it.
        None => {
            return Err(format!(
                "invalid argument \"{expiry_text}\" for \"--expiry\" flag: time: invalid duration \"{expiry_text}\". See 'kes identity new --help'"
            ));
        }
        Some(_) => {
            return Err(format!(
                "invalid argument \"{expiry_text}\" for \"--expiry\" flag: not a positive duration such as 720h. See 'kes identity new --help'"
            ));
        }
    };

    let key = ApiKey::generate().map_err(|err| format!("failed to generate API key: {err}"))?;
    if let Some((key_path, cert_path)) = files {
        write_certificate(&key, &args, key_path, cert_path, expiry)?;
    }

    let text = key.to_text();
    let mut out = String::new();
    out.push_str("Your API key:\n\n");
    out.push_str(&format!("   {}\n\n", bold(text.as_str())));
    out.push_str("This is the only time it is shown. Keep it secret and secure!\n\n");
    out.push_str("Your Identity:\n\n");
    out.push_str(&format!("   {}\n\n", bold(&key.identity().to_string())));
    out.push_str("The identity is not a secret. It can be shared. Any peer\n");
    out.push_str("needs this identity in order to verify your API key.\n");
    if let Some((key_path, cert_path)) = files {
        out.push_str(&format!(
            "\nThe generated TLS private key is stored at: {}\n",
            key_path.display()
        ));
        out.push_str(&format!(
            "The generated TLS certificate is stored at: {}\n",
            cert_path.display()
        ));
    }
    out.push_str("\nThe identity can be computed again via:\n\n");
    out.push_str(&format!("    kes identity of {}\n", text.as_str()));
    if let Some((_, cert_path)) = files {
        out.push_str(&format!("    kes identity of {}", cert_path.display()));
    }
    println!("{out}");
    Ok(())
}

/// Writes the PKCS#8 private key of `key` (mode 0600) and a self-signed certificate for it.
fn write_certificate(
    key: &ApiKey,
    args: &NewArgs,
    key_path: &Path,
    cert_path: &Path,
    expiry: Duration,
) -> Result<(), String> {
    let client_cert = key
        .certificate()
        .map_err(|err| format!("failed to create private key: {err}"))?;
    let key_der = client_cert.key_der;
    let pkcs8 = match &key_der {
        rustls_pki_types::PrivateKeyDer::Pkcs8(der) => der.clone_key(),
        _ => return Err("failed to create private key: not a PKCS#8 key".to_owned()),
    };
    let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &PKCS_ED25519)
        .map_err(|err| format!("failed to generate certificate: {err}"))?;

    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial)
        .map_err(|_| "failed to generate certificate: no randomness".to_owned())?;
    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let mut subject = DistinguishedName::new();
    let common_name = args
        .subject
        .clone()
        .unwrap_or_else(|| key.identity().to_string());
    subject.push(DnType::CommonName, common_name);
    params.distinguished_name = subject;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now;
    params.not_after = now + expiry;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let mut basic_constraints =
        rcgen::CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
    basic_constraints.set_criticality(true);
    params.custom_extensions = vec![basic_constraints];
    for dns in &args.dns {
        let name = rcgen::string::Ia5String::try_from(dns.as_str())
            .map_err(|err| format!("invalid DNS name '{dns}': {err}"))?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    for ip in &args.ip {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    let cert = params
        .self_signed(&signer)
        .map_err(|err| format!("failed to generate certificate: {err}"))?;

    if !args.force {
        if key_path.exists() {
            return Err("private key already exists. Use --force to overwrite it".to_owned());
        }
        if cert_path.exists() {
            return Err("certificate already exists. Use --force to overwrite it".to_owned());
        }
    }
    let key_pem = if args.encrypt {
        let password = super::password::read("Enter password for private key:")?;
        let confirm = super::password::read("Confirm password for private key:")?;
        // Secrets are compared in constant time, even two typed at the same terminal.
        if aws_lc_rs::constant_time::verify_slices_are_equal(
            password.as_bytes(),
            confirm.as_bytes(),
        )
        .is_err()
        {
            return Err("passwords don't match".to_owned());
        }
        zeroize::Zeroizing::new(
            kes_client::pem::encode_encrypted("PRIVATE KEY", pkcs8.secret_pkcs8_der(), &password)
                .map_err(|err| format!("failed to encrypt private key: {err}"))?,
        )
    } else {
        zeroize::Zeroizing::new(kes_client::pem::encode(
            "PRIVATE KEY",
            pkcs8.secret_pkcs8_der(),
        ))
    };
    write_file(key_path, key_pem.as_bytes(), 0o600)
        .map_err(|err| format!("failed to create private key: {err}"))?;
    let cert_pem = kes_client::pem::encode("CERTIFICATE", cert.der());
    if let Err(err) = write_file(cert_path, cert_pem.as_bytes(), 0o644) {
        // Best effort: do not leave a key without its certificate behind.
        let _ = std::fs::remove_file(key_path);
        return Err(format!("failed to create certificate: {err}"));
    }
    Ok(())
}

/// Writes `data` to `path`, creating it with `mode` (Unix) or truncating it; an existing file
/// also gets `mode`.
fn write_file(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(mode);
        let mut file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.write_all(data)?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        let mut file = options.open(path)?;
        file.write_all(data)?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_of_an_api_key_gives_the_key_back() {
        let key = ApiKey::generate().unwrap();
        let cert = key.certificate().unwrap();
        let rustls_pki_types::PrivateKeyDer::Pkcs8(der) = cert.key_der else {
            panic!("not PKCS#8");
        };
        let back = api_key_of_pkcs8(der.secret_pkcs8_der()).unwrap();
        assert_eq!(back.to_text().as_str(), key.to_text().as_str());
        assert!(api_key_of_pkcs8(&[0x30, 0x00]).is_none());
    }

    #[test]
    fn escapes_take_no_room() {
        assert_eq!(visible_len("ab\x1b[1mcd\x1b[0m"), 4);
        assert_eq!(visible_len("µs"), 2);
    }
}
