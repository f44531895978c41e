//! The `kes` binary: parses the command line and hands over to the library.

use clap::Parser as _;

fn main() {
    let cli = kes_server::cli::Cli::parse();
    std::process::exit(kes_server::cli::run(cli));
}
