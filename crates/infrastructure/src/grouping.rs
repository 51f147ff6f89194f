//! Repeat-call chains computed in the database: one windowed aggregate over the scope's
//! calls of each number (no query per group or per call), then one read of the listed
//! chains' calls. The statements are plain SQL that PostgreSQL and SQLite both run; see
//! `docs/performance.md` for their plans.

use async_trait::async_trait;
use dialix_calls::{CallType, RecordScope, RecordStatus, SentimentValue};
use dialix_grouping::{
    CallGroups, CallScope, Candidate, Chain, ChainFilter, ChainReport, ChainSortKey, ChainSummary,
    MAX_RECORD_IDS_PER_CHAIN, NumberCall, SentimentCounts,
};
use dialix_kernel::{CompanyId, DomainError, DomainResult, Page, PageRequest, RecordId};
use sea_orm::prelude::TimeUnixTimestampMillis;
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::records::owns_records_outside;
use crate::sql::{RawSql, internal, millis};

/// Grouping reads over the `record` table.
pub struct SeaOrmCallGroups {
    db: Database,
}

impl SeaOrmCallGroups {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    fn sql(&self) -> RawSql {
        RawSql::new(self.db.connection().get_database_backend())
    }

    async fn rows(&self, sql: RawSql) -> DomainResult<Vec<QueryResult>> {
        self.db
            .connection()
            .query_all_raw(sql.statement())
            .await
            .map_err(internal)
    }
}

/// The first `limit` calls in `order`: applied inside each branch of a scoped read, so a top-N
/// read stops early in each index range instead of sorting every match.
struct Top {
    order: &'static str,
    limit: u64,
}

/// `SELECT {columns} FROM record WHERE deleted_at IS NULL{condition}` within the caller's
/// scope. Own uploads beside administered companies are a `UNION ALL` of the two branches, so
/// each is one index range: an `OR` of them would read every call from the table and sort it.
/// The caller orders and limits the union again when it gives `top`.
fn push_scoped(
    sql: &mut RawSql,
    columns: &str,
    scope: &CallScope,
    condition: &dyn Fn(&mut RawSql),
    top: Option<&Top>,
) {
    let branch = |sql: &mut RawSql, only: &dyn Fn(&mut RawSql)| {
        if top.is_some() {
            sql.push("SELECT * FROM (");
        }
        sql.push("SELECT ")
            .push(columns)
            .push(" FROM record WHERE deleted_at IS NULL");
        condition(sql);
        match &scope.companies {
            Some(companies) if companies.is_empty() => {
                sql.push(" AND 1 = 0");
            }
            Some(companies) => {
                sql.push(" AND company_id IN ")
                    .bind_list(companies.iter().map(|c| c.as_uuid()));
            }
            None => {}
        }
        only(sql);
        if let Some(top) = top {
            sql.push(" ORDER BY ")
                .push(top.order)
                .push(" LIMIT ")
                .bind(top.limit as i64)
                .push(") AS branch");
        }
    };
    match &scope.records {
        RecordScope::All => branch(sql, &|_| {}),
        RecordScope::OwnAnd(owner, companies) if companies.is_empty() => {
            branch(sql, &|sql| {
                sql.push(" AND owner_id = ").bind(owner.as_uuid());
            });
        }
        RecordScope::OwnAnd(owner, companies) => {
            let ids = || companies.iter().map(|c| c.as_uuid());
            branch(sql, &|sql| {
                sql.push(" AND company_id IN ").bind_list(ids());
            });
            sql.push(" UNION ALL ");
            branch(sql, &|sql| {
                sql.push(" AND owner_id = ")
                    .bind(owner.as_uuid())
                    .push(" AND company_id NOT IN ")
                    .bind_list(ids());
            });
        }
    }
}

