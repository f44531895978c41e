//! `kes metric`: polls `/v1/metrics` every `--rate`. On a terminal it redraws a small table of
//! request counts, throughput, latency and system figures; otherwise it prints one JSON metric
//! object per tick.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Args;
use kes_client::client::Metrics;

use super::remote;
use super::style::{self, ColorWhen, Style, Term};

#[derive(Debug, Args)]
pub struct MetricArgs {
    /// Scrap rate when monitoring metrics.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    rate: String,
    /// Skip TLS certificate validation.
    #[arg(short = 'k', long)]
    insecure: bool,
}

/// Lines of one terminal frame, cleared before the next one is drawn.
const FRAME_LINES: usize = 8;

/// Runs `kes metric`; returns the exit code.
pub fn run(args: MetricArgs) -> i32 {
    remote::exit_code(&Term::detect(ColorWhen::Auto), metric(args))
}

fn metric(args: MetricArgs) -> Result<(), String> {
    let rate = match crate::config::duration::parse(&args.rate) {
        Some(d) if !d.negative && d.nanos > 0 => d.to_std(),
        // Go's time.ParseDuration wording, as pflag reports it.
        None => {
            return Err(format!(
                "invalid argument \"{0}\" for \"--rate\" flag: time: invalid duration \"{0}\". See 'kes metric --help'",
                args.rate
            ));
        }
        Some(_) => {
            return Err(format!(
                "invalid argument \"{}\" for \"--rate\" flag: not a positive duration such as 5s. See 'kes metric --help'",
                args.rate
            ));
        }
    };
    let client = remote::connect(None, None, args.insecure)?.client;
    let term = Term::detect(ColorWhen::Auto);
    if term.is_terminal {
        return remote::block_on(live_table(client, term, rate));
    }
    remote::block_on(async move {
        let mut ticker = tokio::time::interval(rate);
        loop {
            ticker.tick().await;
            let metrics = client
                .metrics()
                .await
                .map_err(|err| format!("failed to fetch metrics: {err}"))?;
            if !super::log::emit(&metric_json(&metrics)?)? {
                return Ok(());
            }
        }
    })
}

