use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, use_fakes};
use dialix_tests::{ADMIN_EMAIL, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_answers_and_every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app.get("/health", None).await;
    assert_eq!(response.status(), 200);
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&generated).is_ok(),
        "a UUID is generated"
    );

    let echoed = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "dashboard-req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "dashboard-req-42");

    let unsafe_id = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let replaced = unsafe_id.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&replaced).is_ok(),
        "errors carry an id too"
    );
}

#[tokio::test]
async fn ready_follows_the_database() {
    let app = spawn_app().await;
    let response = app.get("/ready", None).await;
    assert_eq!(response.status(), 200);

    app.break_database().await;
    let body = problem(app.get("/ready", None).await, 503).await;
    assert_eq!(body["type"], "/problems/service-unavailable");
    assert_eq!(
        app.get("/health", None).await.status(),
        200,
        "liveness is unaffected"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_answer_only_the_token() {
    const TOKEN: &str = "metrics-token-for-tests";
    let app = spawn_app_with(|config| {
        config.metrics_token = Some(secrecy::SecretString::from(TOKEN));
    })
    .await;
    let admin = app.admin_token().await;
    for id in [uuid::Uuid::nil(), uuid::Uuid::max()] {
        let path = format!("/records/{id}");
        assert_eq!(app.get(&path, Some(&admin)).await.status(), 404);
    }
    assert_eq!(app.get("/no-such-route", None).await.status(), 404);
    let refused = app
        .post(
            "/auth/login",
            None,
            &serde_json::json!({"email": ADMIN_EMAIL, "password": "wrong-password"}),
        )
        .await;
    assert_eq!(refused.status(), 401);

    problem(app.get("/metrics", None).await, 401).await;
    problem(app.get("/metrics", Some("not-the-token")).await, 401).await;
    let scraped = app.get("/metrics", Some(TOKEN)).await;
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = scraped.text().await.unwrap();
    for line in [
        r#"dialix_http_requests_total{method="GET",route="/records/{id}",status="404"} 2"#,
        r#"dialix_http_request_duration_seconds_count{method="GET",route="/records/{id}"} 2"#,
        r#"dialix_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"dialix_http_requests_total{method="POST",route="/auth/login",status="401"} 1"#,
        r#"dialix_http_requests_total{method="GET",route="/metrics",status="401"} 2"#,
        "dialix_login_failures_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }

    for line in [
        r#"dialix_processing_jobs{state="ready"} 0"#,
        "dialix_processing_oldest_ready_job_age_seconds 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }

    let off = spawn_app().await;
    problem(off.get("/metrics", Some(TOKEN)).await, 404).await;
}

/// The queue gauges read the shared queue (providers configured, no worker running, so jobs
/// stay queued): one dead, one waiting out a retry's backoff, one ready for 90 seconds.
#[tokio::test]
async fn metrics_report_the_processing_queue() {
    const TOKEN: &str = "metrics-token-for-tests";
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.processing.workers = 0;
        config.metrics_token = Some(secrecy::SecretString::from(TOKEN));
    })
    .await;
    let acme = app.create_company("Acme").await;
    app.fund(&acme, 1_000_000).await;
    let (_, token) = app.member("agent", &acme).await;
    let form = files(vec![
        ("a.wav", wav(500)),
        ("b.wav", wav(500)),
        ("c.wav", wav(500)),
    ]);
    assert_eq!(app.multipart("/records", &token, form).await.status(), 201);
    let first = "(SELECT id FROM processing_job ORDER BY id LIMIT 1)";
    let last = "(SELECT id FROM processing_job ORDER BY id DESC LIMIT 1)";
    app.execute_sql(&format!(
        "UPDATE processing_job SET status = 'dead' WHERE id = {first}"
    ))
    .await;
    app.execute_sql(&format!(
        "UPDATE processing_job SET available_at = available_at + 3600000 WHERE id = {last}"
    ))
    .await;
    app.execute_sql(&format!(
        "UPDATE processing_job SET available_at = available_at - 90000 \
         WHERE status = 'pending' AND id <> {last}"
    ))
    .await;

    let text = app.get("/metrics", Some(TOKEN)).await.text().await.unwrap();
    for line in [
        r#"dialix_processing_jobs{state="ready"} 1"#,
        r#"dialix_processing_jobs{state="delayed"} 1"#,
        r#"dialix_processing_jobs{state="running"} 0"#,
        r#"dialix_processing_jobs{state="dead"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    let age: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("dialix_processing_oldest_ready_job_age_seconds "))
        .unwrap()
        .parse()
        .unwrap();
    assert!((90.0..150.0).contains(&age), "waited {age} s");
}
