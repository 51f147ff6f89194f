//! What `/metrics` tells about processing: steps by outcome with their durations, requests to
//! each provider, and the metrics address of its own (`METRICS_BIND_ADDR`).

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, use_fakes};
use dialix_tests::{TestApp, problem, spawn_app_with};

const TOKEN: &str = "metrics-token-for-tests";

fn assert_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.lines().any(|l| l == *line), "{line} in:\n{text}");
    }
}

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics", Some(TOKEN)).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn processing_counts_each_step_and_provider_request_by_outcome() {
    let fakes = FakeProviders::start().await;
    // Both HTTP tries of the first transcription fail: that request fails, the job is retried
    // and the second request succeeds.
    fakes.script_transcription([Reply::Status(500, None), Reply::Status(500, None)]);
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.metrics_token = Some(secrecy::SecretString::from(TOKEN));
    })
    .await;
    let company = app.create_company("Measured").await;
    app.fund(&company, 100_000).await;
    let (_, token) = app.member("agent", &company).await;
    let response = app
        .multipart("/records", &token, files(vec![("call.wav", wav(2500))]))
        .await;
    assert_eq!(response.status(), 201);
    let record = &response.json::<Vec<serde_json::Value>>().await.unwrap()[0];
    app.wait_for_status(&token, record["id"].as_str().unwrap(), "done")
        .await;

    let text = scrape(&app).await;
    assert_lines(
        &text,
        &[
            r#"dialix_jobs_total{outcome="retry",step="transcription"} 1"#,
            r#"dialix_jobs_total{outcome="done",step="transcription"} 1"#,
            r#"dialix_jobs_total{outcome="done",step="analysis"} 1"#,
            r#"dialix_job_duration_seconds_count{step="transcription"} 2"#,
            r#"dialix_job_duration_seconds_count{step="analysis"} 1"#,
            r#"dialix_provider_requests_total{outcome="error",provider="whisper"} 1"#,
            r#"dialix_provider_requests_total{outcome="ok",provider="whisper"} 1"#,
            r#"dialix_provider_requests_total{outcome="ok",provider="openai_chat"} 1"#,
            r#"dialix_provider_request_duration_seconds_count{provider="whisper"} 2"#,
            r#"dialix_provider_request_duration_seconds_count{provider="openai_chat"} 1"#,
        ],
    );
    for absent in ["failed", "handed_back", "interrupted"] {
        assert!(
            !text.contains(&format!("outcome=\"{absent}\"")),
            "no {absent} step in:\n{text}"
        );
    }
    assert!(!text.contains("provider=\"mohirai\""), "{text}");
}

#[tokio::test]
async fn the_metrics_address_serves_metrics_without_a_token() {
    let app = spawn_app_with(|config| {
        config.metrics_token = Some(secrecy::SecretString::from(TOKEN));
        config.metrics_bind_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let open = format!("{}/metrics", app.metrics_address.as_deref().unwrap());
    let scraped = app.client.get(&open).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_lines(
        &scraped.text().await.unwrap(),
        &[r#"dialix_processing_jobs{state="ready"} 0"#],
    );
    // The main port still asks for the token.
    problem(app.get("/metrics", None).await, 401).await;
    assert_eq!(app.get("/metrics", Some(TOKEN)).await.status(), 200);

    // Without a token the main port has no metrics; their own address still serves them.
    let tokenless = spawn_app_with(|config| {
        config.metrics_bind_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    problem(tokenless.get("/metrics", Some(TOKEN)).await, 404).await;
    let open = format!("{}/metrics", tokenless.metrics_address.as_deref().unwrap());
    assert_eq!(app.client.get(&open).send().await.unwrap().status(), 200);
}
