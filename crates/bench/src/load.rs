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

/// One measured endpoint. `{company_id}`, `{phone}` (URL-encoded) and `{record_id}` are
/// filled in from the data set. Later issues add their endpoints here.
pub struct Endpoint {
    pub name: &'static str,
    pub path: &'static str,
}

pub const ENDPOINTS: [Endpoint; 7] = [
    // The floor every authenticated request pays (token, account and session checks).
    Endpoint {
        name: "Who am I (authentication only)",
        path: "/auth/me",
    },
    Endpoint {
        name: "Records, first page",
        path: "/records?limit=50",
    },
    Endpoint {
        name: "Own activity log, first page",
        path: "/activity-logs?limit=50",
    },
    Endpoint {
        name: "Company activity log, first page",
        path: "/admin/company/{company_id}/activity-logs?limit=50",
    },
    Endpoint {
        name: "Grouped calls (24 h window)",
        path: "/calls/grouped?time_window_hours=24&limit=50",
    },
    Endpoint {
        name: "One caller's calls",
        path: "/calls/grouped/{phone}",
    },
    Endpoint {
        name: "Similar calls",
        path: "/calls/similar/{record_id}",
    },
];

/// Requests before measuring each endpoint (connections, caches, query plans).
pub const WARM_UP: u64 = 20;

/// What one endpoint did.
pub struct Measured {
    pub name: &'static str,
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
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Measures every endpoint of `ENDPOINTS`, one after the other.
pub async fn measure_all(
    client: &Client,
    base: &str,
    token: &str,
    data: &DataSet,
    requests: u64,
    concurrency: usize,
    only: Option<&str>,
) -> Vec<Measured> {
    let mut results = Vec::new();
    for endpoint in ENDPOINTS
        .iter()
        .filter(|e| only.is_none_or(|o| e.path.contains(o)))
    {
        let path = endpoint
            .path
            .replace("{company_id}", &data.company_id.to_string())
            .replace("{phone}", &data.phone.replace('+', "%2B"))
            .replace("{record_id}", &data.record_id.to_string());
        let warm = run(client, base, token, &path, WARM_UP, concurrency).await;
        let measured = if warm.statuses.keys().any(|s| (200..300).contains(s)) {
            let mut measured = run(client, base, token, &path, requests, concurrency).await;
            measured.name = endpoint.name;
            measured
        } else {
            // Nothing to measure: say what the warm-up got.
            Measured {
                name: endpoint.name,
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
            "measured {:<34} {}",
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
    results
}

/// `requests` GETs from `concurrency` tasks sharing one client (one connection pool).
async fn run(
    client: &Client,
    base: &str,
    token: &str,
    path: &str,
    requests: u64,
    concurrency: usize,
) -> Measured {
    let next = Arc::new(AtomicU64::new(0));
    let url = format!("{base}{path}");
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, next, url, token) =
                (client.clone(), next.clone(), url.clone(), token.to_owned());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut failure = None;
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let t = Instant::now();
                    let (status, body) = match client.get(&url).bearer_auth(&token).send().await {
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
}
