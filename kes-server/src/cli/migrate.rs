//! `kes migrate`: copies the raw stored values of keys from the keystore one KES config names
//! (`--from`) to the keystore another names (`--to`). Values are copied byte for byte, so every
//! ciphertext made before the migration still decrypts afterwards.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use keystores::KeyStore;

use super::remote;
use super::style::{ColorWhen, Term};
use crate::config::Config;

/// How often the progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    $ kes migrate --from old.yml --to new.yml\n  \
    $ kes migrate --from old.yml --to new.yml --merge 'minio-*'")]
pub struct MigrateArgs {
    /// Only keys whose names match this glob pattern (`*`, `?`, `[a-z]`).
    #[arg(default_value = "*")]
    pattern: String,
    /// Path to source KES config file.
    #[arg(long, value_name = "PATH")]
    from: Option<PathBuf>,
    /// Path to target KES config file.
    #[arg(long, value_name = "PATH")]
    to: Option<PathBuf>,
    /// KMS server to import keys into (MinKMS; not supported by this build).
    #[arg(
        short = 's',
        long,
        value_name = "HOST",
        env = "MINIO_KMS_SERVER",
        hide_env = true
    )]
    server: Option<String>,
    /// KMS enclave to import keys into (MinKMS; not supported by this build).
    #[arg(
        short = 'e',
        long,
        value_name = "ENCLAVE",
        env = "MINIO_KMS_ENCLAVE",
        hide_env = true
    )]
    enclave: Option<String>,
    /// KMS API key (MinKMS; not supported by this build).
    #[arg(
        short = 'a',
        long,
        value_name = "KEY",
        env = "MINIO_KMS_API_KEY",
        hide_env = true
    )]
    api_key: Option<String>,
    /// Skip KMS server certificate verification (MinKMS only).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Migrate keys even if a key with the same name exists at the target. The existing keys
    /// will be deleted.
    #[arg(short = 'f', long, conflicts_with = "merge")]
    force: bool,
    /// Merge the source into the target by only migrating those keys that do not exist at the
    /// target.
    #[arg(long)]
    merge: bool,
}

/// Runs `kes migrate`; returns the exit code.
pub fn run(args: MigrateArgs) -> i32 {
    remote::exit_code(&Term::detect(ColorWhen::Auto), migrate_cmd(args))
}

fn migrate_cmd(args: MigrateArgs) -> Result<(), String> {
    let Some(from) = &args.from else {
        return Err("no source specified. Use '--from' flag".to_owned());
    };
    let Some(to) = &args.to else {
        if args.server.is_some() || args.enclave.is_some() || args.api_key.is_some() {
            return Err("migrating keys into a MinKMS server (-s/--server, -e/--enclave, -a/--api-key) is not supported by this build: use '--to' with a KES config file".to_owned());
        }
        return Err("missing migration target. Use '--to' or '--server'".to_owned());
    };
    if args.insecure {
        return Err("cannot use '-k / --insecure' and '--to' flag".to_owned());
    }
    validate_pattern(&args.pattern)?;
    let src = open(from)?;
    let dst = open(to)?;
    remote::block_on(migrate(src, dst, &args))
}

fn open(path: &std::path::Path) -> Result<Arc<dyn KeyStore>, String> {
    std::fs::File::open(path).map_err(|err| super::style::go_path_error("open", path, &err))?;
    let config = Config::load(path).map_err(|err| format!("{}: {err}", path.display()))?;
    crate::keystore::open(&config.keystore)
}

async fn migrate(
    src: Arc<dyn KeyStore>,
    dst: Arc<dyn KeyStore>,
    args: &MigrateArgs,
) -> Result<(), String> {
    let names: Vec<String> = src
        .list("")
        .await
        .map_err(|err| format!("failed to list source keys: {err}"))?
        .into_iter()
        .filter(|name| glob_match(&args.pattern, name))
        .collect();
    let existing = dst
        .list("")
        .await
        .map_err(|err| format!("failed to list target keys: {err}"))?;
    let clash = names.iter().find(|n| existing.binary_search(n).is_ok());
    if let (Some(name), false, false) = (clash, args.force, args.merge) {
        return Err(format!(
            "key '{name}' already exists at the target. Use '--force' to overwrite or '--merge' to skip existing keys"
        ));
    }

    println!("Starting key migration:");
    println!();
    let mut count: u64 = 0;
    let mut last_progress = Instant::now();
    for name in &names {
        if last_progress.elapsed() >= PROGRESS_EVERY {
            print_progress(count);
            last_progress = Instant::now();
        }
        let value = src
            .get(name)
            .await
            .map_err(|err| format!("failed to read key '{name}': {err}"))?;
        match dst.create(name, &value).await {
            Ok(()) => {}
            Err(keystores::Error::AlreadyExists) if args.merge => continue,
            Err(keystores::Error::AlreadyExists) if args.force => {
                dst.delete(name)
                    .await
                    .map_err(|err| format!("failed to delete target key '{name}': {err}"))?;
                dst.create(name, &value)
                    .await
                    .map_err(|err| format!("failed to write key '{name}': {err}"))?;
            }
            Err(err) => return Err(format!("failed to write key '{name}': {err}")),
        }
        count += 1;
    }
    if count == 0 {
        println!("Migration succeeded! No keys migrated.");
    } else {
        println!("Migrated {count:>6} keys successfully!");
    }
    Ok(())
}

