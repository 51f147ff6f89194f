//! The measurement: log in through the real API, then per endpoint a warm-up and a fixed
//! number of requests from a few concurrent clients, recording each latency and status.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};

use crate::Result;
use crate::dataset::DataSet;

/// One measured endpoint. Placeholders filled in from the data set (`fill`), in the path and
/// the body: `{company_id}`, `{record_id}`, `{phone}` (the company's busiest repeat caller,
/// URL-encoded), `{phone_tail}` (its last 7 digits), `{word}` (`TRANSCRIPT_WORD`), `{day}`
/// (`csv_day`), `{operator_id}` (the company's busiest operator) and `{start_date}` /
/// `{end_date}` (`period`: the 30 days ending where the data set ends).
pub struct Endpoint {
    pub name: &'static str,
    pub path: &'static str,
    /// A POST of this JSON body instead of a GET.
    pub body: Option<&'static str>,
    /// Measured as the platform admin instead of the company's administrator.
    pub platform_admin: bool,
    /// Every request on a new connection (a client that keeps none idle) instead of the
    /// keep-alive connections of the other rows: shows what keep-alive costs a response.
    pub fresh_connections: bool,
}

impl Endpoint {
    const fn new(name: &'static str, path: &'static str) -> Self {
        Self {
            name,
            path,
            body: None,
            platform_admin: false,
            fresh_connections: false,
        }
    }

    const fn post(name: &'static str, path: &'static str, body: &'static str) -> Self {
        Self {
            body: Some(body),
            ..Self::new(name, path)
        }
    }

    const fn by_platform_admin(self) -> Self {
        Self {
            platform_admin: true,
            ..self
        }
    }

    pub fn method(&self) -> &'static str {
        if self.body.is_some() { "POST" } else { "GET" }
    }
}

pub const ENDPOINTS: [Endpoint; 22] = [
    // The floor every authenticated request pays (token, account and session checks).
    Endpoint::new("Who am I (authentication only)", "/auth/me"),
    Endpoint::new("Records, first page", "/records?limit=50"),
    Endpoint::new(
        "Records of a repeat caller (full number)",
        "/records?phone={phone}&limit=50",
    ),
    Endpoint::new(
        "Records by part of a number (last 7 digits)",
        "/records?phone={phone_tail}&limit=50",
    ),
    Endpoint::new(
        "Records whose transcript has a word",
        "/records?transcript_contains={word}&limit=50",
    ),
    Endpoint::new("Own activity log, first page", "/activity-logs?limit=50"),
    // Streamed; measured on keep-alive connections like every row, where a response that
    // waits for a delayed ACK (Nagle) shows as a stall the fresh-connection row has not.
    Endpoint::new(
        "Own activity log as CSV, one day",
        "/activity-logs?format=csv&start_date={day}T00:00:00Z&end_date={day}T23:59:59Z",
    ),
    Endpoint {
        name: "Own activity log as CSV, one day, a new connection per request",
        path: "/activity-logs?format=csv&start_date={day}T00:00:00Z&end_date={day}T23:59:59Z",
        body: None,
        platform_admin: false,
        fresh_connections: true,
    },
    Endpoint::new(
        "Company activity log, first page",
        "/admin/company/{company_id}/activity-logs?limit=50",
    ),
    Endpoint::new(
        "Grouped calls (24 h window)",
        "/calls/grouped?time_window_hours=24&limit=50",
    ),
    Endpoint::new("One caller's calls", "/calls/grouped/{phone}"),
    Endpoint::new("Similar calls", "/calls/similar/{record_id}"),
    // Statistics, the dashboard and compliance: one company, 30 days.
    Endpoint::new(
        "Usage, 30 days",
        "/analytics/usage?company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::new(
        "Expenses by day, 30 days",
        "/analytics/expenses?group_by=day&company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::new(
        "Expenses by operator, 30 days",
        "/analytics/expenses?group_by=operator&company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::new(
        "Revenue (top-ups) as the platform admin, 30 days",
        "/analytics/revenue?company_id={company_id}&start_date={start_date}&end_date={end_date}",
    )
    .by_platform_admin(),
    Endpoint::new(
        "Trends by day, 30 days",
        "/analytics/trends?granularity=day&company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::new(
        "Dashboard, 30 days",
        "/dashboard?company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::new(
        "Compliance metrics, 30 days",
        "/compliance/metrics?company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::new(
        "Compliance violations, first page, 30 days",
        "/compliance/violations?company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::new(
        "Compliance tracking of the busiest operator, 30 days",
        "/compliance/tracking/{operator_id}?company_id={company_id}&start_date={start_date}&end_date={end_date}",
    ),
    Endpoint::post(
        "Compliance report (JSON), 30 days",
        "/compliance/reports",
        r#"{"start_date":"{start_date}","end_date":"{end_date}","company_id":"{company_id}","format":"json"}"#,
    ),
];

