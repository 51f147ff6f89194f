use dialix_tests::{problem, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn an_admin_creates_companies_and_sub_companies() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let response = app
        .post(
            "/company",
            Some(&admin),
            &json!({"name": "  Acme Call Center ", "description": "Tashkent"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let parent: Value = response.json().await.unwrap();
    assert_eq!(parent["name"], "Acme Call Center");
    assert_eq!(parent["hierarchy_level"], 0);
    assert_eq!(parent["balance"], 0);
    assert_eq!(parent["is_active"], true);

    let child: Value = app
        .post(
            "/company",
            Some(&admin),
            &json!({"name": "Acme Samarkand", "parent_company_id": parent["id"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(child["parent_company_id"], parent["id"]);
    assert_eq!(child["hierarchy_level"], 1);
}

#[tokio::test]
async fn company_names_are_unique_regardless_of_case() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let first = app
        .post("/company", Some(&admin), &json!({"name": "Acme"}))
        .await;
    assert_eq!(first.status(), 201);
    let clash = problem(
        app.post("/company", Some(&admin), &json!({"name": "ACME "}))
            .await,
        409,
    )
    .await;
    assert!(clash["errors"]["name"].is_string());
}

#[tokio::test]
async fn bad_company_input_is_422_and_users_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = problem(
        app.post(
            "/company",
            Some(&admin),
            &json!({"name": "", "parent_company_id": uuid::Uuid::now_v7()}),
        )
        .await,
        422,
    )
    .await;
    assert!(body["errors"]["name"].is_string());
    assert!(body["errors"]["parent_company_id"].is_string());

    let user = app.user_token("companyless").await;
    problem(
        app.post("/company", Some(&user), &json!({"name": "Mine"}))
            .await,
        403,
    )
    .await;
}
