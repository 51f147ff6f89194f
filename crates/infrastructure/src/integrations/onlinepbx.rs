//! OnlinePBX: a company's call history, recordings and users. Requests are form-encoded POSTs
//! to `{base}/{domain}/{method}`; all but `auth.json` carry the session key, which is kept per
//! account and renewed only when the PBX refuses it.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use dialix_calls::{FetchedAudio, ProviderError};
use dialix_integrations::{CallDirection, PbxAccount, PbxCall, PbxClient, PbxUser};
use reqwest::header::HeaderValue;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::wire::{integer, network_error, text};
use crate::providers::{HttpPolicy, client, excerpt};

/// The header that carries `{key_id}:{key}`.
const SESSION_HEADER: &str = "x-pbx-authentication";

/// The OnlinePBX API client, shared by every company.
pub struct OnlinePbx {
    client: reqwest::Client,
    base_url: String,
    sessions: Mutex<HashMap<SessionOwner, Session>>,
}

/// Whose session it is: the domain and a digest of the API key, so that the plain key is
/// never kept and a changed key gets a session of its own.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SessionOwner {
    domain: String,
    api_key_digest: [u8; 32],
}

impl SessionOwner {
    fn of(account: &PbxAccount) -> Self {
        Self {
            domain: account.domain.clone(),
            api_key_digest: Sha256::digest(account.api_key.expose_secret().as_bytes()).into(),
        }
    }
}

/// A session key from `auth.json`.
#[derive(Clone)]
struct Session {
    key_id: String,
    key: SecretString,
}

impl Session {
    fn header(&self) -> Result<HeaderValue, ProviderError> {
        let mut value =
            HeaderValue::from_str(&format!("{}:{}", self.key_id, self.key.expose_secret()))
                .map_err(|_| {
                    ProviderError::Permanent(
                        "OnlinePBX gave a session key that cannot be sent back".into(),
                    )
                })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// How the PBX answered one request.
enum Answer {
    /// `status: "1"` and its `data`.
    Data(Value),
    /// `status: "0"` (or HTTP 401/403) with the PBX's reason.
    Refused(String),
}

impl OnlinePbx {
    /// `base_url` is `https://api.onlinepbx.ru` in production.
    pub fn new(base_url: String, policy: HttpPolicy) -> Self {
        Self {
            client: client(&policy),
            base_url,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn url(&self, domain: &str, method: &str) -> Result<Url, ProviderError> {
        let invalid = || ProviderError::Permanent("OnlinePBX: the base URL is not valid".into());
        let mut url = Url::parse(&self.base_url).map_err(|_| invalid())?;
        url.path_segments_mut()
            .map_err(|_| invalid())?
            .pop_if_empty()
            .push(domain)
            .extend(method.split('/'));
        Ok(url)
    }

    /// One form-encoded POST; `what` names it in errors.
    async fn post(
        &self,
        domain: &str,
        method: &str,
        form: &[(&str, &str)],
        session: Option<&Session>,
        what: &str,
    ) -> Result<Answer, ProviderError> {
        let mut request = self.client.post(self.url(domain, method)?).form(form);
        if let Some(session) = session {
            request = request.header(SESSION_HEADER, session.header()?);
        }
        let context = format!("OnlinePBX {what}");
        let response = request
            .send()
            .await
            .map_err(|e| network_error(&context, e))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| network_error(&context, e))?;
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Transient(format!(
                "{context}: HTTP {status}"
            )));
        }
        let reply = serde_json::from_str::<Value>(&body).ok();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let reason = reply.as_ref().and_then(reason);
            return Ok(Answer::Refused(
                reason.unwrap_or_else(|| format!("HTTP {status}")),
            ));
        }
        if !status.is_success() {
            return Err(ProviderError::Permanent(format!(
                "{context}: HTTP {status}: {}",
                excerpt(&body)
            )));
        }
        let Some(mut reply) = reply else {
            return Err(ProviderError::Permanent(format!(
                "{context}: unexpected reply: {}",
                excerpt(&body)
            )));
        };
        if text(&reply["status"]) == "1" {
            Ok(Answer::Data(reply["data"].take()))
        } else {
            Ok(Answer::Refused(
                reason(&reply).unwrap_or_else(|| "no reason given".into()),
            ))
        }
    }

    /// Asks for a new session key and keeps it for the account.
    async fn authenticate(&self, account: &PbxAccount) -> Result<Session, ProviderError> {
        let answer = self
            .post(
                &account.domain,
                "auth.json",
                &[("auth_key", account.api_key.expose_secret())],
                None,
                "authentication",
            )
            .await?;
        let data = match answer {
            Answer::Data(data) => data,
            Answer::Refused(reason) => {
                tracing::warn!(domain = %account.domain, %reason, "OnlinePBX refused the API key");
                return Err(ProviderError::Permanent(format!(
                    "OnlinePBX refused the API key: {reason}"
                )));
            }
        };
        let (key_id, key) = (text(&data["key_id"]), text(&data["key"]));
        if key_id.is_empty() || key.is_empty() {
            return Err(ProviderError::Permanent(
                "OnlinePBX authentication replied without a session key".into(),
            ));
        }
        let session = Session {
            key_id,
            key: key.into(),
        };
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(SessionOwner::of(account), session.clone());
        tracing::debug!(domain = %account.domain, "OnlinePBX session opened");
        Ok(session)
    }

