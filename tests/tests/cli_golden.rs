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
        // pflag's boolean values
        vec!["status", "-k=true", "--short=1"],
        vec!["key", "info", "k1", "--insecure=T", "--json=false"],
        vec![
            "key", "ls", "-k", "-k", "--color", "never", "--color", "always",
        ],
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

/// An environment without a reachable server or credentials, for commands that fail before
/// connecting or never connect.
fn offline() -> Env {
    Env {
        server: "127.0.0.1:1".to_owned(),
        api_key: None,
    }
}

/// Usage mistakes: upstream prints `Error: <what>. See 'kes <command> --help'` (red on a
/// terminal) and exits 1; this CLI words them the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_match_upstream() {
    let golden = Golden {
        ours: our_kes(),
        go: go_kes(),
    };
    let env = offline();
    let cases: &[&[&str]] = &[
        &["bogus"],
        &["help"],
        &["--bogus"],
        &["-x"],
        &["-v", "extra"],
        &["key", "bogus"],
        &["key", "create"],
        &["key", "create", "--bogus", "x"],
        &["key", "create", "--bogus=1", "x"],
        &["key", "create", "-x", "a"],
        &["key", "create", "-kx", "a"],
        &["key", "create", "-k", "-k", "a"],
        &["key", "ls", "--color", "never", "--color", "bogus"],
        &["key", "ls", "--color", "always", "--bogus"],
        &["key", "ls", "--color=never", "-e"],
        &["key", "ls", "--json=maybe"],
        &["key", "create", "-k=x", "a"],
        &["status", "--short=yes"],
        &["key", "import"],
        &["key", "import", "a"],
        &["key", "import", "a", "b", "c"],
        &["key", "info"],
        &["key", "info", "a", "b"],
        &["key", "ls", "a", "b"],
        &["key", "ls", "--color", "bogus"],
        &["key", "ls", "-e"],
        &["key", "rm"],
        &["key", "encrypt", "a"],
        &["key", "decrypt", "a"],
        &["key", "decrypt", "a", "b", "c", "d"],
        &["key", "dek"],
        &["key", "dek", "a", "b", "c"],
        &["policy", "bogus"],
        &["policy", "show"],
        &["policy", "ls", "a", "b"],
        &["identity", "a", "b"],
        &["identity", "new", "a", "b"],
        &["identity", "new", "--key"],
        &["identity", "new", "--ip", "x", "--key", "k", "--cert", "c"],
        &[
            "identity", "new", "--expiry", "xx", "--key", "k", "--cert", "c",
        ],
        &["identity", "info", "a", "b"],
        &["identity", "ls", "a", "b"],
        &["identity", "of"],
        &["ls", "a", "b"],
        &["ls", "--bogus"],
        &["ls", "-kz"],
        &["ls", "-s"],
        &["status", "x"],
        &["status", "--bogus"],
        &["status", "-sz"],
        &["status", "--color", "bogus"],
        &["metric", "x"],
        &["metric", "--rate", "xx"],
        &["migrate", "a", "b", "--from", "x"],
        &["migrate", "-f", "--merge", "--from", "x", "--to", "y"],
        &["server", "x"],
        &["server", "--dev", "--config", "x"],
        &["server", "--bogus"],
        &["server", "--config", "/nonexistent/kes.yml"],
        &[
            "server",
            "--key",
            "k",
            "--cert",
            "c",
            "--auth",
            "off",
            "--config",
            "/nonexistent/kes.yml",
        ],
        &["update", "a", "b"],
        &["update", "--bogus"],
    ];
    for args in cases {
        golden.check(&env, args).await;
    }

    // Where upstream's hint names the wrong command, this CLI names the right one.
    for (args, expected) in [
        (
            &["policy", "info"][..],
            "Error: no policy name specified. See 'kes policy info --help'\n",
        ),
        (
            &["log", "x"],
            "Error: too many arguments. See 'kes log --help'\n",
        ),
        (
            &["identity", "info", "--bogus"],
            "Error: unknown flag: --bogus. See 'kes identity info --help'\n",
        ),
    ] {
        let ours = run(&golden.ours, &env, args, false).await;
        let go = run(&golden.go, &env, args, false).await;
        assert_eq!((ours.code, go.code), (1, 1), "{args:?}");
        assert_eq!(ours.stderr, expected, "{args:?}");
        assert_ne!(go.stderr, expected, "upstream fixed {args:?}");
    }

    // `--help` and a group without its subcommand print the usage on stderr and exit 2 (the
    // text itself is this CLI's own, listing every flag).
    for args in [
        &["--help"][..],
        &["-h"],
        &[],
        &["key"],
        &["key", "create", "--help"],
        &["policy"],
        &["identity", "new", "-h"],
        &["status", "--help"],
        &["update", "--help"],
    ] {
        for bin in [&golden.ours, &golden.go] {
            let r = run(bin, &env, args, false).await;
            assert_eq!(r.code, 2, "{args:?} {bin:?}: {r:?}");
            assert!(r.stdout.is_empty(), "{args:?} {bin:?}: {r:?}");
            assert!(r.stderr.contains("Usage:"), "{args:?} {bin:?}: {r:?}");
        }
    }
    let help = run(&golden.ours, &env, &["identity", "new", "--help"], false).await;
    for flag in [
        "--key",
        "--cert",
        "--ip",
        "--dns",
        "--expiry",
        "--encrypt",
        "--force",
    ] {
        assert!(help.stderr.contains(flag), "{flag}: {}", help.stderr);
    }
}

