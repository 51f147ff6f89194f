use dialix_tests::{problem, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn an_admin_creates_an_account_that_can_then_log_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let response = app
        .post(
            "/admin/users",
            Some(&admin),
            &json!({"email": "New@Acme.uz", "username": "New.Op", "password": "new-op-pass"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["email"], "new@acme.uz");
    assert_eq!(created["username"], "new.op");
    assert_eq!(created["role"], "user", "role defaults to user");
    assert_eq!(created["is_active"], true);
    assert_eq!(created["is_blocked"], false);
    assert_eq!(created["company_id"], Value::Null);
    assert!(created.get("password").is_none());

    let tokens = app.tokens("new@acme.uz", "new-op-pass").await;
    let me: Value = app
        .get("/auth/me", Some(&tokens.access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], created["id"]);
}

#[tokio::test]
async fn only_platform_admins_create_accounts() {
    let app = spawn_app().await;
    let user = app.user_token("plainuser").await;
    let body = json!({"email": "x@acme.uz", "username": "xuser", "password": "x-password"});
    let forbidden = problem(app.post("/admin/users", Some(&user), &body).await, 403).await;
    assert_eq!(forbidden["type"], "/problems/forbidden");
    problem(app.post("/admin/users", None, &body).await, 401).await;
    // Nothing was created by the refused attempts.
    problem(app.login("x@acme.uz", "x-password").await, 401).await;
}

#[tokio::test]
async fn duplicate_emails_and_usernames_conflict_case_insensitively() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let first = json!({"email": "dup@acme.uz", "username": "dupuser", "password": "dup-password"});
    assert_eq!(
        app.post("/admin/users", Some(&admin), &first)
            .await
            .status(),
        201
    );

    let same_email =
        json!({"email": "DUP@acme.uz", "username": "other", "password": "dup-password"});
    let body = problem(
        app.post("/admin/users", Some(&admin), &same_email).await,
        409,
    )
    .await;
    assert!(body["errors"]["email"].is_string(), "{body}");

    let same_username =
        json!({"email": "other@acme.uz", "username": "DupUser", "password": "dup-password"});
    let body = problem(
        app.post("/admin/users", Some(&admin), &same_username).await,
        409,
    )
    .await;
    assert!(body["errors"]["username"].is_string(), "{body}");
}

#[tokio::test]
async fn invalid_fields_are_all_reported_with_422() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = problem(
        app.post(
            "/admin/users",
            Some(&admin),
            &json!({
                "email": "not-an-email",
                "username": "a",
                "password": "short",
                "company_id": uuid::Uuid::now_v7(),
            }),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(body["type"], "/problems/validation-error");
    let errors = body["errors"].as_object().unwrap();
    let mut fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(fields, ["company_id", "email", "password", "username"]);
    assert_eq!(errors["password"], "must be at least 8 characters long");

    let unknown_role = json!({
        "email": "r@acme.uz", "username": "ruser", "password": "r-password", "role": "root"
    });
    problem(
        app.post("/admin/users", Some(&admin), &unknown_role).await,
        422,
    )
    .await;
}

#[tokio::test]
async fn an_account_can_belong_to_an_existing_company() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let company: Value = app
        .post("/company", Some(&admin), &json!({"name": "Acme"}))
        .await
        .json()
        .await
        .unwrap();
    let created = app
        .create_account(json!({
            "email": "member@acme.uz", "username": "member", "password": "member-pass",
            "company_id": company["id"], "role": "user"
        }))
        .await;
    assert_eq!(created["company_id"], company["id"]);
}
