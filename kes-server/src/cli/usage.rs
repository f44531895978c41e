//! Command line parsing with upstream's usage errors. Upstream (Go pflag plus hand-written
//! checks) answers a usage mistake with one line, `Error: <what>. See 'kes <command> --help'`,
//! on stderr and exit status 1; `--help` and a missing subcommand print the usage on stderr with
//! exit status 2. Clap finds the mistakes; this module words them like upstream.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory as _, FromArgMatches as _};

use super::Cli;
use super::style::{ColorWhen, Term};

/// The exit status of `--help` and of a command group without its subcommand.
const HELP_EXIT: i32 = 2;

/// The clap command tree of `kes`: without clap's `help` subcommands, which upstream lacks
/// (`kes help` is an unknown command there), and with pflag's rule that a repeated flag is no
/// mistake (the last value wins).
pub fn command() -> clap::Command {
    fn tweak(cmd: clap::Command) -> clap::Command {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        let mut cmd = cmd.disable_help_subcommand(true).args_override_self(true);
        for name in names {
            cmd = cmd.mut_subcommand(name, tweak);
        }
        cmd
    }
    tweak(Cli::command())
}

/// Parses `argv` (program name first). `Err` holds the exit status after the usage or the
/// error has been printed.
pub fn parse(argv: Vec<OsString>) -> Result<Cli, i32> {
    let path = command_path(&argv);
    let argv = go_bools(argv, &path)?;
    let matches = command()
        .try_get_matches_from(&argv)
        .map_err(|err| report(&err, &path, &argv))?;
    Cli::from_arg_matches(&matches).map_err(|err| report(&err, &path, &argv))
}

/// pflag's boolean flags also take `=VALUE` (`--json=false`, `-k=true`), parsed like Go's
/// `strconv.ParseBool`. Such arguments become the bare flag (true) or disappear (false); an
/// invalid value is reported as pflag does. Everything after `--` is left alone.
fn go_bools(argv: Vec<OsString>, path: &[String]) -> Result<Vec<OsString>, i32> {
    let cmd = find(path);
    let bools: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| matches!(a.get_action(), clap::ArgAction::SetTrue))
        .collect();
    let mut out = Vec::with_capacity(argv.len());
    let mut rest = false;
    for arg in argv {
        let text = arg.to_str().unwrap_or_default();
        if rest || text == "--" {
            rest = true;
            out.push(arg);
            continue;
        }
        let flag = text.split_once('=').and_then(|(name, value)| {
            let found = if let Some(long) = name.strip_prefix("--") {
                bools.iter().find(|a| a.get_long() == Some(long))
            } else {
                let short = name.strip_prefix('-').filter(|s| s.chars().count() == 1)?;
                bools
                    .iter()
                    .find(|a| a.get_short().is_some_and(|c| short.starts_with(c)))
            };
            found.map(|a| (*a, name, value))
        });
        let Some((flag, name, value)) = flag else {
            out.push(arg);
            continue;
        };
        match value {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => out.push(OsString::from(name)),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => {}
            _ => {
                let long = flag.get_long().unwrap_or_default();
                let shown = match flag.get_short() {
                    Some(c) => format!("-{c}, --{long}"),
                    None => format!("--{long}"),
                };
                let term = Term::detect(color_flag(&out));
                eprintln!(
                    "{}invalid argument {} for {} flag: strconv.ParseBool: parsing {}: invalid syntax{}",
                    term.error_prefix(),
                    go_quote(value),
                    go_quote(&shown),
                    go_quote(value),
                    see_help(path)
                );
                return Err(1);
            }
        }
    }
    Ok(out)
}

/// The subcommand names at the start of `argv`, found like upstream's dispatch: the command is
/// the first argument, a group's subcommand the second.
fn command_path(argv: &[OsString]) -> Vec<String> {
    let arg = |i: usize| argv.get(i).and_then(|a| a.to_str()).unwrap_or_default();
    let root = command();
    let Some(first) = root.find_subcommand(arg(1)) else {
        return Vec::new();
    };
    let mut path = vec![first.get_name().to_owned()];
    if let Some(second) = first.find_subcommand(arg(2)) {
        path.push(second.get_name().to_owned());
    }
    path
}

