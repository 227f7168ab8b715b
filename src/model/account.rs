//! Account inputs, parsed once into types that can only hold valid values ("parse, don't
//! validate"). The browser parses for instant feedback; the server parses again to enforce.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an input was refused; the message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("{0} is required")]
    Required(&'static str),
    #[error("{field} must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} must be at least {min} characters")]
    TooShort { field: &'static str, min: usize },
    #[error("Username may only contain letters, digits, '.', '_' and '-', and must start with a letter or digit")]
    UsernameCharacters,
    #[error("{0} contains invisible or control characters")]
    InvisibleCharacters(&'static str),
}

/// A login name: 3–32 characters of `a-z 0-9 . _ -`, stored lower-cased so that "Alice" and
/// "alice" are the same account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if len == 0 {
            return Err(ValidationError::Required("Username"));
        }
        if len < Self::MIN {
            return Err(ValidationError::TooShort {
                field: "Username",
                min: Self::MIN,
            });
        }
        if len > Self::MAX {
            return Err(ValidationError::TooLong {
                field: "Username",
                max: Self::MAX,
            });
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        let starts_well = name.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !starts_well || !name.chars().all(allowed) {
            return Err(ValidationError::UsernameCharacters);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown to other people: 1–64 visible characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = visible_text(raw, "Display name", Self::MAX)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `raw` trimmed, when it is 1 to `max` characters long; `field` names it in the error.
pub(crate) fn trimmed<'a>(
    raw: &'a str,
    field: &'static str,
    max: usize,
) -> Result<&'a str, ValidationError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(ValidationError::Required(field));
    }
    if text.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    Ok(text)
}

/// Like [`trimmed`], and free of invisible characters: for names people tell apart by eye.
pub(crate) fn visible_text<'a>(
    raw: &'a str,
    field: &'static str,
    max: usize,
) -> Result<&'a str, ValidationError> {
    let text = trimmed(raw, field, max)?;
    if text.chars().any(is_invisible) {
        return Err(ValidationError::InvisibleCharacters(field));
    }
    Ok(text)
}

/// Control characters, zero-width characters, bidirectional marks and overrides, fillers that
/// render as nothing (Hangul fillers, the Braille blank), soft hyphens, line and paragraph
/// separators, interlinear annotations and tag characters: they let one name impersonate
/// another, look empty, or garble the text around it.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// A password: 8–1024 characters, kept exactly as typed. Deliberately not `Debug`, so it cannot
/// end up in a log line.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(ValidationError::Required("Password"));
        }
        if len < Self::MIN {
            return Err(ValidationError::TooShort {
                field: "Password",
                min: Self::MIN,
            });
        }
        if len > Self::MAX {
            return Err(ValidationError::TooLong {
                field: "Password",
                max: Self::MAX,
            });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The sign-up form as sent over the wire (unparsed).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct SignupInput {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

impl std::fmt::Debug for SignupInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupInput")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A sign-up form that passed every check.
pub struct ValidSignup {
    pub username: Username,
    pub display_name: DisplayName,
    pub password: Password,
}

impl SignupInput {
    pub fn parse(&self) -> Result<ValidSignup, ValidationError> {
        Ok(ValidSignup {
            username: Username::parse(&self.username)?,
            display_name: DisplayName::parse(&self.display_name)?,
            password: Password::parse(&self.password)?,
        })
    }
}

/// The sign-in form as sent over the wire. Only emptiness is checked here: a wrong username and
/// a wrong password must look the same to the person signing in.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for LoginInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginInput")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl LoginInput {
    pub fn check_filled(&self) -> Result<(), ValidationError> {
        if self.username.trim().is_empty() {
            return Err(ValidationError::Required("Username"));
        }
        if self.password.is_empty() {
            return Err(ValidationError::Required("Password"));
        }
        Ok(())
    }
}

/// What a sign-in or sign-up form sent without JavaScript (a plain form post, before the WASM
/// has loaded) can be refused for, by the short name the server puts in the form's address
/// (`/signup?error=username_too_short`) when it sends the person back. Only these names are
/// shown, as fixed messages: an address cannot put words of its own on the page.
pub fn form_error_code(error: &ValidationError) -> Option<&'static str> {
    account_form_errors()
        .into_iter()
        .find(|(_, known)| known == error)
        .map(|(code, _)| code)
}

