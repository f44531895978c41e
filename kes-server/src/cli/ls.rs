//! `kes ls [PREFIX]`: lists keys, identities (`-i`) or policies (`-p`) as a table or JSON.

use clap::Args;

use super::remote::{self, block_on};
use super::style::{ColorWhen, Style, Term, go_json};

/// Arguments of `kes ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// API key to authenticate to the KES server (defaults to $MINIO_KES_API_KEY).
    #[arg(short = 'a', long = "api-key", value_name = "KEY")]
    api_key: Option<String>,
    /// Use the server HOST[:PORT] instead of $MINIO_KES_SERVER.
    #[arg(short = 's', long = "server", value_name = "HOST[:PORT]")]
    server: Option<String>,
    /// Print output in JSON format.
    #[arg(long)]
    json: bool,
    /// List identities.
    #[arg(short = 'i', long = "identity")]
    identity: bool,
    /// List policy names.
    #[arg(short = 'p', long = "policy")]
    policy: bool,
    /// Skip server certificate verification.
    #[arg(short = 'k', long = "insecure")]
    insecure: bool,
    /// Only names starting with PREFIX.
    prefix: Option<String>,
}

/// Runs `kes ls`; returns the exit code.
pub fn run(args: LsArgs) -> i32 {
    let term = Term::detect(ColorWhen::Auto);
    remote::exit_code(&term, ls(&term, args))
}

fn ls(term: &Term, args: LsArgs) -> Result<(), String> {
    if args.identity && args.policy {
        return Err(
            "'-p / --policy' and '-i / --identity' must not be used at the same time".to_owned(),
        );
    }
    let remote = remote::connect(
        args.server.as_deref(),
        args.api_key.as_deref(),
        args.insecure,
    )?;
    let prefix = args.prefix.unwrap_or_default();
    let client = &remote.client;
    let mut names = block_on(async {
        let names = if args.identity {
            client.list_identities(&prefix).await
        } else if args.policy {
            client.list_policies(&prefix).await
        } else {
            client.list_keys(&prefix).await
        };
        names.map_err(|err| err.to_string())
    })?;
    names.sort();
    if args.json {
        // Go encodes an empty (nil) list as `null`.
        let out = if names.is_empty() {
            "null\n".to_owned()
        } else {
            go_json(&names, false)?
        };
        print!("{out}");
        return Ok(());
    }
    if names.is_empty() {
        return Ok(());
    }
    let header = if args.identity {
        "Identity"
    } else if args.policy {
        "Policy"
    } else {
        "Key"
    };
    let mut out = term.render(Style::new().underline(true), header);
    out.push('\n');
    for name in names {
        out.push_str(&name);
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}
