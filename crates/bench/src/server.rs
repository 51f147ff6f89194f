//! The release binary under test: a server started on a free port against the bench database
//! (or the throughput mode's SQLite file), with processing workers off so nothing but the
//! measured requests runs, or a `dialix worker` for the pipeline's sizing; stopped at the end
//! (also when the bench fails: `Drop` kills it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::population::{PASSWORD, PLATFORM_ADMIN_EMAIL};

pub struct Server {
    child: Child,
    pub base_url: String,
    log: PathBuf,
}

impl Server {
    /// Spawns `binary serve` and waits until `/health` answers. Its output goes to
    /// `work_dir/server.log`; the working directory is `work_dir`, so a developer's `.env`
    /// is not read.
    pub async fn start(binary: &Path, database_url: &str, work_dir: &Path) -> Result<Self> {
        Self::start_with(binary, database_url, work_dir, &[]).await
    }

    /// [`Server::start`] with `env` on top of the bench's settings.
    pub async fn start_with(
        binary: &Path,
        database_url: &str,
        work_dir: &Path,
        env: &[(&str, String)],
    ) -> Result<Self> {
        let mut server = Self::spawn(binary, "serve", database_url, work_dir, env)?;
        server.wait_until_healthy().await?;
        Ok(server)
    }

    /// Spawns `binary <command>` (`serve` or `worker`) with `env` on top of the bench's
    /// settings, without waiting for it. Output goes to `work_dir/<command>.log`.
    pub fn spawn(
        binary: &Path,
        command: &str,
        database_url: &str,
        work_dir: &Path,
        env: &[(&str, String)],
    ) -> Result<Self> {
        if !binary.exists() {
            return Err(format!(
                "{} is missing: build it first (cargo build --release --bin dialix)",
                binary.display()
            )
            .into());
        }
        let audio_dir = work_dir.join("audio");
        std::fs::create_dir_all(&audio_dir)?;
        let log = work_dir.join(format!("{command}.log"));
        let port = free_port()?;
        let child = Command::new(binary)
            .arg(command)
            .current_dir(work_dir)
            .env("DIALIX_ENV", "development")
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "JWT_SECRET",
                "bench-jwt-secret-that-is-long-enough-0123456789",
            )
            .env("ACCESS_TOKEN_TTL_SECS", "86400")
            .env("DIALIX_ADMIN_EMAIL", PLATFORM_ADMIN_EMAIL)
            .env("DIALIX_ADMIN_PASSWORD", PASSWORD)
            .env("DIALIX_WORKERS", "0")
            .env(
                "DIALIX_AUDIO_STORE",
                format!("file://{}", audio_dir.display()),
            )
            .env("LOG_FORMAT", "text")
            .env("RUST_LOG", "warn")
            .env_remove("AUDIT_RETENTION_DAYS")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(log.with_extension("err.log"))?)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        Ok(Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        })
    }

    async fn wait_until_healthy(&mut self) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!(
                    "the server exited ({status}) before answering; see {} and its .err.log:\n{}",
                    self.log.display(),
                    self.log_tail()
                )
                .into());
            }
            let health = client
                .get(format!("{}/health", self.base_url))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not answer /health within 120 s:\n{}",
                    self.log_tail()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn log_tail(&self) -> String {
        let err = self.log.with_extension("err.log");
        [&self.log, &err]
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .flat_map(|text| {
                let lines: Vec<String> = text.lines().map(str::to_owned).collect();
                lines[lines.len().saturating_sub(20)..].to_vec()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The server's process id (its CPU time is read from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        Some(self.child.id())
    }

    /// Asks the server to shut down (SIGTERM), then kills it if it lingers.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let asked = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if asked {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        // Drop kills it.
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// A port nobody listens on right now (the OS picks it).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
