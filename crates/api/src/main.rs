//! `dialix`: `serve` (the default) runs the HTTP server; `migrate` applies migrations and exits.

use std::process::ExitCode;

use dialix_api::config::Config;
use dialix_api::startup::{Application, open_database};
use dialix_api::telemetry;

const USAGE: &str = "usage: dialix [serve | migrate | help]

  serve     run the HTTP server (default); migrations are applied at start-up
  migrate   apply pending database migrations and exit

Configuration comes from environment variables and an optional .env file (see .env.example).";

enum Command {
    Serve,
    Migrate,
    Help,
}

fn parse_args() -> Result<Command, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => Ok(Command::Serve),
        ["migrate"] => Ok(Command::Migrate),
        ["help" | "-h" | "--help"] => Ok(Command::Help),
        other => Err(format!("unknown arguments: {}", other.join(" "))),
    }
}

#[actix_web::main]
async fn main() -> ExitCode {
    let command = match parse_args() {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
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
        _ => match Application::build(config).await {
            Ok(app) => app.run_until_stopped().await.map_err(|e| e.to_string()),
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
