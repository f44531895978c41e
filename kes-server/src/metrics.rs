//! Request metrics and their Prometheus text rendering (`/v1/metrics`), with the reference's
//! metric names and types.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;

use crate::sysinfo;

/// Upper bounds of the response-time histogram, in seconds.
const BUCKETS: [f64; 10] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 3.0, 5.0, 10.0];

/// Counters updated on the request path with relaxed atomics only (no locks).
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    by_code: [AtomicU64; 600],
    active: AtomicI64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
    error_events: AtomicU64,
    audit_events: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            by_code: std::array::from_fn(|_| AtomicU64::new(0)),
            active: AtomicI64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
            error_events: AtomicU64::new(0),
            audit_events: AtomicU64::new(0),
        }
    }
}

/// Decrements the in-flight gauge when dropped.
#[derive(Debug)]
pub struct Active<'a>(&'a AtomicI64);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts a request as in flight until the returned guard is dropped.
    pub fn begin(&self) -> Active<'_> {
        self.active.fetch_add(1, Ordering::Relaxed);
        Active(&self.active)
    }

    /// Records a finished request.
    pub fn observe(&self, status: StatusCode, latency: Duration) {
        if let Some(counter) = self.by_code.get(usize::from(status.as_u16())) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let secs = latency.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Counts one error-log event delivered to one stream subscriber.
    pub fn error_event(&self) {
        self.error_events.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one audit event delivered to one stream subscriber.
    pub fn audit_event(&self) {
        self.audit_events.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4). Families without samples are left out,
    /// as the Go client requires.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        for (name, help, range) in [
            (
                "kes_http_request_success",
                "Number of requests that have been served successfully.",
                200..300,
            ),
            (
                "kes_http_request_error",
                "Number of request that failed due to some error. (HTTP 4xx status code)",
                400..500,
            ),
            (
                "kes_http_request_failure",
                "Number of request that failed due to some internal failure. (HTTP 5xx status code)",
                500..600,
            ),
        ] {
            let samples: Vec<(usize, u64)> = range
                .filter_map(|code| {
                    let n = self.by_code[code].load(Ordering::Relaxed);
                    (n > 0).then_some((code, n))
                })
                .collect();
            if samples.is_empty() {
                continue;
            }
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (code, n) in samples {
                let _ = writeln!(out, "{name}{{code=\"{code}\"}} {n}");
            }
        }
        gauge(
            &mut out,
            "kes_http_request_active",
            "Number of active requests that are not finished, yet.",
            self.active.load(Ordering::Relaxed) as f64,
        );

        let count = self.count.load(Ordering::Relaxed);
        if count > 0 {
            let name = "kes_http_response_time";
            let _ = writeln!(
                out,
                "# HELP {name} Histogram of request response times spawning from 10ms to 10s.\n# TYPE {name} histogram"
            );
            for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{le=\"{bound}\"}} {}",
                    bucket.load(Ordering::Relaxed)
                );
            }
            let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
            let sum = Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
            let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
        }
        counter(
            &mut out,
            "kes_log_error_events",
            "Number of error log events written to error log targets.",
            self.error_events.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "kes_log_audit_events",
            "Number of audit log events written to audit log targets.",
            self.audit_events.load(Ordering::Relaxed),
        );

        let uptime = (self.started.elapsed().as_secs_f64() * 100.0).trunc() / 100.0;
        gauge(
            &mut out,
            "kes_system_up_time",
            "The time the server has been up and running in seconds.",
            uptime,
        );
        gauge(
            &mut out,
            "kes_system_num_cpu",
            "The number of logical CPUs available on the system.",
            sysinfo::num_cpu() as f64,
        );
        gauge(
            &mut out,
            "kes_system_num_cpu_used",
            "The number of logical CPUs usable by the server.",
            sysinfo::num_cpu_used() as f64,
        );
        gauge(
            &mut out,
            "kes_system_num_threads",
            "The number of concurrent OS threads.",
            sysinfo::num_threads() as f64,
        );
        gauge(
            &mut out,
            "kes_system_mem_heap_used",
            "The number of heap bytes allocated and still in use.",
            sysinfo::heap_used() as f64,
        );
        gauge(
            &mut out,
            "kes_system_mem_stack_used",
            "The number of bytes used by the stack.",
            sysinfo::stack_used() as f64,
        );
        out
    }
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_observed_requests() {
        let metrics = Metrics::default();
        metrics.observe(StatusCode::OK, Duration::from_millis(20));
        metrics.observe(StatusCode::NOT_FOUND, Duration::from_millis(2));
        let text = metrics.render();
        assert!(
            text.contains("kes_http_request_success{code=\"200\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("kes_http_request_error{code=\"404\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("kes_http_request_failure"), "{text}");
        assert!(
            text.contains("kes_http_response_time_bucket{le=\"0.01\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("kes_http_response_time_bucket{le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("kes_http_response_time_count 2\n"), "{text}");
    }
}