    /// The account's kept session, or a new one (then `true`).
    async fn session(&self, account: &PbxAccount) -> Result<(Session, bool), ProviderError> {
        let kept = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&SessionOwner::of(account))
            .cloned();
        match kept {
            Some(session) => Ok((session, false)),
            None => Ok((self.authenticate(account).await?, true)),
        }
    }

    /// An authenticated request's `data`. A refusal of a kept session key renews it once and
    /// repeats the request; a refusal with a fresh key is final.
    async fn request(
        &self,
        account: &PbxAccount,
        method: &str,
        form: &[(&str, &str)],
        what: &str,
    ) -> Result<Value, ProviderError> {
        let (mut session, mut fresh) = self.session(account).await?;
        loop {
            match self
                .post(&account.domain, method, form, Some(&session), what)
                .await?
            {
                Answer::Data(data) => return Ok(data),
                Answer::Refused(reason) if fresh => {
                    return Err(ProviderError::Permanent(format!(
                        "OnlinePBX refused {what}: {reason}"
                    )));
                }
                Answer::Refused(reason) => {
                    tracing::warn!(
                        domain = %account.domain, %reason,
                        "OnlinePBX refused the kept session key; authenticating again"
                    );
                    session = self.authenticate(account).await?;
                    fresh = true;
                }
            }
        }
    }
}

/// The PBX's reason for a refusal: its `comment`, else its `errorCode`.
fn reason(reply: &Value) -> Option<String> {
    [&reply["comment"], &reply["errorCode"]]
        .into_iter()
        .map(text)
        .find(|s| !s.is_empty())
}

fn no_recording(call_id: &str) -> ProviderError {
    ProviderError::Permanent(format!("the PBX has no recording of call {call_id}"))
}

fn seconds(value: &Value) -> u32 {
    integer(value).map_or(0, |s| u32::try_from(s.max(0)).unwrap_or(u32::MAX))
}

fn instant(value: &Value) -> Option<OffsetDateTime> {
    integer(value).and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
}

/// One entry of the call history; entries without an id or a start are skipped.
fn history_call(entry: &Value) -> Option<PbxCall> {
    let id = text(&entry["uuid"]);
    let Some(started_at) = instant(&entry["start_stamp"]).filter(|_| !id.is_empty()) else {
        tracing::warn!(uuid = %id, "OnlinePBX: skipping a history entry without uuid or start");
        return None;
    };
    let duration_seconds = seconds(&entry["duration"]);
    let ended_at = instant(&entry["end_stamp"])
        .unwrap_or(started_at + time::Duration::seconds(duration_seconds.into()));
    let direction = match text(&entry["accountcode"]).as_str() {
        "inbound" => CallDirection::Inbound,
        "outbound" => CallDirection::Outbound,
        _ => CallDirection::Internal,
    };
    let caller_name = text(&entry["caller_id_name"]);
    Some(PbxCall {
        id,
        started_at,
        ended_at,
        duration_seconds,
        talk_seconds: seconds(&entry["user_talk_time"]),
        direction,
        caller_number: text(&entry["caller_id_number"]),
        caller_name: (!caller_name.is_empty()).then_some(caller_name),
        destination_number: text(&entry["destination_number"]),
    })
}

/// `data` as a list: absent or null is an empty one.
fn entries(data: Value, what: &str) -> Result<Vec<Value>, ProviderError> {
    match data {
        Value::Array(entries) => Ok(entries),
        Value::Null => Ok(Vec::new()),
        other => Err(ProviderError::Permanent(format!(
            "OnlinePBX {what}: unexpected data: {}",
            excerpt(&other.to_string())
        ))),
    }
}

/// The recording's file name: the link's last path segment.
fn file_name(link: &Url, call_id: &str) -> String {
    link.path_segments()
        .and_then(|mut segments| segments.next_back())
        .filter(|name| !name.is_empty())
        .map_or_else(|| format!("{call_id}.mp3"), str::to_owned)
}

#[async_trait]
impl PbxClient for OnlinePbx {
    async fn check(&self, account: &PbxAccount) -> Result<(), ProviderError> {
        self.authenticate(account).await.map(drop)
    }

