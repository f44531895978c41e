//! `kes status`: the server's status (endpoint, version, uptime, latency, OS, CPUs, memory)
//! and, with `--api`, its routes.

use std::time::{Duration, Instant};

use clap::Args;
use kes_client::client::{Api, Status};
use serde::Serialize;

use super::remote::{self, block_on};
use super::style::{ColorWhen, Style, Term, format_size, go_duration, go_json};

/// Arguments of `kes status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Skip TLS certificate validation.
    #[arg(short = 'k', long = "insecure")]
    insecure: bool,
    /// Print status information in a short summary format.
    #[arg(short = 's', long = "short")]
    short: bool,
    /// List all server APIs.
    #[arg(long)]
    api: bool,
    /// Print status information in JSON format.
    #[arg(long)]
    json: bool,
    /// When to use colored output.
    #[arg(
        long,
        value_name = "WHEN",
        value_enum,
        ignore_case = true,
        default_value_t
    )]
    color: ColorWhen,
}

/// Runs `kes status`; returns the exit code.
pub fn run(args: StatusArgs) -> i32 {
    let term = Term::detect(args.color);
    remote::exit_code(&term, status(&term, &args))
}

/// kms-go's `State` JSON.
#[derive(Serialize)]
struct StatusJson<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    os: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    arch: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    uptime: u64,
    #[serde(skip_serializing_if = "is_zero")]
    num_cpu: u64,
    #[serde(skip_serializing_if = "is_zero")]
    num_cpu_used: u64,
    #[serde(skip_serializing_if = "is_zero")]
    mem_heap_used: u64,
    #[serde(skip_serializing_if = "is_zero")]
    mem_stack_used: u64,
    #[serde(skip_serializing_if = "is_zero")]
    keystore_latency: u64,
    #[serde(skip_serializing_if = "is_false")]
    keystore_unreachable: bool,
    #[serde(skip_serializing_if = "is_false")]
    keystore_unavailable: bool,
}

/// kms-go's `API` JSON.
#[derive(Serialize)]
struct ApiJson<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    method: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    path: &'a str,
    #[serde(skip_serializing_if = "is_zero_i64")]
    max_body: i64,
    #[serde(skip_serializing_if = "is_zero")]
    timeout: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

fn status_json(s: &Status) -> StatusJson<'_> {
    // Go rounds the uptime to whole seconds (half away from zero).
    let uptime = (s.uptime + Duration::from_millis(500)).as_secs();
    StatusJson {
        version: &s.version,
        os: &s.os,
        arch: &s.arch,
        uptime,
        num_cpu: s.cpus,
        num_cpu_used: s.usable_cpus,
        mem_heap_used: s.heap_alloc,
        mem_stack_used: s.stack_alloc,
        keystore_latency: u64::try_from(s.keystore_latency.as_nanos()).unwrap_or(u64::MAX),
        keystore_unreachable: s.keystore_unreachable,
        keystore_unavailable: s.keystore_unreachable,
    }
}

/// Upstream's uptime: days and hours, hours, minutes or seconds (Go's `%.f`).
fn uptime(d: Duration) -> String {
    let hours = d.as_secs_f64() / 3600.0;
    if d > Duration::from_secs(24 * 3600) {
        format!("{:.0} days {:.0} hours", hours / 24.0, hours % 24.0)
    } else if d > Duration::from_secs(3600) {
        format!("{hours:.0} hours")
    } else if d > Duration::from_secs(60) {
        format!("{:.0} minutes", d.as_secs_f64() / 60.0)
    } else {
        format!("{:.0} seconds", d.as_secs_f64())
    }
}

