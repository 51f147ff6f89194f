//! Prometheus metrics of the process, rendered in the text exposition format by
//! `GET /metrics`: HTTP requests (routes are labelled by their template, `/records/{id}`,
//! never by the raw path, so the label set stays bounded whatever clients send), refused
//! logins, and the processing queue (read from the database at each scrape, so every replica
//! reports the shared queue).

use dialix_calls::QueueStats;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets in seconds: API calls take milliseconds, exports and uploads seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    login_failures: IntCounter,
    jobs: IntGaugeVec,
    oldest_ready_job_age: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("dialix".into()), None).expect("a valid metrics prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid counter options");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to its response head, by route and method",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )
        .expect("valid histogram options");
        let login_failures = IntCounter::new(
            "login_failures_total",
            "Refused logins (wrong password, unknown account, blocked, throttled)",
        )
        .expect("valid counter options");
        let jobs = IntGaugeVec::new(
            Opts::new(
                "processing_jobs",
                "Unfinished processing jobs: ready, delayed (retry backoff), running (leased), dead",
            ),
            &["state"],
        )
        .expect("valid gauge options");
        let oldest_ready_job_age = Gauge::new(
            "processing_oldest_ready_job_age_seconds",
            "How long the longest-waiting ready job has waited for a worker (0: none waiting)",
        )
        .expect("valid gauge options");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(login_failures.clone()),
            Box::new(jobs.clone()),
            Box::new(oldest_ready_job_age.clone()),
        ] {
            registry
                .register(metric)
                .expect("each metric registered once");
        }
        Self {
            registry,
            requests,
            latency,
            login_failures,
            jobs,
            oldest_ready_job_age,
        }
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    pub fn login_failed(&self) {
        self.login_failures.inc();
    }

    /// The queue as read for this scrape.
    pub fn set_queue(&self, stats: &QueueStats) {
        for (state, count) in [
            ("ready", stats.ready),
            ("delayed", stats.delayed),
            ("running", stats.running),
            ("dead", stats.dead),
        ] {
            self.jobs
                .with_label_values(&[state])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        self.oldest_ready_job_age.set(
            stats
                .oldest_ready_wait
                .map_or(0.0, |wait| wait.as_secs_f64()),
        );
    }

    /// Every metric in the text format (`text/plain; version=0.0.4`).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("the text encoder writes into memory");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_template_and_rendered() {
        let metrics = Metrics::new();
        metrics.observe("/records/{id}", "GET", 200, 0.003);
        metrics.observe("/records/{id}", "GET", 200, 0.2);
        metrics.observe("/records/{id}", "GET", 404, 0.001);
        metrics.login_failed();
        metrics.set_queue(&QueueStats {
            ready: 3,
            delayed: 1,
            running: 2,
            dead: 0,
            oldest_ready_wait: Some(std::time::Duration::from_secs(90)),
        });
        let text = metrics.render();
        assert!(text.contains(
            "dialix_http_requests_total{method=\"GET\",route=\"/records/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "dialix_http_requests_total{method=\"GET\",route=\"/records/{id}\",status=\"404\"} 1"
        ));
        assert!(text.contains(
            "dialix_http_request_duration_seconds_bucket{method=\"GET\",route=\"/records/{id}\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "dialix_http_request_duration_seconds_count{method=\"GET\",route=\"/records/{id}\"} 3"
        ));
        assert!(text.contains("dialix_login_failures_total 1"));
        assert!(text.contains("dialix_processing_jobs{state=\"ready\"} 3"));
        assert!(text.contains("dialix_processing_jobs{state=\"dead\"} 0"));
        assert!(text.contains("dialix_processing_oldest_ready_job_age_seconds 90"));
    }
}
