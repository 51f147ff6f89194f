//! Building `details`: field changes with old and new values, and never a secret.

use serde_json::{Map, Value, json};

/// Keys whose values are secrets: only the fact that they were set or changed is kept.
const SECRET_KEYS: [&str; 8] = [
    "password",
    "new_password",
    "current_password",
    "password_hash",
    "token",
    "access_token",
    "refresh_token",
    "secret",
];

/// Replaces the value of every secret key (at any depth) with `{"changed": true}` — only the
/// fact survives — and removes NUL characters, which PostgreSQL cannot store in text or JSON.
pub fn sanitize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = if SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                        json!({"changed": true})
                    } else {
                        sanitize(value)
                    };
                    (key.replace('\0', ""), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(sanitize).collect()),
        Value::String(text) => Value::String(text.replace('\0', "")),
        other => other,
    }
}

/// Collects `{"field": {"old_value": …, "new_value": …}}` for the fields that changed.
#[derive(Debug, Default)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `field` if `old != new`.
    pub fn field<T: serde::Serialize + PartialEq>(mut self, field: &str, old: &T, new: &T) -> Self {
        if old != new {
            self.0.insert(
                field.to_owned(),
                json!({"old_value": old, "new_value": new}),
            );
        }
        self
    }

    /// Records that a secret changed, without its values.
    pub fn secret(mut self, field: &str) -> Self {
        self.0.insert(field.to_owned(), json!({"changed": true}));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_value(self) -> Value {
        json!({ "changes": Value::Object(self.0) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let cleaned = sanitize(json!({
            "email": "a@b.uz",
            "Password": "hunter2",
            "nested": [{"refresh_token": "abc", "note": "x\u{0}y"}],
        }));
        let text = cleaned.to_string();
        assert!(!text.contains("hunter2") && !text.contains("abc"));
        assert_eq!(cleaned["nested"][0]["note"], "xy");
        assert_eq!(cleaned["email"], "a@b.uz");
        assert_eq!(cleaned["Password"], json!({"changed": true}));
    }

    #[test]
    fn changes_keep_only_what_changed() {
        let details = Changes::new()
            .field("name", &"Old", &"New")
            .field("is_active", &true, &true)
            .secret("password")
            .into_value();
        assert_eq!(
            details,
            json!({"changes": {
                "name": {"old_value": "Old", "new_value": "New"},
                "password": {"changed": true}
            }})
        );
    }
}
