//! The `kes` command line. `main` parses arguments with [`Cli`] and calls [`run`].

mod completion;
mod identity;
mod identity_admin;
mod key;
mod log;
mod ls;
mod metric;
mod migrate;
mod password;
mod policy;
mod quickstart;
mod remote;
mod server;
mod status;
mod style;
mod update;
mod usage;
mod version;

use clap::{Parser, Subcommand};

/// KES-compatible key server and command line.
#[derive(Debug, Parser)]
#[command(name = "kes", version = crate::buildinfo::VERSION, disable_version_flag = true)]
pub struct Cli {
    /// Print version information and exit.
    #[arg(short = 'v', long = "version")]
    version: bool,

    /// Print how to install shell completion (see `kes completion --help`).
    #[arg(long = "auto-completion")]
    auto_completion: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a KES server.
    Server(server::ServerArgs),
    /// List keys, policies and identities.
    Ls(ls::LsArgs),
    /// Manage cryptographic keys.
    Key(key::KeyArgs),
    /// Manage KES policies.
    Policy(policy::PolicyArgs),
    /// Print server status.
    Status(status::StatusArgs),
    /// Manage KES identities.
    Identity(identity::IdentityArgs),
    /// Print error and audit log events.
    Log(log::LogArgs),
    /// Print server metrics.
    Metric(metric::MetricArgs),
    /// Migrate keys from one keystore to another.
    Migrate(migrate::MigrateArgs),
    /// Explain how to update this KES binary.
    Update(update::UpdateArgs),
    /// Print a shell completion script.
    Completion(completion::CompletionArgs),
}

/// Parses the process's arguments and runs the command; returns the process exit code.
/// Usage mistakes are reported like upstream (`Error: …` and status 1; usage and status 2).
pub fn main() -> i32 {
    if let Some(code) = completion::complete_from_env() {
        return code;
    }
    match usage::parse(std::env::args_os().collect()) {
        Ok(cli) => run(cli),
        Err(code) => code,
    }
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    if cli.version {
        return version::run();
    }
    let Some(command) = cli.command else {
        return completion::no_command(cli.auto_completion);
    };
    let result = match command {
        Command::Server(args) => server::run(args),
        Command::Ls(args) => return ls::run(args),
        Command::Key(args) => return key::run(args),
        Command::Policy(args) => return policy::run(args),
        Command::Status(args) => return status::run(args),
        Command::Identity(args) => return identity::run(args),
        Command::Log(args) => return log::run(args),
        Command::Metric(args) => return metric::run(args),
        Command::Migrate(args) => return migrate::run(args),
        Command::Update(args) => return update::run(args),
        Command::Completion(args) => return completion::run(args),
    };
    match result {
        Ok(()) => 0,
        Err(err) => {
            let term = style::Term::detect(style::ColorWhen::Auto);
            eprintln!("{}{err}", term.error_prefix());
            1
        }
    }
}
