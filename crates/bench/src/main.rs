//! `dialix-bench` (run by `make bench`): generates (or keeps) a realistic data set in
//! PostgreSQL, starts the release `dialix` server on it and measures as a company
//! administrator, in two modes:
//!
//! - latency (`load::ENDPOINTS`): per endpoint a fixed number of requests from 4 concurrent
//!   clients on keep-alive connections, p50 / p95 / p99;
//! - throughput (`throughput::TARGETS`): 16 keep-alive connections hammer one URL for a fixed
//!   time, requests per second and errors; on the PostgreSQL server, then on the same binary
//!   started on a fresh SQLite file populated through the API (one company, its administrator).
//!
//! Both tables are written into `docs/performance.md` between its `bench:` markers. Then the
//! pipeline's sizing (`pipeline.rs`: uploads per second, jobs per worker per minute with the
//! fake providers) goes between its `bench-pipeline:` markers.
//!
//! Settings (environment): `BENCH_DATABASE_URL`, `BENCH_CALLS`, `BENCH_COMPANIES`,
//! `BENCH_AUDIT`, `BENCH_REQUESTS` (latency: requests per endpoint), `BENCH_SECONDS`
//! (throughput: measured seconds per URL and database); `DIALIX_BIN` (default: `dialix` next to
//! this binary); `BENCH_REPORT` (default: the workspace's `docs/performance.md`); `BENCH_ONLY`
//! (measure only the endpoints and throughput URLs whose path contains it, in both modes, and
//! leave the report alone; `BENCH_ONLY=pipeline` runs only the pipeline's sizing and rewrites
//! its section); `BENCH_PIPELINE_CALLS` (calls per pipeline batch, default 1,000).

mod audit;
mod calls;
mod checklists;
mod copy;
mod dataset;
mod ledger;
mod load;
mod pipeline;
mod population;
mod report;
mod rng;
mod server;
mod throughput;
mod vocab;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dataset::{DataSet, Sizes};
use sea_orm::DatabaseConnection;
use throughput::{Rate, Target, Throughput};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// Concurrent clients per endpoint.
const CONCURRENCY: usize = 4;

struct Settings {
    database_url: String,
    sizes: Sizes,
    requests: u64,
    /// Throughput: measured seconds per URL and database.
    seconds: u64,
    dialix_bin: PathBuf,
    report: PathBuf,
    /// Only endpoints whose path contains this (a partial run writes no report); `pipeline`
    /// runs only the pipeline's sizing.
    only: Option<String>,
    /// Calls uploaded and processed per batch of the pipeline's sizing.
    pipeline_calls: u64,
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
            seconds: number("BENCH_SECONDS", 10)?,
            pipeline_calls: number("BENCH_PIPELINE_CALLS", 1_000)?,
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
    let work_dir = work_dir(&settings)?;
    if settings.only.as_deref() == Some(PIPELINE_ONLY) {
        return sizing(&settings, &work_dir).await;
    }
    let only = settings.only.as_deref();
    let started = Instant::now();
    let (db, mut data) = dataset::prepare(&settings.database_url, settings.sizes).await?;
    let postgres = dataset::postgres_version(&db).await?;
    println!(
        "data set ready after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let server =
        server::Server::start(&settings.dialix_bin, &settings.database_url, &work_dir).await?;
    println!("server up at {}", server.base_url);
    let outcome = measure(&server, &db, &mut data, &settings).await;
    server.stop();
    let (rows, probes, on_postgres) = outcome?;
    if data.fresh {
        dataset::store_info(&db, None, &data).await?;
    }
    let on_sqlite = if throughput::selected(only).next().is_some() {
        sqlite_throughput(&settings, &work_dir).await
    } else {
        Vec::new()
    };
    let throughput_rows: Vec<Throughput> = throughput::selected(only)
        .map(|target| {
            let find = |rates: &[(&Target, Rate)]| {
                rates
                    .iter()
                    .find(|(t, _)| t.path == target.path)
                    .map(|(_, rate)| rate.clone())
            };
            Throughput {
                name: target.name,
                path: target.path,
                postgres: find(&on_postgres),
                sqlite: find(&on_sqlite),
            }
        })
        .collect();

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
        probes: &probes,
        throughput: &throughput_rows,
        throughput_secs: settings.seconds,
    }
    .markdown();
    println!("\n{section}");
    if settings.only.is_some() {
        println!("BENCH_ONLY: a partial run, the report is left as it was");
        return Ok(());
    }
    report::write(&settings.report, report::LATENCY_SECTION, &section)?;
    println!(
        "written to {} (total {:.0} s)",
        std::fs::canonicalize(&settings.report)
            .unwrap_or(settings.report.clone())
            .display(),
        started.elapsed().as_secs_f64()
    );
    sizing(&settings, &work_dir).await
}

/// `BENCH_ONLY` value that runs the pipeline's sizing alone (its section is then rewritten).
const PIPELINE_ONLY: &str = "pipeline";

/// The bench's scratch folder, next to the binaries.
fn work_dir(settings: &Settings) -> Result<PathBuf> {
    let work_dir = settings
        .dialix_bin
        .parent()
        .unwrap_or_else(|| std::path::Path::new("."))
        .join("bench");
    std::fs::create_dir_all(&work_dir)?;
    Ok(std::fs::canonicalize(&work_dir)?)
}

