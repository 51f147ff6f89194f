//! Prometheus metrics of the process, rendered in the text exposition format by
//! `GET /metrics`: HTTP requests (routes are labelled by their template, `/records/{id}`,
//! never by the raw path, so the label set stays bounded whatever clients send), refused
//! logins, the processing queue (read from the database at each scrape, so every replica
//! reports the shared queue), processing steps by outcome and requests to each provider
//! (counted by the process that ran them; every label value comes from a closed set).

use std::time::Duration;

use dialix_calls::{ChargeStep, ProcessingObserver, QueueStats, StepOutcome};
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

/// Buckets in seconds for provider requests and processing steps: a model answers in
/// seconds, transcribing a long call (a MohirAI task polled to its end) takes minutes.
const SLOW_BUCKETS: [f64; 11] = [
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];

/// An external service, as labelled in the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    MohirAi,
    /// The OpenAI-compatible transcription server (model `whisper`).
    Whisper,
    OpenAiChat,
    AzureOpenAi,
    /// Companies' PBXs (listing, downloads, users).
    OnlinePbx,
    /// Companies' CRMs (contact and deal lookups).
    Bitrix24,
}

impl Provider {
    pub const fn as_str(self) -> &'static str {
        match self {
            Provider::MohirAi => "mohirai",
            Provider::Whisper => "whisper",
            Provider::OpenAiChat => "openai_chat",
            Provider::AzureOpenAi => "azure_openai",
            Provider::OnlinePbx => "onlinepbx",
            Provider::Bitrix24 => "bitrix24",
        }
    }
}

/// How a provider request ended: answered, or failed after the adapter's own retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    Ok,
    Error,
}

impl RequestOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Ok => "ok",
            RequestOutcome::Error => "error",
        }
    }
}

/// The step label: what operators call the steps, not the charge keys' short names.
const fn step_label(step: ChargeStep) -> &'static str {
    match step {
        ChargeStep::SpeechToText => "transcription",
        ChargeStep::GeneralAnalysis => "analysis",
        ChargeStep::Checklist => "checklist",
    }
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    login_failures: IntCounter,
    jobs: IntGaugeVec,
    oldest_ready_job_age: Gauge,
    steps: IntCounterVec,
    step_duration: HistogramVec,
    provider_requests: IntCounterVec,
    provider_duration: HistogramVec,
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
        let steps = IntCounterVec::new(
            Opts::new(
                "jobs_total",
                "Processing steps run, by step and outcome (done, retry, failed, interrupted, \
                 handed_back)",
            ),
            &["step", "outcome"],
        )
        .expect("valid counter options");
        let step_duration = HistogramVec::new(
            HistogramOpts::new(
                "job_duration_seconds",
                "Time one run of a processing step took, whatever its outcome, by step",
            )
            .buckets(SLOW_BUCKETS.to_vec()),
            &["step"],
        )
        .expect("valid histogram options");
        let provider_requests = IntCounterVec::new(
            Opts::new(
                "provider_requests_total",
                "Requests to external providers, by provider and outcome (ok, error)",
            ),
            &["provider", "outcome"],
        )
        .expect("valid counter options");
        let provider_duration = HistogramVec::new(
            HistogramOpts::new(
                "provider_request_duration_seconds",
                "Time a provider request took, its retries included, by provider",
            )
            .buckets(SLOW_BUCKETS.to_vec()),
            &["provider"],
        )
        .expect("valid histogram options");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(login_failures.clone()),
            Box::new(jobs.clone()),
            Box::new(oldest_ready_job_age.clone()),
            Box::new(steps.clone()),
            Box::new(step_duration.clone()),
            Box::new(provider_requests.clone()),
            Box::new(provider_duration.clone()),
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
            steps,
            step_duration,
            provider_requests,
            provider_duration,
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

    /// One request to `provider`, retries included.
    pub fn provider_request(&self, provider: Provider, outcome: RequestOutcome, took: Duration) {
        self.provider_requests
            .with_label_values(&[provider.as_str(), outcome.as_str()])
            .inc();
        self.provider_duration
            .with_label_values(&[provider.as_str()])
            .observe(took.as_secs_f64());
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

impl ProcessingObserver for Metrics {
    fn step_ended(&self, step: ChargeStep, outcome: StepOutcome, took: Duration) {
        let step = step_label(step);
        self.steps
            .with_label_values(&[step, outcome.as_str()])
            .inc();
        self.step_duration
            .with_label_values(&[step])
            .observe(took.as_secs_f64());
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

    #[test]
    fn steps_and_provider_requests_are_counted_by_closed_labels() {
        let metrics = Metrics::new();
        let second = Duration::from_secs(1);
        metrics.step_ended(ChargeStep::SpeechToText, StepOutcome::Retry, second);
        metrics.step_ended(ChargeStep::SpeechToText, StepOutcome::Done, second * 3);
        metrics.step_ended(ChargeStep::Checklist, StepOutcome::HandedBack, second);
        metrics.provider_request(Provider::Whisper, RequestOutcome::Error, second);
        metrics.provider_request(Provider::Whisper, RequestOutcome::Ok, second * 2);
        let text = metrics.render();
        for line in [
            r#"dialix_jobs_total{outcome="retry",step="transcription"} 1"#,
            r#"dialix_jobs_total{outcome="done",step="transcription"} 1"#,
            r#"dialix_jobs_total{outcome="handed_back",step="checklist"} 1"#,
            r#"dialix_job_duration_seconds_sum{step="transcription"} 4"#,
            r#"dialix_job_duration_seconds_bucket{step="transcription",le="2.5"} 1"#,
            r#"dialix_provider_requests_total{outcome="error",provider="whisper"} 1"#,
            r#"dialix_provider_requests_total{outcome="ok",provider="whisper"} 1"#,
            r#"dialix_provider_request_duration_seconds_count{provider="whisper"} 2"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