/// Days in the statistics rows' period.
pub const PERIOD_DAYS: i64 = 30;
/// The bench accounts' time zone (`Asia/Tashkent`, `population.rs`) as an offset: the
/// period's dates are the caller's local dates.
const LOCAL_OFFSET_HOURS: i64 = 5;

/// `{start_date}` and `{end_date}`: the `PERIOD_DAYS` local days ending with the day the data
/// set ends (`generated_at`), so a kept data set is measured over the same calls.
pub fn period(data: &DataSet) -> (String, String) {
    let generated = time::OffsetDateTime::parse(
        &data.generated_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let end = (generated + time::Duration::hours(LOCAL_OFFSET_HOURS)).date();
    let start = end - time::Duration::days(PERIOD_DAYS - 1);
    let text = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    (text(start), text(end))
}

/// The word `{word}` stands for: a key word of the generator's vocabulary ("warranty" in
/// Uzbek) that sits in a share of the transcripts a dashboard search meets (the run reports
/// it), appears inside no other word of the vocabulary, and is plain ASCII.
pub const TRANSCRIPT_WORD: &str = "kafolat";

/// Digits of the repeat caller's number that `{phone_tail}` keeps.
pub const PHONE_TAIL_DIGITS: usize = 7;

/// `{day}`: the UTC day a week before the data set ends (`generated_at`), so a whole day of
/// activity lies inside the period and nothing the bench itself logs falls in it. The
/// administrator makes a fifth of their company's entries, about 650 a day at full size.
pub fn csv_day(data: &DataSet) -> String {
    let generated = time::OffsetDateTime::parse(
        &data.generated_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let day = generated.date() - time::Duration::days(7);
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The repeat caller's number without its first digits (`{phone_tail}`).
pub fn phone_tail(data: &DataSet) -> String {
    let digits = &data.phone[data.phone.len().saturating_sub(PHONE_TAIL_DIGITS)..];
    digits.to_owned()
}

/// `template` with the data set's values in place of its placeholders.
pub fn fill(template: &str, data: &DataSet) -> String {
    let (start, end) = period(data);
    template
        .replace("{company_id}", &data.company_id.to_string())
        .replace("{operator_id}", &data.operator_id.to_string())
        .replace("{start_date}", &start)
        .replace("{end_date}", &end)
        .replace("{phone_tail}", &phone_tail(data))
        .replace("{phone}", &data.phone.replace('+', "%2B"))
        .replace("{record_id}", &data.record_id.to_string())
        .replace("{word}", TRANSCRIPT_WORD)
        .replace("{day}", &csv_day(data))
}

/// What the filled-in placeholders select, for the report (`None`: not looked at).
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// Calls of the company whose number contains `{phone_tail}`.
    pub tail_calls: Option<u64>,
    /// Calls of the company whose transcript contains `TRANSCRIPT_WORD`.
    pub word_calls: Option<u64>,
    /// Data rows of the CSV row's response.
    pub csv_rows: Option<u64>,
}

/// Requests before measuring each endpoint (connections, caches, query plans).
pub const WARM_UP: u64 = 20;

/// What one endpoint did.
pub struct Measured {
    pub name: &'static str,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The endpoint's path with its placeholders (the report shows this).
    pub template: &'static str,
    /// A POST's body with its placeholders.
    pub body: Option<&'static str>,
    /// The requested path.
    pub path: String,
    /// Latencies of every measured request, sorted.
    pub latencies: Vec<Duration>,
    /// How many requests got each status (0: no response).
    pub statuses: BTreeMap<u16, u64>,
    pub elapsed: Duration,
    /// Why the endpoint was not measured, or the first failure's body.
    pub note: Option<String>,
}

impl Measured {
    pub fn errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| !(200..300).contains(*status))
            .map(|(_, n)| n)
            .sum()
    }

    /// Nearest-rank percentile.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.latencies.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        Some(self.latencies[rank.clamp(1, self.latencies.len()) - 1])
    }

    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Logs in through `POST /auth/login` and returns the access token.
