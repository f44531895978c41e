//! The `kes` command line. `main` parses arguments with [`Cli`] and calls [`run`].

mod quickstart;
mod server;

use clap::{Parser, Subcommand};

/// KES-compatible key server and command line.
#[derive(Debug, Parser)]
#[command(name = "kes", version = crate::buildinfo::VERSION, disable_version_flag = true)]
pub struct Cli {
    /// Print version information and exit.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a KES server.
    Server(server::ServerArgs),
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Server(args) => server::run(args),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("Error: {err}");
            1
        }
    }
}
