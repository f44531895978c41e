//! `kes policy info|ls|show`: the server's policies. `-e/--enclave` is accepted and ignored.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::remote::{self, block_on};
use super::style::{ColorWhen, Output, Style, Term, date_time, go_json, name_list, rfc3339_nano};

/// Arguments of `kes policy`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Describe a policy.
    Info {
        /// Skip TLS certificate validation.
        #[arg(short = 'k', long = "insecure")]
        insecure: bool,
        /// Operate within the specified enclave (ignored).
        #[arg(short = 'e', long = "enclave", value_name = "NAME")]
        enclave: Option<String>,
        #[command(flatten)]
        output: Output,
        /// Policy name.
        name: String,
    },
    /// List policies.
    Ls {
        /// Skip TLS certificate validation.
        #[arg(short = 'k', long = "insecure")]
        insecure: bool,
        #[command(flatten)]
        output: Output,
        /// Names starting with this prefix (default `*`, all).
        pattern: Option<String>,
    },
    /// Show a policy's rules.
    Show {
        /// Skip TLS certificate validation.
        #[arg(short = 'k', long = "insecure")]
        insecure: bool,
        /// Operate within the specified enclave (ignored).
        #[arg(short = 'e', long = "enclave", value_name = "NAME")]
        enclave: Option<String>,
        /// Print policy in JSON format.
        #[arg(long)]
        json: bool,
        /// Policy name.
        name: String,
    },
}

/// Runs `kes policy …`; returns the exit code.
pub fn run(args: PolicyArgs) -> i32 {
    let color = match &args.command {
        PolicyCommand::Info { output, .. } | PolicyCommand::Ls { output, .. } => output.color,
        PolicyCommand::Show { .. } => ColorWhen::Auto,
    };
    let term = Term::detect(color);
    remote::exit_code(&term, policy(&term, args.command))
}

/// kms-go's `PolicyInfo` JSON.
#[derive(Serialize)]
struct PolicyInfoJson<'a> {
    name: &'a str,
    created_at: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    created_by: &'a str,
}

/// Upstream's `kes policy show` JSON: rules map to empty objects.
#[derive(Serialize)]
struct PolicyJson<'a> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    allow: BTreeMap<&'a str, Empty>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    deny: BTreeMap<&'a str, Empty>,
    created_at: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    created_by: &'a str,
}

#[derive(Serialize)]
struct Empty {}

fn policy(term: &Term, command: PolicyCommand) -> Result<(), String> {
    match command {
        PolicyCommand::Info {
            insecure,
            output,
            name,
            ..
        } => {
            let client = remote::connect(None, None, insecure)?.client;
            let info = block_on(async {
                client
                    .describe_policy(&name)
                    .await
                    .map_err(|err| err.to_string())
            })?;
            if output.json {
                let json = PolicyInfoJson {
                    name: &info.name,
                    created_at: rfc3339_nano(info.created_at),
                    created_by: &info.created_by,
                };
                print!("{}", go_json(&json, term.is_terminal)?);
                return Ok(());
            }
            let (faint, policy_style) = if term.colorize {
                (Style::new().faint(), Style::new().fg(0x2e, 0x42, 0xd1))
            } else {
                (Style::new(), Style::new())
            };
            let label = |s: &str| term.render(faint, &format!("{s:<11}"));
            let mut out = format!("{} {}\n", label("Name"), term.render(policy_style, &name));
            if let Some(t) = info.created_at {
                out.push_str(&format!("{} {}\n", label("Date"), date_time(Some(t))));
            }
            if !info.created_by.is_empty() {
                out.push_str(&format!("{} {}\n", label("Created by"), info.created_by));
            }
            print!("{out}");
            Ok(())
        }
        PolicyCommand::Ls {
            insecure,
            output,
            pattern,
        } => {
            let client = remote::connect(None, None, insecure)?.client;
            let names = block_on(async {
                client
                    .list_policies(pattern.as_deref().unwrap_or("*"))
                    .await
                    .map_err(|err| format!("failed to list keys: {err}"))
            })?;
            // Upstream's header is `Key` here, too.
            print!("{}", name_list(term, &output, "Key", &names)?);
            Ok(())
        }
        PolicyCommand::Show {
            insecure,
            json,
            name,
            ..
        } => {
            let client = remote::connect(None, None, insecure)?.client;
            let policy = block_on(async {
                client
                    .get_policy(&name)
                    .await
                    .map_err(|err| format!("failed to show policy '{name}': {err}"))
            })?;
            if json || !term.is_terminal {
                let json = PolicyJson {
                    allow: policy
                        .allow
                        .iter()
                        .map(|r| (r.as_str(), Empty {}))
                        .collect(),
                    deny: policy.deny.iter().map(|r| (r.as_str(), Empty {})).collect(),
                    created_at: rfc3339_nano(policy.created_at),
                    created_by: &policy.created_by,
                };
                print!("{}", go_json(&json, term.is_terminal)?);
                return Ok(());
            }
            let header = |r, g, b, s: &str| term.render(Style::new().bold().fg(r, g, b), s);
            let mut out = String::new();
            if !policy.allow.is_empty() {
                out.push_str(&header(0x00, 0xa7, 0x00, "Allow:"));
                out.push('\n');
                for rule in &policy.allow {
                    out.push_str(&format!("  · {rule}\n"));
                }
            }
            if !policy.deny.is_empty() {
                if !policy.allow.is_empty() {
                    out.push('\n');
                }
                out.push_str(&header(0xd7, 0x00, 0x00, "Deny:"));
                out.push('\n');
                for rule in &policy.deny {
                    out.push_str(&format!("  · {rule}\n"));
                }
            }
            out.push('\n');
            if let Some(t) = policy.created_at {
                out.push_str(&format!(
                    "\n{} {}\n",
                    header(0x00, 0xaf, 0xaf, "Created at:"),
                    date_time(Some(t))
                ));
            }
            let created_by = if policy.created_by.is_empty() {
                "<unknown>"
            } else {
                &policy.created_by
            };
            out.push_str(&format!(
                "{} {created_by}\n",
                header(0x00, 0xaf, 0xaf, "Created by:")
            ));
            print!("{out}");
            Ok(())
        }
    }
}
