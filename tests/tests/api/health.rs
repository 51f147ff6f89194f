use dialix_tests::{problem, spawn_app};

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
