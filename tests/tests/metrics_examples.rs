//! The Prometheus example (`deploy/prometheus/`) and the Grafana dashboard (`deploy/grafana/`)
//! name only metrics our server really exports, and the dashboard shows every one of them.
//! Checked against a live scrape of `/v1/metrics` after traffic of every status class with
//! stream subscribers connected, so that every family has samples. Prometheus's own `promtool`
//! (installed by `scripts/install-peers`) lints that scrape and checks the config and rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tests::{TestServer, Value};

/// Every `kes_…` metric name in `text`, with histogram series suffixes kept.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("kes_") {
        let start = i + pos;
        let boundary = start == 0
            || !(bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b'_'
                || bytes[start - 1] == b':');
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .map_or(text.len(), |n| start + n);
        if boundary {
            names.insert(text[start..end].to_owned());
        }
        i = end;
    }
    names
}

/// Metric families and their types from Prometheus exposition text.
fn families(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .map(|rest| {
            let (name, kind) = rest.split_once(' ').unwrap();
            (name.to_owned(), kind.to_owned())
        })
        .collect()
}

/// The family a series name belongs to (`x_bucket` of histogram `x` is `x`).
fn family_of(name: &str, families: &BTreeMap<String, String>) -> Option<String> {
    if families.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (families.get(base).map(String::as_str) == Some("histogram")).then(|| base.to_owned())
    })
}

/// The `promtool` that `scripts/install-peers` built; panics if it is missing.
fn promtool() -> PathBuf {
    let path = tests::backends::peers_cache().join("go/bin/promtool");
    assert!(
        path.is_file(),
        "promtool is missing at {}: run scripts/install-peers",
        path.display()
    );
    path
}

/// Runs `promtool args…` with `stdin`; returns whether it succeeded and its output.
fn promtool_output(args: &[&str], dir: &Path, stdin: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new(promtool())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `promtool args…` with `stdin`, panicking with its output unless it succeeds.
fn run_promtool(args: &[&str], dir: &Path, stdin: &str) {
    let (ok, text) = promtool_output(args, dir, stdin);
    assert!(ok, "promtool {args:?} failed:\n{text}");
}

#[tokio::test]
async fn deploy_examples_name_exported_metrics() {
    let server = TestServer::start("").await;
    let c = server.admin_client();
    let mut errors = c.stream("/v1/log/error").await;
    let _audit = c.stream("/v1/log/audit").await;
    c.post("/v1/key/create/metered", "").await.ok();
    c.post("/v1/key/create/metered", "")
        .await
        .assert_error(400, "key already exists");
    std::fs::write(server.keystore_dir().join("broken"), b"not a key").unwrap();
    let failed = c.post("/v1/key/generate/broken", "{}").await;
    assert!(failed.status.is_server_error(), "{}", failed.text());
    // The failure reached the error stream, so the log event counter has a sample.
    errors.next_line().await;

    let reply = c.get("/v1/metrics").await;
    assert!(reply.status.is_success());
    let exported = families(&reply.text());
    for required in [
        "kes_http_request_success",
        "kes_http_request_error",
        "kes_http_request_failure",
        "kes_http_response_time",
        "kes_log_error_events",
        "kes_log_audit_events",
        "kes_system_up_time",
    ] {
        assert!(
            exported.contains_key(required),
            "{required} not exported: {exported:?}"
        );
    }

    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let dashboard = std::fs::read_to_string(deploy.join("grafana/kes-dashboard.json")).unwrap();
    let _: Value = serde_json::from_str(&dashboard).expect("the dashboard is valid JSON");
    let mut shown = BTreeSet::new();
    for file in [
        "prometheus/prometheus.yml",
        "prometheus/kes-alerts.yml",
        "grafana/kes-dashboard.json",
    ] {
        let text = std::fs::read_to_string(deploy.join(file)).unwrap();
        for name in names_in(&text) {
            let family = family_of(&name, &exported)
                .unwrap_or_else(|| panic!("{file} uses {name}, which /v1/metrics does not export"));
            if file.starts_with("grafana") {
                shown.insert(family);
            }
        }
    }
    let missing: Vec<&String> = exported.keys().filter(|f| !shown.contains(*f)).collect();
    assert!(
        missing.is_empty(),
        "the dashboard does not show {missing:?}"
    );

    // Prometheus itself: the scrape lints clean, the rules and the scrape config load (with the
    // config's certificate paths pointed at real files).
    // The only findings allowed are the naming advice for upstream's counter names, which
    // MinIO and the Go client depend on; a parse error or any other finding fails.
    let (_, lint) = promtool_output(&["check", "metrics"], &deploy, &reply.text());
    for line in lint.lines().filter(|l| !l.trim().is_empty()) {
        let name = line.split(' ').next().unwrap_or_default();
        assert!(
            line.ends_with("counter metrics should have \"_total\" suffix")
                && exported.get(name).map(String::as_str) == Some("counter"),
            "promtool check metrics: {line}"
        );
    }
    run_promtool(
        &["check", "rules", "prometheus/kes-alerts.yml"],
        &deploy,
        "",
    );
    let scratch = tempfile::tempdir().unwrap();
    let cert = server.server_cert.cert.display().to_string();
    let key = server.server_cert.key.display().to_string();
    let config = std::fs::read_to_string(deploy.join("prometheus/prometheus.yml"))
        .unwrap()
        .replace("/etc/prometheus/kes/server-ca.crt", &cert)
        .replace("/etc/prometheus/kes/prometheus.crt", &cert)
        .replace("/etc/prometheus/kes/prometheus.key", &key);
    std::fs::write(scratch.path().join("prometheus.yml"), config).unwrap();
    std::fs::copy(
        deploy.join("prometheus/kes-alerts.yml"),
        scratch.path().join("kes-alerts.yml"),
    )
    .unwrap();
    run_promtool(&["check", "config", "prometheus.yml"], scratch.path(), "");
    server.stop().await;
}

#[test]
fn metric_names_are_found_as_whole_words() {
    let names = names_in(
        "rate(kes_http_request_error{code=\"403\"}[5m]) kes:requests:rate5m x_kes_y kes_a_bucket",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["kes_a_bucket", "kes_http_request_error"]
    );
}