/// Prints the usage (help) or upstream's error line for `err`; returns the exit status.
fn report(err: &clap::Error, path: &[String], argv: &[OsString]) -> i32 {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        | ErrorKind::MissingSubcommand => {
            let help = match err.kind() {
                ErrorKind::MissingSubcommand => find(path).render_help().to_string(),
                _ => err.render().to_string(),
            };
            eprint!("{}", help.trim_end_matches('\n'));
            eprintln!();
            HELP_EXIT
        }
        ErrorKind::DisplayVersion => {
            print!("{}", err.render());
            0
        }
        _ => {
            let term = Term::detect(color_flag(argv));
            eprintln!("{}{}", term.error_prefix(), message(err, path, argv));
            1
        }
    }
}

/// The last valid `--color` value on the command line: pflag has applied it (switching the
/// colour profile) by the time a later mistake is reported.
fn color_flag(argv: &[OsString]) -> ColorWhen {
    let args: Vec<&str> = argv.iter().filter_map(|a| a.to_str()).collect();
    let mut when = ColorWhen::Auto;
    for (i, arg) in args.iter().enumerate() {
        let value = match arg.strip_prefix("--color") {
            Some("") => args.get(i + 1).copied(),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("never") => when = ColorWhen::Never,
            Some("always") => when = ColorWhen::Always,
            Some("auto" | "") => when = ColorWhen::Auto,
            _ => {}
        }
    }
    when
}

/// The clap command at `path`.
fn find(path: &[String]) -> clap::Command {
    let mut cmd = command();
    for name in path {
        match cmd.find_subcommand(name) {
            Some(sub) => cmd = sub.clone(),
            None => break,
        }
    }
    cmd
}

/// The first string of a context value.
fn context(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(v) => v.first().map(ToString::to_string),
        _ => None,
    }
}

/// A string quoted like Go's `%q` for the printable ASCII names on a command line.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// `. See 'kes <path> --help'`, except where upstream prints no hint (`kes ls`, `kes identity`
/// with a key or file).
fn see_help(path: &[String]) -> String {
    let joined = path.join(" ");
    match joined.as_str() {
        "ls" | "identity" => String::new(),
        "" => ". See 'kes --help'".to_owned(),
        _ => format!(". See 'kes {joined} --help'"),
    }
}

/// Upstream's wording of a usage mistake, without the `Error: ` prefix.
fn message(err: &clap::Error, path: &[String], argv: &[OsString]) -> String {
    let hint = see_help(path);
    let invalid_arg = context(err, ContextKind::InvalidArg).unwrap_or_default();
    match err.kind() {
        ErrorKind::InvalidSubcommand => {
            let name = context(err, ContextKind::InvalidSubcommand).unwrap_or_default();
            let group = path.last().map_or("kes", String::as_str);
            format!("{} is not a {group} command{hint}", go_quote(&name))
        }
        ErrorKind::UnknownArgument => unknown_argument(&invalid_arg, path, argv, &hint),
        ErrorKind::MissingRequiredArgument => {
            let placeholder = invalid_arg
                .trim_end_matches("...")
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_ascii_uppercase();
            let group = path.first().map(String::as_str);
            let what = match (group, placeholder.as_str()) {
                (Some("policy"), "NAME") => "no policy name specified".to_owned(),
                (_, "NAME" | "NAMES") => "no key name specified".to_owned(),
                (_, "KEY") => "no crypto key specified".to_owned(),
                (_, "MESSAGE") => "no message specified".to_owned(),
                (_, "CIPHERTEXT") => "no ciphertext specified".to_owned(),
                _ => format!("no {} specified", placeholder.to_ascii_lowercase()),
            };
            format!("{what}{hint}")
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context(err, ContextKind::InvalidValue).unwrap_or_default();
            let long = invalid_arg
                .split([' ', '='])
                .next()
                .unwrap_or_default()
                .to_owned();
            let used = argv
                .iter()
                .rev()
                .filter_map(|a| a.to_str())
                .find(|a| a.starts_with('-'))
                .unwrap_or_default();
            if value.is_empty() && err.kind() == ErrorKind::InvalidValue {
                if used.starts_with("--") || used.len() < 2 {
                    return format!("flag needs an argument: {long}{hint}");
                }
                let short = used.chars().last().unwrap_or('-');
                return format!("flag needs an argument: '{short}' in {used}{hint}");
            }
            let name = flag_name(path, &long);
            let reason = match err.kind() {
                ErrorKind::InvalidValue if long == "--color" => "invalid color option".to_owned(),
                ErrorKind::InvalidValue => "invalid value".to_owned(),
                _ if long == "--ip" => {
                    format!("invalid string being converted to IP address: {value}")
                }
                _ => cause(err),
            };
            format!(
                "invalid argument {} for {} flag: {reason}{hint}",
                go_quote(&value),
                go_quote(&name)
            )
        }
        ErrorKind::ArgumentConflict => {
            let prior = context(err, ContextKind::PriorArg).unwrap_or_default();
            let first = |s: &str| s.split([' ', '=']).next().unwrap_or_default().to_owned();
            let mut pair = [first(&invalid_arg), first(&prior)];
            pair.sort();
            match (
                path.join(" ").as_str(),
                [pair[0].as_str(), pair[1].as_str()],
            ) {
                // `kes identity KEY EXTRA`: clap sees the extra argument as a subcommand.
                ("identity", _) => "too many arguments".to_owned(),
                ("migrate", ["--force", "--merge"]) => {
                    "'--force' and '--merge' flags are mutually exclusive".to_owned()
                }
                ("server", ["--config", "--dev"]) => {
                    "'--config' flag is not supported in development mode".to_owned()
                }
                _ => format!(
                    "'{}' and '{}' must not be used at the same time{hint}",
                    pair[0], pair[1]
                ),
            }
        }
        _ => {
            let rendered = err.render().to_string();
            let line = rendered.lines().next().unwrap_or_default();
            let line = line.strip_prefix("error: ").unwrap_or(line);
            format!("{line}{hint}")
        }
    }
}

