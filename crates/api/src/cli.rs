//! The `dialix` command line: `serve` (the default) runs the HTTP server; `migrate` applies
//! migrations and exits; `audit purge` removes old activity-log entries; `audio copy` moves
//! audio between stores. A library module so the integration tests build and run the same
//! `main` as a real process (`tests/src/bin`).

use std::process::ExitCode;

use crate::audio_copy::copy_audio_store;
use crate::config::{Config, audio_location};
use crate::startup::{Application, open_database, purge_audit_log, run_retention, run_workers};
use crate::telemetry;
use dialix_audit::PurgeCutoff;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

const USAGE: &str = "usage: dialix [serve | worker | migrate | audit purge [--before DATE]
              | retention run [--dry-run] | audio copy --to URL | openapi | help]

  serve                 run the HTTP server (default) with DIALIX_WORKERS processing workers;
                        migrations are applied at start-up
  worker                run processing workers only (DIALIX_WORKERS of them, at least one),
                        to scale processing out; stop with SIGINT or SIGTERM (jobs still
                        running after SHUTDOWN_GRACE_SECS are handed back to the queue)
  migrate               apply pending database migrations and exit
  audit purge           remove activity-log entries older than DATE (RFC 3339, or YYYY-MM-DD
                        for midnight UTC); without --before, older than AUDIT_RETENTION_DAYS.
                        One summary entry records the purge; the hash chains stay verifiable.
  retention run         delete the audio and transcripts of calls older than their owner's
                        auto_delete_records_after_days (records, results and charges stay);
                        --dry-run lists them without deleting. Serve also does this every 6 h.
  audio copy --to URL   copy every audio file of DIALIX_AUDIO_STORE to URL (s3://BUCKET/PREFIX
                        with the AWS_* settings, or file://DIRECTORY); files already there with
                        the same size are skipped, so an interrupted copy is resumed by running
                        it again. Then point DIALIX_AUDIO_STORE at URL and restart.
  openapi               print the OpenAPI document (as served at /openapi.json) and exit;
                        needs no configuration

Configuration comes from environment variables and an optional .env file (see .env.example).";

enum Command {
    Serve,
    Worker,
    Migrate,
    AuditPurge { before: Option<OffsetDateTime> },
    Retention { dry_run: bool },
    AudioCopy { to: String },
    OpenApi,
    Help,
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => Ok(Command::Serve),
        ["migrate"] => Ok(Command::Migrate),
        ["worker"] => Ok(Command::Worker),
        ["retention", "run"] => Ok(Command::Retention { dry_run: false }),
        ["retention", "run", "--dry-run"] => Ok(Command::Retention { dry_run: true }),
        ["audio", "copy", "--to", to] => Ok(Command::AudioCopy {
            to: (*to).to_owned(),
        }),
        ["audit", "purge"] => Ok(Command::AuditPurge { before: None }),
        ["audit", "purge", "--before", date] => parse_date(date)
            .map(|before| Command::AuditPurge {
                before: Some(before),
            })
            .ok_or_else(|| format!("--before {date:?} is neither RFC 3339 nor YYYY-MM-DD")),
        ["openapi"] => Ok(Command::OpenApi),
        ["help" | "-h" | "--help"] => Ok(Command::Help),
        other => Err(format!("unknown arguments: {}", other.join(" "))),
    }
}

fn parse_date(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value, &Rfc3339).ok().or_else(|| {
        Date::parse(value, format_description!("[year]-[month]-[day]"))
            .ok()
            .map(|date| date.midnight().assume_utc())
    })
}

