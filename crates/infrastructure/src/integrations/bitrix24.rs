//! Bitrix24: who a call's client is and their deals, read through the company's inbound
//! webhook (whose URL is the secret: it never appears in errors or logs). Requests to one
//! portal are spaced `min_interval` apart, as the portal drains about two a second, and a full
//! request bucket (`QUERY_LIMIT_EXCEEDED`) is waited out a few times before giving up.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use dialix_calls::{CrmDeal, ProviderError};
use dialix_integrations::{BitrixAccount, CrmClient, CrmContact};
use reqwest::{StatusCode, Url};
use secrecy::ExposeSecret;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::time::Instant;

use super::wire::{integer, network_error, text};
use crate::providers::{HttpPolicy, client, excerpt};

/// Pages of one list followed at most (Bitrix24 gives 50 items a page).
const MAX_PAGES: usize = 10;
/// Retries of a request the portal refused with `QUERY_LIMIT_EXCEEDED`.
const LIMIT_RETRIES: u32 = 3;
/// Deal stages of every pipeline: `DEAL_STAGE`, `DEAL_STAGE_1`, …
const DEAL_STAGES: &str = "DEAL_STAGE";

/// The Bitrix24 REST client, shared by every company.
pub struct Bitrix24 {
    client: reqwest::Client,
    min_interval: Duration,
    /// Per portal (host and port of the webhook): when its next request may be sent.
    next_send: Mutex<HashMap<String, Instant>>,
}

/// A reply the caller acts on.
enum Reply {
    Json(Value),
    /// The portal's request bucket is full, with its description.
    QueryLimit(String),
}

