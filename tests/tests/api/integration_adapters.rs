//! The OnlinePBX and Bitrix24 adapters against the local fakes of both services: their wire
//! formats, the PBX session kept and renewed, the CRM's pacing and request limit. No database.

use std::time::Duration;

use bytes::Bytes;
use dialix_calls::ProviderError;
use dialix_infrastructure::{Bitrix24, HttpPolicy, OnlinePbx, install_tls_provider};
use dialix_integrations::{
    BitrixAccount, CallDirection, CrmClient, PbxAccount, PbxClient, PbxUser,
};
use dialix_tests::fake_bitrix::FakeBitrix;
use dialix_tests::fake_pbx::{FakeCall, FakePbx};
use time::OffsetDateTime;

const API_KEY: &str = "pbx-api-key";
/// 2024-05-01 00:00:00 UTC.
const DAY: i64 = 1_714_521_600;

fn policy() -> HttpPolicy {
    HttpPolicy {
        timeout: Duration::from_secs(2),
        ..HttpPolicy::default()
    }
}

fn pbx_account(fake: &FakePbx, api_key: &str) -> PbxAccount {
    PbxAccount {
        domain: fake.domain.clone(),
        api_key: api_key.to_owned().into(),
    }
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a valid instant")
}

fn call(uuid: &str, start: i64, direction: &'static str) -> FakeCall {
    FakeCall {
        uuid: uuid.to_owned(),
        caller: "998901234567".into(),
        destination: "101".into(),
        start,
        duration: 60,
        talk: 45,
        direction,
        audio: Bytes::from_static(b"ID3 fake mp3 audio"),
    }
}

async fn pbx() -> (FakePbx, OnlinePbx, PbxAccount) {
    install_tls_provider();
    let fake = FakePbx::start(API_KEY).await;
    let adapter = OnlinePbx::new(fake.base_url.clone(), policy());
    let account = pbx_account(&fake, API_KEY);
    (fake, adapter, account)
}

fn permanent(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Err(ProviderError::Permanent(message)) => message,
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_pbx_key_is_refused_with_the_pbx_comment() {
    let (fake, adapter, _) = pbx().await;
    let message = permanent(adapter.check(&pbx_account(&fake, "wrong-key")).await);
    assert!(message.contains("Key is not valid"), "{message}");
    assert!(
        !message.contains("wrong-key"),
        "the key stays out of errors"
    );
}

#[tokio::test]
async fn the_fake_pbx_takes_only_form_encoded_bodies() {
    let (fake, _, _) = pbx().await;
    let url = format!("{}/{}/auth.json", fake.base_url, fake.domain);
    let response = reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({"auth_key": API_KEY}))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn the_pbx_session_is_kept_between_requests() {
    let (fake, adapter, account) = pbx().await;
    fake.add_call(call("in-1", DAY + 100, "inbound"));
    fake.add_call(call("out-1", DAY + 500, "outbound"));
    fake.add_call(call("local-1", DAY + 900, "local"));
    fake.add_call(call("late", DAY + 10_000, "inbound"));

    let calls = adapter
        .calls(&account, at(DAY), at(DAY + 1_000))
        .await
        .expect("the history");
    let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["in-1", "out-1", "local-1"]);
    let inbound = &calls[0];
    assert_eq!(inbound.started_at, at(DAY + 100));
    assert_eq!(inbound.ended_at, at(DAY + 160));
    assert_eq!((inbound.duration_seconds, inbound.talk_seconds), (60, 45));
    assert_eq!(inbound.client_number(), Some("998901234567"));
    assert_eq!(inbound.operator_extension(), "101");
    assert_eq!(calls[1].direction, CallDirection::Outbound);
    assert_eq!(calls[2].direction, CallDirection::Internal);

    adapter
        .calls(&account, at(DAY), at(DAY + 20_000))
        .await
        .expect("the history again");
    let one = adapter.call(&account, "late").await.expect("one call");
    assert_eq!(one.map(|c| c.id), Some("late".to_owned()));
    assert_eq!(adapter.call(&account, "nope").await.expect("no call"), None);
    assert_eq!(fake.auth_calls(), 1, "one authentication for every request");
    assert_eq!(fake.search_calls(), 4);
}

