//! The relay's counters, served at `GET /metrics` in Prometheus' text format
//! (version 0.0.4). Aggregates only: no share id, address or key appears.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::store::Usage;

/// Upper bounds of the fetch-latency histogram, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Counters since the relay started.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    fetch_buckets: [AtomicU64; BUCKETS.len()],
    fetch_count: AtomicU64,
    fetch_micros: AtomicU64,
    store_errors: AtomicU64,
}

impl Metrics {
    /// Counts a request by its route (the pattern, never the id) and status.
    pub fn request(&self, route: &'static str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests.entry((route, status)).or_insert(0) += 1;
    }

    /// Records how long a fetch took, whatever its answer.
    pub fn fetch_took(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.fetch_buckets) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.fetch_count.fetch_add(1, Ordering::Relaxed);
        self.fetch_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Counts a failure of the store (unreachable, or an error it returned).
    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition; `usage` is `None` when the store did not answer.
    pub fn render(&self, usage: Option<Usage>) -> String {
        let mut out = String::new();
        out.push_str("# HELP amanat_relay_requests_total Requests answered, by route and HTTP status.\n");
        out.push_str("# TYPE amanat_relay_requests_total counter\n");
        let requests = self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for ((route, status), n) in requests {
            let _ = writeln!(
                out,
                "amanat_relay_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP amanat_relay_fetch_seconds Time to answer a share fetch.\n");
        out.push_str("# TYPE amanat_relay_fetch_seconds histogram\n");
        for (bound, count) in BUCKETS.iter().zip(&self.fetch_buckets) {
            let _ = writeln!(
                out,
                "amanat_relay_fetch_seconds_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let count = self.fetch_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "amanat_relay_fetch_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.fetch_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "amanat_relay_fetch_seconds_sum {sum}");
        let _ = writeln!(out, "amanat_relay_fetch_seconds_count {count}");
        out.push_str(
            "# HELP amanat_relay_store_errors_total Requests the store failed (unreachable or erring).\n",
        );
        out.push_str("# TYPE amanat_relay_store_errors_total counter\n");
        let _ = writeln!(
            out,
            "amanat_relay_store_errors_total {}",
            self.store_errors.load(Ordering::Relaxed)
        );
        out.push_str("# HELP amanat_relay_store_up Whether the store answered this scrape.\n");
        out.push_str("# TYPE amanat_relay_store_up gauge\n");
        let _ = writeln!(out, "amanat_relay_store_up {}", u8::from(usage.is_some()));
        if let Some(usage) = usage {
            out.push_str("# HELP amanat_relay_stored_shares Shares held (unexpired, or expired today).\n");
            out.push_str("# TYPE amanat_relay_stored_shares gauge\n");
            let _ = writeln!(out, "amanat_relay_stored_shares {}", usage.shares);
            out.push_str("# HELP amanat_relay_stored_bytes Ciphertext bytes of those shares.\n");
            out.push_str("# TYPE amanat_relay_stored_bytes gauge\n");
            let _ = writeln!(out, "amanat_relay_stored_bytes {}", usage.bytes);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_what_happened() {
        let m = Metrics::default();
        m.request("/v1/shares/{id}", 200);
        m.request("/v1/shares/{id}", 200);
        m.request("/v1/shares/{id}", 410);
        m.fetch_took(Duration::from_micros(700));
        m.fetch_took(Duration::from_millis(30));
        m.store_error();
        let text = m.render(Some(Usage {
            shares: 3,
            bytes: 4200,
        }));
        for line in [
            "amanat_relay_requests_total{route=\"/v1/shares/{id}\",status=\"200\"} 2",
            "amanat_relay_requests_total{route=\"/v1/shares/{id}\",status=\"410\"} 1",
            "amanat_relay_fetch_seconds_bucket{le=\"0.0005\"} 0",
            "amanat_relay_fetch_seconds_bucket{le=\"0.001\"} 1",
            "amanat_relay_fetch_seconds_bucket{le=\"0.05\"} 2",
            "amanat_relay_fetch_seconds_bucket{le=\"+Inf\"} 2",
            "amanat_relay_fetch_seconds_count 2",
            "amanat_relay_store_errors_total 1",
            "amanat_relay_store_up 1",
            "amanat_relay_stored_shares 3",
            "amanat_relay_stored_bytes 4200",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        assert!(m.render(None).contains("amanat_relay_store_up 0"));
    }
}