impl Bitrix24 {
    /// `min_interval` is 500 ms in production (two requests a second per portal).
    pub fn new(policy: HttpPolicy, min_interval: Duration) -> Self {
        Self {
            client: client(&policy),
            min_interval,
            next_send: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for the portal's next free slot, reserving it.
    async fn pace(&self, portal: &str) {
        let slot = {
            let mut next_send = self.next_send.lock().unwrap_or_else(|e| e.into_inner());
            reserve(&mut next_send, portal, Instant::now(), self.min_interval)
        };
        tokio::time::sleep_until(slot).await;
    }

    /// One paced GET of `method`, waiting out a full request bucket; the reply's JSON.
    async fn get(
        &self,
        account: &BitrixAccount,
        method: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        let (url, portal) = endpoint(account, method)?;
        let mut wait = self.min_interval * 2;
        let mut retries = 0;
        loop {
            self.pace(&portal).await;
            match self.exchange(url.clone(), method, query).await? {
                Reply::Json(reply) => return Ok(reply),
                Reply::QueryLimit(description) if retries < LIMIT_RETRIES => {
                    tracing::warn!(
                        %portal, method, wait_ms = wait.as_millis() as u64, %description,
                        "Bitrix24 request limit reached; waiting"
                    );
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    retries += 1;
                }
                Reply::QueryLimit(description) => {
                    return Err(ProviderError::RateLimited {
                        message: format!(
                            "Bitrix24 keeps refusing requests for their number: {description} \
                             (QUERY_LIMIT_EXCEEDED)"
                        ),
                        retry_after: Some(wait),
                    });
                }
            }
        }
    }

    async fn exchange(
        &self,
        url: Url,
        method: &str,
        query: &[(&str, String)],
    ) -> Result<Reply, ProviderError> {
        let context = format!("Bitrix24 {method}");
        let response = self
            .client
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(|e| network_error(&context, e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| network_error(&context, e))?;
        let reply = serde_json::from_str::<Value>(&body).ok();
        let field = |name: &str| reply.as_ref().map(|r| text(&r[name])).unwrap_or_default();
        let (error, description) = (field("error"), field("error_description"));
        if error == "QUERY_LIMIT_EXCEEDED" || status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(Reply::QueryLimit(description));
        }
        if error == "OVERLOAD_LIMIT" {
            return Err(ProviderError::Transient(format!(
                "Bitrix24 blocked the webhook for load: {description} ({error})"
            )));
        }
        if status.is_server_error() {
            return Err(ProviderError::Transient(format!(
                "{context}: HTTP {status} {error}"
            )));
        }
        if !error.is_empty() {
            tracing::warn!(method, %error, "Bitrix24 refused a request");
            return Err(ProviderError::Permanent(format!(
                "Bitrix24 refused the request: {description} ({error})"
            )));
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(ProviderError::Permanent(format!(
                "Bitrix24 refused the request: HTTP {status}"
            )));
        }
        match reply {
            Some(reply) if status.is_success() => Ok(Reply::Json(reply)),
            _ => Err(ProviderError::Permanent(format!(
                "{context}: unexpected reply (HTTP {status}): {}",
                excerpt(&body)
            ))),
        }
    }

    /// Every item of a list method, following `next` for at most [`MAX_PAGES`] pages.
    async fn list(
        &self,
        account: &BitrixAccount,
        method: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, ProviderError> {
        let mut items = Vec::new();
        let mut page = query.to_vec();
        for _ in 0..MAX_PAGES {
            let mut reply = self.get(account, method, &page).await?;
            items.extend(result(&mut reply, method)?);
            match integer(&reply["next"]) {
                Some(next) if next > 0 => {
                    page.retain(|(name, _)| *name != "start");
                    page.push(("start", next.to_string()));
                }
                _ => return Ok(items),
            }
        }
        tracing::warn!(
            method,
            pages = MAX_PAGES,
            "Bitrix24: stopped following further pages"
        );
        Ok(items)
    }
}

/// The portal's slot for a request at `now`, moving its next one `interval` later.
fn reserve(
    next_send: &mut HashMap<String, Instant>,
    portal: &str,
    now: Instant,
    interval: Duration,
) -> Instant {
    next_send.retain(|_, next| *next > now);
    let slot = next_send.get(portal).map_or(now, |next| (*next).max(now));
    next_send.insert(portal.to_owned(), slot + interval);
    slot
}

/// The method's URL under the webhook (one `/` between them) and the portal it belongs to.
fn endpoint(account: &BitrixAccount, method: &str) -> Result<(Url, String), ProviderError> {
    let invalid = || ProviderError::Permanent("the Bitrix24 webhook URL is not valid".into());
    let webhook = account.webhook_url.expose_secret().trim();
    let url = Url::parse(&format!("{}/{method}", webhook.trim_end_matches('/')))
        .map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    let host = url.host_str().ok_or_else(invalid)?;
    let portal = match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Ok((url, portal))
}

/// The reply's `result` list.
fn result(reply: &mut Value, method: &str) -> Result<Vec<Value>, ProviderError> {
    match reply["result"].take() {
        Value::Array(items) => Ok(items),
        other => Err(ProviderError::Permanent(format!(
            "Bitrix24 {method}: unexpected result: {}",
            excerpt(&other.to_string())
        ))),
    }
}

/// An ISO 8601 date with offset; empty or unreadable is none.
fn date(value: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(&text(value), &Rfc3339).ok()
}

fn deal(item: &Value) -> CrmDeal {
    CrmDeal {
        id: text(&item["ID"]),
        title: text(&item["TITLE"]),
        stage_id: text(&item["STAGE_ID"]),
        stage: None,
        created_at: date(&item["DATE_CREATE"]),
        closed_at: date(&item["CLOSEDATE"]),
    }
}

fn select(fields: &[&str]) -> Vec<(&'static str, String)> {
    fields
        .iter()
        .map(|field| ("select[]", (*field).to_owned()))
        .collect()
}

#[async_trait]
impl CrmClient for Bitrix24 {
    /// Reads the default pipeline's deal stages: one request, needing the CRM access the
    /// lookups need.
    async fn check(&self, account: &BitrixAccount) -> Result<(), ProviderError> {
        let method = "crm.status.list";
        let query = [("filter[ENTITY_ID]", DEAL_STAGES.to_owned())];
        let mut reply = self.get(account, method, &query).await?;
        result(&mut reply, method).map(drop)
    }

    async fn find_contact(
        &self,
        account: &BitrixAccount,
        phone: &str,
    ) -> Result<Option<CrmContact>, ProviderError> {
        let method = "crm.contact.list";
        let mut query = vec![("filter[PHONE]", phone.to_owned())];
        query.extend(select(&["ID", "NAME", "LAST_NAME"]));
        let mut reply = self.get(account, method, &query).await?;
        let contact = result(&mut reply, method)?
            .into_iter()
            .map(|item| CrmContact {
                id: text(&item["ID"]),
                name: format!("{} {}", text(&item["NAME"]), text(&item["LAST_NAME"]))
                    .trim()
                    .to_owned(),
            })
            .find(|contact| !contact.id.is_empty());
        Ok(contact)
    }

    async fn deals(
        &self,
        account: &BitrixAccount,
        contact_id: &str,
    ) -> Result<Vec<CrmDeal>, ProviderError> {
        let mut query = vec![("filter[CONTACT_ID]", contact_id.to_owned())];
        query.extend(select(&[
            "ID",
            "TITLE",
            "STAGE_ID",
            "DATE_CREATE",
            "CLOSEDATE",
        ]));
        let items = self.list(account, "crm.deal.list", &query).await?;
        Ok(items.iter().map(deal).collect())
    }

    /// Every pipeline's stages: `crm.status.list` unfiltered, keeping the `DEAL_STAGE*`
    /// entities (a filter on `DEAL_STAGE` would miss the pipelines' `C1:…` stages).
    async fn stage_names(
        &self,
        account: &BitrixAccount,
    ) -> Result<HashMap<String, String>, ProviderError> {
        let items = self.list(account, "crm.status.list", &[]).await?;
        Ok(items
            .iter()
            .filter(|item| text(&item["ENTITY_ID"]).starts_with(DEAL_STAGES))
            .map(|item| (text(&item["STATUS_ID"]), text(&item["NAME"])))
            .filter(|(id, _)| !id.is_empty())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn account(webhook: &str) -> BitrixAccount {
        BitrixAccount {
            webhook_url: webhook.to_owned().into(),
        }
    }

    #[test]
    fn one_slash_between_webhook_and_method() {
        for webhook in [
            "https://portal.bitrix24.kz/rest/1/abc",
            "https://portal.bitrix24.kz/rest/1/abc/",
            " https://portal.bitrix24.kz/rest/1/abc// ",
        ] {
            let (url, portal) = endpoint(&account(webhook), "crm.contact.list").expect("valid");
            assert_eq!(
                url.as_str(),
                "https://portal.bitrix24.kz/rest/1/abc/crm.contact.list"
            );
            assert_eq!(portal, "portal.bitrix24.kz:443");
        }
        for webhook in [
            "",
            "portal.bitrix24.kz/rest/1/abc",
            "ftp://portal/rest/1/abc",
        ] {
            let error = endpoint(&account(webhook), "crm.contact.list").expect_err("invalid");
            assert!(
                !error.to_string().contains("abc"),
                "the secret stays out: {error}"
            );
        }
    }

    #[test]
    fn slots_are_spaced_per_portal() {
        let mut next = HashMap::new();
        let now = Instant::now();
        let interval = Duration::from_millis(500);
        assert_eq!(reserve(&mut next, "a", now, interval), now);
        assert_eq!(reserve(&mut next, "a", now, interval), now + interval);
        assert_eq!(reserve(&mut next, "a", now, interval), now + interval * 2);
        assert_eq!(
            reserve(&mut next, "b", now, interval),
            now,
            "another portal"
        );
        let later = now + Duration::from_secs(10);
        assert_eq!(reserve(&mut next, "a", later, interval), later);
    }

    #[test]
    fn deals_read_dates_with_offsets_and_tolerate_empty_ones() {
        let deal = deal(&json!({
            "ID": "12", "TITLE": "Tariff", "STAGE_ID": "C1:NEW",
            "DATE_CREATE": "2024-05-01T10:00:00+03:00", "CLOSEDATE": ""
        }));
        assert_eq!(deal.id, "12");
        assert_eq!(deal.stage_id, "C1:NEW");
        assert_eq!(deal.stage, None);
        let created = deal.created_at.expect("a creation date");
        assert_eq!(created.unix_timestamp(), 1_714_546_800);
        assert_eq!(deal.closed_at, None);
        assert_eq!(date(&json!("yesterday")), None);
    }
}
