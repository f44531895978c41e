//! `kes server`: runs the server from a KES config file (`--config`), from a self-initialising
//! data directory (`--data`), or in ephemeral development mode (`--dev`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use kes_client::ApiKey;

use super::quickstart;
use crate::config::Config;
use crate::startup::{self, Prepared};
use crate::state::Server;

/// The address the server listens on when neither `--addr` nor the config names one.
const DEFAULT_ADDR: &str = "0.0.0.0:7373";

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    $ kes server --config config.yml\n  \
    $ kes server --data ./kes-data --addr 127.0.0.1:7373\n  \
    $ kes server --dev")]
pub struct ServerArgs {
    /// The network interface and port to listen on, e.g. 127.0.0.1:7373.
    #[arg(long, value_name = "IP:PORT")]
    addr: Option<String>,

    /// Path to the KES server config file.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["dev", "data"])]
    config: Option<PathBuf>,

    /// Start an ephemeral development server: in-memory keys, a fresh TLS certificate and admin
    /// API key, all lost on exit.
    #[arg(long, conflicts_with = "data")]
    dev: bool,

    /// Keep everything in DIR: a file keystore, a self-signed TLS certificate and an admin API
    /// key, created on first start and reused afterwards (DIR/config.yml is a normal KES config).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,

    /// Deprecated and ignored: use the config file's tls.key.
    #[arg(long, hide = true)]
    key: Option<String>,
    /// Deprecated and ignored: use the config file's tls.cert.
    #[arg(long, hide = true)]
    cert: Option<String>,
    /// Deprecated and ignored: use the config file's tls.auth.
    #[arg(long, hide = true)]
    auth: Option<String>,
}

pub fn run(args: ServerArgs) -> Result<(), String> {
    // Upstream's warnings, word for word (the double space included).
    let term = super::style::Term::detect(super::style::ColorWhen::Auto);
    let warning = term.render(super::style::Style::new().fg(0xac, 0x00, 0x00), "WARNING:");
    for (set, text) in [
        (
            args.key.as_deref().is_some_and(|v| !v.is_empty()),
            "'--key' flag is deprecated and no longer honored. Specify the private key in the config file",
        ),
        (
            args.cert.as_deref().is_some_and(|v| !v.is_empty()),
            "'--cert' flag is deprecated and no longer honored. Specify the certificate  in the config file",
        ),
        (
            args.auth.as_deref().is_some_and(|v| !v.is_empty()),
            "'--auth' flag is deprecated and no longer honored. Specify the client certificate verification in the config file",
        ),
    ] {
        if set {
            eprintln!("{warning} {text}");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("failed to start runtime: {err}"))?;
    // As upstream: a server with a config file keeps its memory out of swap where it can.
    let memory_locked = !args.dev && crate::mlock::lock_memory();
    runtime.block_on(async move {
        let addr_flag = args.addr.as_deref().map(parse_addr).transpose()?;
        let (prepared, addr, banner, config_path) = if args.dev {
            let api_key = ApiKey::generate().map_err(|e| e.to_string())?;
            let prepared = quickstart::dev_server(&api_key).await?;
            let text = format!(
                "API Key  {}\nAdmin    {}\n\n=> This is a development server: keys are kept in memory and lost on exit.",
                api_key.to_text().as_str(),
                api_key.identity()
            );
            let banner: Banner = Box::new(move |_| text.clone());
            (prepared, addr_flag, banner, None)
        } else if let Some(dir) = &args.data {
            let init = quickstart::data_dir(dir)?;
            let config = Config::load(&init.config_path).map_err(|e| e.to_string())?;
            let prepared = startup::prepare(&config).await?;
            let config_path = init.config_path.clone();
            let banner: Banner = Box::new(move |port| init.banner(port));
            (prepared, addr_flag.or(config.address), banner, Some(config_path))
        } else if let Some(path) = &args.config {
            std::fs::File::open(path)
                .map_err(|err| super::style::go_path_error("open", path, &err))?;
            let config = Config::load(path).map_err(|e| e.to_string())?;
            let prepared = startup::prepare(&config).await?;
            let banner: Banner = Box::new(|_| String::new());
            (prepared, addr_flag.or(config.address), banner, Some(path.clone()))
        } else {
            return Err("no config file specified: use --config FILE, --data DIR or --dev (see kes server --help)".to_owned());
        };
        let addr = match addr {
            Some(addr) => addr,
            None => parse_addr(DEFAULT_ADDR)?,
        };
        serve(prepared, addr, banner, config_path, memory_locked).await
    })
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    crate::config::parse_address(text).map_err(|err| err.to_string())
}

/// What `kes server` prints after binding, given the port it listens on.
type Banner = Box<dyn Fn(u16) -> String + Send>;

/// Serves until SIGINT or SIGTERM; SIGHUP reloads `config_path` (`None` for `--dev`), and its
/// TLS files are read again every [`crate::startup::TLS_RELOAD_INTERVAL`]. The banner says
/// whether memory is locked.
async fn serve(
    prepared: Prepared,
    addr: SocketAddr,
    banner: Banner,
    config_path: Option<PathBuf>,
    memory_locked: bool,
) -> Result<(), String> {
    let listener = crate::serve::bind(addr)
        .await
        .map_err(|err| format!("failed to listen on {addr}: {err}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // Installed before the banner: a signal sent once the server reports itself up is handled.
    let signals = shutdown_signal(Arc::clone(&prepared.server), config_path.clone());
    println!(
        "Version  {}  commit={}",
        crate::buildinfo::VERSION,
        crate::buildinfo::COMMIT
    );
    println!("API      https://{local}");
    if memory_locked {
        println!("MLock    enabled");
    }
    let banner = banner(local.port());
    if !banner.is_empty() {
        println!("{banner}");
    }
    println!("\n=> Server is up and running...");
    let tls_reload = config_path.map(|path| {
        let server = Arc::clone(&prepared.server);
        tokio::spawn(server.reload_tls_every(path, crate::startup::TLS_RELOAD_INTERVAL))
    });
    let served = crate::serve::serve(listener, prepared.tls, prepared.server, signals).await;
    if let Some(task) = tls_reload {
        task.abort();
    }
    served.map_err(|err| err.to_string())?;
    println!("\n=> Stopping server... Goodbye.");
    Ok(())
}

/// Installs the signal handlers now and returns a future that completes on SIGINT or SIGTERM.
/// On SIGHUP, it reloads the configuration file at `config_path` into `server` (a failed reload
/// is logged and keeps the old configuration).
fn shutdown_signal(
    server: Arc<Server>,
    config_path: Option<PathBuf>,
) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    async move {
        let (Ok(mut int), Ok(mut term), Ok(mut hup)) = handlers else {
            // Without signal handlers the server can only be killed; keep serving.
            return std::future::pending().await;
        };
        loop {
            tokio::select! {
                _ = int.recv() => return,
                _ = term.recv() => return,
                _ = hup.recv() => match &config_path {
                    // The outcome is logged by the reload itself.
                    Some(path) => {
                        let _ = server.reload_file(path).await;
                    }
                    None => eprintln!("Warning: SIGHUP received: a --dev server has no configuration file to reload"),
                },
            }
        }
    }
}
