//! `kes metric`: polls `/v1/metrics` every `--rate`. On a terminal it redraws a small table of
//! request counts, throughput, latency and system figures; otherwise it prints one JSON metric
//! object per tick.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::time::Duration;

use clap::Args;
use kes_client::client::Metrics;

use super::remote;
use super::style::{self, ColorWhen, Term};

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
const FRAME_LINES: usize = 7;

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
    let terminal = std::io::stdout().is_terminal();
    remote::block_on(async move {
        let mut ticker = tokio::time::interval(rate);
        let mut previous: Option<Metrics> = None;
        loop {
            ticker.tick().await;
            let metrics = client.metrics().await.map_err(|err| err.to_string())?;
            let text = if terminal {
                let mut frame = String::new();
                if previous.is_some() {
                    frame.push_str(&"\x1b[2K\x1b[F\r".repeat(FRAME_LINES));
                }
                frame.push_str(&table(&metrics, previous.as_ref(), rate));
                frame
            } else {
                metric_json(&metrics)?
            };
            if !super::log::emit(&text)? {
                return Ok(());
            }
            previous = Some(metrics);
        }
    })
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

fn table(m: &Metrics, previous: Option<&Metrics>, rate: Duration) -> String {
    let total = m.requests_ok + m.requests_err + m.requests_fail;
    let percent = |n: u64| {
        if total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / total as f64
        }
    };
    let per_second = previous.map_or(0.0, |p| {
        let before = p.requests_ok + p.requests_err + p.requests_fail;
        total.saturating_sub(before) as f64 / rate.as_secs_f64()
    });
    let uptime = Duration::from_secs(m.uptime.as_secs());
    format!(
        "Request    OK [2xx]       Err [4xx]       Err [5xx]      Req/s        Latency\n\
         {:>19}{:>16}{:>16}{:>11.2}{:>15}\n\
         {:>35}{:>33}{:>33}\n\n\
         System       UpTime            Heap           Stack       CPUs        Threads\n\
         {:>19}{:>16}{:>16}{:>11}{:>15}\n\n",
        m.requests_ok,
        m.requests_err,
        m.requests_fail,
        per_second,
        style::go_duration(average_latency(m)),
        format!("{:.2}%", percent(m.requests_ok)),
        format!("{:.2}%", percent(m.requests_err)),
        format!("{:.2}%", percent(m.requests_fail)),
        style::go_duration(uptime),
        style::format_size(m.heap_alloc),
        style::format_size(m.stack_alloc),
        m.cpus,
        m.threads,
    )
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