/// Runs the command named by the process arguments to its end.
pub fn main() -> ExitCode {
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse_args(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::OpenApi) => {
            return match crate::openapi::document().to_pretty_json() {
                Ok(json) => {
                    println!("{json}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);

    let outcome = match command {
        Command::Migrate => open_database(&config)
            .await
            .map(|_| tracing::info!("migrations applied"))
            .map_err(|e| e.to_string()),
        Command::AuditPurge { before } => {
            let cutoff = match (before, config.audit_retention) {
                (Some(before), _) => PurgeCutoff::Before(before),
                (None, Some(retention)) => PurgeCutoff::OlderThan(retention),
                (None, None) => {
                    eprintln!("error: give --before DATE or set AUDIT_RETENTION_DAYS");
                    return ExitCode::from(2);
                }
            };
            purge_audit_log(&config, cutoff)
                .await
                .map(|(before, report)| {
                    println!(
                        "purged {} activity-log entries from {} chains (before {before})",
                        report.deleted, report.chains
                    )
                })
                .map_err(|e| e.to_string())
        }
        Command::Worker => run_workers(config).await.map_err(|e| e.to_string()),
        Command::AudioCopy { to } => copy_audio(&config, &to).await,
        Command::Retention { dry_run } => run_retention(&config, dry_run)
            .await
            .map(|report| {
                for key in &report.orphaned_audio {
                    println!(
                        "{} orphaned audio file {key}",
                        if dry_run { "would delete" } else { "deleted" }
                    );
                }
                for record in &report.records {
                    println!(
                        "{} {} {} (uploaded {})",
                        if dry_run { "would delete" } else { "deleted" },
                        record.id,
                        record.original_filename,
                        record.created_at
                    );
                }
                println!(
                    "{} records {}",
                    report.records.len(),
                    if dry_run {
                        "expired (dry run: nothing deleted)"
                    } else {
                        "cleaned"
                    }
                );
            })
            .map_err(|e| e.to_string()),
        Command::Serve | Command::Help | Command::OpenApi => match Application::build(config).await
        {
            Ok(app) => app.run_until_signalled().await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `dialix audio copy --to URL`: a progress line every few seconds, then a summary.
async fn copy_audio(config: &Config, to: &str) -> Result<(), String> {
    let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let target = audio_location("--to", to, &lookup).map_err(|e| e.to_string())?;
    if target.to_string() == config.audio_store.to_string() {
        return Err(format!("--to {target} is DIALIX_AUDIO_STORE itself"));
    }
    println!("copying audio from {} to {target}", config.audio_store);
    let megabytes = |bytes: u64| bytes as f64 / 1_000_000.0;
    let mut reported = std::time::Instant::now();
    let report = copy_audio_store(config, &target, |p| {
        if p.done == p.total || reported.elapsed() >= std::time::Duration::from_secs(2) {
            println!(
                "copied {}/{} files, {:.1} MB ({} already there)",
                p.copied,
                p.total,
                megabytes(p.bytes_copied),
                p.done - p.copied
            );
            reported = std::time::Instant::now();
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "done: {} of {} files copied ({:.1} MB), {} were already there",
        report.copied,
        report.total,
        megabytes(report.bytes_copied),
        report.total - report.copied
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn commands_parse() {
        assert!(matches!(parse_args(&args("")), Ok(Command::Serve)));
        assert!(matches!(parse_args(&args("migrate")), Ok(Command::Migrate)));
        assert!(matches!(parse_args(&args("openapi")), Ok(Command::OpenApi)));
        assert!(matches!(parse_args(&args("worker")), Ok(Command::Worker)));
        assert!(matches!(
            parse_args(&args("retention run --dry-run")),
            Ok(Command::Retention { dry_run: true })
        ));
        assert!(matches!(
            parse_args(&args("audit purge")),
            Ok(Command::AuditPurge { before: None })
        ));
        let Ok(Command::AuditPurge { before: Some(day) }) =
            parse_args(&args("audit purge --before 2026-01-31"))
        else {
            panic!("a date parses");
        };
        assert_eq!(day.to_string(), "2026-01-31 0:00:00.0 +00:00:00");
        assert!(parse_args(&args("audit purge --before 2026-13-01T00:00:00Z")).is_err());
        let Ok(Command::AudioCopy { to }) = parse_args(&args("audio copy --to s3://calls/audio"))
        else {
            panic!("audio copy parses");
        };
        assert_eq!(to, "s3://calls/audio");
        assert!(parse_args(&args("audio copy")).is_err());
        assert!(parse_args(&args("frobnicate")).is_err());
    }
}
