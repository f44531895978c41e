//! The local and streaming `kes` commands: `identity new|of`, `log` and `migrate`. Where the
//! command exists upstream, our output is compared with the upstream Go `kes` v0.24.0 CLI's,
//! both run against our server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tests::{TestServer, Value, go_kes, json, our_kes};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use x509_parser::prelude::*;

/// What one CLI run printed.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `bin` with `args` in `dir`, with a clean environment plus `env`.
async fn run(bin: &Path, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let out = tokio::process::Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("TZ", "UTC")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs our `kes` and expects success.
async fn ours_ok(dir: &Path, args: &[&str]) -> String {
    let out = run(&our_kes(), dir, &[], args).await;
    assert_eq!(out.code, 0, "kes {args:?}: {}{}", out.stdout, out.stderr);
    out.stdout
}

/// The value after `label` and a blank line in `kes identity new` output.
fn field_after(output: &str, label: &str) -> String {
    let mut lines = output.lines().skip_while(|l| *l != label);
    lines.next();
    lines.next();
    lines.next().unwrap_or_default().trim().to_owned()
}

#[tokio::test]
async fn identity_new_writes_a_private_key_and_certificate() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let out = ours_ok(
        dir.path(),
        &[
            "identity",
            "new",
            "--key",
            "c.key",
            "--cert",
            "c.crt",
            "--ip",
            "10.1.2.3",
            "--ip",
            "::1",
            "--dns",
            "kes.example",
            "--expiry",
            "48h",
            "my-client",
        ],
    )
    .await;
    let api_key = field_after(&out, "Your API key:");
    let identity = field_after(&out, "Your Identity:");
    assert!(api_key.starts_with("kes:v1:"), "{out}");
    assert_eq!(identity.len(), 64, "{out}");
    assert!(out.ends_with("    kes identity of c.crt\n"), "{out}");

    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("c.key"), 0o600);
    assert_eq!(mode("c.crt"), 0o644);

    let pem = std::fs::read(dir.path().join("c.crt")).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    assert_eq!(pem.label, "CERTIFICATE");
    let cert = pem.parse_x509().unwrap();
    let cn: Vec<_> = cert.subject().iter_common_name().collect();
    assert_eq!(cn.len(), 1);
    assert_eq!(cn[0].as_str().unwrap(), "my-client");
    assert_eq!(cert.subject(), cert.issuer());
    assert_eq!(
        cert.signature_algorithm.algorithm,
        x509_parser::oid_registry::OID_SIG_ED25519
    );
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && eku.server_auth, "{eku:?}");
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature());
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(!bc.value.ca);
    let san = cert.subject_alternative_name().unwrap().unwrap().value;
    let names: Vec<String> = san.general_names.iter().map(|n| n.to_string()).collect();
    assert!(
        names.contains(&"DNSName(kes.example)".to_owned()),
        "{names:?}"
    );
    let ips: Vec<&[u8]> = san
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::IPAddress(ip) => Some(*ip),
            _ => None,
        })
        .collect();
    assert_eq!(ips.len(), 2, "{names:?}");
    assert!(ips.contains(&&[10u8, 1, 2, 3][..]));
    let validity = cert.validity();
    let lifetime = validity.not_after.timestamp() - validity.not_before.timestamp();
    assert_eq!(lifetime, 48 * 3600);
    let spki_identity = kes_client::identity_of_certificate(pem.contents.as_slice()).unwrap();
    assert_eq!(spki_identity.to_string(), identity);

    // The key file holds the API key's PKCS#8 Ed25519 key; both tools agree.
    let key_pem = std::fs::read_to_string(dir.path().join("c.key")).unwrap();
    assert!(
        key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{key_pem}"
    );
    assert_eq!(ours_ok(dir.path(), &["identity", "c.key"]).await, api_key);
    assert_eq!(
        ours_ok(dir.path(), &["identity", "of", "c.crt"]).await,
        identity
    );
    assert_eq!(ours_ok(dir.path(), &["identity", &api_key]).await, identity);
    let go = run(&go_kes(), dir.path(), &[], &["identity", "of", "c.crt"]).await;
    assert_eq!(go.stdout, identity);

    // Existing files are kept unless --force is given.
    let again = run(
        &our_kes(),
        dir.path(),
        &[],
        &["identity", "new", "--key", "c.key", "--cert", "c.crt"],
    )
    .await;
    assert_eq!(again.code, 1);
    assert_eq!(
        again.stderr,
        "Error: private key already exists. Use --force to overwrite it\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("c.key")).unwrap(),
        key_pem
    );
    ours_ok(
        dir.path(),
        &["identity", "new", "--key", "c.key", "--cert", "c.crt", "-f"],
    )
    .await;
    assert_ne!(
        std::fs::read_to_string(dir.path().join("c.key")).unwrap(),
        key_pem
    );
    assert_eq!(mode("c.key"), 0o600);
    assert_eq!(mode("c.crt"), 0o644);

    // Without files, the file-only flags are usage mistakes, as upstream.
    let out = run(
        &our_kes(),
        dir.path(),
        &[],
        &["identity", "new", "--ip", "10.0.0.1"],
    )
    .await;
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "Error: '--ip' requires a private key and certificate file. Set the '--cert' and '--key' flag\n"
    );
}

