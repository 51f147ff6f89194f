//! How far a job got: the step in progress, so that its outcome is reported to the
//! [`ProcessingObserver`] however the job ends, even when the step is cut off mid-way.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Instant;

use crate::{ChargeStep, ProcessingObserver};

/// How one run of a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepOutcome {
    /// Stored and charged.
    Done,
    /// Failed for now; the job runs again after its backoff.
    Retry,
    /// Failed for good (a permanent error, or the last attempt): the record failed.
    Failed,
    /// Stopped by our own trouble (the database); the job is claimed again after its lease.
    Interrupted,
    /// Cut off at shutdown and handed back to the queue for another worker.
    HandedBack,
}

impl StepOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Done => "done",
            StepOutcome::Retry => "retry",
            StepOutcome::Failed => "failed",
            StepOutcome::Interrupted => "interrupted",
            StepOutcome::HandedBack => "handed_back",
        }
    }
}

/// The step a job is in, shared between the job and whoever may cut it off.
pub(crate) struct Progress<'a> {
    observer: &'a dyn ProcessingObserver,
    current: Mutex<Option<(ChargeStep, Instant)>>,
}

impl<'a> Progress<'a> {
    pub(crate) fn new(observer: &'a dyn ProcessingObserver) -> Self {
        Self {
            observer,
            current: Mutex::new(None),
        }
    }

    pub(crate) fn begin(&self, step: ChargeStep) {
        *self.lock() = Some((step, Instant::now()));
    }

    /// Reports the step in progress, if any, as ended with `outcome`.
    pub(crate) fn end(&self, outcome: StepOutcome) {
        let ended = self.lock().take();
        if let Some((step, started)) = ended {
            self.observer.step_ended(step, outcome, started.elapsed());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(ChargeStep, Instant)>> {
        // The guarded value is a plain copy: a panic elsewhere cannot leave it half-written.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs `work` unless `interrupt` completes first; `None` when it did, and `work` was dropped
/// wherever it stood. `work` is polled first: work that completes in the same wake-up wins.
pub(crate) async fn unless<T>(
    work: impl Future<Output = T>,
    interrupt: impl Future<Output = ()>,
) -> Option<T> {
    let mut work = pin!(work);
    let mut interrupt = pin!(interrupt);
    poll_fn(|cx| {
        if let Poll::Ready(value) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        interrupt.as_mut().poll(cx).map(|()| None)
    })
    .await
}
