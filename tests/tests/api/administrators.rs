use dialix_tests::{problem, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn administrators_are_granted_listed_changed_and_revoked() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let branch = app.create_company_under("Acme Branch", Some(&acme)).await;
    let other = app.create_company("Other").await;
    let (boss_id, boss) = app.member("boss", &acme).await;
    let (branch_lead_id, _) = app.member("branchlead", &branch).await;
    let (outsider_id, outsider) = app.member("outsider", &other).await;
    let admin = app.admin_token().await;
    let admins = format!("/company/{}/administrators", acme["id"].as_str().unwrap());

    let unknown = problem(
        app.post(
            &admins,
            Some(&admin),
            &json!({"user_id": boss_id, "permissions": {"can_fly": true, "can_topup": "yes"}}),
        )
        .await,
        422,
    )
    .await;
    assert!(unknown["errors"]["permissions.can_fly"].is_string());
    assert!(unknown["errors"]["permissions.can_topup"].is_string());
    let stranger = problem(
        app.post(
            &admins,
            Some(&admin),
            &json!({"user_id": outsider_id, "permissions": {"can_topup": true}}),
        )
        .await,
        422,
    )
    .await;
    assert!(stranger["errors"]["user_id"].is_string());

    let granted = app
        .post(
            &admins,
            Some(&admin),
            &json!({"user_id": boss_id, "permissions": {"can_manage_users": true, "can_topup": false}}),
        )
        .await;
    assert_eq!(granted.status(), 201);
    let granted: Value = granted.json().await.unwrap();
    assert_eq!(granted["permissions"]["can_manage_users"], true);
    assert_eq!(granted["permissions"]["can_topup"], false);
    assert_eq!(granted["permissions"].as_object().unwrap().len(), 6);
    let lead = json!({"user_id": branch_lead_id, "permissions": {"can_view_records": true}});
    assert_eq!(
        app.post(&admins, Some(&admin), &lead).await.status(),
        201,
        "sub-company members qualify"
    );
    let again = json!({"user_id": boss_id, "permissions": {}});
    problem(app.post(&admins, Some(&admin), &again).await, 409).await;
    problem(app.post(&admins, Some(&boss), &again).await, 403).await;

    let list = app.get_json(&admins, &boss).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    problem(app.get(&admins, Some(&outsider)).await, 404).await;
    let (_, member) = app.member("member", &acme).await;
    problem(app.get(&admins, Some(&member)).await, 403).await;

    let one = format!("{admins}/{boss_id}");
    assert_eq!(app.get_json(&one, &admin).await["user_id"], json!(boss_id));
    let changed = app
        .patch(
            &one,
            Some(&admin),
            &json!({"permissions": {"can_topup": true}}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["permissions"]["can_topup"], true);
    assert_eq!(changed["permissions"]["can_manage_users"], false);
    let trail = app
        .get_json(
            &format!("/activity-logs/company_administrator/{boss_id}?action=UPDATE"),
            &admin,
        )
        .await;
    assert_eq!(
        trail["items"][0]["details"]["changes"]["permissions"],
        json!({"old_value": ["can_manage_users"], "new_value": ["can_topup"]})
    );

    assert_eq!(app.delete(&one, Some(&admin)).await.status(), 204);
    problem(app.get(&one, Some(&admin)).await, 404).await;
    problem(app.delete(&one, Some(&admin)).await, 404).await;
}

#[tokio::test]
async fn company_administrators_act_exactly_as_granted_and_only_below_their_company() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let branch = app.create_company_under("Acme Branch", Some(&acme)).await;
    let other = app.create_company("Other").await;
    let (boss_id, boss) = app.member("boss", &acme).await;
    app.grant(&acme, &boss_id, json!({"can_manage_users": true}))
        .await;
    let (worker_id, worker) = app.member("worker", &branch).await;
    let (outsider_id, _) = app.member("outsider", &other).await;
    let (viewer_id, viewer) = app.member("viewer", &acme).await;
    app.grant(&acme, &viewer_id, json!({"can_view_activity_logs": true}))
        .await;

    let listed = app.get_json("/admin/users?sort=username", &boss).await;
    let usernames: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        usernames,
        ["boss", "viewer", "worker"],
        "own company and sub-companies"
    );
    problem(app.get("/admin/users", Some(&viewer)).await, 403).await;
    problem(app.get("/admin/users", Some(&worker)).await, 403).await;

    let worker_path = format!("/admin/user/{worker_id}");
    assert_eq!(app.get(&worker_path, Some(&boss)).await.status(), 200);
    assert_eq!(
        app.post(&format!("{worker_path}/block"), Some(&boss), &json!({}))
            .await
            .status(),
        200
    );
    problem(app.get("/auth/me", Some(&worker)).await, 401).await;
    problem(
        app.patch(&worker_path, Some(&boss), &json!({"role": "admin"}))
            .await,
        403,
    )
    .await;
    let away = json!({"company_id": other["id"]});
    let refused = problem(app.patch(&worker_path, Some(&boss), &away).await, 422).await;
    assert!(refused["errors"]["company_id"].is_string());
    problem(
        app.get(&format!("/admin/user/{outsider_id}"), Some(&boss))
            .await,
        404,
    )
    .await;
    problem(
        app.post(
            &format!("/admin/user/{outsider_id}/reset-password"),
            Some(&boss),
            &json!({"new_password": "whatever-long"}),
        )
        .await,
        404,
    )
    .await;
    problem(
        app.patch(
            &format!("/admin/user/{boss_id}"),
            Some(&boss),
            &json!({"company_id": branch["id"]}),
        )
        .await,
        403,
    )
    .await;
    problem(
        app.post(
            &format!("/company/{}/topup", acme["id"].as_str().unwrap()),
            Some(&boss),
            &json!({"amount": 1, "idempotency_key": "nope"}),
        )
        .await,
        403,
    )
    .await;
}
