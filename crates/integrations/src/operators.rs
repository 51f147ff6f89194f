//! Operators from the PBX's users: an extension is an operator's code.

use dialix_audit::{AuditAction, AuditEvent};
use dialix_calls::Operator;
use dialix_kernel::{
    Actor, CompanyId, DomainError, DomainResult, OperatorId, RequestMeta, ResourceType, RowVersion,
};
use serde_json::json;

use crate::access::managed_company;
use crate::import::{ImportService, pbx_failed};

const CODE_MAX: usize = 32;
const NAME_MAX: usize = 200;

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperatorSync {
    pub created: Vec<Operator>,
    pub renamed: Vec<Operator>,
    pub unchanged: u32,
    /// Users whose extension cannot be an operator code (empty, too long).
    pub skipped: Vec<String>,
}

impl ImportService {
    /// Creates an operator for each PBX user whose extension no operator of the company has,
    /// and renames those whose name changed; all in one transaction. A code is never
    /// duplicated: the company's codes are unique, and a sync racing another is repeated on
    /// what the other stored.
    pub async fn sync_operators(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        meta: &RequestMeta,
    ) -> DomainResult<OperatorSync> {
        let company = managed_company(self.ports().tree.as_ref(), actor, company).await?;
        let account = self.ports().vault.pbx(company).await?.ok_or_else(|| {
            DomainError::conflict(
                "integration",
                "the company has not connected its OnlinePBX: PUT /integrations/pbx first",
            )
        })?;
        let users = self.ports().pbx.users(&account).await.map_err(pbx_failed)?;
        let mut tries = 0;
        loop {
            match self.try_sync(actor, company, &users, meta).await {
                Err(DomainError::Conflict { .. } | DomainError::Stale(_)) if tries < 2 => {
                    tries += 1
                }
                outcome => return outcome,
            }
        }
    }

    async fn try_sync(
        &self,
        actor: &Actor,
        company: CompanyId,
        users: &[crate::PbxUser],
        meta: &RequestMeta,
    ) -> DomainResult<OperatorSync> {
        let now = self.ports().clock.now();
        let mut sync = OperatorSync::default();
        let mut events = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut writes: Vec<(Operator, bool)> = Vec::new();
        for user in users {
            let code = user.extension.trim().to_owned();
            if code.is_empty()
                || code.chars().count() > CODE_MAX
                || code.chars().any(char::is_control)
            {
                sync.skipped.push(user.extension.clone());
                continue;
            }
            if !seen.insert(code.clone()) {
                continue;
            }
            let name: String = match user.name.trim() {
                "" => format!("Operator {code}"),
                name => name
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(NAME_MAX)
                    .collect(),
            };
            match self.ports().operators.find_by_code(company, &code).await? {
                Some(operator) if operator.name == name => sync.unchanged += 1,
                Some(mut operator) => {
                    events.push(
                        AuditEvent::by(
                            actor,
                            AuditAction::Update,
                            ResourceType::Operator,
                            operator.id,
                        )
                        .details(json!({
                            "source": "pbx_sync",
                            "changes": {"name": {"old_value": operator.name, "new_value": name}},
                        }))
                        .meta(meta),
                    );
                    operator.name = name;
                    operator.updated_at = now;
                    writes.push((operator, false));
                }
                None => {
                    let operator = Operator {
                        id: OperatorId::generate(),
                        company_id: company,
                        code,
                        name,
                        is_active: true,
                        checklist_id: None,
                        created_at: now,
                        updated_at: now,
                        row_version: RowVersion::default(),
                    };
                    events.push(
                        AuditEvent::by(
                            actor,
                            AuditAction::Create,
                            ResourceType::Operator,
                            operator.id,
                        )
                        .details(json!({
                            "source": "pbx_sync",
                            "code": operator.code,
                            "name": operator.name,
                            "company_id": company,
                        }))
                        .meta(meta),
                    );
                    writes.push((operator, true));
                }
            }
        }
        if writes.is_empty() {
            return Ok(sync);
        }
        let mut tx = self.audited().begin().await?;
        for (mut operator, new) in writes {
            if new {
                self.ports()
                    .operators
                    .insert(tx.as_mut(), &operator)
                    .await?;
                sync.created.push(operator);
            } else {
                self.ports()
                    .operators
                    .update(tx.as_mut(), &mut operator)
                    .await?;
                sync.renamed.push(operator);
            }
        }
        for event in events {
            tx.record(event);
        }
        tx.commit_recorded(now).await?;
        Ok(sync)
    }
}