/// `kes -v`: the same columns and styling as upstream; the version, commit and runtime are
/// this build's, and upstream's `Copyright … MinIO Inc.` line is left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_matches_upstream_layout() {
    let env = offline();
    // Label, value padded to 22, a space, and the detail whose text after `=` is masked.
    let mask = |line: &str| -> String {
        let (label, rest) = line.split_at(11);
        let (_, detail) = rest.split_at(22);
        let detail = match detail.split_once('=') {
            Some((key, value)) => {
                let end = value.find(['\x1b', '\r']).unwrap_or(value.len());
                format!("{key}=X{}", &value[end..])
            }
            None => detail.to_owned(),
        };
        format!("{label}<value>{detail}")
    };
    for pty in [false, true] {
        for flag in ["-v", "--version"] {
            let ours = run(&our_kes(), &env, &[flag], pty).await;
            let go = run(&go_kes(), &env, &[flag], pty).await;
            assert_eq!((ours.code, go.code), (0, 0));
            assert_eq!((ours.stderr.as_str(), go.stderr.as_str()), ("", ""));
            let go_lines: Vec<&str> = go.stdout.split_inclusive('\n').collect();
            let our_lines: Vec<&str> = ours.stdout.split_inclusive('\n').collect();
            assert_eq!(go_lines.len(), 4, "{go:?}");
            assert!(go_lines[3].starts_with("Copyright  "), "{go:?}");
            assert_eq!(our_lines.len(), 3, "{ours:?}");
            let ours_masked: Vec<String> = our_lines.iter().map(|l| mask(l)).collect();
            let go_masked: Vec<String> = go_lines[..3].iter().map(|l| mask(l)).collect();
            assert_eq!(ours_masked, go_masked, "pty: {pty}");
            assert_eq!(our_lines[2], go_lines[2], "License line");
            assert!(our_lines[0].contains(env!("CARGO_PKG_VERSION")), "{ours:?}");
        }
    }
}

/// `kes update` never downloads anything here: it says so and fails (upstream would replace
/// the binary with a MinIO release).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_explains_that_this_build_does_not_update_itself() {
    let env = offline();
    for args in [&["update"][..], &["update", "v0.24.0", "-k", "-d"]] {
        let r = run(&our_kes(), &env, args, false).await;
        assert_eq!(r.code, 1, "{r:?}");
        assert_eq!(r.stdout, "");
        assert_eq!(
            r.stderr,
            "Error: this build of kes does not update itself: download a release from https://github.com/kes-rs/kes/releases or build it from source with `cargo install`\n"
        );
    }
    let r = run(&our_kes(), &env, &["update"], true).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .starts_with("\x1b[38;5;124mError: \x1b[0mthis build"),
        "{r:?}"
    );
}

/// Shell completion. Upstream's `--auto-completion` appends `complete -C <kes> <kes>` to the
/// shell's rc file, so the shell later runs `kes` with `COMP_LINE` set; this CLI answers that
/// protocol too (an upgraded binary keeps completing) and prints scripts with the
/// `kes completion <shell>` extension, which upstream lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_scripts_and_upstream_completion_protocol() {
    let env = offline();
    for (shell, marker) in [
        ("bash", "complete -F _kes"),
        ("zsh", "#compdef kes"),
        ("fish", "complete -c kes"),
    ] {
        let r = run(&our_kes(), &env, &["completion", shell], false).await;
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains(marker), "{shell}: {}", r.stdout);
        for word in ["identity", "migrate", "insecure"] {
            assert!(r.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("kes.bash");
    let r = run(&our_kes(), &env, &["completion", "bash"], false).await;
    std::fs::write(&script, r.stdout).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{syntax:?}");
    let go = run(&go_kes(), &env, &["completion", "bash"], false).await;
    assert_eq!(
        (go.code, go.stderr.as_str()),
        (
            1,
            "Error: \"completion\" is not a kes command. See 'kes --help'\n"
        )
    );
    let ours = run(&our_kes(), &env, &["--auto-completion"], false).await;
    assert_eq!(ours.code, 0);
    assert!(ours.stdout.contains("kes completion bash"), "{ours:?}");

    // `complete -C`: bash runs `kes <command> <word> <previous word>` with COMP_LINE set.
    let complete = |bin: std::path::PathBuf, line: &'static str| async move {
        let out = tokio::process::Command::new(bin)
            .args(["kes", "", ""])
            .env_clear()
            .env("SHELL", "/bin/bash")
            .env("COMP_LINE", line)
            .env("COMP_POINT", line.len().to_string())
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{line}: {out:?}");
        assert!(out.stderr.is_empty(), "{line}: {out:?}");
        let mut words: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        words.sort();
        words
    };
    for line in [
        "kes key cr",
        "kes st",
        "kes key ",
        "kes policy sh",
        "kes status --",
        "kes log --",
    ] {
        assert_eq!(
            complete(our_kes(), line).await,
            complete(go_kes(), line).await,
            "{line:?}"
        );
    }
    // Upstream drops every word starting with `-`, so it offers all flags for `--e`; this
    // CLI completes the word.
    assert_eq!(
        complete(our_kes(), "kes identity new --e").await,
        ["--encrypt", "--expiry"]
    );
}