/// `d` rounded to milliseconds, half away from zero (Go's `Duration.Round`).
fn round_ms(d: Duration) -> Duration {
    let ms = (d.as_nanos() + 500_000) / 1_000_000;
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

fn status(term: &Term, args: &StatusArgs) -> Result<(), String> {
    let remote = remote::connect(None, None, args.insecure)?;
    let client = &remote.client;
    let (status, latency, apis) = block_on(async {
        let start = Instant::now();
        let status = client.status().await.map_err(|e| e.to_string())?;
        let latency = start.elapsed();
        let apis: Vec<Api> = if args.api {
            client.apis().await.map_err(|e| e.to_string())?
        } else {
            Vec::new()
        };
        Ok((status, latency, apis))
    })?;

    if args.json {
        let indent = term.is_terminal && !args.short;
        let out = if args.api {
            let apis: Vec<ApiJson<'_>> = apis
                .iter()
                .map(|a| ApiJson {
                    method: &a.method,
                    path: &a.path,
                    max_body: a.max_body,
                    timeout: a.timeout.as_secs(),
                })
                .collect();
            if apis.is_empty() {
                "null\n".to_owned()
            } else {
                go_json(&apis, indent)?
            }
        } else {
            go_json(&status_json(&status), indent)?
        };
        print!("{out}");
        return Ok(());
    }

    let (faint, dot, endpoint) = if term.colorize {
        (
            Style::new().faint(),
            Style::new().bold().fg(0x00, 0xf7, 0x00),
            Style::new().bold().fg(0x00, 0xaf, 0xaf),
        )
    } else {
        (Style::new(), Style::new(), Style::new())
    };
    let first = remote
        .endpoints
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let mut out = format!(
        "{} {}\n",
        term.render(dot, "●"),
        term.render(endpoint, first.strip_prefix("https://").unwrap_or(first))
    );
    if !args.short {
        let label = |s: &str| term.render(faint, &format!("  {s:<8}"));
        out.push_str(&format!("{} {}\n", label("Version"), status.version));
        out.push_str(&format!("{} {}\n", label("Uptime"), uptime(status.uptime)));
        out.push_str(&format!(
            "{} {}\n",
            label("Latency"),
            go_duration(round_ms(latency))
        ));
        out.push_str(&format!("{} {}\n", label("OS"), status.os));
        out.push_str(&format!(
            "{} {} {}\n",
            label("CPUs"),
            status.usable_cpus,
            status.arch
        ));
        out.push_str(&format!("{}\n", label("Memory")));
        let item = |s: &str| term.render(faint, &format!("{:>3} {s:<6}", "·"));
        out.push_str(&format!(
            "{} {}\n",
            item("Heap"),
            format_size(status.heap_alloc)
        ));
        out.push_str(&format!(
            "{} {}\n",
            item("Stack"),
            format_size(status.stack_alloc)
        ));
    }
    if args.api {
        let (header, path) = if term.colorize {
            (
                Style::new().faint().underline(false),
                // lipgloss picks the dark-background colour of the adaptive pair.
                Style::new().fg(0x2e, 0x8b, 0xc0),
            )
        } else {
            (Style::new(), Style::new())
        };
        out.push('\n');
        out.push_str(&format!(
            "  {} {} {}\n",
            term.render(header, &format!("{:<7}", "Method")),
            term.render(header, &format!("{:<28}", "API")),
            term.render(header, "Timeout")
        ));
        for api in &apis {
            let timeout = if api.timeout.is_zero() {
                "Inf".to_owned()
            } else {
                go_duration(api.timeout)
            };
            out.push_str(&format!(
                "  {:<7} {} {timeout}\n",
                api.method,
                term.render(path, &format!("{:<28}", api.path))
            ));
        }
    }
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_like_upstream() {
        assert_eq!(uptime(Duration::from_secs(10)), "10 seconds");
        assert_eq!(uptime(Duration::from_secs(90)), "2 minutes");
        assert_eq!(uptime(Duration::from_secs(2 * 3600)), "2 hours");
        assert_eq!(uptime(Duration::from_secs(50 * 3600)), "2 days 2 hours");
    }
}