/// The pipeline's sizing on a fresh PostgreSQL database and a fresh SQLite file, written into
/// its own section of the report. A database that fails is reported in its row.
async fn sizing(settings: &Settings, work_dir: &std::path::Path) -> Result<()> {
    let mut sizings = Vec::new();
    for database in ["PostgreSQL", "SQLite"] {
        let dir = work_dir.join(format!("pipeline-{}", database.to_lowercase()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir)?;
        let measured = async {
            let url = match database {
                "PostgreSQL" => pipeline::fresh_postgres(&settings.database_url).await?,
                _ => format!("sqlite://{}?mode=rwc", dir.join("dialix.db").display()),
            };
            pipeline::measure(
                &settings.dialix_bin,
                database,
                &url,
                &dir,
                settings.pipeline_calls,
            )
            .await
        }
        .await;
        if let Err(error) = &measured {
            println!(
                "{database} pipeline not measured: {error} (files kept in {})",
                dir.display()
            );
        }
        sizings.push((database, measured));
    }
    let section = pipeline::markdown(&sizings);
    println!("\n{section}");
    report::write(&settings.report, report::PIPELINE_SECTION, &section)
}

type Measurements = (
    Vec<load::Measured>,
    load::Probes,
    Vec<(&'static Target, Rate)>,
);

/// Checks that the data set reads back, then measures every selected endpoint (latency) and
/// URL (throughput) on the PostgreSQL server.
async fn measure(
    server: &server::Server,
    db: &DatabaseConnection,
    data: &mut DataSet,
    settings: &Settings,
) -> Result<Measurements> {
    let base = server.base_url.as_str();
    let only = settings.only.as_deref();
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

    // What the placeholders select, for the report.
    let mut probes = load::Probes::default();
    let uses = |placeholder: &str| load::selected(only).any(|e| e.path.contains(placeholder));
    if uses("{phone_tail}") || uses("{word}") {
        let (tail, word) = dataset::count_matches(
            db,
            data.company_id,
            &load::phone_tail(data),
            load::TRANSCRIPT_WORD,
        )
        .await?;
        println!(
            "probes: {tail} calls match the last {} digits, {word} transcripts contain {:?}",
            load::PHONE_TAIL_DIGITS,
            load::TRANSCRIPT_WORD
        );
        (probes.tail_calls, probes.word_calls) = (Some(tail), Some(word));
    }
    if let Some(csv) = load::selected(only).find(|e| e.path.contains("format=csv")) {
        let text = load::get_text(&client, base, &token, &load::fill(csv.path, data)).await?;
        let rows = text.lines().count().saturating_sub(1) as u64;
        println!("probes: the CSV of {} has {rows} rows", load::csv_day(data));
        probes.csv_rows = Some(rows);
    }

    let platform_admin = if load::selected(only).any(|e| e.platform_admin) {
        Some(load::login(&client, base, population::PLATFORM_ADMIN_EMAIL).await?)
    } else {
        None
    };
    let tokens = load::Tokens {
        administrator: token.clone(),
        platform_admin,
    };
    let rows = load::measure_all(
        &client,
        base,
        &tokens,
        data,
        settings.requests,
        CONCURRENCY,
        only,
    )
    .await?;
    let rates = throughput::measure_all(
        base,
        &token,
        server.pid(),
        Duration::from_secs(settings.seconds),
        only,
        "PostgreSQL",
    )
    .await;
    Ok((rows, probes, rates))
}

/// The throughput mode on SQLite: the same binary on a fresh SQLite file, populated through
/// the API. A failure is reported in the rows, not fatal (the PostgreSQL figures stand).
async fn sqlite_throughput(
    settings: &Settings,
    work_dir: &std::path::Path,
) -> Vec<(&'static Target, Rate)> {
    let dir = work_dir.join("sqlite");
    let outcome = async {
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("dialix.db").display());
        let server = server::Server::start(&settings.dialix_bin, &url, &dir).await?;
        println!("SQLite server up at {} ({url})", server.base_url);
        let measured = async {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?;
            let (email, _) = population::through_api(&client, &server.base_url).await?;
            let token = load::login(&client, &server.base_url, &email).await?;
            Ok::<_, Error>(
                throughput::measure_all(
                    &server.base_url,
                    &token,
                    server.pid(),
                    Duration::from_secs(settings.seconds),
                    settings.only.as_deref(),
                    "SQLite",
                )
                .await,
            )
        }
        .await;
        server.stop();
        measured
    }
    .await;
    match outcome {
        Ok(rates) => {
            std::fs::remove_dir_all(&dir).ok();
            rates
        }
        Err(error) => {
            println!(
                "SQLite throughput not measured: {error} (files kept in {})",
                dir.display()
            );
            throughput::selected(settings.only.as_deref())
                .map(|target| {
                    (
                        target,
                        Rate {
                            note: Some(format!("not measured: {error}")),
                            ..Rate::default()
                        },
                    )
                })
                .collect()
        }
    }
}
