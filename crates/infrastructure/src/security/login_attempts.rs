use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use dialix_account::{FailureWindow, LoginAttempts};
use time::OffsetDateTime;

/// Failed logins kept in this process's memory. Enough for one server; several servers each
/// count their own share (a shared store is a later adapter behind the same port).
#[derive(Default)]
pub struct InMemoryLoginAttempts {
    failures: Mutex<HashMap<String, Vec<OffsetDateTime>>>,
}

/// Bounds memory under a flood of distinct keys: beyond this, old entries are pruned.
const MAX_KEYS: usize = 100_000;

#[async_trait]
impl LoginAttempts for InMemoryLoginAttempts {
    async fn failures_since(&self, key: &str, since: OffsetDateTime) -> FailureWindow {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let recent = failures
            .get(key)
            .map(|times| {
                times
                    .iter()
                    .filter(|t| **t > since)
                    .copied()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        FailureWindow {
            count: recent.len() as u32,
            oldest: recent.into_iter().min(),
        }
    }

    async fn record_failure(&self, key: &str, at: OffsetDateTime) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_KEYS && !failures.contains_key(key) {
            let horizon = at - time::Duration::hours(1);
            failures.retain(|_, times| times.iter().any(|t| *t > horizon));
        }
        let times = failures.entry(key.to_owned()).or_default();
        times.push(at);
        // Only the recent past matters to any sane window.
        if times.len() > 1000 {
            times.drain(..times.len() - 1000);
        }
    }

    async fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    #[tokio::test]
    async fn counts_failures_inside_the_window_and_forgets_on_clear() {
        let attempts = InMemoryLoginAttempts::default();
        let t0 = datetime!(2026-11-26 12:00 UTC);
        for minute in 0..3 {
            attempts
                .record_failure("login:a", t0 + Duration::minutes(minute))
                .await;
        }
        let window = attempts
            .failures_since("login:a", t0 + Duration::seconds(30))
            .await;
        assert_eq!(window.count, 2);
        assert_eq!(window.oldest, Some(t0 + Duration::minutes(1)));
        assert_eq!(attempts.failures_since("login:b", t0).await.count, 0);
        attempts.clear("login:a").await;
        assert_eq!(
            attempts
                .failures_since("login:a", t0 - Duration::hours(1))
                .await
                .count,
            0
        );
    }
}
