use dialix_tests::{problem, spawn_app};
use futures_util::future::join_all;
use serde_json::{Value, json};

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn listing_companies_is_scoped_filtered_and_paginated() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let branch = app.create_company_under("Acme Branch", Some(&acme)).await;
    let other = app.create_company("Other Co").await;
    let admin = app.admin_token().await;

    let all = app.get_json("/companies", &admin).await;
    assert_eq!(all["total"], 3);
    assert_eq!(names(&all), ["Acme", "Acme Branch", "Other Co"]);
    let page = app.get_json("/companies?limit=1&skip=1", &admin).await;
    assert_eq!(
        (page["total"].as_u64(), names(&page)),
        (Some(3), vec!["Acme Branch".to_owned()])
    );
    let search = app.get_json("/companies?search=ACME", &admin).await;
    assert_eq!(search["total"], 2);
    let children = app
        .get_json(
            &format!("/companies?parent_company_id={}", id(&acme)),
            &admin,
        )
        .await;
    assert_eq!(names(&children), ["Acme Branch"]);
    assert_eq!(branch["hierarchy_level"], 1);

    let (boss_id, boss) = app.member("boss", &acme).await;
    app.grant(&acme, &boss_id, json!({"can_manage_users": true}))
        .await;
    let scoped = app.get_json("/companies", &boss).await;
    assert_eq!(names(&scoped), ["Acme", "Acme Branch"]);
    let (_, member) = app.member("plain", &other).await;
    assert_eq!(
        names(&app.get_json("/companies", &member).await),
        ["Other Co"]
    );

    for bad in [
        "is_active=maybe",
        "limit=500",
        "parent_company_id=42",
        "colour=red",
    ] {
        problem(
            app.get(&format!("/companies?{bad}"), Some(&admin)).await,
            422,
        )
        .await;
    }
}

#[tokio::test]
async fn company_details_carry_statistics_and_are_tenant_scoped() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    app.create_company_under("Acme Kids", Some(&acme)).await;
    let other = app.create_company("Other").await;
    let (_, member) = app.member("member", &acme).await;
    let (blocked_id, _) = app.member("blocked", &acme).await;
    let (_, outsider) = app.member("outsider", &other).await;
    let admin = app.admin_token().await;
    let path = format!("/company/{}", id(&acme));
    assert_eq!(
        app.post(
            &format!("/admin/user/{blocked_id}/block"),
            Some(&admin),
            &json!({})
        )
        .await
        .status(),
        200
    );
    let topup = json!({"amount": 125_000, "idempotency_key": "first"});
    assert_eq!(
        app.post(&format!("{path}/topup"), Some(&admin), &topup)
            .await
            .status(),
        201
    );

    let details = app.get_json(&path, &member).await;
    assert_eq!(details["name"], "Acme");
    let stats = &details["statistics"];
    assert_eq!(stats["users_active"], 1);
    assert_eq!(stats["users_blocked"], 1);
    assert_eq!(stats["sub_companies"], 1);
    assert_eq!(stats["balance"], 125_000);
    assert_eq!(stats["total_topped_up"], 125_000);
    assert_eq!(stats["total_spent"], 0);
    assert_eq!(details["settings"], json!({}));

    problem(app.get(&path, Some(&outsider)).await, 404).await;
    problem(
        app.get(&format!("/company/{}", uuid::Uuid::now_v7()), Some(&admin))
            .await,
        404,
    )
    .await;
    problem(app.get("/company/not-a-uuid", Some(&admin)).await, 404).await;
}

#[tokio::test]
async fn updating_a_company_checks_rights_and_audits_old_and_new() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    app.create_company("Taken Name").await;
    let (manager_id, manager) = app.member("manager", &acme).await;
    let (viewer_id, viewer) = app.member("viewer", &acme).await;
    app.grant(&acme, &manager_id, json!({"can_manage_settings": true}))
        .await;
    app.grant(&acme, &viewer_id, json!({"can_view_activity_logs": true}))
        .await;
    let admin = app.admin_token().await;
    let path = format!("/company/{}", id(&acme));

    let renamed = app
        .patch(
            &path,
            Some(&manager),
            &json!({"name": "Acme Group", "settings": {"purposes": ["sales"]}}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["name"], "Acme Group");

    problem(
        app.patch(&path, Some(&manager), &json!({"is_active": false}))
            .await,
        403,
    )
    .await;
    problem(
        app.patch(&path, Some(&viewer), &json!({"name": "Mine"}))
            .await,
        403,
    )
    .await;
    let clash = problem(
        app.patch(&path, Some(&admin), &json!({"name": "taken name"}))
            .await,
        409,
    )
    .await;
    assert!(clash["errors"]["name"].is_string());
    let bad = problem(
        app.patch(&path, Some(&admin), &json!({"name": "", "settings": [1]}))
            .await,
        422,
    )
    .await;
    assert!(bad["errors"]["name"].is_string() && bad["errors"]["settings"].is_string());
    let cleared = app
        .patch(
            &path,
            Some(&admin),
            &json!({"description": null, "is_active": true}),
        )
        .await;
    assert_eq!(cleared.status(), 200);

    let trail = app
        .get_json(
            &format!("/activity-logs/company/{}?action=UPDATE", id(&acme)),
            &admin,
        )
        .await;
    assert_eq!(trail["total"], 1, "unchanged fields write nothing");
    let changes = &trail["items"][0]["details"]["changes"];
    assert_eq!(
        changes["name"],
        json!({"old_value": "Acme", "new_value": "Acme Group"})
    );
    assert_eq!(
        changes["settings"]["new_value"],
        json!({"purposes": ["sales"]})
    );
    assert!(changes.get("is_active").is_none());
}

