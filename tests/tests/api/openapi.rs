use dialix_tests::{spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// Every route the app serves; the document must list exactly these.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("get", "/auth/me"),
    ("patch", "/auth/me"),
    ("post", "/auth/change-password"),
    ("get", "/settings"),
    ("patch", "/settings"),
    ("post", "/admin/users"),
    ("get", "/admin/users"),
    ("get", "/admin/user/{id}"),
    ("patch", "/admin/user/{id}"),
    ("delete", "/admin/user/{id}"),
    ("post", "/admin/user/{id}/reset-password"),
    ("post", "/admin/user/{id}/block"),
    ("post", "/admin/user/{id}/unblock"),
    ("post", "/company"),
    ("get", "/companies"),
    ("get", "/company/{id}"),
    ("patch", "/company/{id}"),
    ("post", "/company/{id}/block"),
    ("post", "/company/{id}/unblock"),
    ("post", "/company/{id}/topup"),
    ("get", "/company/{id}/transactions"),
    ("get", "/company/{id}/users"),
    ("post", "/company/{id}/transfer-user"),
    ("post", "/company/{id}/administrators"),
    ("get", "/company/{id}/administrators"),
    ("get", "/company/{id}/administrators/{user_id}"),
    ("patch", "/company/{id}/administrators/{user_id}"),
    ("delete", "/company/{id}/administrators/{user_id}"),
    ("post", "/records"),
    ("post", "/records/estimate"),
    ("get", "/records"),
    ("get", "/records/{id}"),
    ("delete", "/records/{id}"),
    ("get", "/records/{id}/audio"),
    ("get", "/balance"),
    ("get", "/records/events"),
    ("post", "/records/{id}/reprocess"),
    ("patch", "/records/{id}"),
    ("post", "/operators"),
    ("get", "/operators"),
    ("get", "/operators/{id}"),
    ("patch", "/operators/{id}"),
    ("delete", "/operators/{id}"),
    ("put", "/operators/{id}/checklists"),
    ("post", "/checklists"),
    ("get", "/checklists"),
    ("get", "/checklists/{id}"),
    ("patch", "/checklists/{id}"),
    ("delete", "/checklists/{id}"),
    ("get", "/calls/grouped"),
    ("get", "/calls/grouped/{phone}"),
    ("get", "/calls/similar/{record_id}"),
    ("get", "/analytics/usage"),
    ("get", "/analytics/expenses"),
    ("get", "/analytics/revenue"),
    ("get", "/analytics/trends"),
    ("get", "/compliance/metrics"),
    ("get", "/compliance/violations"),
    ("get", "/compliance/tracking/{operator_id}"),
    ("post", "/compliance/reports"),
    ("get", "/dashboard"),
    ("post", "/chat/session"),
    ("post", "/chat/{session_id}/message"),
    ("get", "/chat/sessions"),
    ("get", "/chat/session/{id}"),
    ("delete", "/chat/session/{id}"),
    ("get", "/chat/suggested-questions/{record_id}"),
    ("get", "/activity-logs"),
    ("get", "/activity-logs/{resource_type}/{resource_id}"),
    ("get", "/admin/company/{company_id}/activity-logs"),
    ("get", "/admin/activity-logs/verify"),
    ("post", "/records/{id}/crm/refresh"),
    ("put", "/integrations/pbx"),
    ("get", "/integrations/pbx"),
    ("delete", "/integrations/pbx"),
    ("put", "/integrations/bitrix"),
    ("get", "/integrations/bitrix"),
    ("delete", "/integrations/bitrix"),
    ("get", "/integrations/pbx/auto-import"),
    ("put", "/integrations/pbx/auto-import"),
    ("post", "/integrations/pbx/auto-import/run"),
    ("get", "/pbx/calls"),
    ("post", "/pbx/estimate"),
    ("post", "/pbx/import"),
    ("post", "/operators/sync"),
];

async fn document(app: &dialix_tests::TestApp) -> Value {
    let response = app.get("/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("the document is JSON")
}

fn documented_operations(doc: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.clone(), path.clone()));
        }
    }
    operations.sort();
    operations
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented_operations(&doc), expected);
    // A chat answer comes whole or streamed, as the client's Accept header asks.
    let answer = &doc["paths"]["/chat/{session_id}/message"]["post"]["responses"]["200"];
    assert!(answer["content"]["application/json"].is_object());
    assert!(answer["content"]["text/event-stream"].is_object());

    for (method, path) in documented_operations(&doc) {
        let operation = &doc["paths"][&path][&method];
        let responses = operation["responses"].as_object().unwrap();
        assert!(!responses.is_empty(), "{method} {path} documents responses");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status} documents its problem body"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_documented_route_is_served() {
    // With metrics on: off, `/metrics` is a 404 like an unknown path.
    let app = spawn_app_with(|config| {
        config.metrics_token = Some(secrecy::SecretString::from("metrics-token-for-tests"));
    })
    .await;
    let doc = document(&app).await;
    for (method, path) in documented_operations(&doc) {
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    uuid::Uuid::now_v7().to_string()
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let response = app
            .client
            .request(method.clone(), app.url(&concrete))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            status != 405 && !(status == 404 && body["type"] == "/problems/not-found"),
            "{method} {path} is documented but not served ({status})"
        );
    }
}

