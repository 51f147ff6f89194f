//! The change feed behind `GET /records/events`: what changed in the records an actor may
//! see since the feed's position. It reads the database, so work done by other processes
//! shows up too, but only when the [`RecordChangeSignal`](crate::RecordChangeSignal) says
//! something may have changed (on PostgreSQL a notification the database sends on every
//! commit that touches a record, on SQLite a timer): an idle stream costs no queries.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use dialix_kernel::{Actor, DomainResult, RecordId};
use time::OffsetDateTime;

use crate::{ChangeWaiter, RecordService, RecordStatus, record_scope};

/// Changes read at a time, and handed out at most per call.
const CHANGES_PER_READ: u64 = 100;

/// How far behind the newest change handed out every read looks again. A change is stamped
/// before its transaction commits (the commit may wait for a lock, or for the one SQLite
/// writer) and processes' clocks differ slightly, so a change can become visible after a
/// later-stamped one was handed out; within this window it still is.
const LATE_COMMITS: time::Duration = time::Duration::seconds(10);

/// A record's state after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordChange {
    pub id: RecordId,
    pub status: RecordStatus,
    pub error: Option<String>,
    pub updated_at: OffsetDateTime,
}

/// One change, as the feed remembers it.
type ChangeKey = (RecordId, RecordStatus, OffsetDateTime);

/// A caller's position in the feed.
pub struct ChangeFeed {
    actor: Actor,
    /// The position asked for (now, or a resumed event's time): nothing stamped earlier is
    /// handed out.
    start: OffsetDateTime,
    /// The newest change handed out, or `start`.
    newest: OffsetDateTime,
    /// The changes handed out that a read can meet again (stamped within [`LATE_COMMITS`]
    /// of `newest`), so each is handed out once.
    delivered: HashSet<ChangeKey>,
    waiter: Box<dyn ChangeWaiter>,
    /// Whether changes may be waiting that no signal will announce: at the start (a resume,
    /// or a commit between taking the position and subscribing) and after a full read.
    unread: bool,
}

impl RecordService {
    /// A feed starting after `resume` (an earlier change's time), or now.
    pub fn change_feed(&self, actor: Actor, resume: Option<OffsetDateTime>) -> ChangeFeed {
        let start = resume.unwrap_or_else(|| self.ports.clock.now());
        ChangeFeed {
            actor,
            start,
            newest: start,
            delivered: HashSet::new(),
            waiter: self.ports.changes.subscribe(),
            unread: true,
        }
    }

    /// The next changes, oldest stamp first, as soon as there are any; empty when `idle`
    /// passed without one (the caller then says it is still there). A signal that brings
    /// nothing this actor may see is read and waited past.
    pub async fn next_changes(
        &self,
        feed: &mut ChangeFeed,
        idle: Duration,
    ) -> DomainResult<Vec<RecordChange>> {
        let deadline = Instant::now() + idle;
        loop {
            if !feed.unread {
                let left = deadline.saturating_duration_since(Instant::now());
                if !feed.waiter.changed(left).await? {
                    return Ok(Vec::new());
                }
            }
            let changes = self.read_changes(feed).await?;
            if !changes.is_empty() {
                return Ok(changes);
            }
        }
    }

