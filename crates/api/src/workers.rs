//! The processing workers of this process: each takes the next job, runs it, and repeats
//! until the shutdown begins. Then it takes no further job; the one it is running may finish
//! within the grace period, and is handed back to the queue when that is over.

use std::time::Duration;

use actix_web::web;
use tokio::task::{AbortHandle, JoinHandle};

use crate::shutdown::Shutdown;
use crate::state::AppState;

pub struct Workers {
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `count` workers on the current runtime and, with any worker, the automatic
    /// PBX import's scheduler, which looks for a due import every `auto_import_poll`.
    pub fn spawn(
        state: &web::Data<AppState>,
        count: usize,
        idle_poll: Duration,
        auto_import_poll: Duration,
        shutdown: &Shutdown,
    ) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "dialix".into());
        let mut tasks: Vec<JoinHandle<()>> = (0..count)
            .map(|n| {
                let (state, shutdown) = (state.clone(), shutdown.clone());
                let name = format!("{host}-{}-{n}", std::process::id());
                tokio::spawn(async move { work(state, name, idle_poll, shutdown).await })
            })
            .collect();
        if count > 0 {
            let (state, shutdown) = (state.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move {
                schedule_imports(state, auto_import_poll, shutdown).await
            }));
        }
        Self { tasks }
    }

    /// To stop the workers at once, mid-job, as a crash would (tests).
    pub fn abort_handles(&self) -> Vec<AbortHandle> {
        self.tasks.iter().map(JoinHandle::abort_handle).collect()
    }

    /// Waits until every worker has stopped (or was aborted).
    pub async fn stopped(self) {
        for task in self.tasks {
            task.await.ok();
        }
    }
}

/// One worker: take the next job, run it, repeat; rest a moment when there is none.
async fn work(state: web::Data<AppState>, name: String, idle_poll: Duration, shutdown: Shutdown) {
    tracing::info!(worker = %name, "processing worker started");
    while !shutdown.has_begun() {
        match state
            .processing
            .run_once(&name, shutdown.grace_over())
            .await
        {
            Ok(true) => {}
            Ok(false) => rest(&shutdown, idle_poll).await,
            Err(error) => {
                // The one place a worker's internal error is logged, with its whole chain.
                tracing::error!(worker = %name, error = %error.chain(), "processing worker hit an error");
                rest(&shutdown, idle_poll * 4).await;
            }
        }
    }
    tracing::info!(worker = %name, "processing worker stopped");
}

/// Runs the automatic PBX imports that are due, one after another, then rests. Several
/// processes may do this at once: each due import is claimed by one of them.
async fn schedule_imports(state: web::Data<AppState>, poll: Duration, shutdown: Shutdown) {
    while !shutdown.has_begun() {
        match state.imports.run_due().await {
            Ok(true) => {}
            Ok(false) => rest(&shutdown, poll).await,
            Err(error) => {
                tracing::error!(error = %error.chain(), "the automatic PBX import hit an error");
                rest(&shutdown, poll).await;
            }
        }
    }
}

/// Waits `pause`, or less if the shutdown begins meanwhile.
async fn rest(shutdown: &Shutdown, pause: Duration) {
    tokio::select! {
        () = tokio::time::sleep(pause) => {}
        () = shutdown.begun() => {}
    }
}
