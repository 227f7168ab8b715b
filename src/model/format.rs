//! Message text formats shared by every side: mention tokens (`<@user id>`, what a message
//! stores for "@Ann") and the safe formatting subset (SPEC §7.3: bold, italic, code, fenced
//! blocks, quotes, lists, http/https/mailto autolinks) read into a small tree ([`parse`]) the
//! browser renders as elements, never as HTML; [`plain`] is the same text without its markers.
//! Depends on nothing else in this crate but `User`.

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

/// Deepest nesting [`parse`] builds (a quote in a quote, emphasis in strong…): markers past it
/// stay text, so no message can grow the stack.
const MAX_DEPTH: usize = 8;

/// A block of a formatted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Lines up to a blank line or the next block; its line breaks are [`Inline::LineBreak`].
    Paragraph(Vec<Inline>),
    /// The lines between a "```" line (the rest of which, a language, is ignored) and the next
    /// line of backticks only, as typed: no formatting, no mentions.
    Code(String),
    /// Consecutive lines starting with `>`, without it (and one space after it).
    Quote(Vec<Block>),
    /// Consecutive lines starting with `- `, one item each.
    List(Vec<Vec<Inline>>),
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// `**…**`
    Strong(Vec<Inline>),
    /// `*…*`
    Em(Vec<Inline>),
    /// `` `…` `` (or between two equal runs of backticks), as typed.
    Code(String),
    /// An address starting with `http://`, `https://` or `mailto:` (any case), without the
    /// punctuation that ends a sentence; `text` is what was typed, `href` the same.
    Link {
        href: String,
        text: String,
    },
    Mention(Uuid),
    LineBreak,
}

/// Reads a message's text as its blocks. Never fails: whatever is not formatting (HTML, an
/// unclosed marker, a `javascript:` address) stays text.
pub fn parse(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    blocks(&lines, 0)
}

/// The text of a message without its markers, mentions as names and whitespace collapsed:
/// what a preview or a quote of it shows.
pub fn plain(text: &str, people: &[User]) -> String {
    let mut out = String::with_capacity(text.len());
    for block in parse(text) {
        block_text(&block, people, &mut out);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn block_text(block: &Block, people: &[User], out: &mut String) {
    match block {
        Block::Paragraph(inlines) => inline_text(inlines, people, out),
        Block::Code(code) => out.push_str(code),
        Block::Quote(blocks) => blocks.iter().for_each(|b| block_text(b, people, out)),
        Block::List(items) => items.iter().for_each(|item| {
            inline_text(item, people, out);
            out.push(' ');
        }),
    }
    out.push(' ');
}

fn inline_text(inlines: &[Inline], people: &[User], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(text) | Inline::Code(text) | Inline::Link { text, .. } => {
                out.push_str(text)
            }
            Inline::Strong(inner) | Inline::Em(inner) => inline_text(inner, people, out),
            Inline::Mention(user) => out.push_str(&mention_name(*user, people)),
            Inline::LineBreak => out.push(' '),
        }
    }
}

