use dialix_tests::{problem, spawn_app};
use serde_json::{Value, json};

fn checklist_body(weights: [Option<u32>; 3]) -> Value {
    json!({
        "name": "Inbound quality",
        "segments": [
            {"title": "Greeting", "items": [
                {"text": "Greets and names the company", "weight": weights[0], "critical": true},
                {"text": "Introduces themself", "weight": weights[1]}
            ]},
            {"title": "Closing", "items": [
                {"text": "Offers further help", "weight": weights[2]}
            ]}
        ]
    })
}

#[tokio::test]
async fn operators_are_unique_per_company_and_managed_by_user_managers() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let other = app.create_company("Other").await;
    let (boss_id, boss) = app.member("boss", &acme).await;
    app.grant(&acme, &boss_id, json!({"can_manage_users": true}))
        .await;
    let (_, member) = app.member("member", &acme).await;
    let (_, outsider) = app.member("outsider", &other).await;

    let created = app
        .post(
            "/operators",
            Some(&boss),
            &json!({"code": "101", "name": "Dilnoza"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let operator: Value = created.json().await.unwrap();
    assert_eq!(operator["company_id"], acme["id"]);
    let clash = problem(
        app.post(
            "/operators",
            Some(&boss),
            &json!({"code": "101", "name": "Again"}),
        )
        .await,
        409,
    )
    .await;
    assert!(clash["errors"]["code"].is_string());
    let admin = app.admin_token().await;
    let elsewhere = app
        .post(
            "/operators",
            Some(&admin),
            &json!({"code": "101", "name": "Same code", "company_id": other["id"]}),
        )
        .await;
    assert_eq!(elsewhere.status(), 201, "codes are unique per company only");
    problem(
        app.post(
            "/operators",
            Some(&member),
            &json!({"code": "102", "name": "X"}),
        )
        .await,
        403,
    )
    .await;
    problem(
        app.post("/operators", Some(&boss), &json!({"code": "", "name": ""}))
            .await,
        422,
    )
    .await;

    let path = format!("/operators/{}", operator["id"].as_str().unwrap());
    assert_eq!(app.get_json("/operators", &member).await["total"], 1);
    assert_eq!(app.get_json(&path, &member).await["code"], "101");
    problem(app.get(&path, Some(&outsider)).await, 404).await;
    let renamed = app
        .patch(
            &path,
            Some(&boss),
            &json!({"name": "Dilnoza K.", "is_active": false}),
        )
        .await;
    assert_eq!(renamed.json::<Value>().await.unwrap()["is_active"], false);
    problem(
        app.patch(&path, Some(&member), &json!({"name": "Nope"}))
            .await,
        403,
    )
    .await;
    assert_eq!(app.delete(&path, Some(&boss)).await.status(), 204);
    problem(app.get(&path, Some(&boss)).await, 404).await;
}

#[tokio::test]
async fn checklists_are_versioned_validated_and_assignable() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let other = app.create_company("Other").await;
    let (qa_id, qa) = app.member("quality", &acme).await;
    app.grant(
        &acme,
        &qa_id,
        json!({"can_manage_settings": true, "can_manage_users": true}),
    )
    .await;
    let (_, member) = app.member("member", &acme).await;
    let (_, outsider) = app.member("outsider", &other).await;

    for weights in [[Some(50), Some(30), Some(30)], [Some(50), None, Some(50)]] {
        let body = problem(
            app.post("/checklists", Some(&qa), &checklist_body(weights))
                .await,
            422,
        )
        .await;
        assert!(body["errors"]["segments"].is_string(), "{body}");
    }
    problem(
        app.post("/checklists", Some(&member), &checklist_body([None; 3]))
            .await,
        403,
    )
    .await;
    let created = app
        .post(
            "/checklists",
            Some(&qa),
            &checklist_body([Some(50), Some(20), Some(30)]),
        )
        .await;
    assert_eq!(created.status(), 201);
    let v1: Value = created.json().await.unwrap();
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["segments"][0]["items"][1]["id"], "1.2");
    assert_eq!(v1["segments"][0]["items"][0]["critical"], true);
    let path = format!("/checklists/{}", v1["id"].as_str().unwrap());

    let v2 = app
        .patch(&path, Some(&qa), &json!({"name": "Inbound quality v2"}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(v2["version"], 2);
    assert_eq!(
        app.get_json(&path, &member).await["name"],
        "Inbound quality v2"
    );
    assert_eq!(
        app.get_json(&format!("{path}?version=1"), &member).await["name"],
        "Inbound quality"
    );
    problem(
        app.get(&format!("{path}?version=9"), Some(&member)).await,
        404,
    )
    .await;
    problem(app.get(&path, Some(&outsider)).await, 404).await;
    assert_eq!(app.get_json("/checklists", &member).await["total"], 1);

    let operator: Value = app
        .post(
            "/operators",
            Some(&qa),
            &json!({"code": "201", "name": "Aziz"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let assign = format!("/operators/{}/checklists", operator["id"].as_str().unwrap());
    let assigned = app
        .client
        .put(app.url(&assign))
        .bearer_auth(&qa)
        .json(&json!({"checklist_id": v1["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(assigned.status(), 200);
    assert_eq!(
        assigned.json::<Value>().await.unwrap()["checklist_id"],
        v1["id"]
    );
    let foreign = app
        .client
        .put(app.url(&assign))
        .bearer_auth(&qa)
        .json(&json!({"checklist_id": uuid::Uuid::now_v7()}))
        .send()
        .await
        .unwrap();
    problem(foreign, 422).await;

    assert_eq!(app.delete(&path, Some(&qa)).await.status(), 204);
    problem(app.get(&path, Some(&qa)).await, 404).await;
    let operator_now = app
        .get_json(
            &format!("/operators/{}", operator["id"].as_str().unwrap()),
            &qa,
        )
        .await;
    assert_eq!(
        operator_now["checklist_id"],
        Value::Null,
        "the assignment is cleared"
    );
}
