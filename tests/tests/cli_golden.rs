//! Golden tests of the client commands: for the same server state (our server, in-process),
//! our `kes` prints what the upstream Go `kes` v0.24.0 prints, byte for byte, with the same
//! exit code: on a pipe, and under a pseudo-terminal (`script -qec`, `TERM=xterm-256color`, so
//! colours are on). Values that differ between two runs (times, latencies, uptimes, memory,
//! fresh ciphertexts) are masked; so are upstream's documented bugs, each where it is masked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;

use kes_client::ApiKey;
use tests::{TestServer, go_kes, our_kes};

/// What one CLI run printed.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The environment of a run: the server, an API key (none if `None`), UTC, a colour terminal.
struct Env {
    server: String,
    api_key: Option<String>,
}

fn quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

async fn run(bin: &Path, env: &Env, args: &[&str], pty: bool) -> Run {
    let mut cmd = if pty {
        let line = std::iter::once(bin.display().to_string())
            .chain(args.iter().map(|a| quote(a)))
            .collect::<Vec<_>>()
            .join(" ");
        let mut c = tokio::process::Command::new("script");
        c.args(["-qec", &line, "/dev/null"]);
        c
    } else {
        let mut c = tokio::process::Command::new(bin);
        c.args(args);
        c
    };
    cmd.env_clear()
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TZ", "UTC")
        .env("TERM", "xterm-256color")
        .env("KES_SERVER", &env.server)
        .stdin(Stdio::null());
    if let Some(key) = &env.api_key {
        cmd.env("KES_API_KEY", key);
    }
    let out = cmd.output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Replaces every match of `template` (`9` = a digit, `?` = space or `T`, anything else
/// literal), with an optional `.digits` and `Z` after it, by `<TIME>`.
fn mask_times(s: &str) -> String {
    const TEMPLATE: &[u8] = b"9999-99-99?99:99:99";
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let matches = b.len() - i >= TEMPLATE.len()
            && TEMPLATE.iter().zip(&b[i..]).all(|(t, c)| match t {
                b'9' => c.is_ascii_digit(),
                b'?' => *c == b' ' || *c == b'T',
                _ => t == c,
            });
        if !matches {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += TEMPLATE.len();
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if b.get(i) == Some(&b'Z') {
            i += 1;
        }
        out.extend_from_slice(b"<TIME>");
    }
    String::from_utf8(out).unwrap()
}

/// In status lines (uptime, latency, heap, stack), numbers and their units become `N`.
fn mask_status_line(line: &str) -> String {
    if !["Uptime", "Latency", "Heap", "Stack"]
        .iter()
        .any(|l| line.contains(l))
    {
        return line.to_owned();
    }
    // Keep the label (and its styling) as is; mask the value after the last space.
    match line.trim_end_matches('\r').rsplit_once("\x1b[0m ") {
        Some((label, _)) => format!("{label}\x1b[0m N"),
        None => {
            let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
            let label = words
                .iter()
                .take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            format!("{label} N")
        }
    }
}

/// Masks the value after `"key":` (a number) or `"key":"` (a string) everywhere in `s`.
fn mask_json_value(s: &str, key: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    let needle = format!("\"{key}\":");
    while let Some(at) = rest.find(&needle) {
        out.push_str(&rest[..at + needle.len()]);
        rest = &rest[at + needle.len()..];
        let trimmed = rest.trim_start_matches(' ');
        out.push_str(&rest[..rest.len() - trimmed.len()]);
        rest = trimmed;
        if let Some(stripped) = rest.strip_prefix('"') {
            let end = stripped.find('"').unwrap_or(stripped.len());
            out.push_str("\"N");
            rest = &stripped[end..];
        } else {
            let end = rest
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(rest.len());
            out.push('N');
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Masks everything that legitimately differs between two runs.
fn mask(s: &str) -> String {
    // Upstream queries the terminal's background colour (OSC 11) and cursor position before
    // rendering an adaptive colour in `kes status --api`; this CLI assumes a dark background
    // and sends no query.
    let s = s.replace("\x1b]11;?\x1b\\\x1b[6n", "");
    let mut s = mask_times(&s);
    for key in [
        "uptime",
        "mem_heap_used",
        "mem_stack_used",
        "keystore_latency",
        "plaintext",
        "ciphertext",
    ] {
        s = mask_json_value(&s, key);
    }
    let lines = s
        .split('\n')
        .map(|line| {
            let line = mask_status_line(line);
            // Terminal output of encrypt/decrypt/dek: fresh ciphertexts and keys.
            for label in ["plaintext:", "ciphertext:"] {
                if let Some(rest) = line.strip_prefix(label) {
                    let cr = if rest.ends_with('\r') { "\r" } else { "" };
                    let pad = rest.len() - rest.trim_start().len();
                    return format!("{label}{}N{cr}", " ".repeat(pad));
                }
            }
            line
        })
        .collect::<Vec<_>>();
    sort_bullet_runs(lines).join("\n")
}

/// Upstream prints a policy's rules (`kes policy show`) in Go map order, which changes from run
/// to run; this CLI prints them sorted. Each run of `  · ` lines is compared as a sorted set.
fn sort_bullet_runs(mut lines: Vec<String>) -> Vec<String> {
    let mut start = 0;
    while start < lines.len() {
        let end = (start..lines.len())
            .find(|&i| !lines[i].starts_with("  · "))
            .unwrap_or(lines.len());
        lines[start..end].sort();
        start = end + 1;
    }
    lines
}

/// Upstream's `kes identity info` (no argument) prints each rule of the caller's policy as `{}`
/// (it ranges over the map's values); this CLI prints the rule. The rule lines are masked.
fn mask_self_rules(s: &str) -> String {
    s.split('\n')
        .map(|line| {
            let dot = line.find('·').filter(|_| line.starts_with("            "));
            match dot.and_then(|at| line[at..].find(' ').map(|sp| at + sp + 1)) {
                Some(end) => {
                    let cr = if line.ends_with('\r') { "\r" } else { "" };
                    format!("{}RULE{cr}", &line[..end])
                }
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Golden {
    ours: std::path::PathBuf,
    go: std::path::PathBuf,
}

impl Golden {
    /// Runs `args` with both CLIs in both modes and asserts equal masked output.
    async fn check(&self, env: &Env, args: &[&str]) {
        self.check_with(env, args, |s| s.to_owned()).await;
    }

    async fn check_with(&self, env: &Env, args: &[&str], extra: impl Fn(&str) -> String) {
        for pty in [false, true] {
            let go = run(&self.go, env, args, pty).await;
            let ours = run(&self.ours, env, args, pty).await;
            let norm = |r: &Run| Run {
                code: r.code,
                stdout: extra(&mask(&r.stdout)),
                stderr: mask(&r.stderr),
            };
            let (go_n, ours_n) = (norm(&go), norm(&ours));
            assert_eq!(
                ours_n,
                go_n,
                "`kes {}` ({}) differs from upstream\nours: {ours:?}\ngo:   {go:?}",
                args.join(" "),
                if pty { "terminal" } else { "pipe" }
            );
        }
    }

    /// Like [`Golden::check`] for upstream's `ls --json` subcommands, which print the table
    /// after the JSON (a missing `return`); only the JSON line is compared.
    async fn check_json_list(&self, env: &Env, args: &[&str]) {
        self.check_with(env, args, |s| {
            s.split_inclusive('\n')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .await;
    }

    /// Runs a state-changing command once with each CLI (pipe), each on its own object
    /// (`{}` in `args` is replaced by `go-…`/`rs-…` `name`), and compares the output.
    async fn check_each(&self, env: &Env, args: &[&str], name: &str) {
        let with = |prefix: &str| -> Vec<String> {
            args.iter()
                .map(|a| a.replace("{}", &format!("{prefix}{name}")))
                .collect()
        };
        let go_args = with("go-");
        let our_args = with("rs-");
        let go = run(
            &self.go,
            env,
            &go_args.iter().map(String::as_str).collect::<Vec<_>>(),
            false,
        )
        .await;
        let ours = run(
            &self.ours,
            env,
            &our_args.iter().map(String::as_str).collect::<Vec<_>>(),
            false,
        )
        .await;
        let norm = |r: &Run| Run {
            code: r.code,
            stdout: r.stdout.replace("go-", "X-").replace("rs-", "X-"),
            stderr: r.stderr.replace("go-", "X-").replace("rs-", "X-"),
        };
        assert_eq!(
            norm(&ours),
            norm(&go),
            "`kes {}` differs from upstream",
            args.join(" ")
        );
    }
}

const POLICY: &str = "policy:\n  my-app:\n    allow:\n    - /v1/key/create/my-app*\n    - /v1/key/generate/my-app*\n    deny:\n    - /v1/key/generate/my-app-internal*\n    identities:\n    - {user}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_commands_match_upstream() {
    let golden = Golden {
        ours: our_kes(),
        go: go_kes(),
    };
    let user = ApiKey::generate().unwrap();
    let server = TestServer::start(&POLICY.replace("{user}", &user.identity().to_string())).await;
    let admin = Env {
        server: server.addr.to_string(),
        api_key: Some(server.admin.to_text().to_string()),
    };
    let as_user = Env {
        server: server.addr.to_string(),
        api_key: Some(user.to_text().to_string()),
    };
    let user_id = user.identity().to_string();
    let admin_id = server.admin.identity().to_string();

    // State: two keys (one imported), a ciphertext made by our CLI.
    for args in [
        &["key", "create", "k1", "k2", "-k"][..],
        &[
            "key",
            "import",
            "imp",
            "Xlnr/nOgAWE5cA7GAsl3L2goCvmfs6KE0gNgB1T93wE=",
            "-k",
        ],
    ] {
        let r = run(&golden.ours, &admin, args, false).await;
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    let encrypted = run(
        &golden.ours,
        &admin,
        &["key", "encrypt", "k1", "hello", "-k"],
        false,
    )
    .await;
    let ciphertext: serde_json::Value = serde_json::from_str(&encrypted.stdout).unwrap();
    let ciphertext = ciphertext["ciphertext"].as_str().unwrap().to_owned();
    let dek = run(
        &golden.ours,
        &admin,
        &["key", "dek", "k1", "Y3R4", "-k"],
        false,
    )
    .await;
    let dek: serde_json::Value = serde_json::from_str(&dek.stdout).unwrap();
    let dek_ciphertext = dek["ciphertext"].as_str().unwrap().to_owned();

    let url = server.url();
    let admin_key = server.admin.to_text().to_string();
    let cases: Vec<Vec<&str>> = vec![
        // kes ls
        vec!["ls", "-k"],
        vec!["ls", "-k", "--json"],
        vec!["ls", "k", "-k"],
        vec!["ls", "zz", "-k", "--json"],
        vec!["ls", "zz", "-k"],
        vec!["ls", "-i", "-k"],
        vec!["ls", "-p", "-k"],
        vec!["ls", "-p", "-k", "--json"],
        vec!["ls", "-i", "-p", "-k"],
        vec!["ls", "-s", &url, "-a", &admin_key, "-k"],
        // kes key
        vec!["key", "ls", "-k"],
        vec!["key", "ls", "k*", "-k"],
        vec!["key", "ls", "zz", "-k"],
        vec!["key", "ls", "-k", "--color", "always"],
        vec!["key", "ls", "-k", "--color", "never"],
        vec!["key", "ls", "-k", "-e", "ignored"],
        vec!["key", "info", "k1", "-k"],
        vec!["key", "info", "imp", "-k", "--json"],
        vec!["key", "info", "nope", "-k"],
        vec!["key", "encrypt", "k1", "hello world", "-k"],
        vec!["key", "encrypt", "nope", "hello", "-k"],
        vec!["key", "decrypt", "k1", &ciphertext, "-k"],
        vec!["key", "decrypt", "k1", &ciphertext, "Y3R4", "-k"],
        vec!["key", "decrypt", "k1", "!!!", "-k"],
        vec!["key", "decrypt", "k2", &ciphertext, "-k"],
        vec!["key", "decrypt", "k1", &dek_ciphertext, "Y3R4", "-k"],
        vec!["key", "dek", "k1", "-k"],
        vec!["key", "dek", "k1", "Y3R4", "-k"],
        vec!["key", "dek", "nope", "-k"],
        vec!["key", "create", "k1", "-k"],
        vec!["key", "rm", "nope", "-k"],
        vec!["key", "import", "x", "!!!", "-k"],
        // kes policy
        vec!["policy", "info", "my-app", "-k"],
        vec!["policy", "info", "my-app", "-k", "--json"],
        vec!["policy", "info", "my-app", "-k", "--color", "always"],
        vec!["policy", "info", "nope", "-k"],
        vec!["policy", "show", "my-app", "-k"],
        vec!["policy", "show", "my-app", "-k", "--json"],
        vec!["policy", "show", "nope", "-k"],
        vec!["policy", "ls", "-k"],
        vec!["policy", "ls", "zz", "-k"],
        vec!["policy", "ls", "-k", "--color", "always"],
        // kes identity info|ls
        vec!["identity", "info", &user_id, "-k"],
        vec!["identity", "info", &user_id, "-k", "--color", "always"],
        vec!["identity", "info", &admin_id, "-k"],
        vec!["identity", "info", "-k"],
        vec!["identity", "info", "nope", "-k"],
        vec!["identity", "ls", "-k"],
        vec!["identity", "ls", "-k", "--color", "never"],
        // kes status
        vec!["status", "-k"],
        vec!["status", "-k", "-s"],
        vec!["status", "-k", "--json"],
        vec!["status", "-k", "--json", "-s"],
        vec!["status", "-k", "--api"],
        vec!["status", "-k", "--api", "--json"],
        vec!["status", "-k", "--color", "always"],
        vec!["status", "-k", "--api", "--color", "always"],
        vec!["status", "-k", "--color", "never"],
    ];
    for args in &cases {
        golden.check(&admin, args).await;
    }

    for args in [
        &["key", "ls", "-k", "--json"][..],
        &["key", "ls", "zz", "-k", "--json"],
        &["policy", "ls", "-k", "--json"],
        &["identity", "ls", "-k", "--json"],
    ] {
        golden.check_json_list(&admin, args).await;
    }

    // As a user with a policy; and without any credentials.
    golden
        .check_with(&as_user, &["identity", "info", "-k"], mask_self_rules)
        .await;
    golden.check(&as_user, &["key", "ls", "-k"]).await;
    golden.check(&as_user, &["status", "-k"]).await;
    let nobody = Env {
        server: server.addr.to_string(),
        api_key: None,
    };
    golden.check(&nobody, &["key", "ls", "-k"]).await;
    golden.check(&nobody, &["status", "-k"]).await;

    // State-changing commands, each CLI on its own keys.
    golden
        .check_each(&admin, &["key", "create", "{}", "-k"], "a")
        .await;
    golden
        .check_each(&admin, &["key", "create", "{}", "-k"], "a")
        .await;
    golden
        .check_each(&admin, &["key", "rm", "{}", "-k"], "a")
        .await;
    golden
        .check_each(&admin, &["key", "rm", "{}", "-k"], "a")
        .await;
    golden
        .check_each(
            &admin,
            &[
                "key",
                "import",
                "{}",
                "Xlnr/nOgAWE5cA7GAsl3L2goCvmfs6KE0gNgB1T93wE=",
                "-k",
            ],
            "i",
        )
        .await;

    server.stop().await;
}
