//! Decoding `/v1/metrics` (Prometheus text format) into [`Metrics`] the way kms-go does: the
//! three request counters are summed over their `code` label, every other family must have
//! exactly one sample, and histogram bounds are seconds.

use std::collections::BTreeMap;
use std::time::Duration;

use super::Error;
use super::types::Metrics;

/// One sample line: metric name, labels and value.
struct Sample<'a> {
    name: &'a str,
    labels: &'a str,
    value: f64,
}

/// Parses the Prometheus text exposition format into [`Metrics`].
pub(super) fn parse(text: &str) -> Result<Metrics, Error> {
    let mut m = Metrics::default();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let s = sample(line)?;
        let count = |v: f64| v.max(0.0) as u64;
        match s.name {
            "kes_http_request_success" => m.requests_ok += count(s.value),
            "kes_http_request_error" => m.requests_err += count(s.value),
            "kes_http_request_failure" => m.requests_fail += count(s.value),
            "kes_http_response_time_bucket" => {
                let le = label(s.labels, "le").ok_or_else(|| invalid("bucket without 'le'"))?;
                if le != "+Inf" {
                    let bound: f64 = le.parse().map_err(|_| invalid("invalid bucket bound"))?;
                    let bound = Duration::try_from_secs_f64(bound)
                        .map_err(|_| invalid("invalid bucket bound"))?;
                    m.latency_histogram.push((bound, count(s.value)));
                }
            }
            "kes_http_response_time_sum" | "kes_http_response_time_count" => {}
            name => {
                let n = seen.entry(name).or_default();
                *n += 1;
                if *n > 1 {
                    return Err(invalid(&format!(
                        "metric '{name}' has more than one sample"
                    )));
                }
                match name {
                    "kes_http_request_active" => m.requests_active = count(s.value),
                    "kes_log_audit_events" => m.audit_events = count(s.value),
                    "kes_log_error_events" => m.error_events = count(s.value),
                    "kes_system_up_time" => {
                        m.uptime = Duration::try_from_secs_f64(s.value).unwrap_or_default();
                    }
                    "kes_system_num_cpu" => m.cpus = count(s.value),
                    "kes_system_num_cpu_used" => m.usable_cpus = count(s.value),
                    "kes_system_num_threads" => m.threads = count(s.value),
                    "kes_system_mem_heap_used" => m.heap_alloc = count(s.value),
                    "kes_system_mem_heap_objects" => m.heap_objects = count(s.value),
                    "kes_system_mem_stack_used" => m.stack_alloc = count(s.value),
                    _ => {}
                }
            }
        }
    }
    m.latency_histogram.sort();
    Ok(m)
}

fn invalid(what: &str) -> Error {
    Error::InvalidResponse(format!("metrics: {what}"))
}

/// Splits `name{labels} value [timestamp]`.
fn sample(line: &str) -> Result<Sample<'_>, Error> {
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let close = line[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| invalid("unterminated labels"))?;
            (&line[..open], &line[open + 1..close], &line[close + 1..])
        }
        None => {
            let end = line.find(char::is_whitespace).unwrap_or(line.len());
            (&line[..end], "", &line[end..])
        }
    };
    let value = rest
        .split_whitespace()
        .next()
        .ok_or_else(|| invalid("sample without value"))?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|_| invalid("invalid sample value"))?,
    };
    Ok(Sample {
        name: name.trim(),
        labels,
        value,
    })
}

/// The value of label `key` in `a="x",b="y"` (values without escaped quotes).
fn label<'a>(labels: &'a str, key: &str) -> Option<&'a str> {
    labels.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_server_exposition() {
        let text = "# HELP kes_http_request_success x\n# TYPE kes_http_request_success counter\n\
kes_http_request_success{code=\"200\"} 3\nkes_http_request_success{code=\"201\"} 2\n\
kes_http_request_error{code=\"404\"} 1\nkes_http_request_active 1\n\
kes_http_response_time_bucket{le=\"0.01\"} 4\nkes_http_response_time_bucket{le=\"+Inf\"} 5\n\
kes_http_response_time_sum 0.2\nkes_http_response_time_count 5\n\
kes_system_up_time 12.5\nkes_system_num_cpu 8\n";
        let m = parse(text).unwrap();
        assert_eq!(m.requests_ok, 5);
        assert_eq!(m.requests_err, 1);
        assert_eq!(m.requests_active, 1);
        assert_eq!(m.latency_histogram, [(Duration::from_millis(10), 4)]);
        assert_eq!(m.uptime, Duration::from_millis(12500));
        assert_eq!(m.cpus, 8);
        assert!(parse("kes_system_num_cpu 1\nkes_system_num_cpu 2\n").is_err());
    }
}
