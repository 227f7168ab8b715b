//! A user as other people see them (never the password hash), and the people search's
//! query and pages.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::name::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

/// People per page of a search when the caller does not say.
pub const USER_PAGE: u32 = 50;
/// Most people one page of a search holds.
pub const MAX_USER_PAGE: u32 = 100;

/// The query of `GET /api/chat/users`: a search text and which page (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Text to find in display names and usernames, ignoring case; everyone when absent or
    /// blank. At most [`SearchText::MAX`] characters.
    #[serde(default)]
    pub q: Option<String>,
    /// How many people of the order to skip (0 when absent).
    #[serde(default)]
    pub offset: Option<u32>,
    /// Page size, 1–[`MAX_USER_PAGE`] ([`USER_PAGE`] when absent).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One page of people found, by display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<User>,
    /// Whether more people follow (ask again with `offset` increased by the page size).
    pub more: bool,
}

/// What a person types to find people: trimmed, 1–[`SearchText::MAX`] characters, no control
/// characters. Blank text is no search at all (`Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX: usize = 100;

    pub fn parse(raw: &str) -> Result<Option<Self>, ValidationError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > Self::MAX {
            return Err(ValidationError::TooLong {
                field: "Search",
                max: Self::MAX,
            });
        }
        // No name holds one, and PostgreSQL refuses a NUL in text: a 400 here, not a 500 there.
        if text.chars().any(char::is_control) {
            return Err(ValidationError::InvisibleCharacters("Search"));
        }
        Ok(Some(Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_trimmed_blank_is_none_and_bounded() {
        assert_eq!(
            SearchText::parse("  ada ").map(|t| t.map(|t| t.0)),
            Ok(Some("ada".to_owned()))
        );
        assert_eq!(SearchText::parse(" \t "), Ok(None));
        assert_eq!(
            SearchText::parse(&"x".repeat(SearchText::MAX)).map(|t| t.is_some()),
            Ok(true)
        );
        assert_eq!(
            SearchText::parse(&"x".repeat(SearchText::MAX + 1)),
            Err(ValidationError::TooLong {
                field: "Search",
                max: SearchText::MAX
            })
        );
        assert_eq!(
            SearchText::parse("a\0b"),
            Err(ValidationError::InvisibleCharacters("Search"))
        );
        assert_eq!(
            SearchText::parse("50%_off").map(|t| t.map(|t| t.0)),
            Ok(Some("50%_off".to_owned()))
        );
    }
}
