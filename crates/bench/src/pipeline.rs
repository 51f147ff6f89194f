//! Sizing for `docs/operations.md`: uploads per second through one API process, and jobs per
//! worker per minute, with the test suite's fake providers (their real wire formats, no
//! latency), so the figures are Dialix's own cost on this machine, not a provider's.
//!
//! Per database: a fresh database, the release server with its workers off, one company funded
//! through the API; a batch of calls uploaded by 4 clients (uploads per second, p95), then a
//! `dialix worker` process with 1 worker, then one with 4 workers, each processing its own batch
//! (transcription and the general analysis) while the bench counts finished calls.

use std::path::Path;
use std::time::{Duration, Instant};

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::FakeProviders;
use serde_json::json;

use crate::load::{get_ok, login, post_ok};
use crate::report::thousands;
use crate::server::Server;
use crate::{Result, population};

/// Length of every uploaded call.
const CALL_SECONDS: u32 = 60;
const UPLOAD_CLIENTS: usize = 4;
/// Workers of the `dialix worker` process of each batch.
const WORKER_COUNTS: [usize; 2] = [1, 4];
/// How often the bench counts finished calls.
const POLL: Duration = Duration::from_millis(100);
/// A batch that has not finished by then is reported as a failure.
const BATCH_DEADLINE: Duration = Duration::from_secs(1200);

/// What one database measured.
pub struct Sizing {
    pub calls_per_batch: u64,
    pub upload: Uploads,
    pub batches: Vec<Batch>,
}

pub struct Uploads {
    pub per_second: f64,
    pub p95: Duration,
    pub mib_per_second: f64,
}

/// One worker process's batch: from its first finished call to its last.
pub struct Batch {
    pub workers: usize,
    pub jobs: u64,
    pub seconds: f64,
}

impl Batch {
    pub fn jobs_per_worker_per_minute(&self) -> f64 {
        self.jobs as f64 / (self.seconds / 60.0) / self.workers as f64
    }
}

/// Measures one database end to end; `database_url` must name a fresh database.
pub async fn measure(
    binary: &Path,
    database: &'static str,
    database_url: &str,
    work_dir: &Path,
    calls: u64,
) -> Result<Sizing> {
    let fakes = FakeProviders::start().await;
    let env = provider_env(&fakes.base_url);
    let server = Server::start_with(binary, database_url, work_dir, &env).await?;
    let base = server.base_url.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let token = prepare_company(&client, &base).await?;

    let mut uploads = Vec::new();
    let mut batches = Vec::new();
    for (round, workers) in WORKER_COUNTS.into_iter().enumerate() {
        uploads.push(upload_batch(&client, &base, &token, calls).await?);
        let expected = calls * (round as u64 + 1);
        let worker_env: Vec<(&str, String)> = env
            .iter()
            .cloned()
            .chain([("DIALIX_WORKERS", workers.to_string())])
            .collect();
        let worker = Server::spawn(binary, "worker", database_url, work_dir, &worker_env)?;
        let batch = wait_for_done(&client, &base, &token, expected, calls).await;
        worker.stop();
        let (jobs, seconds) = batch?;
        println!(
            "{database}: {workers} worker(s) finished {jobs} calls in {seconds:.1} s after the first"
        );
        batches.push(Batch {
            workers,
            jobs,
            seconds,
        });
    }
    server.stop();
    let total_secs: f64 = uploads.iter().map(|u| u.0).sum();
    let mut latencies: Vec<Duration> = uploads.into_iter().flat_map(|u| u.1).collect();
    latencies.sort();
    let uploaded = latencies.len() as f64;
    let bytes = wav(CALL_SECONDS * 1000).len() as f64;
    Ok(Sizing {
        calls_per_batch: calls,
        upload: Uploads {
            per_second: uploaded / total_secs,
            p95: latencies[((latencies.len() * 95).div_ceil(100)).saturating_sub(1)],
            mib_per_second: uploaded * bytes / total_secs / 1024.0 / 1024.0,
        },
        batches,
    })
}

/// The settings that point the server's and workers' providers at the fakes.
fn provider_env(fakes: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STT_MODELS", "whisper,mohirai".into()),
        ("STT_OPENAI_BASE_URL", fakes.to_owned()),
        ("STT_OPENAI_API_KEY", "bench-stt-key".into()),
        ("STT_OPENAI_MODEL", "whisper-test".into()),
        ("OPENAI_BASE_URL", format!("{fakes}/v1")),
        ("OPENAI_API_KEY", "bench-chat-key".into()),
        ("OPENAI_MODEL", "gpt-test".into()),
        ("DIALIX_MAX_UPLOAD_MB", "16".into()),
    ]
}

/// One company with its administrator (who uploads), funded for every batch.
async fn prepare_company(client: &reqwest::Client, base: &str) -> Result<String> {
    let (email, company_id) = population::through_api(client, base).await?;
    let platform = login(client, base, population::PLATFORM_ADMIN_EMAIL).await?;
    post_ok(
        client,
        base,
        &platform,
        &format!("/company/{company_id}/topup"),
        &json!({"amount": 1_000_000_000_000_i64, "idempotency_key": "bench-pipeline"}),
    )
    .await?;
    login(client, base, &email).await
}

