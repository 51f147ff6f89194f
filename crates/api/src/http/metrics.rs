//! Prometheus metrics of the HTTP server, rendered in the text exposition format by
//! `GET /metrics`. Routes are labelled by their template (`/records/{id}`), never by the raw
//! path, so the label set stays bounded whatever clients send.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets in seconds: API calls take milliseconds, exports and uploads seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    login_failures: IntCounter,
}

impl HttpMetrics {
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
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(login_failures.clone()),
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

    /// Every metric in the text format (`text/plain; version=0.0.4`).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("the text encoder writes into memory");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_template_and_rendered() {
        let metrics = HttpMetrics::new();
        metrics.observe("/records/{id}", "GET", 200, 0.003);
        metrics.observe("/records/{id}", "GET", 200, 0.2);
        metrics.observe("/records/{id}", "GET", 404, 0.001);
        metrics.login_failed();
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
    }
}