    /// One read: the changes in the feed's window not handed out yet, at most
    /// [`CHANGES_PER_READ`], paging past the ones handed out before.
    async fn read_changes(&self, feed: &mut ChangeFeed) -> DomainResult<Vec<RecordChange>> {
        let scope = record_scope(self.ports.tree.as_ref(), &feed.actor).await?;
        let mut from = feed.start.max(feed.newest - LATE_COMMITS);
        let mut fresh = Vec::new();
        feed.unread = loop {
            let page = self
                .ports
                .records
                .changed_since(&scope, from, CHANGES_PER_READ)
                .await?;
            let full = page.len() as u64 == CHANGES_PER_READ;
            let last = page.last().map(|change| change.updated_at);
            fresh.extend(page.into_iter().filter(|change| {
                feed.delivered
                    .insert((change.id, change.status, change.updated_at))
            }));
            // The next page starts at the last one's millisecond (others may share it); a
            // full page within one millisecond cannot be got past.
            match last {
                Some(last) if full && last > from => {
                    if fresh.len() as u64 >= CHANGES_PER_READ {
                        break true;
                    }
                    from = last;
                }
                _ => break false,
            }
        };
        if let Some(newest) = fresh.iter().map(|change| change.updated_at).max() {
            feed.newest = feed.newest.max(newest);
        }
        let horizon = feed.newest - LATE_COMMITS;
        feed.delivered.retain(|(_, _, at)| *at >= horizon);
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use dialix_kernel::{AccountId, DomainError, Role};
    use time::macros::datetime;

    use super::*;
    use crate::service::tests::Mocks;
    use crate::{MockRecordChangeSignal, MockRecordRepository};

    const T0: OffsetDateTime = datetime!(2026-11-27 12:00:00 UTC);
    const IDLE: Duration = Duration::from_secs(15);

    fn at(ms: i64) -> OffsetDateTime {
        T0 + time::Duration::milliseconds(ms)
    }

    fn change(id: RecordId, status: RecordStatus, ms: i64) -> RecordChange {
        RecordChange {
            id,
            status,
            error: None,
            updated_at: at(ms),
        }
    }

    fn uploaded(count: i64, first_ms: i64) -> Vec<RecordChange> {
        (0..count)
            .map(|n| change(RecordId::generate(), RecordStatus::Uploaded, first_ms + n))
            .collect()
    }

    fn actor() -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role: Role::User,
            company_id: None,
            grants: Vec::new(),
        }
    }

    /// A signal that answers each wait from a script, then never fires; counts the waits.
    struct Script {
        answers: VecDeque<DomainResult<bool>>,
        waits: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl ChangeWaiter for Script {
        async fn changed(&mut self, _timeout: Duration) -> DomainResult<bool> {
            self.waits.fetch_add(1, Ordering::SeqCst);
            self.answers.pop_front().unwrap_or(Ok(false))
        }
    }

    /// A record service whose signal plays its script and whose repository answers each
    /// read with the next page, then with nothing.
    struct Harness {
        service: RecordService,
        waits: Arc<AtomicUsize>,
        /// Where each read started.
        reads: Arc<Mutex<Vec<OffsetDateTime>>>,
    }

    impl Harness {
        fn new(answers: Vec<DomainResult<bool>>, pages: Vec<Vec<RecordChange>>) -> Self {
            let waits = Arc::new(AtomicUsize::new(0));
            let script = Script {
                answers: answers.into(),
                waits: waits.clone(),
            };
            let mut changes = MockRecordChangeSignal::new();
            changes
                .expect_subscribe()
                .return_once(move || Box::new(script));
            let reads = Arc::new(Mutex::new(Vec::new()));
            let seen = reads.clone();
            let mut records = MockRecordRepository::new();
            records
                .expect_changed_since()
                .returning(move |_, since, limit| {
                    assert_eq!(limit, CHANGES_PER_READ);
                    let mut seen = seen.lock().unwrap();
                    seen.push(since);
                    Ok(pages.get(seen.len() - 1).cloned().unwrap_or_default())
                });
            let mocks = Mocks {
                records,
                changes,
                ..Default::default()
            };
            Self {
                service: mocks.service(),
                waits,
                reads,
            }
        }

        fn feed(&self) -> ChangeFeed {
            self.service.change_feed(actor(), Some(T0))
        }

        async fn next(&self, feed: &mut ChangeFeed) -> Vec<RecordChange> {
            self.service.next_changes(feed, IDLE).await.unwrap()
        }

        fn reads(&self) -> Vec<OffsetDateTime> {
            self.reads.lock().unwrap().clone()
        }

        fn waits(&self) -> usize {
            self.waits.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn an_idle_feed_reads_once_at_the_start_and_then_only_waits() {
        let harness = Harness::new(Vec::new(), Vec::new());
        let mut feed = harness.feed();
        for _ in 0..3 {
            assert!(harness.next(&mut feed).await.is_empty());
        }
        assert_eq!(harness.reads(), [T0], "no reads without a signal");
        assert_eq!(harness.waits(), 3);
    }

    #[tokio::test]
    async fn each_signal_is_one_read_and_one_without_news_sends_nothing() {
        let id = RecordId::generate();
        let pages = vec![
            Vec::new(),
            Vec::new(),
            vec![change(id, RecordStatus::Queued, 5)],
        ];
        let harness = Harness::new(vec![Ok(true), Ok(true)], pages);
        let mut feed = harness.feed();
        let changes = harness.next(&mut feed).await;
        assert_eq!(changes, [change(id, RecordStatus::Queued, 5)]);
        assert_eq!((harness.reads().len(), harness.waits()), (3, 2));

        assert!(harness.next(&mut feed).await.is_empty());
        assert_eq!(harness.reads().len(), 3);
    }

    #[tokio::test]
    async fn a_change_committed_after_a_later_stamped_one_is_still_handed_out_once() {
        let (early, late) = (RecordId::generate(), RecordId::generate());
        let later = change(late, RecordStatus::Uploaded, 20_000);
        let earlier = change(early, RecordStatus::Uploaded, 19_000);
        // The same millisecond, a new status: another change.
        let next_step = change(late, RecordStatus::Queued, 20_000);
        let pages = vec![
            vec![later.clone()],
            vec![earlier.clone(), later.clone()],
            vec![earlier, later, next_step.clone()],
        ];
        let harness = Harness::new(vec![Ok(true), Ok(true)], pages);
        let mut feed = harness.feed();
        assert_eq!(harness.next(&mut feed).await.len(), 1);
        let late_commit = harness.next(&mut feed).await;
        assert_eq!(
            late_commit.iter().map(|c| c.id).collect::<Vec<_>>(),
            [early]
        );
        assert_eq!(harness.next(&mut feed).await, [next_step]);
        // Each read looks back from the newest change, never before the start.
        assert_eq!(harness.reads(), [T0, at(10_000), at(10_000)]);
    }

    #[tokio::test]
    async fn a_read_pages_past_the_changes_handed_out_before() {
        let seen = uploaded(CHANGES_PER_READ as i64, 0);
        let new = change(RecordId::generate(), RecordStatus::Uploaded, 500);
        let last_seen = seen.last().unwrap().updated_at;
        let pages = vec![seen.clone(), seen, vec![new.clone()]];
        let harness = Harness::new(vec![Ok(true)], pages);
        let mut feed = harness.feed();
        assert_eq!(harness.next(&mut feed).await.len() as u64, CHANGES_PER_READ);
        assert_eq!(harness.next(&mut feed).await, [new]);
        assert_eq!(harness.reads(), [T0, T0, last_seen]);
    }

    #[tokio::test]
    async fn more_than_a_read_holds_is_handed_out_without_waiting() {
        let first = uploaded(CHANGES_PER_READ as i64, 0);
        let rest = uploaded(1, 1_000);
        let harness = Harness::new(Vec::new(), vec![first, rest.clone()]);
        let mut feed = harness.feed();
        assert_eq!(harness.next(&mut feed).await.len() as u64, CHANGES_PER_READ);
        assert_eq!(harness.next(&mut feed).await, rest);
        assert_eq!(harness.waits(), 0, "the rest was read at once");
        assert!(harness.next(&mut feed).await.is_empty());
        assert_eq!(harness.reads().len(), 2);
    }

    #[tokio::test]
    async fn a_signal_that_stops_ends_the_feed() {
        let stopped = Err(DomainError::internal("the listener stopped"));
        let harness = Harness::new(vec![stopped], Vec::new());
        let mut feed = harness.feed();
        assert!(harness.service.next_changes(&mut feed, IDLE).await.is_err());
    }
}
