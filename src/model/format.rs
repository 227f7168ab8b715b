//! Message text formats shared by every side: mention tokens (`<@user id>`, what a message
//! stores for "@Ann") and, next, the safe formatting subset parsed into a small tree the
//! browser renders as elements. Depends on nothing else in this crate but `User`.

use uuid::Uuid;

use super::User;

/// The token a message's text holds for a mention of `user`: `<@` + the id (lowercase,
/// hyphenated) + `>`. The server keeps (in `Message::mentions`) only the tokens that name a
/// member; the database reads them with the same grammar (`chat_mentions` in the migrations).
pub fn mention_token(user: Uuid) -> String {
    format!("<@{}>", user.hyphenated())
}

/// Length of a mention token in bytes.
const TOKEN_LEN: usize = 2 + 36 + 1;

/// The mention token at the start of `text`, if one is there: the user and the token's length.
pub fn mention_at(text: &str) -> Option<(Uuid, usize)> {
    let token = text.get(..TOKEN_LEN)?;
    let id = token.strip_prefix("<@")?.strip_suffix('>')?;
    // Only the canonical form (what `mention_token` writes and the database matches).
    if id.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let user = Uuid::try_parse(id).ok()?;
    (user.hyphenated().to_string() == id).then_some((user, TOKEN_LEN))
}

/// Every user a text's mention tokens name, first appearance first, each once.
pub fn mentioned(text: &str) -> Vec<Uuid> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<@") {
        rest = &rest[at..];
        match mention_at(rest) {
            Some((user, len)) => {
                if !found.contains(&user) {
                    found.push(user);
                }
                rest = &rest[len..];
            }
            None => rest = &rest[2..],
        }
    }
    found
}

/// The name a mention shows: "@" + the member's display name as it is now, or "@someone"
/// when they are not among `people` (no longer a member).
pub fn mention_name(user: Uuid, people: &[User]) -> String {
    match people.iter().find(|p| p.id == user) {
        Some(person) => format!("@{}", person.display_name),
        None => "@someone".to_owned(),
    }
}

/// Text with its mention tokens written as names ("@Ann"): what an editor shows and what a
/// preview starts from.
pub fn with_names(text: &str, people: &[User]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("<@") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match mention_at(rest) {
            Some((user, len)) => {
                out.push_str(&mention_name(user, people));
                rest = &rest[len..];
            }
            None => {
                out.push_str("<@");
                rest = &rest[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The reverse of [`with_names`] for a composer: every "@Display name" of one of `people`
/// (the longest name that fits, followed by neither a letter nor a digit) becomes its token.
pub fn with_tokens(text: &str, people: &[User]) -> String {
    let mut by_length: Vec<&User> = people.iter().collect();
    by_length.sort_by_key(|p| std::cmp::Reverse(p.display_name.len()));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        // Not inside a word ("ann@example.com" stays as it is).
        let starts_word = out
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric() && c != '@');
        let person = by_length.iter().find(|p| {
            after.starts_with(p.display_name.as_str())
                && after[p.display_name.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric())
        });
        match person.filter(|_| starts_word) {
            Some(person) => {
                out.push_str(&mention_token(person.id));
                rest = &after[person.display_name.len()..];
            }
            None => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u128, name: &str) -> User {
        User {
            id: Uuid::from_u128(n),
            username: name.to_lowercase().replace(' ', ""),
            display_name: name.into(),
        }
    }

    #[test]
    fn tokens_round_trip_through_names() {
        let people = [person(1, "Ann"), person(2, "Ann Lee"), person(3, "Bob")];
        let typed = "@Ann Lee and @Ann, ask @Bob2 or ann@example.com @Bob";
        let stored = with_tokens(typed, &people);
        assert_eq!(
            stored,
            format!(
                "{} and {}, ask @Bob2 or ann@example.com {}",
                mention_token(people[1].id),
                mention_token(people[0].id),
                mention_token(people[2].id)
            )
        );
        assert_eq!(
            mentioned(&stored),
            vec![people[1].id, people[0].id, people[2].id]
        );
        assert_eq!(with_names(&stored, &people), typed);
        assert_eq!(
            with_names(&stored, &people[..1]),
            "@someone and @Ann, ask @Bob2 or ann@example.com @someone"
        );
    }

    #[test]
    fn only_canonical_tokens_count() {
        let id = Uuid::from_u128(0xabc);
        let upper = format!("<@{}>", id.hyphenated().to_string().to_uppercase());
        let simple = format!("<@{}>", id.simple());
        assert!(mentioned(&upper).is_empty());
        assert!(mentioned(&simple).is_empty());
        assert!(mentioned("<@ <@> <@x").is_empty());
        assert_eq!(mentioned(&format!("x<@{}>y", id.hyphenated())), vec![id]);
        assert_eq!(with_names("a <@ b", &[]), "a <@ b");
    }
}
