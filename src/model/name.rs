//! People's names as the chat shows them, parsed once into types that can only hold valid
//! values ("parse, don't validate"), and the error every parsed input reports. The browser
//! parses for instant feedback; the server parses again to enforce.

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
}