#[tokio::test]
async fn an_expired_pbx_session_is_renewed_once() {
    let (fake, adapter, account) = pbx().await;
    fake.add_call(call("in-1", DAY + 100, "inbound"));
    adapter.check(&account).await.expect("the key is accepted");
    fake.expire_sessions();

    let calls = adapter
        .calls(&account, at(DAY), at(DAY + 1_000))
        .await
        .expect("the history after renewing the session");
    assert_eq!(calls.len(), 1);
    assert_eq!(fake.auth_calls(), 2);
    assert_eq!(
        fake.search_calls(),
        2,
        "the refused search and its repetition"
    );
}

#[tokio::test]
async fn recordings_download_with_their_file_name() {
    let (fake, adapter, account) = pbx().await;
    fake.add_call(call("in-1", DAY + 100, "inbound"));

    let audio = adapter
        .download(&account, "in-1")
        .await
        .expect("the recording");
    assert_eq!(audio.bytes, Bytes::from_static(b"ID3 fake mp3 audio"));
    assert_eq!(audio.file_name, "in-1.mp3");
    assert_eq!(fake.download_calls(), 1);
}

#[tokio::test]
async fn failing_downloads_are_transient_and_missing_recordings_permanent() {
    let (fake, adapter, account) = pbx().await;
    fake.add_call(call("in-1", DAY + 100, "inbound"));
    fake.fail_downloads("in-1", 1, 500);

    let failed = adapter.download(&account, "in-1").await;
    assert!(
        matches!(failed, Err(ProviderError::Transient(_))),
        "{failed:?}"
    );
    adapter
        .download(&account, "in-1")
        .await
        .expect("the next try succeeds");

    let message = permanent(adapter.download(&account, "unknown").await);
    assert!(message.contains("no recording"), "{message}");

    fake.slow_downloads(Duration::from_secs(3));
    let slow = adapter.download(&account, "in-1").await;
    assert!(
        matches!(slow, Err(ProviderError::Transient(_))),
        "a timeout is transient: {slow:?}"
    );
}

#[tokio::test]
async fn pbx_users_are_read_with_numeric_or_text_extensions() {
    let (fake, adapter, account) = pbx().await;
    fake.set_users(&[("101", "Aziza"), ("0102", "Bekzod")]);

    let users = adapter.users(&account).await.expect("the users");
    assert_eq!(
        users,
        [
            PbxUser {
                extension: "101".into(),
                name: "Aziza".into()
            },
            PbxUser {
                extension: "0102".into(),
                name: "Bekzod".into()
            },
        ]
    );
}

async fn bitrix(min_interval: Duration) -> (FakeBitrix, Bitrix24, BitrixAccount) {
    install_tls_provider();
    let fake = FakeBitrix::start().await;
    let adapter = Bitrix24::new(policy(), min_interval);
    let account = BitrixAccount {
        webhook_url: fake.webhook_url().into(),
    };
    (fake, adapter, account)
}

#[tokio::test]
async fn a_wrong_webhook_is_refused_with_the_portal_description() {
    let (fake, adapter, _) = bitrix(Duration::from_millis(10)).await;
    let wrong = BitrixAccount {
        webhook_url: format!("{}/rest/1/wrong/", fake.base_url).into(),
    };
    let message = permanent(adapter.check(&wrong).await);
    assert!(message.contains("Invalid request credentials"), "{message}");
    assert!(
        !message.contains("wrong"),
        "the webhook stays out of errors"
    );
}