/// Uploads `calls` calls from [`UPLOAD_CLIENTS`] clients, one call per request; returns the
/// elapsed seconds and each request's latency.
async fn upload_batch(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    calls: u64,
) -> Result<(f64, Vec<Duration>)> {
    let audio = wav(CALL_SECONDS * 1000);
    let started = Instant::now();
    let uploaders = (0..UPLOAD_CLIENTS as u64).map(|client_no| {
        let (client, audio) = (client.clone(), audio.clone());
        let (url, token) = (format!("{base}/records"), token.to_owned());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            for n in (client_no..calls).step_by(UPLOAD_CLIENTS) {
                let form = files(vec![(&format!("pipeline-{n}.wav"), audio.clone())]);
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .multipart(form)
                    .send()
                    .await?;
                let status = response.status();
                if status.as_u16() != 201 {
                    let body = response.text().await.unwrap_or_default();
                    return Err(format!("upload {n}: {status}: {body}").into());
                }
                latencies.push(sent.elapsed());
            }
            Ok::<_, crate::Error>(latencies)
        })
    });
    let mut latencies = Vec::new();
    for uploader in futures_util::future::join_all(uploaders).await {
        latencies.extend(uploader??);
    }
    Ok((started.elapsed().as_secs_f64(), latencies))
}

/// Counts finished calls until `expected` are done; returns how many finished after the
/// first one seen and the seconds that took (so the worker's start-up is not counted).
async fn wait_for_done(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    expected: u64,
    batch: u64,
) -> Result<(u64, f64)> {
    let count = |status: &'static str| async move {
        let page = get_ok(
            client,
            base,
            token,
            &format!("/records?status={status}&limit=1"),
        )
        .await?;
        Ok::<_, crate::Error>((page["total"].as_u64().unwrap_or(0), page))
    };
    let deadline = Instant::now() + BATCH_DEADLINE;
    let mut first: Option<(Instant, u64)> = None;
    loop {
        let (done, _) = count("done").await?;
        let (failed, page) = count("failed").await?;
        if failed > 0 {
            let reason = page["items"][0]["error"].clone();
            return Err(format!("{failed} calls failed, e.g. {reason}").into());
        }
        let starting = expected - batch;
        if first.is_none() && done > starting {
            first = Some((Instant::now(), done));
        }
        if done >= expected
            && let Some((at, seen)) = first
        {
            return Ok((done - seen, at.elapsed().as_secs_f64()));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} of {batch} calls done after {} s",
                done - starting,
                BATCH_DEADLINE.as_secs()
            )
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The Markdown section of `docs/performance.md` (between the `bench-pipeline` markers).
pub fn markdown(sizings: &[(&'static str, Result<Sizing>)]) -> String {
    let batch_columns: String = WORKER_COUNTS
        .iter()
        .map(|workers| format!(" {workers} worker(s): jobs/min (per worker) |"))
        .collect();
    let mut out = format!(
        "Pipeline sizing: calls of {CALL_SECONDS} s (WAV, {} KiB) uploaded one per request by \
         {UPLOAD_CLIENTS} clients to one release `dialix serve` (workers off), then processed \
         (transcription and general analysis) by one `dialix worker` process per batch, counted \
         from its first finished call to its last, with the fake providers of the test suite \
         answering at once; server, worker, database and fakes share the machine.\n\n\
         | Database | Calls per batch | Uploads/s | Upload p95 ms | MiB/s in |{batch_columns}\n\
         |---|---:|---:|---:|---:|{}\n",
        wav(CALL_SECONDS * 1000).len() / 1024,
        "---:|".repeat(WORKER_COUNTS.len())
    );
    for (database, sizing) in sizings {
        match sizing {
            Ok(sizing) => {
                let batches: String = sizing
                    .batches
                    .iter()
                    .map(|batch| {
                        let per_worker = batch.jobs_per_worker_per_minute();
                        format!(
                            " {} ({}) |",
                            thousands((per_worker * batch.workers as f64).round() as u64),
                            thousands(per_worker.round() as u64)
                        )
                    })
                    .collect();
                out.push_str(&format!(
                    "| {database} | {} | {:.1} | {:.0} | {:.1} |{batches}\n",
                    thousands(sizing.calls_per_batch),
                    sizing.upload.per_second,
                    sizing.upload.p95.as_secs_f64() * 1000.0,
                    sizing.upload.mib_per_second,
                ));
            }
            Err(error) => out.push_str(&format!(
                "| {database} | not measured: {error} | | | |{}\n",
                " |".repeat(WORKER_COUNTS.len())
            )),
        }
    }
    out
}

/// Creates (or re-creates) the pipeline's own database on the bench's PostgreSQL server.
pub async fn fresh_postgres(bench_url: &str) -> Result<String> {
    use sea_orm::ConnectionTrait;
    let (server, _) = bench_url
        .rsplit_once('/')
        .ok_or("BENCH_DATABASE_URL must end with /<database>")?;
    let name = "dialix_bench_pipeline";
    let admin = sea_orm::Database::connect(format!("{server}/postgres")).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    Ok(format!("{server}/{name}"))
}
