//! `kes completion <shell>`: prints a shell completion script generated from the command
//! definitions.

use std::io::Write as _;

use clap::{Args, CommandFactory as _};
use clap_complete::Shell;

use super::Cli;

/// How to install completion; printed by `kes --auto-completion`.
pub const HOW_TO: &str = "\
This build of kes prints completion scripts instead of installing them. For example:

    bash:  kes completion bash > ~/.local/share/bash-completion/completions/kes
    zsh:   kes completion zsh > \"${fpath[1]}/_kes\"
    fish:  kes completion fish > ~/.config/fish/completions/kes.fish

Then start a new shell.";

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to generate completion for.
    shell: Shell,
}

/// Prints the completion script for the chosen shell.
pub fn run(args: CompletionArgs) -> i32 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "kes", &mut script);
    let mut out = std::io::stdout().lock();
    match out.write_all(&script).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(err) => {
            eprintln!("Error: {err}");
            1
        }
    }
}

/// `kes` without a command: with `--auto-completion`, how to install completion (exit 0);
/// otherwise the usage on stderr and exit 2, like upstream.
pub fn no_command(auto_completion: bool) -> i32 {
    if auto_completion {
        println!("{HOW_TO}");
        return 0;
    }
    eprintln!("{}", Cli::command().render_help());
    2
}
