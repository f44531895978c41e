//! `kes completion <shell>`: prints a shell completion script generated from the command
//! definitions. And the completion protocol of upstream's `kes --auto-completion`, which
//! registers the binary itself as the completer (`complete -C kes kes`): when bash or zsh runs
//! `kes` with `COMP_LINE` set, it prints the candidates for the word being completed.

use std::io::Write as _;

use clap::Args;
use clap_complete::Shell;

use super::usage;

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
    let mut command = usage::command();
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
    eprintln!("{}", usage::command().render_help());
    2
}

/// Answers a shell's completion request (bash `complete -C`), as upstream does when `SHELL`
/// names bash or zsh and `COMP_LINE` is set: prints the subcommands and long flags of the
/// command typed so far that start with the word being completed. `None` if this is no such
/// request.
pub fn complete_from_env() -> Option<i32> {
    let shell = std::env::var("SHELL").ok()?;
    if !shell.ends_with("zsh") && !shell.ends_with("bash") {
        return None;
    }
    let line = std::env::var("COMP_LINE").ok()?;
    let point = std::env::var("COMP_POINT")
        .ok()
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p <= line.len() && line.is_char_boundary(*p))
        .unwrap_or(line.len());
    for candidate in candidates(&line[..point]) {
        println!("{candidate}");
    }
    Some(0)
}

/// The completions of the last word of `line` (empty if `line` ends with a space).
fn candidates(line: &str) -> Vec<String> {
    let mut words: Vec<&str> = line.split_whitespace().skip(1).collect();
    let current = if line.ends_with(char::is_whitespace) || words.is_empty() {
        ""
    } else {
        words.pop().unwrap_or_default()
    };
    let mut cmd = usage::command();
    for word in words.iter().filter(|w| !w.starts_with('-')) {
        match cmd.find_subcommand(word) {
            Some(sub) => cmd = sub.clone(),
            None => break,
        }
    }
    let subcommands = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_owned());
    let flags = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")));
    subcommands
        .chain(flags)
        .filter(|c| c.starts_with(current))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::candidates;

    #[test]
    fn completes_subcommands_and_flags() {
        assert_eq!(candidates("kes key cr"), ["create"]);
        assert_eq!(candidates("kes st"), ["status"]);
        assert!(candidates("kes ").contains(&"server".to_owned()));
        assert!(candidates("kes status --").contains(&"--short".to_owned()));
        assert_eq!(candidates("kes identity new --enc"), ["--encrypt"]);
        assert!(candidates("kes zzz").is_empty());
    }
}
