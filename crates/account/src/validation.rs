//! Input rules for account fields, shared by creation and (later) updates.

use dialix_kernel::FieldErrors;

pub const USERNAME_MAX: usize = 50;
const EMAIL_MAX: usize = 254;
/// Long enough for any passphrase, short enough that hashing it is not a denial of service.
pub const PASSWORD_MAX: usize = 256;

/// How much of an attempted login a failed-login audit entry keeps.
pub const LOGIN_LOG_MAX: usize = 254;

/// Free of control characters (which also keeps NUL away from PostgreSQL, which refuses it).
pub fn is_plain_text(value: &str) -> bool {
    !value.chars().any(char::is_control)
}

/// Logins (emails and usernames) are case-insensitive.
pub fn normalise_login(value: &str) -> String {
    value.trim().to_lowercase()
}

pub fn check_email(errors: &mut FieldErrors, email: &str) {
    let valid = email.len() <= EMAIL_MAX
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    errors.check(valid, "email", "must be a valid email address");
}

pub fn check_username(errors: &mut FieldErrors, username: &str) {
    let length_ok = (3..=USERNAME_MAX).contains(&username.chars().count());
    let charset_ok = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && username.starts_with(|c: char| c.is_ascii_alphanumeric());
    errors.check(
        length_ok && charset_ok,
        "username",
        format!(
            "must be 3 to {USERNAME_MAX} characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
        ),
    );
}

pub fn check_password(errors: &mut FieldErrors, password: &str, min_length: usize) {
    check_password_as(errors, "password", password, min_length);
}

/// Password rules, reported against `field`.
pub fn check_password_as(errors: &mut FieldErrors, field: &str, password: &str, min_length: usize) {
    let length = password.chars().count();
    errors.check(
        length >= min_length,
        field,
        format!("must be at least {min_length} characters long"),
    );
    errors.check(
        length <= PASSWORD_MAX,
        field,
        format!("must be at most {PASSWORD_MAX} characters long"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email_ok(email: &str) -> bool {
        let mut errors = FieldErrors::new();
        check_email(&mut errors, email);
        errors.is_empty()
    }

    fn username_ok(username: &str) -> bool {
        let mut errors = FieldErrors::new();
        check_username(&mut errors, username);
        errors.is_empty()
    }

    #[test]
    fn emails() {
        assert!(email_ok("operator@dialix.uz"));
        for bad in [
            "",
            "plain",
            "@dialix.uz",
            "a@b",
            "a@@b.uz",
            "a b@c.uz",
            "a@.uz",
        ] {
            assert!(!email_ok(bad), "{bad:?} should be refused");
        }
    }

    #[test]
    fn usernames() {
        assert!(username_ok("john.doe_1"));
        for bad in ["", "ab", ".john", "john doe", "jo@hn", &"x".repeat(51)] {
            assert!(!username_ok(bad), "{bad:?} should be refused");
        }
    }

    #[test]
    fn passwords_need_the_minimum_length() {
        let mut errors = FieldErrors::new();
        check_password(&mut errors, "short", 8);
        assert!(!errors.is_empty());
        let mut errors = FieldErrors::new();
        check_password(&mut errors, "long enough", 8);
        assert!(errors.is_empty());
    }
}