/// The terminal UI, as upstream's: the cursor hidden, a table redrawn in place every `rate`
/// (failed scrapes are skipped), the cursor shown again on Ctrl-C, which ends it with status 0.
async fn live_table(client: kes_client::Client, term: Term, rate: Duration) -> Result<(), String> {
    const SHOW_CURSOR: &str = "\x1b[?25h";
    if !super::log::emit("\x1b[?25l")? {
        return Ok(());
    }
    let draw = async {
        let mut ticker = tokio::time::interval(rate);
        let mut requests: Option<u64> = None;
        let mut drawn = false;
        loop {
            ticker.tick().await;
            let Ok(metrics) = client.metrics().await else {
                continue;
            };
            let total = metrics.requests_ok + metrics.requests_err + metrics.requests_fail;
            let before = *requests.get_or_insert(total);
            let per_second = total.saturating_sub(before) as f64 / rate.as_secs_f64();
            requests = Some(total);
            let mut frame = String::new();
            if drawn {
                frame.push_str(&"\x1b[2K\x1b[F\r".repeat(FRAME_LINES));
            }
            frame.push_str(&table(&term, &metrics, per_second));
            if !super::log::emit(&frame)? {
                return Ok(());
            }
            drawn = true;
        }
    };
    let result = tokio::select! {
        result = draw => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    super::log::emit(SHOW_CURSOR)?;
    result
}

/// The metric object upstream prints, fields in its order: counters, the latency histogram
/// keyed by the bucket's upper bound in nanoseconds, durations in nanoseconds.
#[derive(serde::Serialize)]
struct MetricLine {
    kes_http_request_success: u64,
    kes_http_request_error: u64,
    kes_http_request_failure: u64,
    kes_http_request_active: u64,
    kes_log_audit_events: u64,
    kes_log_error_events: u64,
    kes_http_response_time: Option<BTreeMap<String, u64>>,
    kes_system_up_time: u128,
    kes_system_num_cpu: u64,
    kes_system_num_cpu_used: u64,
    kes_system_num_threads: u64,
    kes_system_mem_heap_used: u64,
    kes_system_mem_heap_objects: u64,
    kes_system_mem_stack_used: u64,
}

fn metric_json(m: &Metrics) -> Result<String, String> {
    let line = MetricLine {
        kes_http_request_success: m.requests_ok,
        kes_http_request_error: m.requests_err,
        kes_http_request_failure: m.requests_fail,
        kes_http_request_active: m.requests_active,
        kes_log_audit_events: m.audit_events,
        kes_log_error_events: m.error_events,
        // Upstream's client leaves the map nil (`null`) while the server has no histogram yet.
        kes_http_response_time: (!m.latency_histogram.is_empty()).then(|| {
            m.latency_histogram
                .iter()
                .map(|(bound, count)| (bound.as_nanos().to_string(), *count))
                .collect()
        }),
        // Upstream's client keeps whole seconds of the uptime gauge.
        kes_system_up_time: Duration::from_secs(m.uptime.as_secs()).as_nanos(),
        kes_system_num_cpu: m.cpus,
        kes_system_num_cpu_used: m.usable_cpus,
        kes_system_num_threads: m.threads,
        kes_system_mem_heap_used: m.heap_alloc,
        kes_system_mem_heap_objects: m.heap_objects,
        kes_system_mem_stack_used: m.stack_alloc,
    };
    style::go_json(&line, false)
}

fn table(term: &Term, m: &Metrics, per_second: f64) -> String {
    let header = Style::new().bold().faint();
    let green = Style::new().bold().fg(0x00, 0xfe, 0x00);
    let yellow = Style::new().bold().fg(0xfe, 0xde, 0x00);
    let red = Style::new().bold().fg(0xfe, 0x00, 0x00);
    let total = m.requests_ok + m.requests_err + m.requests_fail;
    // Go's 100*n/0 is NaN, printed as `NaN%`.
    let percent = |style: Style, n: u64| {
        term.render(style, &format!("{:.2}%", 100.0 * n as f64 / total as f64))
    };
    // Upstream pads the rendered strings, escape codes included, to fixed byte widths.
    let pad = |s: String, width: usize| format!("{}{s}", " ".repeat(width.saturating_sub(s.len())));
    const REQUEST: &str =
        "Request    OK [2xx]       Err [4xx]       Err [5xx]      Req/s        Latency";
    const SYSTEM: &str =
        "System       UpTime            Heap           Stack       CPUs        Threads";
    let mut out = String::new();
    // lipgloss renders the leading empty line on its own and pads it to the block's width.
    out.push_str(&format!(
        "{}{}\n",
        term.render(header, ""),
        " ".repeat(REQUEST.len())
    ));
    out.push_str(&format!("{}\n", term.render(header, REQUEST)));
    out.push_str(&format!(
        "{}{}{}{:>11.2}{:>15}\n",
        term.render(green, &format!("{:>19}", m.requests_ok)),
        term.render(yellow, &format!("{:>16}", m.requests_err)),
        term.render(red, &format!("{:>16}", m.requests_fail)),
        per_second,
        style::go_duration(round_to_millis(average_latency(m))),
    ));
    out.push_str(&format!(
        "{}{}{}\n\n",
        pad(percent(green, m.requests_ok), 35),
        pad(percent(yellow, m.requests_err), 33),
        pad(percent(red, m.requests_fail), 33),
    ));
    out.push_str(&format!("{}\n", term.render(header, SYSTEM)));
    out.push_str(&format!(
        "{:>19}{:>16}{:>16}{:>11}{:>15}\n\n",
        style::go_duration(Duration::from_secs(m.uptime.as_secs())),
        style::format_size(m.heap_alloc),
        style::format_size(m.stack_alloc),
        m.usable_cpus,
        m.threads,
    ));
    out
}

/// Go's `Duration.Round(time.Millisecond)`: halves away from zero.
fn round_to_millis(d: Duration) -> Duration {
    let nanos = d.as_nanos();
    let rounded = (nanos + 500_000) / 1_000_000 * 1_000_000;
    Duration::from_nanos(u64::try_from(rounded).unwrap_or(u64::MAX))
}

/// The mean latency estimated from the cumulative histogram: each request counts as the upper
/// bound of its bucket.
fn average_latency(m: &Metrics) -> Duration {
    let mut buckets = m.latency_histogram.clone();
    buckets.sort_by_key(|(bound, _)| *bound);
    let (mut seen, mut sum) = (0u64, 0u128);
    for (bound, cumulative) in buckets {
        let in_bucket = cumulative.saturating_sub(seen);
        sum += u128::from(in_bucket) * bound.as_nanos();
        seen = seen.max(cumulative);
    }
    if seen == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(u64::try_from(sum / u128::from(seen)).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_latency_from_cumulative_buckets() {
        let m = Metrics {
            latency_histogram: vec![
                (Duration::from_millis(10), 4),
                (Duration::from_millis(50), 4),
            ],
            ..Metrics::default()
        };
        assert_eq!(average_latency(&m), Duration::from_millis(10));
    }
}