/// The part of `scope` inside one company: all of it when the company is administered (or
/// everything is visible), else only the actor's own uploads there. Read as one branch, with
/// no owner branch that the company condition would contradict (a generic plan cannot see
/// that and scans the branch anyway).
fn within_company(scope: &CallScope, company: CompanyId) -> CallScope {
    let companies = Some(match &scope.companies {
        Some(narrowed) if !narrowed.contains(&company) => Vec::new(),
        _ => vec![company],
    });
    let records = match &scope.records {
        RecordScope::OwnAnd(owner, administered) if !administered.contains(&company) => {
            RecordScope::OwnAnd(*owner, Vec::new())
        }
        _ => RecordScope::All,
    };
    CallScope { records, companies }
}

/// ` AND <call time within the filter's period>`.
fn push_period(sql: &mut RawSql, filter: &ChainFilter) {
    if let Some(from) = filter.from {
        sql.push(" AND call_at >= ").bind(millis(from));
    }
    if let Some(to) = filter.to {
        sql.push(" AND call_at <= ").bind(millis(to));
    }
}

/// The whole report in one statement: one row per listed chain, each carrying the totals over
/// every chain of the filter; a single row of totals (chain columns null) when the page is
/// empty.
///
/// One window pass over the scope's calls, in index order (company, number, time), gives each
/// call its gap to the previous and next call of its number. A call with no neighbour within
/// the window is a chain of its own — most calls are — and is counted without grouping; only
/// the others get their chain numbered (a running count of chain starts) and aggregated.
fn push_chain_report(
    sql: &mut RawSql,
    filter: &ChainFilter,
    page: PageRequest,
    horizon: OffsetDateTime,
) {
    let window = filter.window.whole_milliseconds() as i64;
    let transfer = filter.transfer_gap.whole_milliseconds() as i64;
    let closed_before = millis(horizon) - window;
    sql.push("WITH scoped AS (");
    push_scoped(
        sql,
        "id, company_id, client_phone_number AS phone, call_at, duration_ms, sentiment, \
         operator_code, customer_satisfied",
        &filter.scope,
        &|sql| {
            sql.push(" AND client_phone_number IS NOT NULL");
            push_period(sql, filter);
        },
        None,
    );
    sql.push(
        "), stepped AS (SELECT scoped.*, call_at - LAG(call_at) OVER w AS gap_before, \
         LEAD(call_at) OVER w - call_at AS gap_after FROM scoped \
         WINDOW w AS (PARTITION BY company_id, phone ORDER BY call_at, id)), \
         flagged AS (SELECT stepped.*, \
         CASE WHEN gap_before IS NULL OR gap_before > ",
    )
    .bind(window)
    .push(" THEN 1 ELSE 0 END AS starts, CASE WHEN gap_after IS NULL OR gap_after > ")
    .bind(window)
    .push(
        " THEN 1 ELSE 0 END AS ends FROM stepped), \
         numbered AS (SELECT flagged.*, SUM(starts) OVER (PARTITION BY company_id, phone \
         ORDER BY call_at, id ROWS UNBOUNDED PRECEDING) AS chain_no FROM flagged \
         WHERE starts = 0 OR ends = 0), \
         chains AS (SELECT company_id, phone, chain_no, COUNT(*) AS call_count, \
         MIN(call_at) AS started_at, MAX(call_at) AS ended_at, \
         CAST(SUM(duration_ms) AS BIGINT) AS total_duration_ms, \
         CAST(SUM(CASE WHEN starts = 0 AND gap_before > ",
    )
    // After a chain's first call, each call is a repeat (over the transfer gap) or a
    // transfer (within it).
    .bind(transfer)
    .push(" THEN 1 ELSE 0 END) AS BIGINT) AS repeat_count, CAST(SUM(CASE WHEN starts = 0 AND gap_before > ")
    .bind(transfer)
    .push(
        " THEN gap_before ELSE 0 END) AS BIGINT) AS repeat_gap_ms, \
         CAST(SUM(CASE WHEN starts = 0 AND gap_before <= ",
    )
    .bind(transfer)
    .push(
        " THEN 1 ELSE 0 END) AS BIGINT) AS transfer_count, \
         CAST(SUM(CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END) AS BIGINT) AS positive, \
         CAST(SUM(CASE WHEN sentiment = 'neutral' THEN 1 ELSE 0 END) AS BIGINT) AS neutral, \
         CAST(SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) AS BIGINT) AS negative, \
         CAST(SUM(CASE WHEN sentiment IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unknown, \
         CAST(MAX(CASE WHEN ends = 1 THEN \
         (CASE WHEN customer_satisfied THEN 2 WHEN NOT customer_satisfied THEN 1 END) \
         END) AS BIGINT) AS last_resolved FROM numbered GROUP BY company_id, phone, chain_no",
    );
    if let Some(code) = &filter.operator_code {
        sql.push(" HAVING SUM(CASE WHEN operator_code = ")
            .bind(code.clone())
            .push(" THEN 1 ELSE 0 END) > 0");
    }
    sql.push(
        "), singles AS (SELECT company_id, phone, 0 AS chain_no, 1 AS call_count, \
         call_at AS started_at, call_at AS ended_at, duration_ms AS total_duration_ms, \
         0 AS repeat_count, 0 AS repeat_gap_ms, 0 AS transfer_count, \
         CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END AS positive, \
         CASE WHEN sentiment = 'neutral' THEN 1 ELSE 0 END AS neutral, \
         CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END AS negative, \
         CASE WHEN sentiment IS NULL THEN 1 ELSE 0 END AS unknown, \
         CASE WHEN customer_satisfied THEN 2 WHEN NOT customer_satisfied THEN 1 END \
         AS last_resolved FROM flagged WHERE starts = 1 AND ends = 1",
    );
    if let Some(code) = &filter.operator_code {
        sql.push(" AND operator_code = ").bind(code.clone());
    }
    sql.push(
        "), totals AS (SELECT COUNT(*) AS all_chains, \
         CAST(SUM(call_count) AS BIGINT) AS all_calls, \
         CAST(SUM(repeat_count) AS BIGINT) AS all_repeats, \
         CAST(SUM(transfer_count) AS BIGINT) AS all_transfers, \
         CAST(SUM(repeat_gap_ms) AS BIGINT) AS all_repeat_gap_ms, \
         CAST(SUM(CASE WHEN ended_at <= ",
    )
    .bind(closed_before)
    .push(" THEN 1 ELSE 0 END) AS BIGINT) AS all_closed, CAST(SUM(CASE WHEN ended_at <= ")
    .bind(closed_before)
    .push(
        " AND repeat_count = 0 THEN 1 ELSE 0 END) AS BIGINT) AS all_first_contact \
         FROM (SELECT call_count, repeat_count, transfer_count, repeat_gap_ms, ended_at \
         FROM chains UNION ALL SELECT 1, 0, 0, 0, ended_at FROM singles) AS every_chain), \
         page AS (SELECT listing.*, COUNT(*) OVER () AS listed_total, \
         CAST(CASE WHEN ended_at > ",
    )
    .bind(closed_before)
    .push(" THEN 1 ELSE 0 END AS BIGINT) AS window_open FROM ");
    // Chains of one call are listed only when asked for (`min_calls` 1).
    if filter.min_calls >= 2 {
        sql.push("chains");
    } else {
        sql.push("(SELECT * FROM chains UNION ALL SELECT * FROM singles)");
    }
    let order = chain_order(filter);
    sql.push(" AS listing WHERE call_count >= ")
        .bind(i64::from(filter.min_calls))
        .push(" ORDER BY ")
        .push(&order)
        .push(" LIMIT ")
        .bind(page.limit as i64)
        .push(" OFFSET ")
        .bind(page.offset as i64)
        .push(") SELECT totals.*, page.* FROM totals LEFT JOIN page ON 1 = 1 ORDER BY ")
        .push(&order);
}

