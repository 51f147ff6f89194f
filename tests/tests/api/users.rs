use dialix_tests::{problem, spawn_app};
use serde_json::{Value, json};

fn usernames(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_search_filter_sort_and_page_accounts() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme Calls").await;
    let other = app.create_company("Zeta").await;
    let (_, _) = app.member("alice", &acme).await;
    let (bob_id, _) = app.member("bob", &acme).await;
    app.member("carol", &other).await;
    let admin = app.admin_token().await;
    app.post(
        &format!("/admin/user/{bob_id}/block"),
        Some(&admin),
        &json!({}),
    )
    .await;

    let all = app.get_json("/admin/users?sort=username", &admin).await;
    assert_eq!(all["total"], 4);
    assert_eq!(usernames(&all), ["admin", "alice", "bob", "carol"]);
    assert_eq!(all["items"][1]["company_name"], "Acme Calls");
    let by_company_name = app
        .get_json("/admin/users?search=acme%20CALLS", &admin)
        .await;
    assert_eq!(usernames(&by_company_name).len(), 2);
    let by_email = app.get_json("/admin/users?search=CAROL@", &admin).await;
    assert_eq!(usernames(&by_email), ["carol"]);
    let wildcard = app.get_json("/admin/users?search=%25", &admin).await;
    assert_eq!(wildcard["total"], 0, "% is matched literally");
    let blocked = app.get_json("/admin/users?is_blocked=true", &admin).await;
    assert_eq!(usernames(&blocked), ["bob"]);
    let admins = app.get_json("/admin/users?role=admin", &admin).await;
    assert_eq!(usernames(&admins), ["admin"]);
    let in_acme = app
        .get_json(
            &format!(
                "/admin/users?company_id={}&sort=-username",
                acme["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(usernames(&in_acme), ["bob", "alice"]);
    let page = app
        .get_json("/admin/users?sort=email&limit=2&offset=2", &admin)
        .await;
    assert_eq!(
        (page["total"].as_u64(), usernames(&page)),
        (Some(4), vec!["bob".to_owned(), "carol".to_owned()])
    );

    for bad in [
        "role=root",
        "sort=password",
        "is_active=yes",
        "company_id=1",
        "limit=0",
    ] {
        problem(
            app.get(&format!("/admin/users?{bad}"), Some(&admin)).await,
            422,
        )
        .await;
    }
}

#[tokio::test]
async fn a_users_details_carry_history_and_the_read_is_audited() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (user_id, _) = app.member("watched", &acme).await;
    let admin = app.admin_token().await;
    app.post(
        &format!("/company/{}/topup", acme["id"].as_str().unwrap()),
        Some(&admin),
        &json!({"amount": 42, "idempotency_key": "k"}),
    )
    .await;

    let details = app
        .get_json(&format!("/admin/user/{user_id}"), &admin)
        .await;
    assert_eq!(details["user"]["username"], "watched");
    let actions = dialix_tests::actions(&details["activity"]);
    assert_eq!(actions, ["LOGIN"]);
    assert_eq!(details["transactions"], json!([]));

    let me = app.get_json("/auth/me", &admin).await;
    let mine = app
        .get_json(
            &format!("/admin/user/{}", me["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(
        mine["transactions"][0]["amount"], 42,
        "the admin's top-up is theirs"
    );

    let views = app
        .get_json(
            &format!("/activity-logs/account/{user_id}?action=VIEW"),
            &admin,
        )
        .await;
    assert_eq!(views["total"], 1);
    problem(
        app.get(
            &format!("/admin/user/{}", uuid::Uuid::now_v7()),
            Some(&admin),
        )
        .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn updating_accounts_keeps_them_unique_and_rights_unescalated() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let other = app.create_company("Other").await;
    let (user_id, user) = app.member("editme", &acme).await;
    app.member("taken", &acme).await;
    let admin = app.admin_token().await;
    let path = format!("/admin/user/{user_id}");

    let changed = app
        .patch(
            &path,
            Some(&admin),
            &json!({"email": "New@Acme.uz", "company_id": other["id"], "role": "user"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["email"], "new@acme.uz");
    assert_eq!(changed["company_id"], other["id"]);
    let trail = app
        .get_json(
            &format!("/activity-logs/account/{user_id}?action=UPDATE"),
            &admin,
        )
        .await;
    let changes = &trail["items"][0]["details"]["changes"];
    assert_eq!(changes["email"]["old_value"], "editme@dialix.test");
    assert!(
        changes.get("role").is_none(),
        "unchanged fields are not recorded"
    );

    let clash = problem(
        app.patch(&path, Some(&admin), &json!({"username": "TAKEN"}))
            .await,
        409,
    )
    .await;
    assert!(clash["errors"]["username"].is_string());
    let invalid = problem(
        app.patch(
            &path,
            Some(&admin),
            &json!({"email": "nope", "username": "x"}),
        )
        .await,
        422,
    )
    .await;
    assert!(invalid["errors"]["email"].is_string() && invalid["errors"]["username"].is_string());
    problem(
        app.patch(&path, Some(&user), &json!({"role": "admin"}))
            .await,
        403,
    )
    .await;
    let me = app.get_json("/auth/me", &admin).await;
    problem(
        app.patch(
            &format!("/admin/user/{}", me["id"].as_str().unwrap()),
            Some(&admin),
            &json!({"role": "user"}),
        )
        .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn a_deleted_account_keeps_its_data_but_loses_all_access() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (user_id, _) = app.member("leaver", &acme).await;
    let tokens = app.tokens("leaver@dialix.test", "user-password").await;
    let admin = app.admin_token().await;
    let path = format!("/admin/user/{user_id}");

    assert_eq!(app.delete(&path, Some(&admin)).await.status(), 204);
    problem(app.get("/auth/me", Some(&tokens.access)).await, 401).await;
    problem(
        app.post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await,
        401,
    )
    .await;
    problem(app.login("leaver@dialix.test", "user-password").await, 403).await;
    let kept = app.get_json(&path, &admin).await;
    assert_eq!(kept["user"]["is_active"], false);
    problem(app.delete(&path, Some(&admin)).await, 404).await;
    let me = app.get_json("/auth/me", &admin).await;
    problem(
        app.delete(
            &format!("/admin/user/{}", me["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await,
        403,
    )
    .await;
}

#[tokio::test]
async fn password_resets_and_blocks_end_sessions() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (user_id, _) = app.member("forgetful", &acme).await;
    let tokens = app.tokens("forgetful@dialix.test", "user-password").await;
    let admin = app.admin_token().await;
    let reset = format!("/admin/user/{user_id}/reset-password");

    let short = problem(
        app.post(&reset, Some(&admin), &json!({"new_password": "short"}))
            .await,
        422,
    )
    .await;
    assert!(short["errors"]["new_password"].is_string());
    let done = app
        .post(
            &reset,
            Some(&admin),
            &json!({"new_password": "a-brand-new-secret"}),
        )
        .await;
    assert_eq!(done.status(), 204);
    problem(
        app.post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await,
        401,
    )
    .await;
    problem(
        app.login("forgetful@dialix.test", "user-password").await,
        401,
    )
    .await;
    let fresh = app
        .tokens("forgetful@dialix.test", "a-brand-new-secret")
        .await;
    let trail = app
        .get_json(
            &format!("/activity-logs/account/{user_id}?action=PASSWORD_RESET"),
            &admin,
        )
        .await;
    assert_eq!(
        trail["items"][0]["details"]["changes"]["password"],
        json!({"changed": true})
    );

    let block = format!("/admin/user/{user_id}/block");
    let blocked: Value = app
        .post(&block, Some(&admin), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(blocked["is_blocked"], true);
    problem(app.get("/auth/me", Some(&fresh.access)).await, 401).await;
    problem(app.post(&block, Some(&admin), &json!({})).await, 409).await;
    let unblock = format!("/admin/user/{user_id}/unblock");
    assert_eq!(
        app.post(&unblock, Some(&admin), &json!({})).await.status(),
        200
    );
    problem(
        app.post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": fresh.refresh}),
        )
        .await,
        401,
    )
    .await;
    assert_eq!(
        app.login("forgetful@dialix.test", "a-brand-new-secret")
            .await
            .status(),
        200
    );
    problem(app.post(&unblock, Some(&admin), &json!({})).await, 409).await;
}

#[tokio::test]
async fn users_manage_their_own_name_language_and_password() {
    let app = spawn_app().await;
    let user = app.user_token("selfie").await;
    app.user_token("occupied").await;
    let tokens = app.tokens("selfie@dialix.test", "user-password").await;

    let updated = app
        .patch(
            "/auth/me",
            Some(&user),
            &json!({"username": "Selfie2", "preferred_language": "ru"}),
        )
        .await;
    assert_eq!(updated.status(), 200);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(
        (
            updated["username"].as_str(),
            updated["preferred_language"].as_str()
        ),
        (Some("selfie2"), Some("ru"))
    );
    let bad = problem(
        app.patch(
            "/auth/me",
            Some(&user),
            &json!({"preferred_language": "fr"}),
        )
        .await,
        422,
    )
    .await;
    assert!(bad["errors"]["preferred_language"].is_string());
    problem(
        app.patch("/auth/me", Some(&user), &json!({"username": "occupied"}))
            .await,
        409,
    )
    .await;
    problem(
        app.patch("/auth/me", Some(&user), &json!({"role": "admin"}))
            .await,
        422,
    )
    .await;

    let wrong = problem(
        app.post(
            "/auth/change-password",
            Some(&user),
            &json!({"current_password": "not-it", "new_password": "another-secret"}),
        )
        .await,
        422,
    )
    .await;
    assert!(wrong["errors"]["current_password"].is_string());
    let changed = app
        .post(
            "/auth/change-password",
            Some(&user),
            &json!({"current_password": "user-password", "new_password": "another-secret"}),
        )
        .await;
    assert_eq!(changed.status(), 204);
    problem(
        app.post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await,
        401,
    )
    .await;
    assert_eq!(app.login("selfie2", "another-secret").await.status(), 200);
}