fn blocks(lines: &[&str], depth: usize) -> Vec<Block> {
    let mut out = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let end_paragraph = |out: &mut Vec<Block>, paragraph: &mut Vec<&str>| {
        if !paragraph.is_empty() {
            out.push(Block::Paragraph(inlines(&paragraph.join("\n"))));
            paragraph.clear();
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if line.is_empty() {
            end_paragraph(&mut out, &mut paragraph);
            i += 1;
        } else if let Some(close) = fence_close(lines, i) {
            end_paragraph(&mut out, &mut paragraph);
            out.push(Block::Code(lines[i + 1..close].join("\n")));
            i = close + 1;
        } else if depth < MAX_DEPTH && quote_line(line).is_some_and(|q| !q.trim().is_empty()) {
            end_paragraph(&mut out, &mut paragraph);
            let quoted: Vec<&str> = lines[i..]
                .iter()
                .map_while(|l| quote_line(l.trim_start()))
                .collect();
            i += quoted.len();
            out.push(Block::Quote(blocks(&quoted, depth + 1)));
        } else if item_line(line).is_some() {
            end_paragraph(&mut out, &mut paragraph);
            let items: Vec<Vec<Inline>> = lines[i..]
                .iter()
                .map_while(|l| item_line(l.trim_start()))
                .map(inlines)
                .collect();
            i += items.len();
            out.push(Block::List(items));
        } else {
            paragraph.push(lines[i]);
            i += 1;
        }
    }
    end_paragraph(&mut out, &mut paragraph);
    out
}

/// Where the fenced block opened at line `open` closes: the next line of three or more
/// backticks only. `None` when `open` is no fence ("```" then no backtick) or nothing closes
/// it (then the line is text).
fn fence_close(lines: &[&str], open: usize) -> Option<usize> {
    let info = lines[open].trim_start().strip_prefix("```")?;
    if info.contains('`') {
        return None;
    }
    (open + 1..lines.len()).find(|&i| {
        let line = lines[i].trim();
        line.len() >= 3 && line.bytes().all(|b| b == b'`')
    })
}

/// A quote line without its `>` and the space after it.
fn quote_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('>')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// A list line's item text (`- ` then something).
fn item_line(line: &str) -> Option<&str> {
    line.strip_prefix("- ")
        .filter(|item| !item.trim().is_empty())
}

/// What a paragraph's text is made of, before emphasis markers are paired.
#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    Text(&'a str),
    Code(&'a str),
    Link(&'a str),
    Mention(Uuid),
    Break,
    /// `**` (strong) or `*`; it may open when followed by a non-space, close when preceded
    /// by one.
    Marker {
        strong: bool,
        open: bool,
        close: bool,
    },
}

fn inlines(text: &str) -> Vec<Inline> {
    pair(&tokens(text), 0)
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    // Where the text not yet pushed starts.
    let mut text_from = 0;
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        let before = text[..i].chars().next_back();
        let (token, len) = match c {
            '\n' => (Token::Break, 1),
            '`' => match code_span(rest) {
                Some((code, len)) => (Token::Code(code), len),
                None => {
                    // An unmatched run of backticks is text, all of it.
                    i += rest.bytes().take_while(|&b| b == b'`').count();
                    continue;
                }
            },
            '*' => {
                let len = if rest.starts_with("**") { 2 } else { 1 };
                let after = rest[len..].chars().next();
                let marker = Token::Marker {
                    strong: len == 2,
                    open: after.is_some_and(|c| !c.is_whitespace()),
                    close: before.is_some_and(|c| !c.is_whitespace()),
                };
                (marker, len)
            }
            '<' => match mention_at(rest) {
                Some((user, len)) => (Token::Mention(user), len),
                None => {
                    i += 1;
                    continue;
                }
            },
            // An address starts a word ("xhttp://" is no link).
            'h' | 'H' | 'm' | 'M' if before.is_none_or(|b| !b.is_alphanumeric()) => {
                match link_at(rest) {
                    Some(len) => (Token::Link(&rest[..len]), len),
                    None => {
                        i += 1;
                        continue;
                    }
                }
            }
            _ => {
                i += c.len_utf8();
                continue;
            }
        };
        if text_from < i {
            out.push(Token::Text(&text[text_from..i]));
        }
        out.push(token);
        i += len;
        text_from = i;
    }
    if text_from < text.len() {
        out.push(Token::Text(&text[text_from..]));
    }
    out
}

/// The code span at the start of `text` (a run of backticks, then text on the same line up to
/// a run of as many): its content and length. One space each side is dropped when both are
/// there, so `` ` `x` ` `` can show backticks.
fn code_span(text: &str) -> Option<(&str, usize)> {
    let ticks = text.bytes().take_while(|&b| b == b'`').count();
    let line = &text[..text.find('\n').unwrap_or(text.len())];
    let mut from = ticks;
    while let Some(at) = line[from..].find('`') {
        let start = from + at;
        let run = line[start..].bytes().take_while(|&b| b == b'`').count();
        if run == ticks {
            let code = &line[ticks..start];
            let code = match code.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                Some(inner) if !inner.trim().is_empty() => inner,
                _ => code,
            };
            return Some((code, start + run));
        }
        from = start + run;
    }
    None
}

