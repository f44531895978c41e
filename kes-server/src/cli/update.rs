//! `kes update`: this build never replaces itself; the command says where releases are.

use clap::Args;

use super::remote;
use super::style::{ColorWhen, Term};

/// Where this project publishes its releases.
const RELEASES: &str = "https://github.com/kes-rs/kes/releases";

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The version to update to (ignored).
    version: Option<String>,
    /// Skip TLS certificate validation (ignored).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Allow downgrading to a previous version (ignored).
    #[arg(short = 'd', long)]
    downgrade: bool,
    /// Save the new binary to a file (ignored).
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<String>,
    /// Download a binary for the specified OS (ignored).
    #[arg(long, value_name = "OS")]
    os: Option<String>,
    /// Download a binary for the specified CPU architecture (ignored).
    #[arg(long, value_name = "ARCH")]
    arch: Option<String>,
    /// Verify the binary with this minisign public key (ignored).
    #[arg(long, value_name = "KEY")]
    minisign_key: Option<String>,
}

/// Runs `kes update`: prints where releases are and fails.
pub fn run(_args: UpdateArgs) -> i32 {
    remote::exit_code(
        &Term::detect(ColorWhen::Auto),
        Err(format!(
            "this build of kes does not update itself: download a release from {RELEASES} or build it from source with `cargo install`"
        )),
    )
}
