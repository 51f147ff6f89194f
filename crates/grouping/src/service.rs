use std::collections::HashSet;
use std::sync::Arc;

use dialix_calls::{RecordRepository, may_view, normalise_phone, record_scope};
use dialix_kernel::{
    Actor, Clock, CompanyId, CompanyTree, DomainError, DomainResult, FieldErrors, Page,
    PageRequest, RecordId,
};

use crate::{
    CallGroups, CallScope, Candidate, ChainFilter, ChainReport, NumberCall, SimilarCall,
    SimilarReason, key_word_overlap,
};

/// Same-purpose calls ranked for similarity: the newest this many of the company. Bounds the
/// work per request; older calls of the same purpose are rarely the useful comparison.
const SIMILAR_CANDIDATES: u64 = 500;

/// The adapters `GroupingService` works through.
pub struct GroupingPorts {
    pub groups: Arc<dyn CallGroups>,
    pub records: Arc<dyn RecordRepository>,
    pub tree: Arc<dyn CompanyTree>,
    pub clock: Arc<dyn Clock>,
}

/// Repeat-call chains, one number's calls and similar calls, each within the caller's
/// records scope.
pub struct GroupingService {
    ports: GroupingPorts,
    /// Prepended to 9-digit national numbers, as for uploads.
    default_country_code: String,
}

impl GroupingService {
    pub fn new(ports: GroupingPorts, default_country_code: String) -> Self {
        Self {
            ports,
            default_country_code,
        }
    }

    /// Chains of repeat calls and the first-contact figures for `filter`.
    pub async fn chains(
        &self,
        actor: &Actor,
        mut filter: ChainFilter,
        page: PageRequest,
    ) -> DomainResult<ChainReport> {
        filter.scope = self.scope(actor, filter.company).await?;
        let now = self.ports.clock.now();
        let horizon = filter.to.map_or(now, |to| to.min(now));
        self.ports.groups.chains(&filter, page, horizon).await
    }

    /// Every call of one number in scope, oldest first; the number may be written in any
    /// form an upload accepts.
    pub async fn calls_of_number(
        &self,
        actor: &Actor,
        raw_phone: &str,
        company: Option<CompanyId>,
        page: PageRequest,
    ) -> DomainResult<Page<NumberCall>> {
        let phone = normalise_phone(raw_phone, &self.default_country_code).ok_or_else(|| {
            FieldErrors::single(
                "phone",
                "must be a phone number, e.g. +998901234567 or 901234567",
            )
        })?;
        let scope = self.scope(actor, company).await?;
        self.ports
            .groups
            .calls_of_number(&scope, &phone, page)
            .await
    }

    /// Calls like `id`: first the other calls of its number (newest first), then calls of
    /// its company with the same purpose ranked by key-word overlap (ties: newest first).
    /// A record the caller may not see is `NotFound`.
    pub async fn similar(
        &self,
        actor: &Actor,
        id: RecordId,
        limit: u64,
    ) -> DomainResult<Vec<SimilarCall>> {
        let record = self
            .ports
            .records
            .find(id)
            .await?
            .filter(|r| r.deleted_at.is_none())
            .ok_or(DomainError::NotFound("record"))?;
        if !may_view(self.ports.tree.as_ref(), actor, &record).await? {
            return Err(DomainError::NotFound("record"));
        }
        let scope = self.scope(actor, None).await?;
        let general = record.payload.general.as_ref();
        let key_words = general.map(|g| g.key_words.clone()).unwrap_or_default();
        let mut similar: Vec<SimilarCall> = Vec::new();
        if let Some(phone) = &record.client_phone_number {
            let same = self
                .ports
                .groups
                .same_number(&scope, phone, id, limit)
                .await?;
            similar.extend(
                same.into_iter()
                    .map(|c| rank(c, SimilarReason::SameNumber, &key_words)),
            );
        }
        let room = limit.saturating_sub(similar.len() as u64) as usize;
        if let (Some(general), true) = (general, room > 0 && !key_words.is_empty()) {
            let listed: HashSet<RecordId> = similar.iter().map(|s| s.id).collect();
            let candidates = self
                .ports
                .groups
                .same_purpose(
                    &scope,
                    record.company_id,
                    &general.call_purpose,
                    id,
                    SIMILAR_CANDIDATES,
                )
                .await?;
            let mut ranked: Vec<SimilarCall> = candidates
                .into_iter()
                .filter(|c| !listed.contains(&c.id))
                .map(|c| rank(c, SimilarReason::SamePurposeAndKeyWords, &key_words))
                .filter(|s| !s.shared_key_words.is_empty())
                .collect();
            ranked.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then(b.call_at.cmp(&a.call_at))
                    .then(a.id.as_uuid().cmp(&b.id.as_uuid()))
            });
            similar.extend(ranked.into_iter().take(room));
        }
        Ok(similar)
    }

    /// The records scope of `actor`, narrowed to `company` and its descendants when given.
    async fn scope(&self, actor: &Actor, company: Option<CompanyId>) -> DomainResult<CallScope> {
        let records = record_scope(self.ports.tree.as_ref(), actor).await?;
        let companies = match company {
            Some(company) => Some(self.ports.tree.subtree(&[company]).await?),
            None => None,
        };
        Ok(CallScope { records, companies })
    }
}