/// The listing's order, with ties broken so that pages are stable.
fn chain_order(filter: &ChainFilter) -> String {
    let direction = if filter.sort.descending {
        "DESC"
    } else {
        "ASC"
    };
    let key = match filter.sort.key {
        ChainSortKey::CallCount => "call_count",
        ChainSortKey::LastCall => "ended_at",
        ChainSortKey::NegativeShare => "(negative * 1.0) / call_count",
    };
    format!("{key} {direction}, ended_at DESC, phone, company_id")
}

const CANDIDATE_COLUMNS: &str = "id, company_id, client_phone_number, call_at, operator_code, call_purpose, sentiment, key_words";

#[async_trait]
impl CallGroups for SeaOrmCallGroups {
    async fn chains(
        &self,
        filter: &ChainFilter,
        page: PageRequest,
        horizon: OffsetDateTime,
    ) -> DomainResult<ChainReport> {
        let filter = &ChainFilter {
            scope: self.without_idle_owner_branch(&filter.scope).await?,
            ..filter.clone()
        };
        let mut sql = self.sql();
        push_chain_report(&mut sql, filter, page, horizon);
        let rows = self.rows(sql).await?;
        let first = rows
            .first()
            .ok_or_else(|| DomainError::internal("the chain report returned no row"))?;
        let summary = ChainSummary {
            calls_without_number: self.calls_without_number(filter).await?,
            ..summary_of(first)?
        };
        let listed = get::<Option<String>>(first, "phone")?.is_some();
        let (total, mut chains) = if listed {
            let chains = rows
                .iter()
                .map(chain_of)
                .collect::<DomainResult<Vec<_>>>()?;
            (count(first, "listed_total")?, chains)
        } else if page.offset > 0 {
            // Past the last page: count what the filters list without reading a page.
            (self.listed_total(filter, horizon).await?, Vec::new())
        } else {
            (0, Vec::new())
        };
        self.attach_calls(filter, &mut chains).await?;
        Ok(ChainReport {
            chains: Page {
                items: chains,
                total,
                limit: page.limit,
                offset: page.offset,
            },
            summary,
        })
    }

