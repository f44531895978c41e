//! `kes-load`: drives a KES-compatible server over mTLS with keep-alive connections and prints
//! ops/s, latency percentiles and errors as a table and as JSON.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kes_bench::load::{self, LoadConfig, Op, Target};
use kes_client::ApiKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Load generator for KES-compatible servers.
#[derive(Debug, Parser)]
#[command(name = "kes-load", version)]
struct Args {
    /// Server address (host:port, an IP address).
    #[arg(long, default_value = "127.0.0.1:7373")]
    addr: SocketAddr,
    /// API key of the client identity (`kes identity new`); or use --cert/--key.
    #[arg(long, env = "KES_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Client certificate (PEM), with --key.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Client private key (PEM), with --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// The server certificate to trust; without it any certificate is accepted.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Operations: generate, decrypt, encrypt, describe, create-delete, mix (comma separated;
    /// each runs in turn).
    #[arg(long, default_value = "generate", value_delimiter = ',')]
    op: Vec<Op>,
    /// Concurrent keep-alive connections (comma separated: each runs in turn).
    #[arg(short = 'c', long, default_value = "16", value_delimiter = ',')]
    connections: Vec<usize>,
    /// Measured phase length in seconds.
    #[arg(short = 'd', long, default_value_t = 10.0)]
    duration: f64,
    /// Stop the measured phase after this many operations instead.
    #[arg(short = 'n', long)]
    count: Option<u64>,
    /// Warm-up in seconds before measuring.
    #[arg(short = 'w', long, default_value_t = 2.0)]
    warmup: f64,
    /// The key name the operations use (created if missing).
    #[arg(long, default_value = "kes-load-key")]
    key_name: String,
    /// Print only JSON.
    #[arg(long)]
    json: bool,
}

fn identity(
    args: &Args,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), load::BoxError> {
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let cert = CertificateDer::from_pem_file(cert)?;
        let key = PrivateKeyDer::from_pem_file(key)?;
        return Ok((cert, key));
    }
    let text = args
        .api_key
        .as_deref()
        .ok_or("an identity is required: --api-key (or KES_API_KEY), or --cert and --key")?;
    let cert = ApiKey::parse(text)?.certificate()?;
    Ok((cert.cert_der, cert.key_der))
}

async fn run(args: Args) -> Result<(), load::BoxError> {
    let server_cert = match &args.ca {
        Some(path) => Some(CertificateDer::from_pem_file(path)?),
        None => None,
    };
    let target = Target::new(args.addr, identity(&args)?, server_cert, &args.key_name)?;
    let payloads = load::prepare(&target).await?;
    let mut reports = Vec::new();
    for &op in &args.op {
        for &connections in &args.connections {
            let cfg = LoadConfig {
                op,
                connections,
                warmup: Duration::from_secs_f64(args.warmup),
                duration: Duration::from_secs_f64(args.duration),
                count: args.count,
            };
            let report = load::run(&target, &payloads, &cfg, |_| {}).await?;
            if !args.json {
                eprintln!("{}", load::table(std::slice::from_ref(&report)).trim_end());
            }
            reports.push(report);
        }
    }
    if !args.json {
        println!("{}", load::table(&reports));
    }
    println!("{}", serde_json::to_string_pretty(&reports)?);
    Ok(())
}

fn main() -> ExitCode {
    kes_bench::main_with("kes-load", run(Args::parse()))
}
