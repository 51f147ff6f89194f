//! Who a call's client is, from the company's Bitrix24: the contact with the call's number
//! (trying the number formats portals store) and its deals with their stage names.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_calls::{
    CrmDeal, CrmLookup, CrmOutcome, CustomerLookup, ProviderError, Record, RecordRepository,
    visible_record,
};
use dialix_kernel::{
    Actor, Clock, CompanyId, CompanyTree, DomainError, DomainResult, RecordId, RequestMeta,
    ResourceType, UnitOfWork, retry_on_stale,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::{BitrixAccount, CrmClient, Vault};

/// Stage names change rarely; each company's are asked for again after this.
const STAGE_NAMES_TTL: Duration = Duration::minutes(10);

/// The adapters `CrmService` works through.
pub struct CrmPorts {
    pub vault: Vault,
    pub crm: Arc<dyn CrmClient>,
    pub records: Arc<dyn RecordRepository>,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

type StageNames = HashMap<String, String>;

/// CRM lookups, for processing and on request.
pub struct CrmService {
    ports: CrmPorts,
    audited: AuditedUnitOfWork,
    stage_names: Mutex<HashMap<CompanyId, (OffsetDateTime, Arc<StageNames>)>>,
}

impl CrmService {
    pub fn new(ports: CrmPorts) -> Self {
        Self {
            audited: AuditedUnitOfWork::new(ports.uow.clone(), ports.audit.clone()),
            ports,
            stage_names: Mutex::new(HashMap::new()),
        }
    }

    /// Looks the record's client up again and stores the result on the record.
    pub async fn refresh(
        &self,
        actor: &Actor,
        id: RecordId,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        let record = self.visible(actor, id).await?;
        let phone = record.client_phone_number.clone().ok_or_else(|| {
            DomainError::conflict(
                "client_phone_number",
                "the record has no client number to look up",
            )
        })?;
        let lookup = self
            .lookup(record.company_id, &phone)
            .await
            .ok_or_else(|| {
                DomainError::conflict(
                    "integration",
                    "the company has not connected its Bitrix24: PUT /integrations/bitrix first",
                )
            })?;
        retry_on_stale(|| self.store(actor, id, lookup.clone(), meta)).await
    }

    async fn store(
        &self,
        actor: &Actor,
        id: RecordId,
        lookup: CrmLookup,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        let mut record = self.visible(actor, id).await?;
        let now = self.ports.clock.now();
        let event = AuditEvent::by(actor, AuditAction::Update, ResourceType::Record, id)
            .details(json!({
                "crm_refresh": {
                    "outcome": format!("{:?}", lookup.outcome).to_lowercase(),
                    "contact_id": lookup.contact_id,
                    "deals": lookup.deals.len(),
                }
            }))
            .meta(meta);
        record.crm = Some(lookup);
        record.updated_at = now;
        let mut tx = self.audited.begin().await?;
        self.ports.records.update(tx.as_mut(), &mut record).await?;
        tx.commit(event, now).await?;
        Ok(record)
    }

    async fn visible(&self, actor: &Actor, id: RecordId) -> DomainResult<Record> {
        visible_record(
            self.ports.records.as_ref(),
            self.ports.tree.as_ref(),
            actor,
            id,
        )
        .await
    }

    async fn ask(
        &self,
        company: CompanyId,
        account: &BitrixAccount,
        phone: &str,
        at: OffsetDateTime,
    ) -> Result<CrmLookup, ProviderError> {
        let mut contact = None;
        for format in phone_formats(phone) {
            contact = self.ports.crm.find_contact(account, &format).await?;
            if contact.is_some() {
                break;
            }
        }
        let Some(contact) = contact else {
            return Ok(CrmLookup {
                outcome: CrmOutcome::NotFound,
                contact_id: None,
                customer_name: None,
                deals: Vec::new(),
                error: None,
                looked_up_at: at,
            });
        };
        let mut deals = self.ports.crm.deals(account, &contact.id).await?;
        if !deals.is_empty() {
            let names = self.stage_names(company, account, at).await?;
            for deal in &mut deals {
                deal.stage = names.get(&deal.stage_id).cloned();
            }
        }
        deals.sort_by_key(|deal: &CrmDeal| std::cmp::Reverse(deal.created_at));
        Ok(CrmLookup {
            outcome: CrmOutcome::Found,
            contact_id: Some(contact.id),
            customer_name: Some(contact.name).filter(|n| !n.trim().is_empty()),
            deals,
            error: None,
            looked_up_at: at,
        })
    }

    async fn stage_names(
        &self,
        company: CompanyId,
        account: &BitrixAccount,
        now: OffsetDateTime,
    ) -> Result<Arc<StageNames>, ProviderError> {
        if let Some((at, names)) = self.cached(company)
            && now - at < STAGE_NAMES_TTL
        {
            return Ok(names);
        }
        let names = Arc::new(self.ports.crm.stage_names(account).await?);
        self.stage_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(company, (now, names.clone()));
        Ok(names)
    }

    fn cached(&self, company: CompanyId) -> Option<(OffsetDateTime, Arc<StageNames>)> {
        self.stage_names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&company)
            .cloned()
    }
}

#[async_trait::async_trait]
impl CustomerLookup for CrmService {
    async fn lookup(&self, company: CompanyId, phone: &str) -> Option<CrmLookup> {
        let at = self.ports.clock.now();
        let account = match self.ports.vault.bitrix(company).await {
            Ok(Some(account)) => account,
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(%company, error = %error.chain(), "the CRM credentials could not be read");
                return Some(CrmLookup::failed(
                    "the CRM credentials could not be read",
                    at,
                ));
            }
        };
        Some(match self.ask(company, &account, phone, at).await {
            Ok(lookup) => lookup,
            Err(error) => {
                tracing::warn!(%company, %error, "CRM lookup failed");
                CrmLookup::failed(format!("Bitrix24: {error}"), at)
            }
        })
    }
}

/// The forms a portal may have stored the number in, most common first: Uzbek numbers as
/// their 9 national digits, then `+998` and those digits; other numbers as given, then
/// without the `+`.
fn phone_formats(e164: &str) -> Vec<String> {
    match e164.strip_prefix("+998") {
        Some(national) if national.len() == 9 => vec![national.to_owned(), e164.to_owned()],
        _ => vec![e164.to_owned(), e164.trim_start_matches('+').to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uzbek_numbers_are_tried_as_nine_digits_then_international() {
        assert_eq!(
            phone_formats("+998901234567"),
            ["901234567", "+998901234567"]
        );
        assert_eq!(
            phone_formats("+77011234567"),
            ["+77011234567", "77011234567"]
        );
    }
}