    async fn calls_of_number(
        &self,
        scope: &CallScope,
        phone: &str,
        page: PageRequest,
    ) -> DomainResult<Page<NumberCall>> {
        let number = |sql: &mut RawSql| {
            sql.push(" AND client_phone_number = ")
                .bind(phone.to_owned());
        };
        let mut count = self.sql();
        count.push("SELECT COUNT(*) AS total FROM (");
        push_scoped(&mut count, "id", scope, &number, None);
        count.push(") AS scoped");
        let total = match self.rows(count).await?.first() {
            Some(row) => get::<i64>(row, "total")? as u64,
            None => 0,
        };
        // The columns the view shows, the two analysis facts read out of the JSON in the
        // database: decoding whole payloads (transcripts) would cost more than the query.
        let (summary, score) = match self.db.connection().get_database_backend() {
            DatabaseBackend::Postgres => (
                "payload->'general'->>'summary'",
                "CAST(payload->'checklist'->>'score' AS DOUBLE PRECISION)",
            ),
            _ => (
                "json_extract(payload, '$.general.summary')",
                "CAST(json_extract(payload, '$.checklist.score') AS REAL)",
            ),
        };
        let columns = format!(
            "id, company_id, call_at, duration_ms, status, call_type, operator_code, sentiment, \
             call_purpose, customer_satisfied, {summary} AS summary, {score} AS checklist_score"
        );
        let mut sql = self.sql();
        sql.push("SELECT * FROM (");
        let top = Top {
            order: "call_at, id",
            limit: page.offset.saturating_add(page.limit),
        };
        push_scoped(&mut sql, &columns, scope, &number, Some(&top));
        sql.push(") AS scoped ORDER BY call_at, id LIMIT ")
            .bind(page.limit as i64)
            .push(" OFFSET ")
            .bind(page.offset as i64);
        let items = self
            .rows(sql)
            .await?
            .iter()
            .map(number_call_of)
            .collect::<DomainResult<_>>()?;
        Ok(Page {
            items,
            total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    async fn same_number(
        &self,
        scope: &CallScope,
        phone: &str,
        exclude: RecordId,
        limit: u64,
    ) -> DomainResult<Vec<Candidate>> {
        self.newest_candidates(scope, limit, &|sql| {
            sql.push(" AND client_phone_number = ")
                .bind(phone.to_owned())
                .push(" AND id <> ")
                .bind(exclude.as_uuid());
        })
        .await
    }

    async fn same_purpose(
        &self,
        scope: &CallScope,
        company: CompanyId,
        purpose: &str,
        exclude: RecordId,
        limit: u64,
    ) -> DomainResult<Vec<Candidate>> {
        let scope = &within_company(scope, company);
        self.newest_candidates(scope, limit, &|sql| {
            sql.push(" AND company_id = ")
                .bind(company.as_uuid())
                .push(" AND call_purpose = ")
                .bind(purpose.to_owned())
                .push(" AND id <> ")
                .bind(exclude.as_uuid());
        })
        .await
    }
}

impl SeaOrmCallGroups {
    /// The scope without the branch of the actor's own uploads outside the companies they
    /// administer, when there are none (the usual case for an administrator): the grouping
    /// pass then reads one index range in order, with no sort.
    async fn without_idle_owner_branch(&self, scope: &CallScope) -> DomainResult<CallScope> {
        let RecordScope::OwnAnd(owner, companies) = &scope.records else {
            return Ok(scope.clone());
        };
        if companies.is_empty() {
            return Ok(scope.clone());
        }
        if owns_records_outside(&self.db, *owner, companies).await? {
            return Ok(scope.clone());
        }
        let companies = match &scope.companies {
            Some(narrowed) => companies
                .iter()
                .filter(|c| narrowed.contains(c))
                .copied()
                .collect(),
            None => companies.clone(),
        };
        Ok(CallScope {
            records: RecordScope::All,
            companies: Some(companies),
        })
    }

    /// How many chains the filters list (for a page past the last one).
    async fn listed_total(
        &self,
        filter: &ChainFilter,
        horizon: OffsetDateTime,
    ) -> DomainResult<u64> {
        let mut sql = self.sql();
        let first = PageRequest {
            limit: 1,
            offset: 0,
        };
        push_chain_report(&mut sql, filter, first, horizon);
        match self.rows(sql).await?.first() {
            Some(row) => count(row, "listed_total"),
            None => Ok(0),
        }
    }

    /// The newest `limit` calls in scope that meet `condition`, as similar-call candidates.
    async fn newest_candidates(
        &self,
        scope: &CallScope,
        limit: u64,
        condition: &(dyn Fn(&mut RawSql) + Sync),
    ) -> DomainResult<Vec<Candidate>> {
        let mut sql = self.sql();
        sql.push("SELECT * FROM (");
        let top = Top {
            order: "call_at DESC, id DESC",
            limit,
        };
        push_scoped(&mut sql, CANDIDATE_COLUMNS, scope, condition, Some(&top));
        sql.push(") AS scoped ORDER BY call_at DESC, id DESC LIMIT ")
            .bind(limit as i64);
        self.rows(sql).await?.iter().map(candidate_of).collect()
    }

    /// Calls in scope and period that have no number (and so are in no chain).
    async fn calls_without_number(&self, filter: &ChainFilter) -> DomainResult<u64> {
        let mut sql = self.sql();
        sql.push("SELECT COUNT(*) AS total FROM (");
        let without_number = |sql: &mut RawSql| {
            sql.push(" AND client_phone_number IS NULL");
            push_period(sql, filter);
            if let Some(code) = &filter.operator_code {
                sql.push(" AND operator_code = ").bind(code.clone());
            }
        };
        push_scoped(&mut sql, "id", &filter.scope, &without_number, None);
        sql.push(") AS scoped");
        match self.rows(sql).await?.first() {
            Some(row) => Ok(get::<i64>(row, "total")? as u64),
            None => Ok(0),
        }
    }

    /// Fills each listed chain's newest record ids, operators and customer name (that of its
    /// latest call that has one), in one read of their calls, newest first.
    async fn attach_calls(&self, filter: &ChainFilter, chains: &mut [Chain]) -> DomainResult<()> {
        if chains.is_empty() {
            return Ok(());
        }
        let mut sql = self.sql();
        sql.push("SELECT * FROM (");
        push_scoped(
            &mut sql,
            "id, company_id, client_phone_number, call_at, operator_code, customer_name",
            &filter.scope,
            &|sql| {
                push_period(sql, filter);
                sql.push(" AND (");
                for (i, chain) in chains.iter().enumerate() {
                    if i > 0 {
                        sql.push(" OR ");
                    }
                    sql.push("(company_id = ")
                        .bind(chain.company_id.as_uuid())
                        .push(" AND client_phone_number = ")
                        .bind(chain.client_phone_number.clone())
                        .push(" AND call_at >= ")
                        .bind(millis(chain.started_at))
                        .push(" AND call_at <= ")
                        .bind(millis(chain.ended_at))
                        .push(")");
                }
                sql.push(")");
            },
            None,
        );
        sql.push(") AS scoped ORDER BY call_at DESC, id DESC");
        for row in self.rows(sql).await? {
            let company = CompanyId::from_uuid(get::<Uuid>(&row, "company_id")?);
            let phone = get::<String>(&row, "client_phone_number")?;
            let at = get::<TimeUnixTimestampMillis>(&row, "call_at")?.0;
            let Some(chain) = chains.iter_mut().find(|c| {
                c.company_id == company
                    && c.client_phone_number == phone
                    && c.started_at <= at
                    && at <= c.ended_at
            }) else {
                continue;
            };
            if chain.record_ids.len() < MAX_RECORD_IDS_PER_CHAIN {
                chain
                    .record_ids
                    .push(RecordId::from_uuid(get::<Uuid>(&row, "id")?));
            }
            if let Some(code) = get::<Option<String>>(&row, "operator_code")?
                && !chain.operators.contains(&code)
            {
                chain.operators.push(code);
            }
            if chain.customer_name.is_none() {
                chain.customer_name = get(&row, "customer_name")?;
            }
        }
        for chain in chains {
            chain.operators.sort();
        }
        Ok(())
    }
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> DomainResult<T> {
    row.try_get("", column)
        .map_err(|e| DomainError::internal(format!("grouping column {column}: {e}")))
}

fn count(row: &QueryResult, column: &str) -> DomainResult<u64> {
    Ok(get::<Option<i64>>(row, column)?.unwrap_or(0).max(0) as u64)
}

fn summary_of(row: &QueryResult) -> DomainResult<ChainSummary> {
    let chains = count(row, "all_chains")?;
    let closed = count(row, "all_closed")?;
    Ok(ChainSummary {
        calls: count(row, "all_calls")?,
        calls_without_number: 0,
        chains,
        repeat_calls: count(row, "all_repeats")?,
        transfer_calls: count(row, "all_transfers")?,
        repeat_gap_total_ms: count(row, "all_repeat_gap_ms")?,
        closed_chains: closed,
        first_contact_resolved: count(row, "all_first_contact")?,
        open_chains: chains - closed,
    })
}

fn chain_of(row: &QueryResult) -> DomainResult<Chain> {
    Ok(Chain {
        company_id: CompanyId::from_uuid(get::<Uuid>(row, "company_id")?),
        client_phone_number: get(row, "phone")?,
        started_at: get::<TimeUnixTimestampMillis>(row, "started_at")?.0,
        ended_at: get::<TimeUnixTimestampMillis>(row, "ended_at")?.0,
        call_count: count(row, "call_count")?,
        repeat_count: count(row, "repeat_count")?,
        transfer_count: count(row, "transfer_count")?,
        total_duration_ms: count(row, "total_duration_ms")?,
        sentiments: SentimentCounts {
            positive: count(row, "positive")?,
            neutral: count(row, "neutral")?,
            negative: count(row, "negative")?,
            unknown: count(row, "unknown")?,
        },
        operators: Vec::new(),
        last_call_resolved: match get::<Option<i64>>(row, "last_resolved")? {
            Some(2) => Some(true),
            Some(_) => Some(false),
            None => None,
        },
        record_ids: Vec::new(),
        customer_name: None,
        window_open: count(row, "window_open")? == 1,
    })
}

fn number_call_of(row: &QueryResult) -> DomainResult<NumberCall> {
    let status: String = get(row, "status")?;
    Ok(NumberCall {
        id: RecordId::from_uuid(get::<Uuid>(row, "id")?),
        company_id: CompanyId::from_uuid(get::<Uuid>(row, "company_id")?),
        call_at: get::<TimeUnixTimestampMillis>(row, "call_at")?.0,
        duration_ms: count(row, "duration_ms")?,
        status: RecordStatus::parse(&status)
            .ok_or_else(|| DomainError::internal(format!("record status {status:?}")))?,
        call_type: get::<Option<String>>(row, "call_type")?
            .as_deref()
            .and_then(CallType::parse),
        operator_code: get(row, "operator_code")?,
        sentiment: get::<Option<String>>(row, "sentiment")?
            .as_deref()
            .and_then(SentimentValue::parse),
        summary: get(row, "summary")?,
        call_purpose: get(row, "call_purpose")?,
        customer_satisfied: get(row, "customer_satisfied")?,
        checklist_score: get(row, "checklist_score")?,
    })
}

fn candidate_of(row: &QueryResult) -> DomainResult<Candidate> {
    let key_words = match get::<Option<serde_json::Value>>(row, "key_words")? {
        Some(value) => serde_json::from_value(value)
            .map_err(|e| DomainError::internal(format!("record key words: {e}")))?,
        None => Vec::new(),
    };
    Ok(Candidate {
        id: RecordId::from_uuid(get::<Uuid>(row, "id")?),
        company_id: CompanyId::from_uuid(get::<Uuid>(row, "company_id")?),
        client_phone_number: get(row, "client_phone_number")?,
        call_at: get::<TimeUnixTimestampMillis>(row, "call_at")?.0,
        operator_code: get(row, "operator_code")?,
        call_purpose: get(row, "call_purpose")?,
        sentiment: get::<Option<String>>(row, "sentiment")?
            .as_deref()
            .and_then(SentimentValue::parse),
        key_words,
    })
}

#[cfg(test)]
mod tests {
    use dialix_kernel::AccountId;

    use super::*;

    #[test]
    fn within_one_company_the_scope_is_a_single_branch() {
        let (acme, globex) = (CompanyId::generate(), CompanyId::generate());
        let owner = AccountId::generate();
        let administrator = CallScope {
            records: RecordScope::OwnAnd(owner, vec![acme]),
            companies: None,
        };
        assert_eq!(
            within_company(&administrator, acme),
            CallScope {
                records: RecordScope::All,
                companies: Some(vec![acme]),
            }
        );
        assert_eq!(
            within_company(&administrator, globex),
            CallScope {
                records: RecordScope::OwnAnd(owner, Vec::new()),
                companies: Some(vec![globex]),
            }
        );
        let narrowed = CallScope {
            records: RecordScope::All,
            companies: Some(vec![globex]),
        };
        assert_eq!(within_company(&narrowed, acme).companies, Some(Vec::new()));
    }
}
