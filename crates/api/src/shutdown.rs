//! Graceful shutdown: one signal for everything that has to stop. The HTTP servers take no
//! new connections, the workers no new jobs; what is in flight has the grace period to
//! finish, then a job still running is cut off and handed back to the queue, so a rolling
//! deploy loses no job (the order is in `startup::wind_down`).

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Begins the shutdown from anywhere (the signal handler, a test); clones share it.
#[derive(Clone)]
pub struct Shutdown {
    /// `None` while running; then the moment work in flight is cut off.
    deadline: watch::Sender<Option<Instant>>,
    grace: Duration,
}

impl Shutdown {
    pub fn new(grace: Duration) -> Self {
        Self {
            deadline: watch::Sender::new(None),
            grace,
        }
    }

    /// Starts the shutdown. The grace period runs from the first call; later ones change
    /// nothing.
    pub fn begin(&self) {
        let grace = self.grace;
        let started = self.deadline.send_if_modified(|deadline| match deadline {
            Some(_) => false,
            None => {
                *deadline = Some(Instant::now() + grace);
                true
            }
        });
        if started {
            tracing::info!(
                grace_secs = grace.as_secs_f64(),
                "shutting down: no new connections or jobs; work in flight has the grace period, \
                 then jobs still running are handed back and requests cut off"
            );
        }
    }

    pub fn has_begun(&self) -> bool {
        self.deadline.borrow().is_some()
    }

    /// When work in flight is cut off; `None` while no shutdown has begun.
    pub fn deadline(&self) -> Option<Instant> {
        *self.deadline.borrow()
    }

    /// Resolves once the shutdown has begun.
    pub async fn begun(&self) {
        self.deadline_reached(false).await;
    }

    /// Resolves when the grace period is over; never while no shutdown has begun.
    pub async fn grace_over(&self) {
        self.deadline_reached(true).await;
    }

    async fn deadline_reached(&self, wait_for_grace: bool) {
        let mut deadline = self.deadline.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let Ok(at) = deadline.wait_for(Option::is_some).await.map(|at| *at) else {
            return std::future::pending().await;
        };
        if let (true, Some(at)) = (wait_for_grace, at) {
            tokio::time::sleep_until(at).await;
        }
    }
}

/// Resolves at the first SIGTERM or SIGINT.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
            _ = term.recv() => tracing::info!("SIGTERM received"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.ok();
        tracing::info!("Ctrl-C received");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_grace_period_runs_from_the_first_begin() {
        let second = Duration::from_secs(1);
        let shutdown = Shutdown::new(second);
        let over = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.grace_over().await }
        });
        tokio::time::sleep(second / 4).await;
        assert!(!over.is_finished(), "no grace period before a shutdown");
        assert!(!shutdown.has_begun());

        let started = Instant::now();
        shutdown.begin();
        shutdown.begun().await;
        tokio::time::sleep(second / 2).await;
        shutdown.begin();
        over.await.unwrap();
        let took = started.elapsed();
        assert!(took >= second && took < second * 3 / 2, "{took:?}");
    }
}
