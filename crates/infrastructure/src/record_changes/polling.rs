//! Record changes where the database cannot announce them (SQLite).

use std::time::Duration;

use async_trait::async_trait;
use dialix_calls::{ChangeWaiter, RecordChangeSignal};
use dialix_kernel::DomainResult;

/// Every stream looks again after `interval`, whatever happened.
pub struct PolledRecordChanges {
    interval: Duration,
}

impl PolledRecordChanges {
    pub fn every(interval: Duration) -> Self {
        Self { interval }
    }
}

impl RecordChangeSignal for PolledRecordChanges {
    fn subscribe(&self) -> Box<dyn ChangeWaiter> {
        Box::new(Tick {
            interval: self.interval,
        })
    }
}

struct Tick {
    interval: Duration,
}

#[async_trait]
impl ChangeWaiter for Tick {
    async fn changed(&mut self, timeout: Duration) -> DomainResult<bool> {
        tokio::time::sleep(self.interval.min(timeout)).await;
        Ok(timeout >= self.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tick_says_look_again_unless_the_timeout_comes_first() {
        let mut tick = PolledRecordChanges::every(Duration::from_millis(20)).subscribe();
        assert!(tick.changed(Duration::from_secs(5)).await.unwrap());
        assert!(!tick.changed(Duration::from_millis(5)).await.unwrap());
    }
}
