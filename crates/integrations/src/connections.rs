//! Connecting, showing and disconnecting a company's PBX and CRM. Credentials are checked
//! against the service once, when saved, then sealed; they are never shown again in full.

use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_calls::ProviderError;
use dialix_kernel::{
    Actor, Clock, CompanyId, CompanyTree, DomainError, DomainResult, FieldErrors, RequestMeta,
    ResourceType, UnitOfWork,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::access::managed_company;
use crate::{
    AutoImportRepository, BitrixAccount, CrmClient, IntegrationKind, PbxAccount, PbxClient,
    StoredIntegration, Vault,
};

const DOMAIN_MAX: usize = 253;
const API_KEY_MAX: usize = 256;
const WEBHOOK_MAX: usize = 512;

/// Deployment rules for connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionPolicy {
    /// Whether `http://` webhooks and hosts such as `localhost` or `127.0.0.1` are accepted
    /// (development and tests). Production asks for `https://` to a named host, so a
    /// webhook's secret never travels in clear and a company cannot make the server call
    /// machines beside it.
    pub allow_local_webhooks: bool,
}

/// The adapters `ConnectionService` works through.
pub struct ConnectionPorts {
    pub vault: Vault,
    pub auto_imports: Arc<dyn AutoImportRepository>,
    pub pbx: Arc<dyn PbxClient>,
    pub crm: Arc<dyn CrmClient>,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

/// A company's connections.
pub struct ConnectionService {
    ports: ConnectionPorts,
    audited: AuditedUnitOfWork,
    policy: ConnectionPolicy,
}

impl ConnectionService {
    pub fn new(ports: ConnectionPorts, policy: ConnectionPolicy) -> Self {
        Self {
            audited: AuditedUnitOfWork::new(ports.uow.clone(), ports.audit.clone()),
            ports,
            policy,
        }
    }

    /// Connects (or reconnects) the company's OnlinePBX once the PBX accepted the key.
    pub async fn connect_pbx(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        domain: &str,
        api_key: SecretString,
        meta: &RequestMeta,
    ) -> DomainResult<StoredIntegration> {
        let company = managed_company(self.ports.tree.as_ref(), actor, company).await?;
        let domain = domain.trim().to_ascii_lowercase();
        let mut errors = FieldErrors::new();
        errors.check(
            is_host_name(&domain),
            "domain",
            format!(
                "must be the PBX's domain, e.g. mycompany.onpbx.ru (letters, digits, dots and \
                 hyphens, at most {DOMAIN_MAX} characters)"
            ),
        );
        let key = api_key.expose_secret().trim();
        errors.check(
            (8..=API_KEY_MAX).contains(&key.len()) && key.chars().all(|c| c.is_ascii_graphic()),
            "api_key",
            format!("must be 8 to {API_KEY_MAX} printable characters without spaces"),
        );
        errors.into_result()?;
        let account = PbxAccount {
            domain: domain.clone(),
            api_key: key.to_owned().into(),
        };
        refused_as(
            "api_key",
            IntegrationKind::Pbx,
            self.ports.pbx.check(&account).await,
        )?;
        self.save(actor, company, IntegrationKind::Pbx, domain, key, meta)
            .await
    }

    /// Connects (or reconnects) the company's Bitrix24 once the portal answered a read.
    pub async fn connect_bitrix(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        webhook_url: SecretString,
        meta: &RequestMeta,
    ) -> DomainResult<StoredIntegration> {
        let company = managed_company(self.ports.tree.as_ref(), actor, company).await?;
        let (url, host) = webhook(webhook_url.expose_secret(), self.policy)?;
        let account = BitrixAccount {
            webhook_url: url.clone().into(),
        };
        refused_as(
            "webhook_url",
            IntegrationKind::Bitrix,
            self.ports.crm.check(&account).await,
        )?;
        self.save(actor, company, IntegrationKind::Bitrix, host, &url, meta)
            .await
    }

    /// The company's connection of this kind, secret masked; 404 when there is none.
    pub async fn connection(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        kind: IntegrationKind,
    ) -> DomainResult<StoredIntegration> {
        let company = managed_company(self.ports.tree.as_ref(), actor, company).await?;
        self.ports
            .vault
            .integrations
            .find(company, kind)
            .await?
            .ok_or(DomainError::NotFound("integration"))
    }

    /// Disconnects; disconnecting the PBX also removes its automatic import.
    pub async fn disconnect(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        kind: IntegrationKind,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        let company = managed_company(self.ports.tree.as_ref(), actor, company).await?;
        let now = self.ports.clock.now();
        let event = AuditEvent::by(
            actor,
            AuditAction::Delete,
            ResourceType::Integration,
            company,
        )
        .details(json!({"kind": kind.as_str()}))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        if !self
            .ports
            .vault
            .integrations
            .delete(tx.as_mut(), company, kind)
            .await?
        {
            return Err(DomainError::NotFound("integration"));
        }
        if kind == IntegrationKind::Pbx {
            self.ports.auto_imports.delete(tx.as_mut(), company).await?;
        }
        tx.commit(event, now).await
    }

