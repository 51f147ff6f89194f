use async_trait::async_trait;
use dialix_calls::SentimentValue;
use dialix_kernel::{CompanyId, DomainResult, Page, PageRequest, RecordId};
use time::OffsetDateTime;

use crate::{CallScope, ChainFilter, ChainReport, NumberCall};

/// A call as similar-call ranking needs it (no transcript, no payload).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: RecordId,
    pub company_id: CompanyId,
    pub client_phone_number: Option<String>,
    pub call_at: OffsetDateTime,
    pub operator_code: Option<String>,
    pub call_purpose: Option<String>,
    pub sentiment: Option<SentimentValue>,
    pub key_words: Vec<String>,
}

/// Grouping reads over live (undeleted) calls. Every method answers from a constant number
/// of statements whatever the data size; a database failure is `Internal`, nothing else is
/// an error (no match is an empty answer).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CallGroups: Send + Sync {
    /// The page of chains `filter` lists and the summary over all its chains. A chain's
    /// window is open when its last call is later than `horizon - window` (`horizon`: the
    /// end of the period, or now when that is earlier).
    async fn chains(
        &self,
        filter: &ChainFilter,
        page: PageRequest,
        horizon: OffsetDateTime,
    ) -> DomainResult<ChainReport>;
    /// Every call of one (normalised) number in scope, oldest first.
    async fn calls_of_number(
        &self,
        scope: &CallScope,
        phone: &str,
        page: PageRequest,
    ) -> DomainResult<Page<NumberCall>>;
    /// The newest `limit` calls of one number in scope, without `exclude`.
    async fn same_number(
        &self,
        scope: &CallScope,
        phone: &str,
        exclude: RecordId,
        limit: u64,
    ) -> DomainResult<Vec<Candidate>>;
    /// The newest `limit` analysed calls of a company with one call purpose in scope,
    /// without `exclude`.
    async fn same_purpose(
        &self,
        scope: &CallScope,
        company: CompanyId,
        purpose: &str,
        exclude: RecordId,
        limit: u64,
    ) -> DomainResult<Vec<Candidate>>;
}