fn print_progress(count: u64) {
    if count <= 1 {
        println!("Migrated {count:>6} key  ...");
    } else {
        println!("Migrated {count:>6} keys ...");
    }
}

/// Rejects malformed patterns (an unclosed `[` or a trailing `\`), as Go's `filepath.Match`
/// reports `ErrBadPattern` for them.
fn validate_pattern(pattern: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "invalid pattern '{pattern}': syntax error in pattern"
        ))
    };
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return bad(),
            '[' => {
                let mut closed = false;
                let mut first = true;
                while let Some(c) = chars.next() {
                    if c == ']' && !first {
                        closed = true;
                        break;
                    }
                    if c == '\\' && chars.next().is_none() {
                        return bad();
                    }
                    first = first && c == '^';
                }
                if !closed {
                    return bad();
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Go `filepath.Match` on Unix: `*` matches any run of characters except `/`, `?` one such
/// character, `[...]` a class (ranges, `^` negation) and `\` escapes the next character.
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n)
}

fn matches(p: &[char], n: &[char]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some(('*', rest)) => (0..=n.len())
            .take_while(|&i| i == 0 || n[i - 1] != '/')
            .any(|i| matches(rest, &n[i..])),
        Some(('?', rest)) => match n.split_first() {
            Some((c, tail)) if *c != '/' => matches(rest, tail),
            _ => false,
        },
        Some(('[', rest)) => {
            let Some((c, tail)) = n.split_first() else {
                return false;
            };
            match class(rest, *c) {
                Some((true, after)) if *c != '/' => matches(after, tail),
                _ => false,
            }
        }
        Some(('\\', rest)) => match (rest.split_first(), n.split_first()) {
            (Some((pc, prest)), Some((c, tail))) if pc == c => matches(prest, tail),
            _ => false,
        },
        Some((pc, rest)) => match n.split_first() {
            Some((c, tail)) if c == pc => matches(rest, tail),
            _ => false,
        },
    }
}

/// Whether `c` is in the class starting after `[`, and the pattern after its `]`.
fn class(p: &[char], c: char) -> Option<(bool, &[char])> {
    let (negated, mut p) = match p.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, p),
    };
    let mut found = false;
    let mut first = true;
    loop {
        let (&lo, rest) = p.split_first()?;
        if lo == ']' && !first {
            return Some((found != negated, rest));
        }
        first = false;
        let (lo, rest) = if lo == '\\' {
            let (&esc, rest) = rest.split_first()?;
            (esc, rest)
        } else {
            (lo, rest)
        };
        let (hi, rest) = match rest {
            ['-', h, tail @ ..] if *h != ']' => {
                if *h == '\\' {
                    let (&esc, tail) = tail.split_first()?;
                    (esc, tail)
                } else {
                    (*h, tail)
                }
            }
            _ => (lo, rest),
        };
        if lo <= c && c <= hi {
            found = true;
        }
        p = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_like_go() {
        for (pattern, name, want) in [
            ("*", "my-key", true),
            ("*", "", true),
            ("my-*", "my-key", true),
            ("my-*", "your-key", false),
            ("k?y", "key", true),
            ("k?y", "ky", false),
            ("[a-c]*", "bkey", true),
            ("[^a-c]*", "bkey", false),
            ("[^a-c]*", "zkey", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("*x", "abx", true),
            ("*", "a/b", false),
        ] {
            assert_eq!(glob_match(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(validate_pattern("[abc").is_err());
        assert!(validate_pattern("abc\\").is_err());
        assert!(validate_pattern("[]a]").is_ok());
        assert!(validate_pattern("key-*").is_ok());
    }
}