#[tokio::test]
async fn blocking_cascades_and_unblocking_restores_exactly_what_it_blocked() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let branch = app.create_company_under("Acme Branch", Some(&acme)).await;
    let other = app.create_company("Other").await;
    let (_, head_office) = app.member("headoffice", &acme).await;
    app.member("branchop", &branch).await;
    let (already_id, _) = app.member("already", &acme).await;
    let (_, bystander) = app.member("bystander", &other).await;
    let admin = app.admin_token().await;
    app.post(
        &format!("/admin/user/{already_id}/block"),
        Some(&admin),
        &json!({}),
    )
    .await;
    let block = format!("/company/{}/block", id(&acme));
    let unblock = format!("/company/{}/unblock", id(&acme));

    problem(app.post(&block, Some(&head_office), &json!({})).await, 403).await;
    let blocked = app.post(&block, Some(&admin), &json!({})).await;
    assert_eq!(blocked.status(), 200);
    assert_eq!(blocked.json::<Value>().await.unwrap()["accounts"], 2);

    problem(app.get("/auth/me", Some(&head_office)).await, 401).await;
    problem(
        app.login("branchop@dialix.test", "user-password").await,
        403,
    )
    .await;
    assert_eq!(app.get("/auth/me", Some(&bystander)).await.status(), 200);
    let company = app
        .get_json(&format!("/company/{}", id(&acme)), &admin)
        .await;
    assert_eq!(company["is_active"], false);
    problem(app.post(&block, Some(&admin), &json!({})).await, 409).await;

    let unblocked = app.post(&unblock, Some(&admin), &json!({})).await;
    assert_eq!(unblocked.json::<Value>().await.unwrap()["accounts"], 2);
    assert_eq!(
        app.login("headoffice@dialix.test", "user-password")
            .await
            .status(),
        200
    );
    assert_eq!(
        app.login("branchop@dialix.test", "user-password")
            .await
            .status(),
        200
    );
    problem(app.login("already@dialix.test", "user-password").await, 403).await;
    problem(app.post(&unblock, Some(&admin), &json!({})).await, 409).await;
}

#[tokio::test]
async fn top_ups_are_validated_idempotent_and_permissioned() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (payer_id, payer) = app.member("payer", &acme).await;
    let (clerk_id, clerk) = app.member("clerk", &acme).await;
    app.grant(&acme, &payer_id, json!({"can_topup": true}))
        .await;
    app.grant(&acme, &clerk_id, json!({"can_manage_users": true}))
        .await;
    let admin = app.admin_token().await;
    let path = format!("/company/{}/topup", id(&acme));

    for (body, field) in [
        (json!({"amount": 0, "idempotency_key": "k"}), "amount"),
        (json!({"amount": -5, "idempotency_key": "k"}), "amount"),
        (
            json!({"amount": 10, "idempotency_key": "  "}),
            "idempotency_key",
        ),
        (json!({"amount": 10}), "idempotency_key"),
        (json!({"amount": 1.5, "idempotency_key": "k"}), "body"),
    ] {
        let body = problem(app.post(&path, Some(&admin), &body).await, 422).await;
        assert!(body["errors"][field].is_string(), "{body}");
    }

    let first = app
        .post(
            &path,
            Some(&payer),
            &json!({"amount": 500, "idempotency_key": "inv-1"}),
        )
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (first["kind"].as_str(), first["balance_after"].as_i64()),
        (Some("topup"), Some(500))
    );
    let again = app
        .post(
            &path,
            Some(&payer),
            &json!({"amount": 500, "idempotency_key": "inv-1"}),
        )
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    problem(
        app.post(
            &path,
            Some(&payer),
            &json!({"amount": 900, "idempotency_key": "inv-1"}),
        )
        .await,
        409,
    )
    .await;
    problem(
        app.post(
            &path,
            Some(&clerk),
            &json!({"amount": 1, "idempotency_key": "x"}),
        )
        .await,
        403,
    )
    .await;

    let company = app
        .get_json(&format!("/company/{}", id(&acme)), &admin)
        .await;
    assert_eq!(company["balance"], 500);
    let ledger = app
        .get_json(&format!("/company/{}/transactions", id(&acme)), &payer)
        .await;
    assert_eq!(ledger["total"], 1);
    assert_eq!(
        ledger["items"][0]["owner_id"].as_str(),
        Some(payer_id.as_str())
    );
    let audit = app
        .get_json(
            &format!("/activity-logs/company/{}?action=TOPUP", id(&acme)),
            &admin,
        )
        .await;
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["details"]["amount"], 500);
}