pub async fn login(client: &Client, base: &str, email: &str) -> Result<String> {
    let response = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": email, "password": crate::population::PASSWORD}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body["access_token"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_owned()),
        _ => Err(format!("login as {email} failed: {status} {body}").into()),
    }
}

/// One GET that must succeed (checks before measuring); returns the JSON body.
pub async fn get_ok(client: &Client, base: &str, token: &str, path: &str) -> Result<Value> {
    let text = get_text(client, base, token, path).await?;
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// One GET that must succeed; returns the body as text.
pub async fn get_text(client: &Client, base: &str, token: &str, path: &str) -> Result<String> {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        return Err(format!("GET {path}: {status}: {}", clip(&text)).into());
    }
    Ok(text)
}

/// One POST of a JSON body that must succeed; returns the JSON answer.
pub async fn post_ok(
    client: &Client,
    base: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> Result<Value> {
    let response = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        return Err(format!("POST {path}: {status}: {}", clip(&text)).into());
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The endpoints `BENCH_ONLY` selects (all without it).
pub fn selected(only: Option<&str>) -> impl Iterator<Item = &'static Endpoint> {
    ENDPOINTS
        .iter()
        .filter(move |e| only.is_none_or(|o| e.path.contains(o)))
}

/// The access tokens the rows are measured with.
pub struct Tokens {
    pub administrator: String,
    /// Logged in only when a selected row needs it.
    pub platform_admin: Option<String>,
}

/// Measures every endpoint of `ENDPOINTS` that `only` selects, one after the other.
pub async fn measure_all(
    client: &Client,
    base: &str,
    tokens: &Tokens,
    data: &DataSet,
    requests: u64,
    concurrency: usize,
    only: Option<&str>,
) -> Result<Vec<Measured>> {
    // No idle connection is kept, so each request opens its own.
    let fresh = Client::builder()
        .timeout(Duration::from_secs(600))
        .pool_max_idle_per_host(0)
        .build()?;
    let mut results = Vec::new();
    for endpoint in selected(only) {
        let path = fill(endpoint.path, data);
        let body = endpoint.body.map(|b| fill(b, data));
        let client = if endpoint.fresh_connections {
            &fresh
        } else {
            client
        };
        let token = if endpoint.platform_admin {
            tokens
                .platform_admin
                .as_deref()
                .ok_or("no platform admin token")?
        } else {
            tokens.administrator.as_str()
        };
        let request = Request {
            client,
            url: format!("{base}{path}"),
            token,
            body: body.as_deref(),
        };
        let warm = run(&request, &path, WARM_UP, concurrency).await;
        let measured = if warm.statuses.keys().any(|s| (200..300).contains(s)) {
            let mut measured = run(&request, &path, requests, concurrency).await;
            measured.name = endpoint.name;
            measured.method = endpoint.method();
            measured.template = endpoint.path;
            measured.body = endpoint.body;
            measured
        } else {
            // Nothing to measure: say what the warm-up got.
            Measured {
                name: endpoint.name,
                method: endpoint.method(),
                template: endpoint.path,
                body: endpoint.body,
                latencies: Vec::new(),
                note: Some(format!(
                    "not measured: warm-up got {}{}",
                    describe_statuses(&warm.statuses),
                    warm.note.map(|n| format!(" ({n})")).unwrap_or_default()
                )),
                ..warm
            }
        };
        println!(
            "measured {:<44} {}",
            measured.name,
            match (&measured.note, measured.percentile(50.0)) {
                (Some(note), None) => note.clone(),
                (_, p50) => format!(
                    "p50 {:.1} ms, {:.1} req/s, {} errors",
                    p50.unwrap_or_default().as_secs_f64() * 1e3,
                    measured.per_second(),
                    measured.errors()
                ),
            }
        );
        results.push(measured);
    }
    Ok(results)
}

/// One row's request: a GET, or a POST of a JSON body.
struct Request<'a> {
    client: &'a Client,
    url: String,
    token: &'a str,
    body: Option<&'a str>,
}

impl Request<'_> {
    fn build(&self) -> reqwest::RequestBuilder {
        let builder = match self.body {
            Some(body) => self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_owned()),
            None => self.client.get(&self.url),
        };
        builder.bearer_auth(self.token)
    }
}