/// `kes metric` on a pipe prints one JSON object per tick, as upstream: same fields in the same
/// order, the histogram keyed by bucket bounds in nanoseconds (`null` before the server has
/// one), the uptime in whole seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_json_matches_upstream() {
    let server = TestServer::start("").await;
    let env = Env {
        server: server.addr.to_string(),
        api_key: Some(server.admin.to_text().to_string()),
    };
    /// The first line `bin` prints; the process is killed then.
    async fn first_tick(bin: &Path, env: &Env) -> String {
        use tokio::io::AsyncBufReadExt as _;
        let mut child = tokio::process::Command::new(bin)
            .args(["metric", "-k", "--rate", "1s"])
            .env_clear()
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("KES_SERVER", &env.server)
            .env("KES_API_KEY", env.api_key.as_deref().unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("no metric line within 20 s")
            .unwrap()
            .expect("metric ended without a line");
        child.kill().await.unwrap();
        line
    }
    let digits = |s: &str| -> String {
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                if !out.ends_with('N') {
                    out.push('N');
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    let check = |ours: &str, go: &str| {
        assert_eq!(digits(ours), digits(go), "\nours: {ours}\ngo:   {go}");
        let ours: serde_json::Value = serde_json::from_str(ours).unwrap();
        let go: serde_json::Value = serde_json::from_str(go).unwrap();
        for field in ["kes_system_num_cpu", "kes_system_num_cpu_used"] {
            assert_eq!(ours[field], go[field], "{field}");
        }
        let uptime = ours["kes_system_up_time"].as_u64().unwrap();
        assert_eq!(uptime % 1_000_000_000, 0, "whole seconds: {uptime}");
    };
    // Before any request: no histogram yet.
    let ours = first_tick(&our_kes(), &env).await;
    let go = first_tick(&go_kes(), &env).await;
    assert!(go.contains("\"kes_http_response_time\":null"), "{go}");
    check(&ours, &go);

    // After requests: counters and the histogram.
    let admin = server.admin_client();
    admin.post("/v1/key/create/metric-key", "").await.ok();
    admin.get("/v1/key/describe/missing").await;
    let ours = first_tick(&our_kes(), &env).await;
    let go = first_tick(&go_kes(), &env).await;
    assert!(go.contains("\"kes_http_response_time\":{\""), "{go}");
    check(&ours, &go);
    let ours: serde_json::Value = serde_json::from_str(&ours).unwrap();
    let go: serde_json::Value = serde_json::from_str(&go).unwrap();
    assert_eq!(
        ours["kes_http_response_time"], go["kes_http_response_time"],
        "same server, same histogram"
    );
    assert_eq!(ours["kes_http_request_error"], go["kes_http_request_error"]);

    // On a terminal: the first frame of the live table, byte for byte but for the system line
    // (uptime, heap, stack).
    let ours = first_frame(&our_kes(), &env).await;
    let go = first_frame(&go_kes(), &env).await;
    assert!(go[0].starts_with("\x1b[?25l\x1b[1;2m\x1b[0m"), "{go:?}");
    assert_eq!(ours, go);
    server.stop().await;
}

/// The first frame `kes metric` draws under a colour pseudo-terminal, its system values line
/// masked; the process is killed then.
async fn first_frame(bin: &Path, env: &Env) -> Vec<String> {
    use tokio::io::AsyncReadExt as _;
    let line = format!("{} metric -k --rate 1s", bin.display());
    let mut child = tokio::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm-256color")
        .env("KES_SERVER", &env.server)
        .env("KES_API_KEY", env.api_key.as_deref().unwrap())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut text = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while text.iter().filter(|b| **b == b'\n').count() < 8 {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, stdout.read(&mut buf))
            .await
            .expect("no frame within 20 s")
            .unwrap();
        assert!(n > 0, "metric ended: {:?}", String::from_utf8_lossy(&text));
        text.extend_from_slice(&buf[..n]);
    }
    child.kill().await.unwrap();
    let text = String::from_utf8(text).unwrap();
    let mut lines: Vec<String> = text.split('\n').take(8).map(str::to_owned).collect();
    assert!(lines[5].contains("System"), "{lines:?}");
    lines[6] = "<system values>".to_owned();
    lines
}
