//! Real `dialix` processes for the multi-process tests: the binary cargo builds for this
//! package (`dialix-under-test`, the same `main` as `dialix`), configured through its
//! environment like a deployment, stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One running `dialix` process; killed when dropped.
pub struct DialixProcess {
    child: Child,
    name: String,
    log: PathBuf,
    /// `http://127.0.0.1:<port>` of its `BIND_ADDR` (used by `serve`).
    pub base_url: String,
    /// `http://127.0.0.1:<port>/metrics` of its `METRICS_BIND_ADDR`.
    pub metrics_url: String,
}

impl DialixProcess {
    /// Starts `binary <command>` with exactly `env` (plus `PATH`), in a scratch folder so
    /// no `.env` is read; `name` labels its log.
    pub fn spawn(
        binary: impl AsRef<Path>,
        name: &str,
        command: &str,
        env: &[(String, String)],
    ) -> Self {
        let binary = binary.as_ref();
        let folder = std::env::temp_dir().join(format!(
            "dialix-process-{name}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&folder).expect("a scratch folder");
        let log = folder.join("output.log");
        let output = std::fs::File::create(&log).expect("a log file");
        let (port, metrics_port) = (free_port(), free_port());
        let child = Command::new(binary)
            .arg(command)
            .current_dir(&folder)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("METRICS_BIND_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a log handle"))
            .stderr(output)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Self {
            child,
            name: name.to_owned(),
            log,
            base_url: format!("http://127.0.0.1:{port}"),
            metrics_url: format!("http://127.0.0.1:{metrics_port}/metrics"),
        }
    }

    /// Waits until `url` answers 200 (the process is up), failing the test with its log
    /// after 60 s or if it exits.
    pub async fn wait_until_serving(&mut self, url: &str) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("a process status") {
                panic!("{} exited ({status}):\n{}", self.name, self.log());
            }
            let answer = client.get(url).timeout(Duration::from_secs(2)).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer {url} within 60 s:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM, as a deployment's rolling restart does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM to {} failed", self.name);
    }

    /// Waits for the process to exit, failing the test after `limit`.
    pub async fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("a process status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} still runs {} s after being asked to stop:\n{}",
                self.name,
                limit.as_secs(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything the process has written so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DialixProcess {
    /// Kills the process; when the test failed, its log goes into the test's output.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- log of {} ----\n{}", self.name, self.log());
        }
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
        if let Some(folder) = self.log.parent() {
            std::fs::remove_dir_all(folder).ok();
        }
    }
}

/// A port nobody listens on right now (the OS picks it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