/// `requests` requests from `concurrency` tasks sharing one client (one connection pool).
async fn run(request: &Request<'_>, path: &str, requests: u64, concurrency: usize) -> Measured {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let next = next.clone();
            // Built once per task; each request is a clone (the body is small).
            let template = request.build();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut failure = None;
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let Some(builder) = template.try_clone() else {
                        break;
                    };
                    let t = Instant::now();
                    let (status, body) = match builder.send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            (status, response.text().await.unwrap_or_default())
                        }
                        Err(error) => (0, error.to_string()),
                    };
                    seen.push((t.elapsed(), status));
                    if !(200..300).contains(&status) && failure.is_none() {
                        failure = Some(format!("{status}: {}", clip(&body)));
                    }
                }
                (seen, failure)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    let mut note = None;
    for task in tasks {
        let (seen, failure) = task.await.unwrap_or_default();
        for (latency, status) in seen {
            latencies.push(latency);
            *statuses.entry(status).or_insert(0) += 1;
        }
        note = note.or(failure);
    }
    latencies.sort_unstable();
    Measured {
        name: "",
        method: "",
        template: "",
        body: None,
        path: path.to_owned(),
        latencies,
        statuses,
        elapsed: started.elapsed(),
        note,
    }
}

/// `404 × 20` or `200 × 380, 500 × 20`.
pub fn describe_statuses(statuses: &BTreeMap<u16, u64>) -> String {
    statuses
        .iter()
        .map(|(status, n)| match status {
            0 => format!("no response × {n}"),
            s => format!("{s} × {n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn clip(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    match one_line.char_indices().nth(160) {
        Some((end, _)) => format!("{}…", &one_line[..end]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let measured = Measured {
            name: "x",
            method: "GET",
            template: "",
            body: None,
            path: String::new(),
            latencies: (1..=100).map(Duration::from_millis).collect(),
            statuses: BTreeMap::from([(200, 99), (404, 1)]),
            elapsed: Duration::from_secs(2),
            note: None,
        };
        assert_eq!(measured.percentile(50.0), Some(Duration::from_millis(50)));
        assert_eq!(measured.percentile(99.0), Some(Duration::from_millis(99)));
        assert_eq!(measured.errors(), 1);
        assert_eq!(measured.per_second(), 50.0);
    }

    #[test]
    fn placeholders_are_filled_from_the_data_set() {
        let data = DataSet {
            record_id: uuid::Uuid::max(),
            generated_at: "2026-12-03T02:57:00.706375558Z".into(),
            ..DataSet::sample()
        };
        assert_eq!(
            fill("/records?phone={phone}&x={phone_tail}", &data),
            "/records?phone=%2B998901234567&x=1234567"
        );
        assert_eq!(
            fill(ENDPOINTS[6].path, &data),
            "/activity-logs?format=csv&start_date=2026-11-26T00:00:00Z&end_date=2026-11-26T23:59:59Z"
        );
        assert_eq!(
            fill("/calls/similar/{record_id}?w={word}", &data),
            "/calls/similar/ffffffff-ffff-ffff-ffff-ffffffffffff?w=kafolat"
        );
        // Every placeholder of every endpoint is known.
        for endpoint in &ENDPOINTS {
            assert!(
                !fill(endpoint.path, &data).contains('{'),
                "{}",
                endpoint.path
            );
            if let Some(body) = endpoint.body {
                let filled = fill(body, &data);
                assert!(!filled.contains("{s") && !filled.contains("{e"), "{filled}");
                serde_json::from_str::<Value>(&filled).unwrap();
            }
        }
    }

    #[test]
    fn the_period_is_the_last_30_local_days_of_the_data_set() {
        // 20:00 UTC is 01:00 the next day in Tashkent (UTC+5).
        let data = DataSet {
            generated_at: "2026-12-03T20:00:00Z".into(),
            ..DataSet::sample()
        };
        assert_eq!(
            period(&data),
            ("2026-11-05".to_owned(), "2026-12-04".to_owned())
        );
        let report = ENDPOINTS.iter().find(|e| e.body.is_some()).unwrap();
        assert_eq!(report.method(), "POST");
        assert_eq!(
            fill(report.body.unwrap(), &data),
            r#"{"start_date":"2026-11-05","end_date":"2026-12-04","company_id":"00000000-0000-0000-0000-000000000000","format":"json"}"#
        );
    }
}
