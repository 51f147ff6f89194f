//! `dialix-bench` (run by `make bench`): generates (or keeps) a realistic data set in
//! PostgreSQL, starts the release `dialix` server on it, measures a list of endpoints as a
//! company administrator and writes the table into `docs/performance.md`.
//!
//! Settings (environment): `BENCH_DATABASE_URL`, `BENCH_CALLS`, `BENCH_COMPANIES`,
//! `BENCH_AUDIT`, `BENCH_REQUESTS`; `DIALIX_BIN` (default: `dialix` next to this binary);
//! `BENCH_REPORT` (default: the workspace's `docs/performance.md`); `BENCH_ONLY` (measure
//! only the endpoints whose path contains it, and leave the report alone).

mod audit;
mod calls;
mod copy;
mod dataset;
mod load;
mod population;
mod report;
mod rng;
mod server;
mod vocab;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dataset::{DataSet, Sizes};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// Concurrent clients per endpoint.
const CONCURRENCY: usize = 4;

struct Settings {
    database_url: String,
    sizes: Sizes,
    requests: u64,
    dialix_bin: PathBuf,
    report: PathBuf,
    /// Only endpoints whose path contains this (a partial run writes no report).
    only: Option<String>,
}

impl Settings {
    fn from_env() -> Result<Self> {
        let number = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name) {
                Ok(raw) if !raw.trim().is_empty() => {
                    let value: u64 = raw
                        .trim()
                        .replace('_', "")
                        .parse()
                        .map_err(|e| format!("{name}={raw:?}: {e}"))?;
                    if value == 0 {
                        return Err(format!("{name} must be greater than zero").into());
                    }
                    Ok(value)
                }
                _ => Ok(default),
            }
        };
        let sizes = Sizes {
            calls: number("BENCH_CALLS", 1_000_000)?,
            companies: number("BENCH_COMPANIES", 20)? as usize,
            audit: number("BENCH_AUDIT", 2_000_000)?,
        };
        if sizes.companies > u16::MAX as usize || sizes.calls < sizes.companies as u64 * 100 {
            return Err("BENCH_CALLS must be at least 100 per company".into());
        }
        let dialix_bin = match std::env::var_os("DIALIX_BIN") {
            Some(path) => PathBuf::from(path),
            None => std::env::current_exe()?.with_file_name("dialix"),
        };
        Ok(Self {
            database_url: std::env::var("BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/dialix_bench".into()),
            sizes,
            requests: number("BENCH_REQUESTS", 400)?,
            only: std::env::var("BENCH_ONLY").ok().filter(|o| !o.is_empty()),
            dialix_bin,
            report: std::env::var_os("BENCH_REPORT").map_or_else(
                || {
                    PathBuf::from(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/../../docs/performance.md"
                    ))
                },
                PathBuf::from,
            ),
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    dialix_infrastructure::install_tls_provider();
    let settings = Settings::from_env()?;
    let started = Instant::now();
    let (db, mut data) = dataset::prepare(&settings.database_url, settings.sizes).await?;
    let postgres = dataset::postgres_version(&db).await?;
    println!(
        "data set ready after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let work_dir = settings
        .dialix_bin
        .parent()
        .unwrap_or_else(|| std::path::Path::new("."))
        .join("bench");
    std::fs::create_dir_all(&work_dir)?;
    let server =
        server::Server::start(&settings.dialix_bin, &settings.database_url, &work_dir).await?;
    println!("server up at {}", server.base_url);
    let outcome = measure(
        &server.base_url,
        &mut data,
        settings.requests,
        settings.only.as_deref(),
    )
    .await;
    server.stop();
    let rows = outcome?;
    if data.fresh {
        dataset::store_info(&db, None, &data).await?;
    }

    let section = report::Report {
        data: &data,
        postgres: postgres
            .split(" on ")
            .next()
            .unwrap_or(&postgres)
            .to_owned(),
        requests: settings.requests,
        concurrency: CONCURRENCY,
        rows: &rows,
    }
    .markdown();
    println!("\n{section}");
    if settings.only.is_some() {
        println!("BENCH_ONLY: a partial run, the report is left as it was");
        return Ok(());
    }
    report::write(&settings.report, &section)?;
    println!(
        "written to {} (total {:.0} s)",
        std::fs::canonicalize(&settings.report)
            .unwrap_or(settings.report.clone())
            .display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Checks that the data set reads back, then measures every endpoint.
async fn measure(
    base: &str,
    data: &mut DataSet,
    requests: u64,
    only: Option<&str>,
) -> Result<Vec<load::Measured>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    if data.fresh {
        // Proves the generated chains are what the server itself would have written.
        let t = Instant::now();
        let token = load::login(&client, base, population::PLATFORM_ADMIN_EMAIL).await?;
        let report = load::get_ok(&client, base, &token, "/admin/activity-logs/verify").await?;
        if report["valid"] != serde_json::Value::Bool(true) {
            return Err(format!("the generated activity log does not verify: {report}").into());
        }
        let verified = format!(
            "{} chains, {} entries valid",
            report["chains_checked"],
            report::thousands(report["entries_checked"].as_u64().unwrap_or(0))
        );
        println!(
            "activity log: {verified} ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        data.verified = Some(verified);
    }
    let token = load::login(&client, base, &data.admin_email).await?;
    // Every column must read back: a few pages across the company's calls and one call in
    // full (transcript, analysis) must all be 2xx.
    let pages = 5;
    for page in 0..pages {
        let offset = data.company_calls * page / pages;
        load::get_ok(
            &client,
            base,
            &token,
            &format!("/records?limit=200&offset={offset}"),
        )
        .await?;
    }
    load::get_ok(
        &client,
        base,
        &token,
        &format!("/records/{}", data.record_id),
    )
    .await?;
    Ok(load::measure_all(&client, base, &token, data, requests, CONCURRENCY, only).await)
}