    async fn save(
        &self,
        actor: &Actor,
        company: CompanyId,
        kind: IntegrationKind,
        label: String,
        secret: &str,
        meta: &RequestMeta,
    ) -> DomainResult<StoredIntegration> {
        let now = self.ports.clock.now();
        let before = self.ports.vault.integrations.find(company, kind).await?;
        let stored = StoredIntegration {
            company_id: company,
            kind,
            label: label.clone(),
            sealed_secret: self.ports.vault.seal(secret)?,
            secret_hint: hint(secret),
            updated_by: actor.account_id,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        let secret_field = match kind {
            IntegrationKind::Pbx => "api_key",
            IntegrationKind::Bitrix => "webhook_url",
        };
        let action = if before.is_some() {
            AuditAction::Update
        } else {
            AuditAction::Create
        };
        let event = AuditEvent::by(actor, action, ResourceType::Integration, company)
            .details(json!({
                "kind": kind.as_str(),
                "label": {"old_value": before.map(|b| b.label), "new_value": label},
                secret_field: {"changed": true},
            }))
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.ports
            .vault
            .integrations
            .save(tx.as_mut(), &stored)
            .await?;
        tx.commit(event, now).await?;
        Ok(stored)
    }
}

/// The webhook URL with one trailing slash, and the portal's host; 422 unless it is an
/// `https://` (or, where allowed, `http://`) URL of a Bitrix24 REST webhook.
fn webhook(raw: &str, policy: ConnectionPolicy) -> DomainResult<(String, String)> {
    let url = raw.trim();
    let rest = url.strip_prefix("https://").or_else(|| {
        url.strip_prefix("http://")
            .filter(|_| policy.allow_local_webhooks)
    });
    let problem = format!(
        "must be the portal's inbound webhook, e.g. https://portal.bitrix24.kz/rest/1/abc123/ \
         (https to the portal's name, at most {WEBHOOK_MAX} characters)"
    );
    let Some(rest) = rest.filter(|_| url.len() <= WEBHOOK_MAX) else {
        return Err(FieldErrors::single("webhook_url", problem));
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_name = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let host_name = host_name.to_ascii_lowercase();
    if !is_host_name(&host_name)
        || (!policy.allow_local_webhooks && is_local_host(&host_name))
        || !path.starts_with("rest/")
        || path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
    {
        return Err(FieldErrors::single("webhook_url", problem));
    }
    let url = format!("{}/", url.trim_end_matches('/'));
    Ok((url, host.to_ascii_lowercase()))
}

/// A service's answer to a credentials check: refused → 422 on `field` with its words;
/// unreachable → 502.
fn refused_as(
    field: &str,
    kind: IntegrationKind,
    checked: Result<(), ProviderError>,
) -> DomainResult<()> {
    match checked {
        Ok(()) => Ok(()),
        Err(ProviderError::Permanent(answer)) => Err(FieldErrors::single(
            field,
            format!("{} refused these credentials: {answer}", kind.service()),
        )),
        Err(error) => Err(DomainError::ExternalService(format!(
            "{} could not be reached to check the credentials: {error}; nothing was saved",
            kind.service()
        ))),
    }
}

/// Lower-case DNS name: labels of letters, digits and hyphens, at least one dot.
fn is_host_name(name: &str) -> bool {
    name.len() <= DOMAIN_MAX
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// An address literal, or a name that only means something on the server's own network.
fn is_local_host(name: &str) -> bool {
    let numeric = name
        .split('.')
        .all(|label| label.chars().all(|c| c.is_ascii_digit()));
    numeric
        || name == "localhost"
        || [".localhost", ".local", ".internal", ".lan"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

/// The secret as shown: its last four characters behind a mask.
fn hint(secret: &str) -> String {
    let tail: String = secret
        .trim_end_matches('/')
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_hints() {
        assert!(is_host_name("demo.onpbx.ru"));
        assert!(is_host_name("127.0.0.1"));
        assert!(!is_host_name("demo"));
        assert!(!is_host_name("demo.onpbx.ru/../x"));
        assert!(!is_host_name("-a.ru"));
        assert!(!is_host_name("Demo.ru"));
        assert!(is_local_host("127.0.0.1") && is_local_host("10.0.0.7"));
        assert!(is_local_host("db.internal") && is_local_host("printer.local"));
        assert!(!is_local_host("portal.bitrix24.kz"));
    }

    #[test]
    fn production_takes_only_https_webhooks_of_named_hosts() {
        let production = ConnectionPolicy {
            allow_local_webhooks: false,
        };
        let (url, host) =
            webhook(" https://Portal.bitrix24.kz/rest/1/abc123 ", production).unwrap();
        assert_eq!(
            (url.as_str(), host.as_str()),
            (
                "https://Portal.bitrix24.kz/rest/1/abc123/",
                "portal.bitrix24.kz"
            )
        );
        for refused in [
            "http://portal.bitrix24.kz/rest/1/abc/",
            "https://10.0.0.5/rest/1/abc/",
            "https://127.0.0.1:8443/rest/1/abc/",
            "https://metadata.internal/rest/1/abc/",
            "https://portal.bitrix24.kz/api/1/abc/",
            "https://portal.bitrix24.kz/rest/1/abc/?x=1",
        ] {
            assert!(webhook(refused, production).is_err(), "{refused}");
        }
        let development = ConnectionPolicy {
            allow_local_webhooks: true,
        };
        assert!(webhook("http://127.0.0.1:8080/rest/1/abc/", development).is_ok());
        assert_eq!(hint("abcdefgh1234"), "••••1234");
        assert_eq!(hint("https://p.bitrix24.kz/rest/1/s3cr3t/"), "••••cr3t");
    }
}