/// The message for a form's `error` name: a validation error, or a server refusal named by its
/// [`ErrorCode`](super::ErrorCode).
pub fn form_error_message(code: &str) -> Option<String> {
    use super::ErrorCode;
    if let Some((_, error)) = account_form_errors().into_iter().find(|(c, _)| *c == code) {
        return Some(error.to_string());
    }
    let message = match ErrorCode::try_from(code.to_owned()).ok()? {
        ErrorCode::InvalidCredentials => "Wrong username or password.",
        ErrorCode::UsernameTaken => "That username is already taken.",
        ErrorCode::RateLimited => "Too many attempts. Please wait a minute and try again.",
        ErrorCode::BadRequest => "Please check the form and try again.",
        ErrorCode::Forbidden => "Requests from other sites are refused.",
        ErrorCode::Unavailable | ErrorCode::Internal | ErrorCode::RequestTimeout => {
            "The service is temporarily unavailable. Please try again."
        }
        ErrorCode::Unauthenticated
        | ErrorCode::NotFound
        | ErrorCode::MethodNotAllowed
        | ErrorCode::PayloadTooLarge
        | ErrorCode::MisdirectedRequest => return None,
    };
    Some(message.to_owned())
}

/// Every validation error of the account forms, by its name in a form's address.
fn account_form_errors() -> [(&'static str, ValidationError); 10] {
    use ValidationError::*;
    [
        ("username_required", Required("Username")),
        (
            "username_too_short",
            TooShort {
                field: "Username",
                min: Username::MIN,
            },
        ),
        (
            "username_too_long",
            TooLong {
                field: "Username",
                max: Username::MAX,
            },
        ),
        ("username_characters", UsernameCharacters),
        ("display_name_required", Required("Display name")),
        (
            "display_name_too_long",
            TooLong {
                field: "Display name",
                max: DisplayName::MAX,
            },
        ),
        (
            "display_name_invisible",
            InvisibleCharacters("Display name"),
        ),
        ("password_required", Required("Password")),
        (
            "password_too_short",
            TooShort {
                field: "Password",
                min: Password::MIN,
            },
        ),
        (
            "password_too_long",
            TooLong {
                field: "Password",
                max: Password::MAX,
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_is_trimmed_and_lower_cased() {
        assert_eq!(
            Username::parse("  Alice ").map(|u| u.0),
            Ok("alice".to_owned())
        );
    }

    #[test]
    fn username_rejects_bad_shapes() {
        assert_eq!(
            Username::parse(""),
            Err(ValidationError::Required("Username"))
        );
        assert!(matches!(
            Username::parse("ab"),
            Err(ValidationError::TooShort { .. })
        ));
        assert!(matches!(
            Username::parse(&"a".repeat(33)),
            Err(ValidationError::TooLong { .. })
        ));
        assert_eq!(
            Username::parse("-abc"),
            Err(ValidationError::UsernameCharacters)
        );
        assert_eq!(
            Username::parse("a b c"),
            Err(ValidationError::UsernameCharacters)
        );
        assert_eq!(
            Username::parse("bob'; drop"),
            Err(ValidationError::UsernameCharacters)
        );
    }

    #[test]
    fn display_name_rejects_invisible_characters() {
        assert!(DisplayName::parse("Bob \u{202E}kcilc").is_err());
        assert!(DisplayName::parse("Bo\u{200B}b").is_err());
        // What the first validator let through: marks, fillers, separators, tags.
        for sneaky in [
            '\u{061C}',
            '\u{115F}',
            '\u{1160}',
            '\u{3164}',
            '\u{FFA0}',
            '\u{2028}',
            '\u{2029}',
            '\u{00AD}',
            '\u{E0000}',
            '\u{E0041}',
            '\u{E007F}',
        ] {
            assert!(
                DisplayName::parse(&format!("Bo{sneaky}b")).is_err(),
                "U+{:04X}",
                u32::from(sneaky)
            );
        }
        assert!(
            DisplayName::parse("\u{3164}").is_err(),
            "a name that looks empty"
        );
        assert!(
            DisplayName::parse("Bob\n").is_ok(),
            "trailing whitespace is trimmed"
        );
        assert_eq!(
            DisplayName::parse("  Zoë Ångström ").map(|d| d.0),
            Ok("Zoë Ångström".to_owned())
        );
    }

    #[test]
    fn password_length_is_enforced() {
        assert_eq!(
            Password::parse("").err(),
            Some(ValidationError::Required("Password"))
        );
        assert!(matches!(
            Password::parse("short").err(),
            Some(ValidationError::TooShort { .. })
        ));
        assert!(Password::parse("long enough").is_ok());
    }

    #[test]
    fn every_form_error_reads_back_from_its_name() {
        for (code, error) in account_form_errors() {
            assert_eq!(form_error_code(&error), Some(code));
            assert_eq!(form_error_message(code), Some(error.to_string()));
        }
        let too_short = SignupInput {
            username: "ab".into(),
            display_name: "Ab".into(),
            password: "long enough".into(),
        }
        .parse()
        .err();
        assert_eq!(
            too_short.as_ref().and_then(form_error_code),
            Some("username_too_short")
        );
        assert_eq!(
            form_error_message("invalid_credentials").as_deref(),
            Some("Wrong username or password.")
        );
        assert_eq!(form_error_message("Your account is locked, call us"), None);
        assert_eq!(form_error_message("not_found"), None);
    }
}