    async fn calls(
        &self,
        account: &PbxAccount,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<PbxCall>, ProviderError> {
        let what = "the call history search";
        let (from, to) = (
            from.unix_timestamp().to_string(),
            to.unix_timestamp().to_string(),
        );
        let data = self
            .request(
                account,
                "mongo_history/search.json",
                &[("start_stamp_from", &from), ("end_stamp_to", &to)],
                what,
            )
            .await?;
        let calls: Vec<PbxCall> = entries(data, what)?
            .iter()
            .filter_map(history_call)
            .collect();
        tracing::debug!(domain = %account.domain, calls = calls.len(), "OnlinePBX history read");
        Ok(calls)
    }

    async fn call(
        &self,
        account: &PbxAccount,
        call_id: &str,
    ) -> Result<Option<PbxCall>, ProviderError> {
        let what = "the call search";
        let data = self
            .request(
                account,
                "mongo_history/search.json",
                &[("uuid", call_id)],
                what,
            )
            .await?;
        Ok(entries(data, what)?
            .iter()
            .filter_map(history_call)
            .find(|call| call.id == call_id))
    }

    async fn download(
        &self,
        account: &PbxAccount,
        call_id: &str,
    ) -> Result<FetchedAudio, ProviderError> {
        let data = self
            .request(
                account,
                "mongo_history/search.json",
                &[("uuid", call_id), ("download", "1")],
                "the recording's download link",
            )
            .await?;
        let link = data
            .as_str()
            .map(str::trim)
            .filter(|link| !link.is_empty())
            .ok_or_else(|| no_recording(call_id))?;
        let link = Url::parse(link).map_err(|_| {
            ProviderError::Permanent(format!(
                "OnlinePBX gave no valid download link for call {call_id}"
            ))
        })?;
        let file_name = file_name(&link, call_id);
        let context = format!("OnlinePBX recording of call {call_id}");
        let response = self
            .client
            .get(link)
            .send()
            .await
            .map_err(|e| network_error(&context, e))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Err(no_recording(call_id));
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Transient(format!(
                "{context}: HTTP {status}"
            )));
        }
        if !status.is_success() {
            return Err(ProviderError::Permanent(format!(
                "{context}: HTTP {status}"
            )));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| network_error(&context, e))?;
        if bytes.is_empty() {
            return Err(no_recording(call_id));
        }
        tracing::debug!(domain = %account.domain, call_id, bytes = bytes.len(), "OnlinePBX recording downloaded");
        Ok(FetchedAudio { bytes, file_name })
    }

    async fn users(&self, account: &PbxAccount) -> Result<Vec<PbxUser>, ProviderError> {
        let what = "the user list";
        let data = self.request(account, "user/get.json", &[], what).await?;
        Ok(entries(data, what)?
            .iter()
            .map(|user| PbxUser {
                extension: text(&user["num"]),
                name: text(&user["name"]),
            })
            .filter(|user| !user.extension.is_empty())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn history_entries_accept_numbers_and_strings() {
        let call = history_call(&json!({
            "uuid": "abc", "caller_id_name": "", "caller_id_number": 998901234567u64,
            "destination_number": "101", "start_stamp": "1714550400", "end_stamp": 1714550460,
            "duration": "60", "user_talk_time": 45, "accountcode": "inbound"
        }))
        .expect("a call");
        assert_eq!(call.id, "abc");
        assert_eq!(call.started_at.unix_timestamp(), 1_714_550_400);
        assert_eq!(call.ended_at.unix_timestamp(), 1_714_550_460);
        assert_eq!((call.duration_seconds, call.talk_seconds), (60, 45));
        assert_eq!(call.direction, CallDirection::Inbound);
        assert_eq!(call.caller_number, "998901234567");
        assert_eq!(call.caller_name, None);
        assert_eq!(call.operator_extension(), "101");
    }

    #[test]
    fn unknown_account_codes_are_internal_and_entries_need_an_id() {
        let entry = json!({"uuid": "x", "start_stamp": 10, "duration": 5, "accountcode": "local"});
        let call = history_call(&entry).expect("a call");
        assert_eq!(call.direction, CallDirection::Internal);
        assert_eq!(call.ended_at.unix_timestamp(), 15, "end from the duration");
        assert!(history_call(&json!({"start_stamp": 10})).is_none());
        assert!(history_call(&json!({"uuid": "y", "start_stamp": "soon"})).is_none());
    }

    #[test]
    fn recordings_are_named_after_their_link() {
        let link = Url::parse("https://records.example/a/b/rec-1.mp3?token=x").expect("url");
        assert_eq!(file_name(&link, "id"), "rec-1.mp3");
        let bare = Url::parse("https://records.example/").expect("url");
        assert_eq!(file_name(&bare, "id"), "id.mp3");
    }

    #[test]
    fn requests_go_under_the_domain() {
        let pbx = OnlinePbx::new("http://127.0.0.1:9/".into(), HttpPolicy::default());
        let url = pbx
            .url("demo.onpbx.ru", "mongo_history/search.json")
            .expect("a URL");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/demo.onpbx.ru/mongo_history/search.json"
        );
        let odd = pbx.url("a/b?c", "auth.json").expect("a URL");
        assert_eq!(odd.as_str(), "http://127.0.0.1:9/a%2Fb%3Fc/auth.json");
    }
}