/// An unknown `--flag` or `-x`, or one positional argument too many.
fn unknown_argument(arg: &str, path: &[String], argv: &[OsString], hint: &str) -> String {
    if let Some(long) = arg.strip_prefix("--").filter(|s| !s.is_empty()) {
        let long = long.split('=').next().unwrap_or_default();
        return format!("unknown flag: --{long}{hint}");
    }
    if let Some(short) = arg
        .strip_prefix('-')
        .and_then(|s| s.chars().next())
        .filter(|c| *c != '-')
    {
        let group = argv
            .iter()
            .skip(1 + path.len())
            .filter_map(|a| a.to_str())
            .find(|a| a.starts_with('-') && !a.starts_with("--") && a.contains(short))
            .unwrap_or(arg);
        // pflag names the rest of the group of short flags, from the unknown letter on.
        let group = group.split('=').next().unwrap_or(group);
        let rest = group.find(short).map_or(group, |at| &group[at..]);
        return format!("unknown shorthand flag: '{short}' in -{rest}{hint}");
    }
    match path.join(" ").as_str() {
        // Upstream checks these counts without a hint.
        "ls" | "identity" | "migrate" => "too many arguments".to_owned(),
        _ => format!("too many arguments{hint}"),
    }
}

/// How pflag names a flag in value errors: `--long`, or `-s, --long` when it has a short form.
fn flag_name(path: &[String], long: &str) -> String {
    let cmd = find(path);
    let short = long.strip_prefix("--").and_then(|name| {
        cmd.get_arguments()
            .find(|a| a.get_long() == Some(name))
            .and_then(clap::Arg::get_short)
    });
    match short {
        Some(s) => format!("-{s}, {long}"),
        None => long.to_owned(),
    }
}

/// The reason a value parser gave, without clap's decoration.
fn cause(err: &clap::Error) -> String {
    use std::error::Error as _;
    match err.source() {
        Some(source) => source.to_string(),
        None => {
            let rendered = err.render().to_string();
            let line = rendered.lines().next().unwrap_or_default().to_owned();
            line.rsplit_once(": ")
                .map_or(line.clone(), |(_, r)| r.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn path(args: &[&str]) -> Vec<String> {
        let argv: Vec<OsString> = std::iter::once("kes")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        command_path(&argv)
    }

    #[test]
    fn paths_follow_upstream_dispatch() {
        assert_eq!(path(&["key", "create", "x"]), ["key", "create"]);
        assert_eq!(path(&["key", "nope"]), ["key"]);
        assert_eq!(path(&["-k", "key"]), Vec::<String>::new());
        assert_eq!(path(&["identity", "of"]), ["identity", "of"]);
        assert_eq!(path(&["status"]), ["status"]);
    }

    #[test]
    fn command_tree_is_valid() {
        command().debug_assert();
    }

    /// Every command and every visible flag or argument has a help line.
    #[test]
    fn help_documents_everything() {
        fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if cmd.get_about().is_none() && !path.is_empty() {
                missing.push(format!("kes{path}"));
            }
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() {
                    missing.push(format!("kes{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        check(&command(), "", &mut missing);
        assert!(missing.is_empty(), "undocumented: {missing:?}");
    }
}