#[tokio::test]
async fn identity_of_matches_upstream() {
    let dir = tempfile::tempdir().unwrap();
    // A certificate and key made by the upstream CLI, and an ECDSA certificate from rcgen.
    let go = run(
        &go_kes(),
        dir.path(),
        &[],
        &[
            "identity", "new", "--key", "go.key", "--cert", "go.crt", "go",
        ],
    )
    .await;
    assert_eq!(go.code, 0, "{}", go.stderr);
    let ecdsa = tests::CertFiles::generate(dir.path(), "ecdsa", "ecdsa client");
    let api_key = kes_client::ApiKey::generate().unwrap();
    let api_key = api_key.to_text();
    let ecdsa_cert = ecdsa.cert.to_str().unwrap();
    let ecdsa_key = ecdsa.key.to_str().unwrap();

    for args in [
        vec!["identity", "of", api_key.as_str()],
        vec!["identity", "of", "go.crt"],
        vec!["identity", "of", ecdsa_cert],
        vec!["identity", api_key.as_str()],
        vec!["identity", "go.crt"],
        vec!["identity", "go.key"],
        vec!["identity", "of", "go.key"],
        vec!["identity", "of", "missing.crt"],
        vec!["identity", "of"],
        vec!["identity", ecdsa_key],
        vec!["identity", "missing.crt"],
    ] {
        let ours = run(&our_kes(), dir.path(), &[], &args).await;
        let theirs = run(&go_kes(), dir.path(), &[], &args).await;
        assert_eq!(ours.code, theirs.code, "{args:?}: {ours:?} vs {theirs:?}");
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
        assert_eq!(ours.stderr, theirs.stderr, "{args:?}");
    }
    let ours = ours_ok(dir.path(), &["identity", "of", ecdsa_cert]).await;
    assert_eq!(ours, ecdsa.identity());

    // `identity new`, with and without files, prints upstream's text around the fresh values.
    for (ours_args, go_args) in [
        (vec!["identity", "new"], vec!["identity", "new"]),
        (
            vec!["identity", "new", "--key", "n.key", "--cert", "n.crt", "x"],
            vec![
                "identity", "new", "--key", "n2.key", "--cert", "n.crt2", "x",
            ],
        ),
    ] {
        let ours = run(&our_kes(), dir.path(), &[], &ours_args).await;
        let theirs = run(&go_kes(), dir.path(), &[], &go_args).await;
        assert_eq!((ours.code, theirs.code), (0, 0), "{ours:?} {theirs:?}");
        let mask = |s: &str| {
            s.lines()
                .map(|l| {
                    let l = l.replace("n2.key", "n.key").replace("n.crt2", "n.crt");
                    match l.trim().len() {
                        51 if l.contains("kes:v1:") => l.replace(l.trim(), "<key>"),
                        64 => l.replace(l.trim(), "<identity>"),
                        _ if l.contains("kes:v1:") => "kes identity of <key>".to_owned(),
                        _ => l,
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + if s.ends_with("\n\n") { "\n\n" } else { "\n" }
        };
        assert_eq!(mask(&ours.stdout), mask(&theirs.stdout));
    }
}

/// A running `kes log` process whose stdout is read line by line.
struct LogProcess {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: Vec<String>,
}

impl LogProcess {
    fn spawn(bin: &Path, server: &TestServer, args: &[&str]) -> LogProcess {
        Self::spawn_with(bin, server, args, false)
    }

    /// Like [`LogProcess::spawn`]; with `pty`, under a colour pseudo-terminal (`script`), and
    /// the lines lose their `\r`.
    fn spawn_with(bin: &Path, server: &TestServer, args: &[&str], pty: bool) -> LogProcess {
        let mut cmd = if pty {
            let line = std::iter::once(bin.display().to_string())
                .chain(args.iter().map(|a| format!("'{a}'")))
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
        let mut child = cmd
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TERM", "xterm-256color")
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("TZ", "UTC")
            .env("KES_SERVER", server.url())
            .env("KES_API_KEY", server.admin.to_text().as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        LogProcess {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one contains `needle`; panics after 20 s.
    async fn wait_for(&mut self, needle: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.seen.iter().any(|l| l.contains(needle)) {
            let line = tokio::time::timeout_at(deadline, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("no line with {needle:?} in {:?}", self.seen))
                .unwrap()
                .unwrap_or_else(|| panic!("stream ended before {needle:?}: {:?}", self.seen));
            self.seen.push(line.trim_end_matches('\r').to_owned());
        }
    }

    /// The lines from the first one containing `from` up to and including the first one
    /// containing `to`.
    async fn section(mut self, from: &str, to: &str) -> Vec<String> {
        self.wait_for(to).await;
        let _ = self.child.kill().await;
        let start = self.seen.iter().position(|l| l.contains(from)).unwrap();
        let end = self.seen.iter().position(|l| l.contains(to)).unwrap();
        self.seen[start..=end].to_vec()
    }
}

/// Masks the clock time and the latency of an audit table row.
fn mask_row(row: &str) -> String {
    let (clock, rest) = row.split_at(8);
    assert!(
        clock.chars().all(|c| c.is_ascii_digit() || c == ':'),
        "{row}"
    );
    let (rest, latency) = rest.rsplit_once(' ').unwrap();
    assert!(
        latency.ends_with("ns")
            || latency.ends_with("µs")
            || latency.ends_with("ms")
            || latency.ends_with('s'),
        "{row}"
    );
    format!("hh:mm:ss{rest} <latency>")
}

/// Masks `"time":"…"` and `"time":123` in an audit JSON line, keeping the field order.
fn mask_json(line: &str) -> String {
    let value: Value = serde_json::from_str(line).unwrap();
    assert!(
        value["time"].is_string() && value["response"]["time"].is_u64(),
        "{line}"
    );
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("\"time\":") {
        out.push_str(&rest[..at + 7]);
        rest = &rest[at + 7..];
        let end = match rest.strip_prefix('"') {
            Some(quoted) => quoted.find('"').unwrap() + 2,
            None => rest.find(|c: char| !c.is_ascii_digit()).unwrap(),
        };
        out.push_str("<masked>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn log_matches_upstream_cli_against_our_server() {
    let server = TestServer::start("").await;
    let admin = server.admin_client();
    for (json_flag, pty, tag) in [
        (false, false, "table"),
        (true, false, "json"),
        (false, true, "terminal"),
    ] {
        let mut args = vec!["log", "-k"];
        if json_flag {
            args.push("--json");
        }
        let mut ours = LogProcess::spawn_with(&our_kes(), &server, &args, pty);
        ours.wait_for("/v1/log/audit").await;
        let mut theirs = LogProcess::spawn_with(&go_kes(), &server, &args, pty);
        theirs.wait_for("/v1/log/audit").await;
        if !json_flag {
            assert_eq!(ours.seen[0], theirs.seen[0], "header");
        }
        if !json_flag && !pty {
            assert_eq!(
                ours.seen[0],
                "Time        Status    Identity                IP                 API                               Latency"
            );
        }
        if pty {
            assert!(
                ours.seen[0].starts_with("\x1b[1;4;4mT\x1b[0m\x1b[1;4;4mi"),
                "{:?}",
                ours.seen[0]
            );
        }

        let first = format!("/v1/key/create/log-{tag}");
        admin.post(&first, "").await.ok();
        admin.post(&first, "").await; // 400: exists
        let missing = format!("/v1/key/describe/missing-{tag}");
        admin.get(&missing).await;

        let ours = ours.section(&first, &missing).await;
        let theirs = theirs.section(&first, &missing).await;
        assert_eq!(ours.len(), 3, "{ours:?}");
        let mask = if json_flag { mask_json } else { mask_row };
        let ours: Vec<String> = ours.iter().map(|l| mask(l)).collect();
        let theirs: Vec<String> = theirs.iter().map(|l| mask(l)).collect();
        assert_eq!(ours, theirs);
        if !json_flag {
            assert!(ours[1].contains("400"), "{}", ours[1]);
            assert!(ours[2].contains("404"), "{}", ours[2]);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn migrate_copies_keys_between_fs_keystores() {
    let root = tempfile::tempdir().unwrap();
    let (src, dst, part) = (
        root.path().join("src"),
        root.path().join("dst"),
        root.path().join("part"),
    );
    let source = TestServer::start_in(tempfile::tempdir().unwrap(), &src, "").await;
    let admin = source.admin_client();
    let names = ["mig-a", "mig-b", "other"];
    let mut deks = Vec::new();
    for name in names {
        admin.post(&format!("/v1/key/create/{name}"), "").await.ok();
        let dek = admin
            .post(
                &format!("/v1/key/generate/{name}"),
                &json!({ "context": "Y29udGV4dA==" }).to_string(),
            )
            .await
            .ok();
        deks.push((name, dek));
    }

    // Config files for both sides: the source server's config with another keystore path.
    let config = std::fs::read_to_string(source.dir.path().join("config.yml")).unwrap();
    let from = root.path().join("from.yml");
    std::fs::write(&from, &config).unwrap();
    let to_config = |path: &Path| {
        let file = root.path().join(format!(
            "{}.yml",
            path.file_name().unwrap().to_string_lossy()
        ));
        let text = config.replace(
            &format!("path: {}", src.display()),
            &format!("path: {}", path.display()),
        );
        assert_ne!(text, config);
        std::fs::write(&file, text).unwrap();
        file
    };
    let (to, to_part) = (to_config(&dst), to_config(&part));
    let (from, to, to_part) = (
        from.to_str().unwrap(),
        to.to_str().unwrap(),
        to_part.to_str().unwrap(),
    );
    let cwd = root.path();

    let out = ours_ok(cwd, &["migrate", "--from", from, "--to", to]).await;
    assert_eq!(
        out,
        "Starting key migration:\n\nMigrated      3 keys successfully!\n"
    );
    assert_eq!(tests::dir_files(&src), tests::dir_files(&dst));
    assert_eq!(tests::dir_files(&dst).len(), 3);

    // Existing keys are never overwritten by accident, and nothing is copied then.
    let out = run(
        &our_kes(),
        cwd,
        &[],
        &["migrate", "--from", from, "--to", to],
    )
    .await;
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "Error: key 'mig-a' already exists at the target. Use '--force' to overwrite or '--merge' to skip existing keys\n"
    );
    // --merge is idempotent.
    for _ in 0..2 {
        let out = ours_ok(cwd, &["migrate", "--merge", "--from", from, "--to", to]).await;
        assert_eq!(
            out,
            "Starting key migration:\n\nMigration succeeded! No keys migrated.\n"
        );
        assert_eq!(tests::dir_files(&src), tests::dir_files(&dst));
    }
    let out = ours_ok(cwd, &["migrate", "-f", "--from", from, "--to", to]).await;
    assert!(
        out.ends_with("Migrated      3 keys successfully!\n"),
        "{out}"
    );
    assert_eq!(tests::dir_files(&src), tests::dir_files(&dst));

    // A pattern selects keys; --merge copies only what is missing.
    let out = ours_ok(cwd, &["migrate", "--from", from, "--to", to_part, "mig-*"]).await;
    assert!(
        out.ends_with("Migrated      2 keys successfully!\n"),
        "{out}"
    );
    let out = ours_ok(
        cwd,
        &["migrate", "--merge", "--from", from, "--to", to_part],
    )
    .await;
    assert!(
        out.ends_with("Migrated      1 keys successfully!\n"),
        "{out}"
    );
    assert_eq!(tests::dir_files(&src), tests::dir_files(&part));

    // MinKMS targets are refused clearly; -f and --merge exclude each other.
    let out = run(
        &our_kes(),
        cwd,
        &[],
        &["migrate", "--from", from, "-s", "kms:7373"],
    )
    .await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not supported"), "{}", out.stderr);
    let out = run(
        &our_kes(),
        cwd,
        &[],
        &["migrate", "-f", "--merge", "--from", from, "--to", to],
    )
    .await;
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "Error: '--force' and '--merge' flags are mutually exclusive\n"
    );
    source.stop().await;

    // Every ciphertext made before the migration decrypts at the destination.
    let target = TestServer::start_in(tempfile::tempdir().unwrap(), &dst, "").await;
    let admin = target.admin_client();
    for (name, dek) in deks {
        let plain = admin
            .post(
                &format!("/v1/key/decrypt/{name}"),
                &json!({ "ciphertext": dek["ciphertext"], "context": "Y29udGV4dA==" }).to_string(),
            )
            .await
            .ok();
        assert_eq!(plain["plaintext"], dek["plaintext"], "{name}");
    }
    target.stop().await;
}

/// Replaces every `YYYY-MM-DDTHH:MM:SS[.fraction][Z]` in `s` by `<TIME>`.
fn mask_timestamps(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let is_time = b.len() - i >= 19
            && b[i..i + 19].iter().enumerate().all(|(n, c)| match n {
                4 | 7 => *c == b'-',
                10 => *c == b'T' || *c == b' ',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            });
        if !is_time {
            out.push(char::from(b[i]));
            i += 1;
            continue;
        }
        i += 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if b.get(i) == Some(&b'Z') {
            i += 1;
        }
        out.push_str("<TIME>");
    }
    out
}

#[tokio::test]
async fn log_error_matches_upstream_cli_against_our_server() {
    let server = TestServer::start("").await;
    let admin = server.admin_client();
    admin.post("/v1/key/create/log-err", "").await.ok();
    for json_flag in [false, true] {
        let mut args = vec!["log", "--error", "-k"];
        if json_flag {
            args.push("--json");
        }
        let mut ours = LogProcess::spawn(&our_kes(), &server, &args);
        let mut theirs = LogProcess::spawn(&go_kes(), &server, &args);
        // The error stream has no greeting: send failing requests (invalid bodies are logged
        // at ERROR) until both processes print one.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            admin.post("/v1/key/generate/log-err", "not json").await;
            let (a, b) = tokio::join!(
                tokio::time::timeout(Duration::from_millis(300), ours.lines.next_line()),
                tokio::time::timeout(Duration::from_millis(300), theirs.lines.next_line()),
            );
            if let Ok(line) = a {
                ours.seen.push(line.unwrap().expect("our stream ended"));
            }
            if let Ok(line) = b {
                theirs
                    .seen
                    .push(line.unwrap().expect("upstream's stream ended"));
            }
            if !ours.seen.is_empty() && !theirs.seen.is_empty() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no error event: ours {:?}, upstream {:?}",
                ours.seen,
                theirs.seen
            );
        }
        let (ours, theirs) = (
            mask_timestamps(&ours.seen[0]),
            mask_timestamps(&theirs.seen[0]),
        );
        assert_eq!(ours, theirs, "json: {json_flag}");
        assert!(ours.contains("POST"), "{ours}");
        if json_flag {
            let value: Value = serde_json::from_str(&ours).unwrap();
            assert!(value["message"].is_string(), "{ours}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn migrate_between_fs_and_sqlite_keystores() {
    let root = tempfile::tempdir().unwrap();
    let (src, back, db) = (
        root.path().join("src"),
        root.path().join("back"),
        root.path().join("keys.db"),
    );
    let source = TestServer::start_in(tempfile::tempdir().unwrap(), &src, "").await;
    let admin = source.admin_client();
    let mut deks = Vec::new();
    for name in ["sq-a", "sq-b", "sq-c"] {
        admin.post(&format!("/v1/key/create/{name}"), "").await.ok();
        let dek = admin
            .post(
                &format!("/v1/key/generate/{name}"),
                &json!({ "context": "Y3R4" }).to_string(),
            )
            .await
            .ok();
        deks.push((name, dek));
    }
    let config = std::fs::read_to_string(source.dir.path().join("config.yml")).unwrap();
    let fs_section = format!("keystore:\n  fs:\n    path: {}\n", src.display());
    let sqlite_section = format!("keystore:\n  sqlite:\n    path: {}\n", db.display());
    assert!(config.contains(&fs_section), "{config}");
    let write = |name: &str, section: &str| {
        let file = root.path().join(name);
        std::fs::write(&file, config.replace(&fs_section, section)).unwrap();
        file.to_str().unwrap().to_owned()
    };
    let from_fs = write("fs.yml", &fs_section);
    let to_sqlite = write("sqlite.yml", &sqlite_section);
    let to_back = write(
        "back.yml",
        &format!("keystore:\n  fs:\n    path: {}\n", back.display()),
    );
    let cwd = root.path();

    let out = ours_ok(cwd, &["migrate", "--from", &from_fs, "--to", &to_sqlite]).await;
    assert_eq!(
        out,
        "Starting key migration:\n\nMigrated      3 keys successfully!\n"
    );
    let again = run(
        &our_kes(),
        cwd,
        &[],
        &["migrate", "--from", &from_fs, "--to", &to_sqlite],
    )
    .await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains("already exists at the target"),
        "{again:?}"
    );
    for _ in 0..2 {
        let out = ours_ok(
            cwd,
            &["migrate", "--merge", "--from", &from_fs, "--to", &to_sqlite],
        )
        .await;
        assert!(out.ends_with("No keys migrated.\n"), "{out}");
    }
    let out = ours_ok(
        cwd,
        &["migrate", "--force", "--from", &from_fs, "--to", &to_sqlite],
    )
    .await;
    assert!(
        out.ends_with("Migrated      3 keys successfully!\n"),
        "{out}"
    );
    source.stop().await;

    // A server on the SQLite keystore decrypts what the fs-backed server encrypted.
    let target =
        TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &sqlite_section, "").await;
    let admin = target.admin_client();
    let listed = admin.get("/v1/key/list/sq-").await.ok();
    assert_eq!(listed["names"], json!(["sq-a", "sq-b", "sq-c"]), "{listed}");
    for (name, dek) in &deks {
        let plain = admin
            .post(
                &format!("/v1/key/decrypt/{name}"),
                &json!({ "ciphertext": dek["ciphertext"], "context": "Y3R4" }).to_string(),
            )
            .await
            .ok();
        assert_eq!(plain["plaintext"], dek["plaintext"], "{name}");
    }
    target.stop().await;

    // And back again: the fs keystore gets byte-identical files.
    let out = ours_ok(cwd, &["migrate", "--from", &to_sqlite, "--to", &to_back]).await;
    assert!(
        out.ends_with("Migrated      3 keys successfully!\n"),
        "{out}"
    );
    assert_eq!(tests::dir_files(&src), tests::dir_files(&back));
}

/// Runs `bin args` in `dir` under a pseudo-terminal (`script`), typing `input`.
async fn run_in_terminal(bin: &Path, dir: &Path, args: &[&str], input: &str) -> Run {
    run_in_terminal_with(bin, dir, &[], args, input).await
}

/// Like [`run_in_terminal`], with the variables `env` set.
async fn run_in_terminal_with(
    bin: &Path,
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    input: &str,
) -> Run {
    use tokio::io::AsyncWriteExt as _;
    let line = std::iter::once(bin.display().to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = tokio::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env_clear()
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "dumb")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("no exit within 20 s")
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).replace('\r', ""),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `kes identity new --encrypt` asks twice for a password on the terminal and writes the key
/// as an RFC 1423 encrypted PEM block (AES-256-CBC), like upstream's `x509.EncryptPEMBlock`;
/// each CLI's file decrypts with the other's format rules.
#[tokio::test]
async fn identity_new_encrypt_matches_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let args = |key: &'static str, cert: &'static str| {
        vec![
            "identity",
            "new",
            "--encrypt",
            "--key",
            key,
            "--cert",
            cert,
            "me",
        ]
    };
    let ours = run_in_terminal(&our_kes(), cwd, &args("rs.key", "rs.crt"), "pw\npw\n").await;
    let go = run_in_terminal(&go_kes(), cwd, &args("go.key", "go.crt"), "pw\npw\n").await;
    assert_eq!((ours.code, go.code), (0, 0), "{ours:?}\n{go:?}");
    for out in [&ours.stdout, &go.stdout] {
        assert!(
            out.contains("Enter password for private key:\nConfirm password for private key:\n"),
            "{out}"
        );
    }
    let api_key = field_after(&ours.stdout, "Your API key:");
    assert!(api_key.starts_with("kes:v1:"), "{}", ours.stdout);
    for (name, printed) in [("rs", &ours.stdout), ("go", &go.stdout)] {
        let pem = std::fs::read_to_string(cwd.join(format!("{name}.key"))).unwrap();
        assert!(
            pem.starts_with(
                "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,"
            ),
            "{pem}"
        );
        let path = cwd.join(format!("{name}.key"));
        assert!(kes_client::pem::load_private_key(&path, Some("wrong")).is_err());
        let der = kes_client::pem::load_private_key(&path, Some("pw")).unwrap();
        // The decrypted key is the printed API key's (our `kes identity <plain key file>`).
        let plain = cwd.join(format!("{name}-plain.key"));
        std::fs::write(
            &plain,
            kes_client::pem::encode("PRIVATE KEY", der.secret_der()),
        )
        .unwrap();
        let from_key = ours_ok(cwd, &["identity", plain.to_str().unwrap()]).await;
        assert_eq!(from_key, field_after(printed, "Your API key:"), "{name}");
    }

    // An encrypted key is no certificate to `kes identity of`.
    let ours = run(&our_kes(), cwd, &[], &["identity", "of", "rs.key"]).await;
    let go = run(&go_kes(), cwd, &[], &["identity", "of", "rs.key"]).await;
    assert_eq!((ours.code, &ours.stderr), (go.code, &go.stderr));

    // Passwords that differ, and no terminal: the same errors, and no files.
    let ours = run_in_terminal(&our_kes(), cwd, &args("x.key", "x.crt"), "a\nb\n").await;
    let go = run_in_terminal(&go_kes(), cwd, &args("y.key", "y.crt"), "a\nb\n").await;
    assert_eq!((ours.code, go.code), (1, 1));
    assert!(
        ours.stdout.ends_with("Error: passwords don't match\n"),
        "{ours:?}"
    );
    assert!(
        go.stdout.ends_with("Error: passwords don't match\n"),
        "{go:?}"
    );
    let ours = run(&our_kes(), cwd, &[], &args("x.key", "x.crt")).await;
    let go = run(&go_kes(), cwd, &[], &args("y.key", "y.crt")).await;
    assert_eq!((ours.code, go.code), (1, 1));
    assert_eq!(ours.stderr, go.stderr);
    assert_eq!(
        ours.stderr,
        "Enter password for private key:Error: inappropriate ioctl for device\n"
    );
    for name in ["x.key", "x.crt", "y.key", "y.crt"] {
        assert!(!cwd.join(name).exists(), "{name}");
    }
}

/// A client key file encrypted by `kes identity new --encrypt` works as `KES_CLIENT_KEY`: both
/// CLIs ask for the password and connect; a wrong password and unusable files fail alike.
#[tokio::test]
async fn encrypted_client_key_prompts_like_upstream() {
    let server = TestServer::start("").await;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let made = run_in_terminal(
        &our_kes(),
        cwd,
        &[
            "identity",
            "new",
            "--encrypt",
            "--key",
            "c.key",
            "--cert",
            "c.crt",
        ],
        "pw\npw\n",
    )
    .await;
    assert_eq!(made.code, 0, "{made:?}");
    let url = server.url();
    let env = [
        ("KES_SERVER", url.as_str()),
        ("KES_CLIENT_KEY", "c.key"),
        ("KES_CLIENT_CERT", "c.crt"),
    ];
    for (input, expected) in [
        (
            "pw\n",
            "Error: failed to list keys: not authorized: insufficient permissions\n",
        ),
        ("nope\n", "Error: incorrect password\n"),
    ] {
        let args = ["key", "ls", "-k"];
        let ours = run_in_terminal_with(&our_kes(), cwd, &env, &args, input).await;
        let go = run_in_terminal_with(&go_kes(), cwd, &env, &args, input).await;
        assert_eq!(
            (ours.code, &ours.stdout),
            (go.code, &go.stdout),
            "{input:?}"
        );
        assert!(
            ours.stdout
                .ends_with(&format!("Enter password for private key: \n{expected}")),
            "{ours:?}"
        );
    }
    for (key, cert) in [
        ("c.key", "c.key"),
        ("c.crt", "c.crt"),
        ("missing.key", "c.crt"),
        ("c.key", "missing.crt"),
        ("c.key", ""),
    ] {
        let env = [
            ("KES_SERVER", url.as_str()),
            ("KES_CLIENT_KEY", key),
            ("KES_CLIENT_CERT", cert),
        ];
        let ours = run(&our_kes(), cwd, &env, &["key", "ls", "-k"]).await;
        let go = run(&go_kes(), cwd, &env, &["key", "ls", "-k"]).await;
        assert_eq!(
            (ours.code, &ours.stderr),
            (go.code, &go.stderr),
            "{key} {cert}"
        );
        assert_eq!(ours.code, 1);
    }
    server.stop().await;
}

/// `kes migrate` prints what upstream prints, on a pipe and on a terminal, and both copy the
/// same bytes; only the refusal to overwrite is worded differently (this CLI checks before it
/// copies anything and names the key).
#[tokio::test]
async fn migrate_output_matches_upstream() {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("src");
    let source = TestServer::start_in(tempfile::tempdir().unwrap(), &src, "").await;
    let admin = source.admin_client();
    for name in ["m1", "m2", "m3"] {
        admin.post(&format!("/v1/key/create/{name}"), "").await.ok();
    }
    let config = std::fs::read_to_string(source.dir.path().join("config.yml")).unwrap();
    let from = root.path().join("from.yml");
    std::fs::write(&from, &config).unwrap();
    let target = |name: &str| {
        let file = root.path().join(format!("{name}.yml"));
        let dir = root.path().join(name);
        std::fs::write(
            &file,
            config.replace(
                &format!("path: {}", src.display()),
                &format!("path: {}", dir.display()),
            ),
        )
        .unwrap();
        (file.to_str().unwrap().to_owned(), dir)
    };
    let ((go_to, go_dir), (rs_to, rs_dir)) = (target("go"), target("rs"));
    let from = from.to_str().unwrap();
    let cwd = root.path();
    for (flags, terminal) in [
        (&[][..], false),
        (&["--merge"][..], true),
        (&["--merge"][..], false),
        (&["--force"][..], true),
        (&["--force", "m*"][..], false),
        (&["zz*"][..], false),
    ] {
        let args = |to: &str| -> Vec<String> {
            ["migrate", "--from", from, "--to", to]
                .iter()
                .chain(flags)
                .map(|s| (*s).to_owned())
                .collect()
        };
        let (go_args, rs_args) = (args(&go_to), args(&rs_to));
        let go_args: Vec<&str> = go_args.iter().map(String::as_str).collect();
        let rs_args: Vec<&str> = rs_args.iter().map(String::as_str).collect();
        let (go, ours) = if terminal {
            (
                run_in_terminal(&go_kes(), cwd, &go_args, "").await,
                run_in_terminal(&our_kes(), cwd, &rs_args, "").await,
            )
        } else {
            (
                run(&go_kes(), cwd, &[], &go_args).await,
                run(&our_kes(), cwd, &[], &rs_args).await,
            )
        };
        assert_eq!(
            (ours.code, &ours.stdout, &ours.stderr),
            (go.code, &go.stdout, &go.stderr),
            "{flags:?} terminal: {terminal}"
        );
        assert_eq!(ours.code, 0);
        assert_eq!(tests::dir_files(&go_dir), tests::dir_files(&rs_dir));
    }
    assert_eq!(tests::dir_files(&src), tests::dir_files(&rs_dir));
    source.stop().await;
}