#[tokio::test]
async fn fifty_concurrent_top_ups_never_lose_an_update() {
    let app = spawn_app().await;
    let acme = app.create_company("Busy").await;
    let admin = app.admin_token().await;
    let path = format!("/company/{}/topup", id(&acme));
    let requests = (1..=50).map(|n| {
        let (app, admin, path) = (&app, &admin, &path);
        async move {
            app.post(
                path,
                Some(admin),
                &json!({"amount": n, "idempotency_key": format!("k{n}")}),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");

    let company = app
        .get_json(&format!("/company/{}", id(&acme)), &admin)
        .await;
    assert_eq!(company["balance"], 1275, "1 + 2 + … + 50");
    let ledger = app
        .get_json(
            &format!("/company/{}/transactions?limit=200", id(&acme)),
            &admin,
        )
        .await;
    assert_eq!(ledger["total"], 50);
    let mut after: Vec<i64> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["balance_after"].as_i64().unwrap())
        .collect();
    after.sort();
    after.dedup();
    assert_eq!(after.len(), 50, "every entry saw a distinct balance");
    assert_eq!(after.last(), Some(&1275));
}

#[tokio::test]
async fn transferring_a_user_moves_them_with_history_and_no_money() {
    let app = spawn_app().await;
    let from = app.create_company("From").await;
    let to = app.create_company("To").await;
    let (user_id, user) = app.member("mover", &from).await;
    let admin = app.admin_token().await;
    app.post(
        &format!("/company/{}/topup", id(&from)),
        Some(&admin),
        &json!({"amount": 700, "idempotency_key": "seed"}),
    )
    .await;
    let path = format!("/company/{}/transfer-user", id(&to));
    let body = json!({"user_id": user_id, "from_company_id": from["id"]});

    problem(app.post(&path, Some(&user), &body).await, 404).await;
    let moved = app.post(&path, Some(&admin), &body).await;
    assert_eq!(moved.status(), 200);
    assert_eq!(moved.json::<Value>().await.unwrap()["balance_moved"], 0);

    let me = app.get_json("/auth/me", &user).await;
    assert_eq!(me["company_id"], to["id"]);
    let history = app
        .query_strings(
            "SELECT action || ':' || CAST(balance_at_time AS TEXT) FROM user_company_history \
             ORDER BY action",
        )
        .await;
    assert_eq!(history, ["joined:0", "left:700"]);
    let from_now = app
        .get_json(&format!("/company/{}", id(&from)), &admin)
        .await;
    assert_eq!(
        from_now["balance"], 700,
        "the balance stays with the company"
    );
    let audit = app
        .get_json(
            &format!("/activity-logs/account/{user_id}?action=TRANSFER"),
            &admin,
        )
        .await;
    assert_eq!(audit["items"][0]["details"]["to_company_id"], to["id"]);

    let again = problem(app.post(&path, Some(&admin), &body).await, 422).await;
    assert!(again["errors"]["from_company_id"].is_string());
    let ghost = json!({"user_id": uuid::Uuid::now_v7(), "from_company_id": from["id"]});
    problem(app.post(&path, Some(&admin), &ghost).await, 404).await;
}

#[tokio::test]
async fn members_and_ledger_are_for_administrators() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let other = app.create_company("Other").await;
    let (boss_id, boss) = app.member("boss", &acme).await;
    app.grant(&acme, &boss_id, json!({"can_manage_users": true}))
        .await;
    let (_, member) = app.member("member", &acme).await;
    let (_, outsider) = app.member("outsider", &other).await;
    let users = format!("/company/{}/users", id(&acme));
    let ledger = format!("/company/{}/transactions", id(&acme));

    let list = app.get_json(&users, &boss).await;
    assert_eq!(list["total"], 2);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["company_id"] == acme["id"])
    );
    assert_eq!(app.get(&ledger, Some(&boss)).await.status(), 200);
    problem(app.get(&users, Some(&member)).await, 403).await;
    problem(app.get(&ledger, Some(&member)).await, 403).await;
    problem(app.get(&users, Some(&outsider)).await, 404).await;
    problem(app.get(&ledger, Some(&outsider)).await, 404).await;
}