#[tokio::test]
async fn contacts_are_found_by_the_exact_phone() {
    let (fake, adapter, account) = bitrix(Duration::from_millis(10)).await;
    fake.add_contact("7", &["+998901234567", "901234567"], "Dilnoza", "Karimova");
    adapter.check(&account).await.expect("the webhook works");

    let contact = adapter
        .find_contact(&account, "+998901234567")
        .await
        .expect("a lookup")
        .expect("a contact");
    assert_eq!(
        (contact.id.as_str(), contact.name.as_str()),
        ("7", "Dilnoza Karimova")
    );
    assert!(
        adapter
            .find_contact(&account, "998901234567")
            .await
            .expect("a lookup")
            .is_none(),
        "only the number as written matches"
    );
    let queries: Vec<String> = fake.requests().into_iter().map(|(_, _, q)| q).collect();
    assert!(
        queries
            .iter()
            .any(|q| q.contains("filter[PHONE]=+998901234567")),
        "{queries:?}"
    );
}

#[tokio::test]
async fn deals_of_every_page_and_the_stage_names() {
    let (fake, adapter, account) = bitrix(Duration::from_millis(10)).await;
    for n in 0..60 {
        let closed = if n == 0 {
            "2024-06-01T18:30:00+05:00"
        } else {
            ""
        };
        fake.add_deal(
            "7",
            &n.to_string(),
            &format!("Deal {n}"),
            "C1:NEW",
            "2024-05-01T10:00:00+03:00",
            closed,
        );
    }
    fake.add_deal("8", "other", "Someone else's", "NEW", "", "");
    fake.add_stage("DEAL_STAGE", "NEW", "New");
    fake.add_stage("DEAL_STAGE_1", "C1:NEW", "Fresh lead");
    fake.add_stage("SOURCE", "CALL", "Call");

    let deals = adapter.deals(&account, "7").await.expect("the deals");
    assert_eq!(deals.len(), 60);
    assert_eq!(deals[0].title, "Deal 0");
    assert_eq!(deals[0].stage_id, "C1:NEW");
    assert_eq!(deals[0].stage, None);
    assert_eq!(deals[0].created_at, Some(at(DAY + 7 * 3600)));
    assert_eq!(
        deals[0].closed_at,
        Some(at(DAY + 31 * 86_400 + 13 * 3600 + 1800))
    );
    assert_eq!(deals[1].closed_at, None);
    let pages = fake
        .requests()
        .into_iter()
        .filter(|(_, method, _)| method == "crm.deal.list")
        .count();
    assert_eq!(pages, 2);

    let stages = adapter.stage_names(&account).await.expect("the stages");
    assert_eq!(stages.len(), 2);
    assert_eq!(stages["NEW"], "New");
    assert_eq!(stages["C1:NEW"], "Fresh lead");
}

#[tokio::test]
async fn a_full_request_bucket_is_waited_out() {
    let (fake, adapter, account) = bitrix(Duration::from_millis(10)).await;
    fake.add_contact("7", &["901234567"], "Dilnoza", "");
    fake.limit_next(1);

    let contact = adapter
        .find_contact(&account, "901234567")
        .await
        .expect("a lookup after the wait")
        .expect("a contact");
    assert_eq!(contact.name, "Dilnoza");
    assert_eq!(fake.requests().len(), 2);

    fake.limit_next(10);
    let limited = adapter.find_contact(&account, "901234567").await;
    assert!(
        matches!(limited, Err(ProviderError::RateLimited { .. })),
        "{limited:?}"
    );
    assert_eq!(
        fake.requests().len(),
        2 + 4,
        "the request and three retries"
    );
}

#[tokio::test]
async fn requests_to_one_portal_are_paced() {
    let (fake, adapter, account) = bitrix(Duration::from_millis(200)).await;
    let lookups = ["901234567", "+998901234567", "998901234567"]
        .map(|phone| adapter.find_contact(&account, phone));
    for result in futures_util::future::join_all(lookups).await {
        assert!(result.expect("a lookup").is_none());
    }

    let mut times: Vec<_> = fake.requests().into_iter().map(|(at, _, _)| at).collect();
    times.sort();
    assert_eq!(times.len(), 3);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(190), "requests {gap:?} apart");
    }
}
