//! `kes log`: prints the server's audit log (a table) or error log (message lines), or
//! re-emits either as ndjson with `--json`.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use clap::Args;
use kes_client::client::{AuditEvent, ErrorEvent, EventStream};
use serde_json::json;

use super::remote;
use super::style::{self, ColorWhen, Style, Term};

/// The audit table's header; the columns below line up with it.
const HEADER: &str = "Time        Status    Identity                IP                 API                               Latency";

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  $ kes log\n  $ kes log --error")]
pub struct LogArgs {
    /// Print audit logs. (default)
    #[arg(long)]
    audit: bool,
    /// Print error logs.
    #[arg(long)]
    error: bool,
    /// Print log events as JSON.
    #[arg(long)]
    json: bool,
    /// Skip TLS certificate validation.
    #[arg(short = 'k', long)]
    insecure: bool,
}

/// Runs `kes log`; returns the exit code.
pub fn run(args: LogArgs) -> i32 {
    let term = Term::detect(ColorWhen::Auto);
    remote::exit_code(&term, log(&term, args))
}

fn log(term: &Term, args: LogArgs) -> Result<(), String> {
    if args.audit && args.error {
        return Err("cannot display audit and error logs at the same time".to_owned());
    }
    let client = remote::connect(None, None, args.insecure)?.client;
    remote::block_on(async move {
        if args.error {
            let stream = client
                .error_log()
                .await
                .map_err(|err| format!("failed to connect to error log: {err}"))?;
            print_errors(stream, args.json).await
        } else {
            let stream = client
                .audit_log()
                .await
                .map_err(|err| format!("failed to connect to audit log: {err}"))?;
            print_audit(term, stream, args.json).await
        }
    })
}

async fn print_errors(mut stream: EventStream<ErrorEvent>, json: bool) -> Result<(), String> {
    while let Some(event) = stream.next().await {
        let event = event.map_err(|err| err.to_string())?;
        let line = if json {
            style::go_json(&json!({ "message": event.message }), false)?
                .trim_end()
                .to_owned()
        } else {
            event.message
        };
        if !emit(&format!("{line}\n"))? {
            return Ok(());
        }
    }
    Ok(())
}

async fn print_audit(
    term: &Term,
    mut stream: EventStream<AuditEvent>,
    json: bool,
) -> Result<(), String> {
    if !json {
        let header = if std::io::stdout().is_terminal() {
            term.render(Style::new().bold().underline(true), HEADER)
        } else {
            HEADER.to_owned()
        };
        if !emit(&format!("{header}\n"))? {
            return Ok(());
        }
    }
    while let Some(event) = stream.next().await {
        let event = event.map_err(|err| err.to_string())?;
        let line = if json {
            audit_json(&event)?
        } else {
            audit_row(term, &event)
        };
        if !emit(&format!("{line}\n"))? {
            return Ok(());
        }
    }
    Ok(())
}

/// Writes `text` to stdout and flushes it; `false` once the reader has gone away (a closed
/// pipe ends the command quietly, as SIGPIPE ends upstream's).
pub(super) fn emit(text: &str) -> Result<bool, String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(err) => Err(err.to_string()),
    }
}

/// An audit event as upstream re-encodes it: fields in the server's order, latency in
/// nanoseconds.
#[derive(serde::Serialize)]
struct AuditLine<'a> {
    time: String,
    request: AuditRequest<'a>,
    response: AuditResponse,
}

#[derive(serde::Serialize)]
struct AuditRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct AuditResponse {
    code: u16,
    time: u128,
}

/// The event as one ndjson line.
fn audit_json(event: &AuditEvent) -> Result<String, String> {
    let line = AuditLine {
        time: style::rfc3339_nano(Some(event.time)),
        request: AuditRequest {
            ip: event.ip.as_deref(),
            path: &event.path,
            identity: event.identity.as_deref(),
        },
        response: AuditResponse {
            code: event.status,
            time: event.latency.as_nanos(),
        },
    };
    Ok(style::go_json(&line, false)?.trim_end().to_owned())
}

/// One table row: `hh:mm:ss`, status, identity (20 characters at most), IP, API, latency.
/// As upstream's lipgloss styles: the status green or red, the identity and API in the
/// dark-background colours, each padded to its column after the styling.
fn audit_row(term: &Term, event: &AuditEvent) -> String {
    let status_color = if event.status == 200 {
        Style::new().fg(0x00, 0xff, 0x00)
    } else {
        Style::new().fg(0xff, 0x00, 0x00)
    };
    let padded = |style: Style, text: &str, width: usize| {
        let pad = width.saturating_sub(text.chars().count());
        format!("{}{}", term.render(style, text), " ".repeat(pad))
    };
    let status = padded(status_color, &event.status.to_string(), 5);
    let identity: String = event
        .identity
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(20)
        .collect();
    let identity = term.render(Style::new().fg(0xc6, 0xa1, 0x8c), &identity);
    let ip = event.ip.as_deref().unwrap_or("<unknown>");
    let api = padded(Style::new().fg(0x2e, 0x8b, 0xc0), &event.path, 30);
    format!(
        "{:02}:{:02}:{:02}    {status}     {identity}    {ip:<15}    {api}    {}",
        event.time.hour(),
        event.time.minute(),
        event.time.second(),
        style::go_duration(round_latency(event.latency)),
    )
}

/// Rounds a latency to about three significant digits, as upstream does before printing it.
fn round_latency(latency: Duration) -> Duration {
    let step = if latency >= Duration::from_secs(1) {
        100_000_000
    } else if latency >= Duration::from_millis(10) {
        1_000_000
    } else if latency >= Duration::from_millis(1) {
        100_000
    } else if latency >= Duration::from_micros(10) {
        1_000
    } else {
        return latency;
    };
    let nanos = latency.as_nanos();
    let rounded = (nanos + step / 2) / step * step;
    Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_round_like_upstream() {
        assert_eq!(
            round_latency(Duration::from_nanos(33_499)),
            Duration::from_micros(33)
        );
        assert_eq!(
            round_latency(Duration::from_nanos(150_945)),
            Duration::from_micros(151)
        );
        assert_eq!(
            round_latency(Duration::from_nanos(1_234_567)),
            Duration::from_micros(1_200)
        );
        assert_eq!(
            round_latency(Duration::from_nanos(999)),
            Duration::from_nanos(999)
        );
    }
}
