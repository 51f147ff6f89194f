//! Record changes on PostgreSQL: the `record` triggers `NOTIFY` on
//! [`RECORD_CHANGES_CHANNEL`] at every commit that inserts a record or changes its status,
//! whichever process made it. One `LISTEN` connection per process hears them and wakes
//! every open stream through a watch channel, which keeps only "something happened": a
//! stream busy reading sees any number of notifications as one wake-up.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use dialix_calls::{ChangeWaiter, RecordChangeSignal};
use dialix_kernel::{DomainError, DomainResult};
use dialix_migrations::RECORD_CHANGES_CHANNEL;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::sqlx::{Error as SqlxError, PgPool};
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::Database;

/// The first pause before listening again after a failure; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Announced record changes, for every stream of this process.
pub struct PgRecordChanges {
    pool: PgPool,
    /// Where the listener runs: the runtime that built the adapter (the server's main one),
    /// not the HTTP worker that happened to serve the first stream.
    runtime: Handle,
    /// The listener's wake-ups, once the first stream asked (processes that never stream, such
    /// as `dialix worker`, hold no connection for it); started again if it stopped.
    wakeups: Mutex<Option<watch::Receiver<()>>>,
}

impl PgRecordChanges {
    /// `None` unless `database` is PostgreSQL. Called within a Tokio runtime, where the
    /// listener will run.
    pub fn new(database: &Database) -> Option<Self> {
        Some(Self {
            pool: database.postgres_pool()?.clone(),
            runtime: Handle::current(),
            wakeups: Mutex::new(None),
        })
    }
}

impl RecordChangeSignal for PgRecordChanges {
    /// Starts the listener if it is not running.
    fn subscribe(&self) -> Box<dyn ChangeWaiter> {
        let mut wakeups = self.wakeups.lock().unwrap_or_else(PoisonError::into_inner);
        let mut receiver = match wakeups.as_ref() {
            // An error here means the listener is gone.
            Some(receiver) if receiver.has_changed().is_ok() => receiver.clone(),
            _ => {
                let (sender, receiver) = watch::channel(());
                self.runtime.spawn(listen(self.pool.clone(), sender));
                *wakeups = Some(receiver.clone());
                receiver
            }
        };
        // What was announced before is the feed's first read's business.
        receiver.mark_unchanged();
        Box::new(Wakeups(receiver))
    }
}

/// Listens until the pool is closed. Every stream is woken after each (re)connection too:
/// what was committed while no `LISTEN` was in effect was announced to nobody, and the
/// streams' reads from their positions find it. Failures back off until a notification
/// arrives again, so a connection that keeps failing is not retried in a tight loop.
async fn listen(pool: PgPool, wake: watch::Sender<()>) {
    let mut retry = FIRST_RETRY;
    loop {
        let error = match connect(&pool).await {
            Ok(mut listener) => {
                wake.send_replace(());
                relay(&mut listener, &wake, &mut retry).await
            }
            Err(error) => error,
        };
        if let SqlxError::PoolClosed = error {
            return;
        }
        tracing::warn!(%error, ?retry, "listening for record changes failed; listening again");
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(MAX_RETRY);
    }
}

/// Wakes every stream on each notification, and when the listener reconnected by itself,
/// until the connection fails.
async fn relay(
    listener: &mut PgListener,
    wake: &watch::Sender<()>,
    retry: &mut Duration,
) -> SqlxError {
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => *retry = FIRST_RETRY,
            Ok(None) => {
                tracing::warn!("the record change listener lost its connection and reconnected")
            }
            Err(error) => return error,
        }
        wake.send_replace(());
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, SqlxError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(RECORD_CHANGES_CHANNEL).await?;
    Ok(listener)
}

/// One stream's view of the listener.
struct Wakeups(watch::Receiver<()>);

#[async_trait]
impl ChangeWaiter for Wakeups {
    async fn changed(&mut self, timeout: Duration) -> DomainResult<bool> {
        match tokio::time::timeout(timeout, self.0.changed()).await {
            Ok(Ok(())) => Ok(true),
            Ok(Err(_)) => Err(DomainError::internal("the record change listener stopped")),
            Err(_) => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(20);

    #[tokio::test]
    async fn a_burst_of_notifications_is_one_wake_up_for_each_stream() {
        let (wake, receiver) = watch::channel(());
        let (mut first, mut second) = (Wakeups(receiver.clone()), Wakeups(receiver));
        for _ in 0..50 {
            wake.send_replace(());
        }
        for stream in [&mut first, &mut second] {
            assert!(stream.changed(SHORT).await.unwrap());
            assert!(!stream.changed(SHORT).await.unwrap(), "nothing new since");
        }
        wake.send_replace(());
        assert!(first.changed(SHORT).await.unwrap());
        drop(wake);
        assert!(
            first.changed(SHORT).await.is_err(),
            "a stopped listener ends the stream"
        );
    }
}
