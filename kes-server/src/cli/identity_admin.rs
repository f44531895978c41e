//! `kes identity info [IDENTITY]` and `kes identity ls [PATTERN]`: identities on the server.
//! The `identity` command itself (with `new` and `of`) lives in its own module and dispatches
//! here.

use std::fmt::Write as _;

use clap::Args;

use super::remote::{self, block_on};
use super::style::{Output, Style, Term, date_time, name_list};

/// Arguments of `kes identity info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Skip TLS certificate validation.
    #[arg(short = 'k', long = "insecure")]
    insecure: bool,
    /// Operate within the specified enclave (ignored).
    #[arg(short = 'e', long = "enclave", value_name = "NAME")]
    enclave: Option<String>,
    /// `--json` is accepted and, as upstream, has no effect.
    #[command(flatten)]
    output: Output,
    /// The identity to describe; without it, the caller's own.
    identity: Option<String>,
}

/// Arguments of `kes identity ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Skip TLS certificate validation.
    #[arg(short = 'k', long = "insecure")]
    insecure: bool,
    #[command(flatten)]
    output: Output,
    /// Identities starting with this prefix.
    pattern: Option<String>,
}

/// Runs `kes identity info`; returns the exit code.
pub fn run_info(args: InfoArgs) -> i32 {
    let term = Term::detect(args.output.color);
    remote::exit_code(&term, info(&term, args))
}

/// Runs `kes identity ls`; returns the exit code.
pub fn run_ls(args: LsArgs) -> i32 {
    let term = Term::detect(args.output.color);
    remote::exit_code(&term, ls(&term, args))
}

fn info(term: &Term, args: InfoArgs) -> Result<(), String> {
    let (faint, identity_style, policy_style, allow_dot, deny_dot) = if term.colorize {
        (
            Style::new().bold().faint(),
            Style::new().fg(0x2e, 0x42, 0xd1),
            Style::new().fg(0xd1, 0xbd, 0x2e),
            Style::new().fg(0x00, 0xd7, 0x00),
            Style::new().fg(0xd7, 0x00, 0x00),
        )
    } else {
        (
            Style::new(),
            Style::new(),
            Style::new(),
            Style::new(),
            Style::new(),
        )
    };
    // One `label value` line; writing to a String cannot fail.
    let row = |out: &mut String, name: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(
            out,
            "{} {value}",
            term.render(faint, &format!("{name:<11}"))
        );
    };
    let role = |admin: bool| if admin { "Admin" } else { "User" };
    let client = remote::connect(None, None, args.insecure)?.client;
    let mut out = String::new();
    match args.identity {
        None => {
            let me = block_on(async { client.describe_self().await.map_err(|e| e.to_string()) })?;
            row(
                &mut out,
                "Identity",
                &term.render(identity_style, &me.identity),
            );
            row(&mut out, "Created At", &date_time(me.created_at));
            row(&mut out, "Role", &role(me.admin));
            if !me.created_by.is_empty() {
                row(&mut out, "Created By", &me.created_by);
            }
            if !me.policy_name.is_empty() {
                out.push('\n');
                row(
                    &mut out,
                    "Policy",
                    &term.render(policy_style, &me.policy_name),
                );
                row(&mut out, "Created At", &date_time(me.policy.created_at));
                // Upstream printed `{}` (the map value) instead of each rule.
                for (title, rules, dot) in [
                    ("Allow", &me.policy.allow, allow_dot),
                    ("Deny", &me.policy.deny, deny_dot),
                ] {
                    if rules.is_empty() {
                        continue;
                    }
                    out.push_str(&term.render(faint, &format!("{title:<11}")));
                    out.push('\n');
                    for rule in rules {
                        let _ = writeln!(out, "{:<11} {} {rule}", " ", term.render(dot, "·"));
                    }
                }
            }
        }
        Some(identity) => {
            let info = block_on(async {
                client
                    .describe_identity(&identity)
                    .await
                    .map_err(|e| e.to_string())
            })?;
            row(
                &mut out,
                "Identity",
                &term.render(identity_style, &info.identity),
            );
            if !info.policy.is_empty() {
                row(&mut out, "Policy", &term.render(policy_style, &info.policy));
            }
            row(&mut out, "Created At", &date_time(info.created_at));
            row(&mut out, "Role", &role(info.admin));
            if !info.created_by.is_empty() {
                row(&mut out, "Created By", &info.created_by);
            }
        }
    }
    print!("{out}");
    Ok(())
}

fn ls(term: &Term, args: LsArgs) -> Result<(), String> {
    let client = remote::connect(None, None, args.insecure)?.client;
    let mut ids = block_on(async {
        client
            .list_identities(args.pattern.as_deref().unwrap_or_default())
            .await
            .map_err(|err| format!("failed to list identities: {err}"))
    })?;
    ids.sort();
    print!("{}", name_list(term, &args.output, "Identity", &ids)?);
    Ok(())
}
