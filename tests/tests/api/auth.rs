use dialix_account::{AccessClaims, AccessTokens};
use dialix_infrastructure::JwtAccessTokens;
use dialix_kernel::AccountId;
use dialix_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, problem, spawn_app, spawn_app_with};
use futures_util::future::join_all;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn login_by_email_or_username_returns_a_bearer_token_pair() {
    let app = spawn_app().await;
    app.create_account(json!({
        "email": "Operator@Acme.uz", "username": "Operator1", "password": "operator-pass"
    }))
    .await;

    for login in [
        json!({"email": "operator@acme.uz", "password": "operator-pass"}),
        json!({"email": "OPERATOR@ACME.UZ", "password": "operator-pass"}),
        json!({"username": "operator1", "password": "operator-pass"}),
    ] {
        let response = app.post("/auth/login", None, &login).await;
        assert_eq!(response.status(), 200, "{login}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 900);
        assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
        assert_eq!(body["refresh_token"].as_str().unwrap().len(), 64);
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_account_are_indistinguishable() {
    let app = spawn_app().await;
    let wrong_password = problem(app.login(ADMIN_EMAIL, "not-the-password").await, 401).await;
    let unknown = problem(app.login("nobody@dialix.test", "whatever-pass").await, 401).await;
    assert_eq!(wrong_password, unknown);
    assert_eq!(wrong_password["detail"], "invalid login or password");
}

#[tokio::test]
async fn me_returns_the_callers_account_without_the_password_hash() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let response = app.get("/auth/me", Some(&token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], ADMIN_EMAIL);
    assert_eq!(body["role"], "admin");
    assert!(body["last_activity"].is_string(), "login stamps activity");
    let text = body.to_string();
    assert!(!text.contains("argon2") && body.get("password").is_none());
}

#[tokio::test]
async fn me_needs_a_valid_unexpired_untampered_token() {
    let app = spawn_app().await;
    let admin_id: AccountId = {
        let token = app.admin_token().await;
        let me: Value = app
            .get("/auth/me", Some(&token))
            .await
            .json()
            .await
            .unwrap();
        me["id"].as_str().unwrap().parse().unwrap()
    };

    let missing = problem(app.get("/auth/me", None).await, 401).await;
    assert_eq!(missing["type"], "/problems/unauthenticated");

    let now = OffsetDateTime::now_utc();
    let expired = JwtAccessTokens::new(JWT_SECRET.as_bytes())
        .issue(&AccessClaims {
            account_id: admin_id,
            session: uuid::Uuid::now_v7(),
            issued_at: now - Duration::hours(1),
            expires_at: now - Duration::seconds(1),
        })
        .unwrap();
    problem(app.get("/auth/me", Some(&expired)).await, 401).await;

    let foreign = JwtAccessTokens::new(b"someone-elses-secret-of-enough-length")
        .issue(&AccessClaims {
            account_id: admin_id,
            session: uuid::Uuid::now_v7(),
            issued_at: now,
            expires_at: now + Duration::minutes(5),
        })
        .unwrap();
    problem(app.get("/auth/me", Some(&foreign)).await, 401).await;

    let valid = app.admin_token().await;
    let (head, signature) = valid.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{head}.{flipped}{}", &signature[1..]);
    problem(app.get("/auth/me", Some(&tampered)).await, 401).await;

    let response = app
        .client
        .get(app.url("/auth/me"))
        .header("authorization", format!("Basic {valid}"))
        .send()
        .await
        .unwrap();
    let body = problem(response, 401).await;
    assert!(body["detail"].as_str().unwrap().contains("Bearer"));
    assert_eq!(app.get("/auth/me", Some(&valid)).await.status(), 200);
}

#[tokio::test]
async fn a_blocked_account_is_refused_at_once_and_cannot_log_in() {
    let app = spawn_app().await;
    app.create_account(json!({
        "email": "blocked@acme.uz", "username": "blocked", "password": "blocked-pass"
    }))
    .await;
    let tokens = app.tokens("blocked@acme.uz", "blocked-pass").await;
    assert_eq!(
        app.get("/auth/me", Some(&tokens.access)).await.status(),
        200
    );

    app.execute_sql("UPDATE account SET is_blocked = TRUE WHERE email = 'blocked@acme.uz'")
        .await;

    problem(app.get("/auth/me", Some(&tokens.access)).await, 401).await;
    let login = problem(app.login("blocked@acme.uz", "blocked-pass").await, 403).await;
    assert_eq!(login["detail"], "this account is blocked");
    let refresh = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await;
    problem(refresh, 401).await;
    // A wrong password still says nothing about the account's state.
    let wrong = problem(app.login("blocked@acme.uz", "wrong-pass").await, 401).await;
    assert_eq!(wrong["detail"], "invalid login or password");

    app.execute_sql(
        "UPDATE account SET is_blocked = FALSE, is_active = FALSE WHERE email = 'blocked@acme.uz'",
    )
    .await;
    let inactive = problem(app.login("blocked@acme.uz", "blocked-pass").await, 403).await;
    assert_eq!(inactive["detail"], "this account is deactivated");
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_session() {
    let app = spawn_app().await;
    let first = app.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let response = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let second: Value = response.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh);
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(app.get("/auth/me", Some(access)).await.status(), 200);

    let replay = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    problem(replay, 401).await;
    let after_replay = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": second_refresh}),
        )
        .await;
    problem(after_replay, 401).await;

    let other_session = app.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let unaffected = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": other_session.refresh}),
        )
        .await;
    assert_eq!(unaffected.status(), 200, "other sessions live on");

    let garbage = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": "not-a-token"}),
        )
        .await;
    problem(garbage, 401).await;
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_succeed_once() {
    let app = spawn_app().await;
    let tokens = app.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = json!({"refresh_token": tokens.refresh});
    let attempts = (0..6).map(|_| app.post("/auth/refresh", None, &body));
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_and_is_idempotent() {
    let app = spawn_app().await;
    let tokens = app.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = json!({"refresh_token": tokens.refresh});
    assert_eq!(app.post("/auth/logout", None, &body).await.status(), 204);
    problem(app.post("/auth/refresh", None, &body).await, 401).await;
    assert_eq!(app.post("/auth/logout", None, &body).await.status(), 204);
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let app = spawn_app_with(|config| config.login_max_failures = 3).await;
    app.create_account(json!({
        "email": "someone@acme.uz", "username": "someone", "password": "someone-pass"
    }))
    .await;
    for _ in 0..3 {
        problem(app.login(ADMIN_EMAIL, "guess").await, 401).await;
    }
    let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    let body = problem(response, 429).await;
    assert_eq!(body["type"], "/problems/rate-limited");

    // Other logins are not locked out by someone guessing this one.
    assert_eq!(
        app.login("someone@acme.uz", "someone-pass").await.status(),
        200
    );
}

/// Two API processes on one database allow together the failures one would: the count lives
/// in the database, not in either process.
#[tokio::test]
async fn processes_on_one_database_share_the_failure_count() {
    let first = spawn_app_with(|config| config.login_max_failures = 3).await;
    let second = first.sibling(|config| config.login_max_failures = 3).await;
    problem(first.login(ADMIN_EMAIL, "guess").await, 401).await;
    problem(second.login(ADMIN_EMAIL, "guess").await, 401).await;
    problem(first.login(ADMIN_EMAIL, "guess").await, 401).await;
    problem(second.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 429).await;
    problem(first.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 429).await;
}

#[tokio::test]
async fn failures_from_one_address_are_rate_limited_across_logins() {
    let app = spawn_app_with(|config| config.login_max_failures_per_address = 4).await;
    for n in 0..4 {
        problem(
            app.login(&format!("user{n}@nowhere.test"), "guess").await,
            401,
        )
        .await;
    }
    problem(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, 429).await;
}