/// The length of the address at the start of `text`, if one is there: `http://`, `https://`
/// or `mailto:` and more, up to a space, `<`, `>`, `"` or a backtick, less the punctuation
/// that ends a sentence (and a `)` the address did not open).
fn link_at(text: &str) -> Option<usize> {
    let scheme = ["https://", "http://", "mailto:"]
        .into_iter()
        .find(|scheme| {
            text.get(..scheme.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
        })?;
    let end = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`'))
        .unwrap_or(text.len());
    let mut url = &text[..end];
    while url.len() > scheme.len() {
        let Some(last) = url.chars().next_back() else {
            break;
        };
        let unopened = last == ')' && url.matches('(').count() < url.matches(')').count();
        if !unopened && !matches!(last, '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | ']') {
            break;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
    (url.len() > scheme.len()).then_some(url.len())
}

/// Pairs each opening marker with the first closing one of its kind after it (with something
/// between them); markers left unpaired are text.
fn pair(tokens: &[Token<'_>], depth: usize) -> Vec<Inline> {
    let mut out = Vec::new();
    let push_text = |out: &mut Vec<Inline>, text: &str| match out.last_mut() {
        Some(Inline::Text(run)) => run.push_str(text),
        _ => out.push(Inline::Text(text.to_owned())),
    };
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i] {
            Token::Text(text) => push_text(&mut out, text),
            Token::Code(code) => out.push(Inline::Code(code.to_owned())),
            Token::Link(url) => out.push(Inline::Link {
                href: url.to_owned(),
                text: url.to_owned(),
            }),
            Token::Mention(user) => out.push(Inline::Mention(user)),
            Token::Break => out.push(Inline::LineBreak),
            Token::Marker { strong, open, .. } => {
                let close = (i + 2..tokens.len()).find(|&j| {
                    matches!(tokens[j], Token::Marker { strong: s, close: true, .. } if s == strong)
                });
                match close.filter(|_| open && depth < MAX_DEPTH) {
                    Some(close) => {
                        let inner = pair(&tokens[i + 1..close], depth + 1);
                        out.push(if strong {
                            Inline::Strong(inner)
                        } else {
                            Inline::Em(inner)
                        });
                        i = close;
                    }
                    None => push_text(&mut out, if strong { "**" } else { "*" }),
                }
            }
        }
        i += 1;
    }
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

    use Block::{Paragraph, Quote};
    use Inline::{Em, LineBreak, Strong};

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    fn code(s: &str) -> Inline {
        Inline::Code(s.into())
    }

    fn link(s: &str) -> Inline {
        Inline::Link {
            href: s.into(),
            text: s.into(),
        }
    }

    /// The inlines of a text that is one paragraph.
    fn one(s: &str) -> Vec<Inline> {
        match parse(s).as_slice() {
            [Paragraph(inlines)] => inlines.clone(),
            other => panic!("not one paragraph: {other:?}"),
        }
    }

    #[test]
    fn plain_text_is_one_text() {
        assert_eq!(one("hello there"), vec![text("hello there")]);
        assert_eq!(parse(""), vec![]);
        assert_eq!(parse("\n \n"), vec![]);
    }

    #[test]
    fn strong_em_and_code() {
        assert_eq!(
            one("a **b** *c* `d` e"),
            vec![
                text("a "),
                Strong(vec![text("b")]),
                text(" "),
                Em(vec![text("c")]),
                text(" "),
                code("d"),
                text(" e"),
            ]
        );
    }

    #[test]
    fn markers_nest() {
        assert_eq!(
            one("**bold *and italic* too**"),
            vec![Strong(vec![
                text("bold "),
                Em(vec![text("and italic")]),
                text(" too"),
            ])]
        );
        assert_eq!(
            one("*an **inner** one*"),
            vec![Em(vec![
                text("an "),
                Strong(vec![text("inner")]),
                text(" one"),
            ])]
        );
        assert_eq!(
            one("**`code` in bold**"),
            vec![Strong(vec![code("code"), text(" in bold")])]
        );
    }

    #[test]
    fn unclosed_or_spaced_markers_stay_text() {
        for s in [
            "**open",
            "*open",
            "close**",
            "2 * 3 * 4",
            "a ** b ** c",
            "`open",
            "****",
            "* *",
            "**a*",
            "``a`",
        ] {
            assert_eq!(one(s), vec![text(s)], "{s}");
        }
        assert_eq!(
            one("**a *b**"),
            vec![Strong(vec![text("a *b")])],
            "an inner marker with no partner inside stays text"
        );
        assert_eq!(
            one("x**y**z"),
            vec![text("x"), Strong(vec![text("y")]), text("z")]
        );
    }

    #[test]
    fn markers_inside_code_are_text() {
        assert_eq!(one("`**not bold**`"), vec![code("**not bold**")]);
        assert_eq!(
            one("**a `b**` c**"),
            vec![Strong(vec![text("a "), code("b**"), text(" c")])]
        );
        assert_eq!(one("``a ` b``"), vec![code("a ` b")]);
        assert_eq!(one("`` `x` ``"), vec![code("`x`")]);
        assert_eq!(
            one("```x```"),
            vec![code("x")],
            "one line of backticks is no fence"
        );
        let mention = mention_token(Uuid::from_u128(7));
        assert_eq!(one(&format!("`{mention}`")), vec![code(&mention)]);
    }

    #[test]
    fn code_spans_stay_on_their_line() {
        assert_eq!(one("`a\nb`"), vec![text("`a"), LineBreak, text("b`")]);
    }

    #[test]
    fn links_leave_out_trailing_punctuation() {
        assert_eq!(
            one("see https://example.com/a?b=1, ok"),
            vec![
                text("see "),
                link("https://example.com/a?b=1"),
                text(", ok")
            ]
        );
        assert_eq!(
            one("(at http://example.com/x_(y).)"),
            vec![text("(at "), link("http://example.com/x_(y)"), text(".)")]
        );
        assert_eq!(
            one("**https://example.com**!"),
            vec![Strong(vec![link("https://example.com")]), text("!")]
        );
        assert_eq!(
            one("HTTPS://EXAMPLE.COM/?"),
            vec![link("HTTPS://EXAMPLE.COM/"), text("?")]
        );
        assert_eq!(
            one("<https://example.com>"),
            vec![text("<"), link("https://example.com"), text(">")]
        );
    }

    #[test]
    fn mailto_links() {
        assert_eq!(
            one("write to mailto:ann@example.com."),
            vec![text("write to "), link("mailto:ann@example.com"), text(".")]
        );
        assert_eq!(one("ann@example.com"), vec![text("ann@example.com")]);
        assert_eq!(one("mailto:"), vec![text("mailto:")]);
    }

    #[test]
    fn other_schemes_and_html_stay_text() {
        for s in [
            "javascript:alert(1)",
            "[x](javascript:alert(1))",
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "data:text/html,<b>x</b>",
            "http:// and https://",
            "xhttps://example.com",
            "ftp://example.com",
        ] {
            assert_eq!(one(s), vec![text(s)], "{s}");
        }
        assert_eq!(
            one("[x](https://example.com)"),
            vec![text("[x]("), link("https://example.com"), text(")")]
        );
    }

    #[test]
    fn mentions_are_read_outside_code() {
        let ann = Uuid::from_u128(1);
        assert_eq!(
            one(&format!("hi {}!", mention_token(ann))),
            vec![text("hi "), Inline::Mention(ann), text("!")]
        );
        assert_eq!(
            one(&format!("**{}**", mention_token(ann))),
            vec![Strong(vec![Inline::Mention(ann)])]
        );
        assert_eq!(one("<@nobody>"), vec![text("<@nobody>")]);
    }

    #[test]
    fn lines_and_paragraphs() {
        assert_eq!(
            parse("one\ntwo\r\n\n\nthree"),
            vec![
                Paragraph(vec![text("one"), LineBreak, text("two")]),
                Paragraph(vec![text("three")]),
            ]
        );
    }

    #[test]
    fn fenced_blocks_keep_their_text() {
        assert_eq!(
            parse("look:\n```rust\nfn main() {\n  **x** <b>\n\n}\n```\nafter"),
            vec![
                Paragraph(vec![text("look:")]),
                Block::Code("fn main() {\n  **x** <b>\n\n}".into()),
                Paragraph(vec![text("after")]),
            ]
        );
        assert_eq!(parse("```\n```"), vec![Block::Code(String::new())]);
        assert_eq!(
            parse("```\nnot closed\n- item"),
            vec![
                Paragraph(vec![text("```"), LineBreak, text("not closed")]),
                Block::List(vec![vec![text("item")]]),
            ]
        );
    }

    #[test]
    fn quotes_hold_blocks() {
        assert_eq!(
            parse("> first *one*\n>\n> - a\n>> deeper\nafter"),
            vec![
                Quote(vec![
                    Paragraph(vec![text("first "), Em(vec![text("one")])]),
                    Block::List(vec![vec![text("a")]]),
                    Quote(vec![Paragraph(vec![text("deeper")])]),
                ]),
                Paragraph(vec![text("after")]),
            ]
        );
        assert_eq!(one(">"), vec![text(">")]);
        assert_eq!(one("a > b"), vec![text("a > b")]);
        // Past the deepest nesting, the markers are text.
        let deep = ">".repeat(MAX_DEPTH + 2) + " x";
        let mut blocks = parse(&deep);
        for _ in 0..MAX_DEPTH {
            blocks = match blocks.as_slice() {
                [Quote(inner)] => inner.clone(),
                other => panic!("{other:?}"),
            };
        }
        assert_eq!(blocks, vec![Paragraph(vec![text(">> x")])]);
    }

    #[test]
    fn lists_are_consecutive_item_lines() {
        assert_eq!(
            parse("- one\n  - **two**\n-three\n- "),
            vec![
                Block::List(vec![vec![text("one")], vec![Strong(vec![text("two")])]]),
                Paragraph(vec![text("-three"), LineBreak, text("- ")]),
            ]
        );
    }

    #[test]
    fn deep_emphasis_is_bounded() {
        let stars = "*".repeat(crate::model::MessageText::MAX);
        assert!(plain(&stars, &[]).chars().all(|c| c == '*'));
        let nested = "**a *".repeat(500) + &"b* c**".repeat(500);
        assert!(!parse(&nested).is_empty());
    }

    /// Every text of up to five characters from an alphabet of markers parses (no panic), and
    /// its plain form keeps only characters of the text, in their order.
    #[test]
    fn every_short_marker_text_parses() {
        let alphabet = ['*', '`', '>', '-', ' ', '\n', 'h', '<', 'x'];
        let mut texts = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            for text in &longer {
                let shown = plain(text, &[]);
                let mut rest = text.chars().filter(|c| !c.is_whitespace());
                assert!(
                    shown
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .all(|c| rest.any(|r| r == c)),
                    "{text:?} shows {shown:?}"
                );
            }
            texts = longer;
        }
    }

    #[test]
    fn plain_drops_markers_and_names_people() {
        let people = [person(1, "Ann")];
        let s = format!(
            "**Hi** {}, see\n\n> `x`  and https://a.example\n- one\n- *two*\n```\ncode  here\n```",
            mention_token(people[0].id)
        );
        assert_eq!(
            plain(&s, &people),
            "Hi @Ann, see x and https://a.example one two code here"
        );
        assert_eq!(plain("**open", &[]), "**open");
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
