//! The demo's account inputs (password sign-up and sign-in), parsed once ("parse, don't
//! validate"), and the short error names a plain form post is sent back with.

use parley::model::{DisplayName, ErrorCode, Username, ValidationError};
use serde::{Deserialize, Serialize};

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
/// [`ErrorCode`].
pub fn form_error_message(code: &str) -> Option<String> {
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
        | ErrorCode::Blocked
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