fn rank(candidate: Candidate, reason: SimilarReason, key_words: &[String]) -> SimilarCall {
    let (score, shared_key_words) = key_word_overlap(key_words, &candidate.key_words);
    SimilarCall {
        id: candidate.id,
        company_id: candidate.company_id,
        client_phone_number: candidate.client_phone_number,
        call_at: candidate.call_at,
        operator_code: candidate.operator_code,
        call_purpose: candidate.call_purpose,
        sentiment: candidate.sentiment,
        reason,
        score,
        shared_key_words,
    }
}

#[cfg(test)]
mod tests {

    use dialix_calls::{
        GeneralAnalysis, MockRecordRepository, Record, RecordScope, RecordStatus, Sentiment,
        SentimentValue,
    };
    use dialix_kernel::{MockClock, MockCompanyTree, Permission, Role};
    use mockall::predicate::eq;
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    use super::*;
    use crate::{ChainSummary, MockCallGroups};

    const NOW: OffsetDateTime = datetime!(2026-11-28 12:00:00 UTC);

    fn viewer(company: CompanyId) -> Actor {
        Actor::administrator_of(company, &[Permission::CanViewRecords])
    }

    fn service(
        groups: MockCallGroups,
        records: MockRecordRepository,
        tree: MockCompanyTree,
    ) -> GroupingService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        GroupingService::new(
            GroupingPorts {
                groups: Arc::new(groups),
                records: Arc::new(records),
                tree: Arc::new(tree),
                clock: Arc::new(clock),
            },
            "998".into(),
        )
    }

    fn empty_report() -> ChainReport {
        ChainReport {
            chains: Page {
                items: Vec::new(),
                total: 0,
                limit: 50,
                offset: 0,
            },
            summary: ChainSummary::default(),
        }
    }

    #[tokio::test]
    async fn chains_read_the_records_scope_and_end_at_the_earlier_of_period_and_now() {
        let (acme, branch) = (CompanyId::generate(), CompanyId::generate());
        let actor = viewer(acme);
        let mut tree = MockCompanyTree::new();
        tree.expect_subtree().returning(move |roots| {
            Ok(if roots == [acme] {
                vec![acme, branch]
            } else {
                vec![branch]
            })
        });
        let owner = actor.account_id;
        let mut groups = MockCallGroups::new();
        groups
            .expect_chains()
            .withf(move |filter, _, horizon| {
                filter.scope.records == RecordScope::OwnAnd(owner, vec![acme, branch])
                    && filter.scope.companies == Some(vec![branch])
                    && *horizon == NOW
            })
            .times(1)
            .returning(|_, _, _| Ok(empty_report()));
        groups
            .expect_chains()
            .withf(|_, _, horizon| *horizon == datetime!(2026-01-31 00:00:00 UTC))
            .times(1)
            .returning(|_, _, _| Ok(empty_report()));
        let service = service(groups, MockRecordRepository::new(), tree);

        let future = ChainFilter {
            company: Some(branch),
            to: Some(NOW + Duration::days(30)),
            ..ChainFilter::default()
        };
        service
            .chains(&actor, future, PageRequest::default())
            .await
            .unwrap();
        let past = ChainFilter {
            to: Some(datetime!(2026-01-31 00:00:00 UTC)),
            ..ChainFilter::default()
        };
        service
            .chains(&actor, past, PageRequest::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_number_is_normalised_and_nonsense_is_refused_before_any_read() {
        let acme = CompanyId::generate();
        let mut tree = MockCompanyTree::new();
        tree.expect_subtree().returning(|roots| Ok(roots.to_vec()));
        let mut groups = MockCallGroups::new();
        groups
            .expect_calls_of_number()
            .withf(|_, phone, _| phone == "+998901234567")
            .times(1)
            .returning(|_, _, page| {
                Ok(Page {
                    items: Vec::new(),
                    total: 0,
                    limit: page.limit,
                    offset: page.offset,
                })
            });
        let service = service(groups, MockRecordRepository::new(), tree);
        let actor = viewer(acme);
        service
            .calls_of_number(&actor, "+998 90 123 45 67", None, PageRequest::default())
            .await
            .unwrap();
        let refused = service
            .calls_of_number(&actor, "call me", None, PageRequest::default())
            .await;
        assert!(matches!(refused, Err(DomainError::Validation(_))));
    }

    fn analysed(record: Record, key_words: &[&str]) -> Record {
        let sentiment = || Sentiment {
            value: SentimentValue::Neutral,
            reason: String::new(),
        };
        let mut record = record;
        record.payload.general = Some(GeneralAnalysis {
            sentiment_conversation: sentiment(),
            sentiment_client: sentiment(),
            sentiment_operator: sentiment(),
            summary: String::new(),
            call_purpose: "support".into(),
            is_conversation_over: true,
            is_customer_satisfied: true,
            key_words: key_words.iter().map(|w| (*w).to_owned()).collect(),
        });
        record
    }

    fn candidate(
        id: RecordId,
        company: CompanyId,
        at: OffsetDateTime,
        key_words: &[&str],
    ) -> Candidate {
        Candidate {
            id,
            company_id: company,
            client_phone_number: None,
            call_at: at,
            operator_code: None,
            call_purpose: Some("support".into()),
            sentiment: None,
            key_words: key_words.iter().map(|w| (*w).to_owned()).collect(),
        }
    }

    #[tokio::test]
    async fn similar_lists_the_number_first_then_ranks_by_overlap_without_repeats() {
        let id = RecordId::generate();
        let mut record = analysed(
            Record::sample(id, RecordStatus::Done, NOW),
            &["a", "b", "c"],
        );
        record.client_phone_number = Some("+998901234567".into());
        let (company, owner) = (record.company_id, record.owner_id);
        let mut records = MockRecordRepository::new();
        let found = record.clone();
        records
            .expect_find()
            .with(eq(id))
            .returning(move |_| Ok(Some(found.clone())));
        let (same, close, far, unrelated, older_close) = (
            RecordId::generate(),
            RecordId::generate(),
            RecordId::generate(),
            RecordId::generate(),
            RecordId::generate(),
        );
        let mut groups = MockCallGroups::new();
        groups
            .expect_same_number()
            .withf(move |_, phone, exclude, limit| {
                phone == "+998901234567" && *exclude == id && *limit == 4
            })
            .returning(move |_, _, _, _| Ok(vec![candidate(same, company, NOW, &["a"])]));
        groups
            .expect_same_purpose()
            .returning(move |_, _, purpose, _, _| {
                assert_eq!(purpose, "support");
                Ok(vec![
                    // Listed already through the number.
                    candidate(same, company, NOW, &["a"]),
                    candidate(far, company, NOW, &["c", "x", "y"]),
                    candidate(older_close, company, NOW - Duration::days(1), &["A", "b"]),
                    candidate(unrelated, company, NOW, &["z"]),
                    candidate(close, company, NOW, &["a", "b"]),
                ])
            });
        let service = service(groups, records, MockCompanyTree::new());
        let owner_actor = Actor {
            account_id: owner,
            role: Role::User,
            company_id: Some(company),
            grants: Vec::new(),
        };

        let similar = service.similar(&owner_actor, id, 4).await.unwrap();
        let order: Vec<RecordId> = similar.iter().map(|s| s.id).collect();
        // close and older_close share 2 of 3 words (newer first), far 1 of 5.
        assert_eq!(order, [same, close, older_close, far]);
        assert_eq!(similar[0].reason, SimilarReason::SameNumber);
        assert!((similar[1].score - 2.0 / 3.0).abs() < 1e-9);
        assert!((similar[3].score - 0.2).abs() < 1e-9);
    }

    #[tokio::test]
    async fn similar_to_an_unseen_record_is_not_found() {
        let id = RecordId::generate();
        let record = Record::sample(id, RecordStatus::Done, NOW);
        let mut records = MockRecordRepository::new();
        records
            .expect_find()
            .returning(move |_| Ok(Some(record.clone())));
        let mut tree = MockCompanyTree::new();
        tree.expect_lineage().returning(|company| Ok(vec![company]));
        // No read of other calls is expected: the mock would panic.
        let service = service(MockCallGroups::new(), records, tree);
        let stranger = viewer(CompanyId::generate());
        let result = service.similar(&stranger, id, 10).await;
        assert!(matches!(result, Err(DomainError::NotFound("record"))));
    }
}
