//! Message search for a user (the JSON API, the server function and the server API on a
//! user's behalf): checks the words and the cursor, asks `db::search`, and cuts each match's
//! marked text into a short snippet of plain parts. May use `db` and `model`.

use sqlx::PgPool;
use uuid::Uuid;

use super::db;
use super::db::search::{GT, LT, MARK_END, MARK_START};
use super::error::ServerError;
use crate::model::{
    SearchPage, SearchQuery, SearchResult, SnippetPart, MAX_SEARCH_CHARS, MAX_SEARCH_PAGE,
};

/// Results a page holds when the query does not say.
const SEARCH_PAGE: i64 = 20;
/// Characters a snippet shows at most (about two lines), and before the first match.
const SNIPPET_CHARS: usize = 160;
const SNIPPET_LEAD: usize = 40;

/// The messages `me` may read that match `query`, newest first. Membership is read with the
/// search itself: a channel left a moment ago finds nothing.
pub async fn search(
    pool: &PgPool,
    me: Uuid,
    query: &SearchQuery,
) -> Result<SearchPage, ServerError> {
    let words = query.q.trim();
    if words.is_empty() || words.chars().count() > MAX_SEARCH_CHARS {
        return Err(ServerError::BadRequest(format!(
            "q: search words, 1 to {MAX_SEARCH_CHARS} characters"
        )));
    }
    if words.chars().any(char::is_control) {
        return Err(ServerError::BadRequest(
            "q: search words cannot hold control characters".into(),
        ));
    }
    let limit = query.limit.unwrap_or(SEARCH_PAGE);
    if !(1..=MAX_SEARCH_PAGE).contains(&limit) {
        return Err(ServerError::BadRequest(format!(
            "limit: 1 to {MAX_SEARCH_PAGE}"
        )));
    }
    let before = match query.before {
        None => None,
        Some(id) => Some(db::search::cursor(pool, id).await?.ok_or_else(|| {
            ServerError::BadRequest("before: no such message (use a result's message id)".into())
        })?),
    };
    let (found, has_more) = db::page_of(
        db::search::search(pool, me, words, before, limit + 1).await?,
        limit,
    );
    let mut results = Vec::with_capacity(found.len());
    let mut rows = Vec::with_capacity(found.len());
    let mut extras = Vec::with_capacity(found.len());
    for f in found {
        rows.push(f.row);
        extras.push((f.marked, f.channel_title, f.author_name));
    }
    let messages = db::messages::views(pool, rows).await?;
    for (message, (marked, channel_title, author_name)) in messages.into_iter().zip(extras) {
        results.push(SearchResult {
            message,
            channel_title,
            author_name,
            snippet: snippet(&marked),
        });
    }
    Ok(SearchPage { results, has_more })
}

/// The marked text (`ts_headline`'s, see `db::search`) as plain parts: `<` and `>` restored,
/// cut to about [`SNIPPET_CHARS`] around the first match at spaces, "…" where it was cut.
pub fn snippet(marked: &str) -> Vec<SnippetPart> {
    let text: String = marked
        .chars()
        .map(|c| match c {
            LT => '<',
            GT => '>',
            c => c,
        })
        .collect();
    // (char, marked) for each character of the text.
    let mut chars = Vec::with_capacity(text.len());
    let mut mark = false;
    for c in text.chars() {
        match c {
            MARK_START => mark = true,
            MARK_END => mark = false,
            c => chars.push((c, mark)),
        }
    }
    let first = chars.iter().position(|&(_, m)| m).unwrap_or(0);
    let mut start = first.saturating_sub(SNIPPET_LEAD);
    if start > 0 {
        // Begin after a space (never inside a word or a mention token).
        start = chars[start..first]
            .iter()
            .position(|&(c, _)| c.is_whitespace())
            .map_or(first, |i| start + i + 1);
    }
    let mut end = (start + SNIPPET_CHARS).min(chars.len());
    if end < chars.len() {
        end = chars[start..end]
            .iter()
            .rposition(|&(c, _)| c.is_whitespace())
            .map_or(end, |i| start + i)
            .max(first + 1)
            .min(chars.len());
    }
    let mut parts: Vec<SnippetPart> = Vec::new();
    if start > 0 {
        push('…', false, &mut parts);
    }
    for &(c, m) in &chars[start..end] {
        // A snippet is one or two lines: line breaks read as spaces.
        push(if c == '\n' || c == '\r' { ' ' } else { c }, m, &mut parts);
    }
    if end < chars.len() {
        push('…', false, &mut parts);
    }
    parts
}

/// Adds a character to the last part when it is marked alike, else as a new part.
fn push(c: char, mark: bool, parts: &mut Vec<SnippetPart>) {
    match parts.last_mut() {
        Some(last) if last.mark == mark => last.text.push(c),
        _ => parts.push(SnippetPart {
            text: c.to_string(),
            mark,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(parts: &[SnippetPart]) -> String {
        parts
            .iter()
            .map(|p| {
                if p.mark {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn marks_become_parts_and_brackets_come_back() {
        let text = format!("a {LT}b{GT} claim: the {MARK_START}quarterly{MARK_END} numbers");
        assert_eq!(
            marked(&snippet(&text)),
            "a <b> claim: the [quarterly] numbers"
        );
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match_at_spaces() {
        let before = "word ".repeat(60);
        let after = " more".repeat(60);
        let text = format!("{before}{MARK_START}needle{MARK_END}{after}");
        let s = marked(&snippet(&text));
        assert!(s.starts_with("…word "), "{s}");
        assert!(s.contains("[needle]"));
        assert!(s.ends_with("more…"), "{s}");
        assert!(
            s.chars().count() <= SNIPPET_CHARS + 2,
            "{}",
            s.chars().count()
        );
    }

    #[test]
    fn a_word_longer_than_the_snippet_still_shows_its_match() {
        let text = format!("{}{MARK_START}x{MARK_END}", "y".repeat(300));
        let s = marked(&snippet(&text));
        assert!(s.contains("[x]"), "{s}");
    }

    #[test]
    fn line_breaks_read_as_spaces_and_no_match_keeps_the_start() {
        assert_eq!(marked(&snippet("one\ntwo")), "one two");
    }
}
