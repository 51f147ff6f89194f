//! Graceful shutdown (what SIGTERM does): HTTP drains, workers stop taking jobs, a job in
//! flight finishes within the grace period or is handed back to the queue at once, and no
//! step is charged twice.

use std::time::{Duration, Instant};

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, use_fakes};
use dialix_tests::{TestApp, spawn_app_with};
use serde_json::Value;

/// STT 63000*3/60 and general analysis 21000*3/60 for a 2.5 s call (billed as 3 s).
const STT_PRICE: i64 = 3150;
const GENERAL_PRICE: i64 = 1050;

/// Every job as `status:attempts:lease`; the lease of a pending job is `free` when any
/// worker may claim it now.
async fn jobs(app: &TestApp) -> Vec<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 1000;
    let mut jobs = app
        .query_strings(&format!(
            "SELECT status || ':' || CAST(attempts AS TEXT) || ':' || CASE \
               WHEN status <> 'pending' THEN 'closed' \
               WHEN locked_by IS NULL AND locked_until IS NULL AND available_at <= {now} \
               THEN 'free' ELSE 'held' END \
             FROM processing_job"
        ))
        .await;
    jobs.sort();
    jobs
}

async fn upload(app: &TestApp, token: &str, names: &[&'static str]) -> Vec<Value> {
    let form = files(names.iter().map(|name| (*name, wav(2500))).collect());
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_job_cut_off_at_shutdown_is_handed_back_and_finished_by_another_worker_charged_once() {
    let fakes = FakeProviders::start().await;
    // The analysis hangs far beyond the grace period; the transcription is already charged.
    fakes.script_chat([Reply::Slow(Duration::from_secs(60))]);
    let mut first = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.shutdown_grace = Duration::from_secs(1);
    })
    .await;
    let company = first.create_company("Rolling deploy").await;
    first.fund(&company, 100_000).await;
    let (_, token) = first.member("agent", &company).await;
    let record = upload(&first, &token, &["call.wav"]).await.remove(0);
    let id = record["id"].as_str().unwrap();
    first.wait_for_status(&token, id, "analysing").await;
    while fakes.chat_calls() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(first.charges(&company).await, [-STT_PRICE]);

    let started = Instant::now();
    first.shut_down().await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "cut off after the grace period, not after the reply: {took:?}"
    );
    assert_eq!(
        jobs(&first).await,
        ["pending:0:free"],
        "handed back, ready now, the cut-off claim not counted as an attempt"
    );

    // The lease (30 s) has not run out: the job was handed back, not abandoned.
    let second = first.sibling(|config| use_fakes(config, &fakes)).await;
    let token = second
        .tokens("agent@dialix.test", "user-password")
        .await
        .access;
    let done = second.wait_for_status(&token, id, "done").await;
    assert_eq!(done["analysis"]["sentiment_client"]["value"], "neutral");
    assert_eq!(
        second.charges(&company).await,
        [-STT_PRICE, -GENERAL_PRICE],
        "each step charged exactly once"
    );
    let balance = second.get_json("/balance", &token).await;
    assert_eq!(balance["balance"], 100_000 - STT_PRICE - GENERAL_PRICE);
    assert_eq!(balance["reserved"], 0);
    assert_eq!(
        (fakes.transcription_calls(), fakes.chat_calls()),
        (1, 2),
        "the stored transcription was not repeated"
    );
    assert_eq!(jobs(&second).await, ["done:1:closed"]);
}

#[tokio::test]
async fn a_job_that_ends_within_the_grace_period_completes_and_no_new_job_is_taken() {
    let fakes = FakeProviders::start().await;
    fakes.script_transcription([Reply::Slow(Duration::from_millis(1500))]);
    let mut app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.shutdown_grace = Duration::from_secs(60);
    })
    .await;
    let company = app.create_company("Patient").await;
    app.fund(&company, 100_000).await;
    let (_, token) = app.member("agent", &company).await;
    upload(&app, &token, &["a.wav", "b.wav"]).await;
    while fakes.transcription_calls() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    app.shut_down().await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "done when the job was, not at the end of the grace period"
    );
    assert_eq!(
        jobs(&app).await,
        ["done:1:closed", "pending:0:free"],
        "the running job finished; the queued one was left for another worker"
    );

    let reader = app.sibling(|_| {}).await;
    let token = reader
        .tokens("agent@dialix.test", "user-password")
        .await
        .access;
    let mut statuses: Vec<String> = reader.get_json("/records", &token).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["done", "queued"]);
    assert_eq!(reader.charges(&company).await, [-STT_PRICE, -GENERAL_PRICE]);
    assert_eq!(fakes.transcription_calls(), 1);
}