#[tokio::test]
async fn the_docs_page_works_without_the_internet() {
    let app = spawn_app().await;
    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), 200, "/docs redirects to the page");
    let page = redirect.text().await.unwrap();
    assert!(page.contains("swagger-ui"));
    assert!(
        !page.contains("://"),
        "no asset is loaded from another host"
    );
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        assert_eq!(
            app.get(asset, None).await.status(),
            200,
            "{asset} is served locally"
        );
    }
    let initializer = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("/openapi.json"));
}

/// Every `$ref` in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref" {
                    if let Some(target) = inner.as_str() {
                        found.push(target.to_owned());
                    }
                } else {
                    refs(inner, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn every_schema_reference_resolves_and_operations_are_uniquely_named() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} is referenced but not defined"
        );
    }
    let mut ids: Vec<String> = Vec::new();
    for (method, path) in documented_operations(&doc) {
        let id = doc["paths"][&path][&method]["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_owned();
        assert!(!ids.contains(&id), "operationId {id} is used twice");
        ids.push(id);
    }
}

#[tokio::test]
async fn every_operation_documents_the_errors_it_can_give_before_its_handler_runs() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if secured {
                assert!(responses["401"].is_object(), "{method} {path}: no 401");
            }
            if operation.get("requestBody").is_some() {
                for status in ["413", "415"] {
                    let problem = &responses[status]["content"]["application/problem+json"];
                    assert!(problem.is_object(), "{method} {path}: no {status}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} operations take a body");

    // The audio download is a binary body, so generators emit a download function.
    let audio = &doc["paths"]["/records/{id}/audio"]["get"]["responses"]["200"]["content"];
    let reference = audio["audio/mpeg"]["schema"]["$ref"]
        .as_str()
        .expect("a schema");
    let name = reference.rsplit('/').next().unwrap();
    assert_eq!(doc["components"]["schemas"][name]["format"], "binary");
}

#[tokio::test]
async fn documented_limits_are_the_ones_the_server_enforces() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let admin = app.admin_token().await;
    let company = app.create_company("Limits").await;
    let topup = format!("/company/{}/topup", company["id"].as_str().unwrap());
    let limit = |schema: &str, field: &str, keyword: &str| {
        schemas[schema]["properties"][field][keyword]
            .as_u64()
            .unwrap_or_else(|| panic!("{schema}.{field} documents no {keyword}"))
    };

    let longest = limit("CreateAccountRequest", "username", "maxLength") as usize;
    for (length, status) in [(longest, 201), (longest + 1, 422)] {
        let username = "u".repeat(length);
        let body = json!({"email": format!("{length}@dialix.test"), "username": username,
                          "password": "user-password"});
        let response = app.post("/admin/users", Some(&admin), &body).await;
        assert_eq!(response.status(), status, "a {length}-character username");
    }

    let longest = limit("CreateCompanyRequest", "name", "maxLength") as usize;
    for (length, status) in [(longest, 201), (longest + 1, 422)] {
        let body = json!({"name": "c".repeat(length)});
        let response = app.post("/company", Some(&admin), &body).await;
        assert_eq!(
            response.status(),
            status,
            "a {length}-character company name"
        );
    }

    let longest = limit("TopupRequest", "idempotency_key", "maxLength") as usize;
    for (length, status) in [(longest, 201), (longest + 1, 422)] {
        let body = json!({"amount": 1, "idempotency_key": "k".repeat(length)});
        let response = app.post(&topup, Some(&admin), &body).await;
        assert_eq!(response.status(), status, "a {length}-character key");
    }
    let largest = limit("TopupRequest", "amount", "maximum");
    for (amount, status) in [(largest + 1, 422), (0, 422)] {
        let body = json!({"amount": amount, "idempotency_key": format!("amount-{amount}")});
        let response = app.post(&topup, Some(&admin), &body).await;
        assert_eq!(response.status(), status, "a top-up of {amount}");
    }

    let longest = limit("CreateOperatorRequest", "code", "maxLength") as usize;
    for (length, status) in [(longest, 201), (longest + 1, 422)] {
        let body = json!({"code": "7".repeat(length), "name": "Operator",
                          "company_id": company["id"]});
        let response = app.post("/operators", Some(&admin), &body).await;
        assert_eq!(
            response.status(),
            status,
            "a {length}-character operator code"
        );
    }

    let (_, member) = app.member("settler", &company).await;
    let days = limit(
        "UpdateSettingsRequest",
        "auto_delete_records_after_days",
        "maximum",
    );
    for (value, status) in [(days, 200), (days + 1, 422)] {
        let body = json!({"auto_delete_records_after_days": value});
        let response = app.patch("/settings", Some(&member), &body).await;
        assert_eq!(response.status(), status, "keeping records {value} days");
    }
}

#[tokio::test]
async fn no_response_or_request_field_is_a_free_form_object() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let free_form = |schema: &Value| {
        let object = match &schema["type"] {
            Value::String(t) => t == "object",
            Value::Array(types) => types.iter().any(|t| t == "object"),
            _ => false,
        };
        object && schema.get("properties").is_none() && schema.get("additionalProperties").is_none()
    };
    let mut loose = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(properties) = schema["properties"].as_object() {
            for (field, property) in properties {
                let items = &property["items"];
                if free_form(property) || free_form(items) {
                    loose.push(format!("{name}.{field}"));
                }
            }
        }
    }
    assert!(loose.is_empty(), "free-form objects: {loose:?}");
}
