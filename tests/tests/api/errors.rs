use dialix_tests::{problem, spawn_app, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn malformed_json_is_400_and_wrong_shapes_are_422() {
    let app = spawn_app().await;
    let send = |body: &'static str| {
        app.client
            .post(app.url("/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let body = problem(send("{\"email\": ").await.unwrap(), 400).await;
    assert_eq!(body["type"], "/problems/bad-request");

    let body = problem(
        send("{\"email\": 5, \"password\": \"x\"}").await.unwrap(),
        422,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("invalid type"));

    let body = problem(send("{\"email\": \"a@b.uz\"}").await.unwrap(), 422).await;
    assert_eq!(body["errors"]["password"], "is required");

    let body = problem(
        send("{\"email\": \"a@b.uz\", \"password\": \"x\", \"admin\": true}")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"]["admin"], "is not a known field");

    let body = problem(send("{\"password\": \"x\"}").await.unwrap(), 422).await;
    assert!(
        body["errors"]["email"].is_string(),
        "login needs email or username"
    );
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_get_problem_bodies() {
    let app = spawn_app().await;
    let body = problem(app.get("/no/such/route", None).await, 404).await;
    assert_eq!(body["type"], "/problems/not-found");

    let response = app
        .client
        .delete(app.url("/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    let body = problem(response, 405).await;
    assert_eq!(body["type"], "/problems/method-not-allowed");

    let response = app.client.put(app.url("/health")).send().await.unwrap();
    problem(response, 405).await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("content-type", "text/plain")
        .body("email=a&password=b")
        .send()
        .await
        .unwrap();
    problem(response, 415).await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app_with(|config| config.max_body_bytes = 1024).await;
    let response = app
        .post(
            "/auth/login",
            None,
            &json!({"email": "a@b.uz", "password": "x".repeat(4096)}),
        )
        .await;
    let body = problem(response, 413).await;
    assert_eq!(body["type"], "/problems/payload-too-large");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = spawn_app_with(|config| {
        config.cors_allowed_origins = vec!["https://app.dialix.uz".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.dialix.uz").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.dialix.uz"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(refused.status().is_client_error());
}

#[tokio::test]
async fn control_characters_are_refused_not_fatal() {
    let app = spawn_app().await;
    problem(app.login("adm\u{0}in@dialix.test", "x-password").await, 401).await;
    let admin = app.admin_token().await;
    let body = problem(
        app.post("/company", Some(&admin), &json!({"name": "Evil\u{0}Co"}))
            .await,
        422,
    )
    .await;
    assert!(body["errors"]["name"].is_string());
    problem(
        app.post(
            "/company",
            Some(&admin),
            &json!({"name": "Fine", "description": "bell\u{7}"}),
        )
        .await,
        422,
    )
    .await;
    let body = problem(
        app.post(
            "/admin/users",
            Some(&admin),
            &json!({"email": "a\u{0}@b.uz", "username": "nul\u{0}user", "password": "long-enough"}),
        )
        .await,
        422,
    )
    .await;
    assert!(body["errors"]["email"].is_string() && body["errors"]["username"].is_string());
    let created = app
        .post(
            "/company",
            Some(&admin),
            &json!({"name": "Multi-line", "description": "line one\nline two"}),
        )
        .await;
    assert_eq!(created.status(), 201);
}
