//! Message text as people see it: plain text (never HTML), with web addresses made into links.

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// Splits text into plain runs and `http(s)://` links (trailing punctuation stays text).
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let push_text = |out: &mut Vec<Segment>, s: &str| match out.last_mut() {
        Some(Segment::Text(run)) => run.push_str(s),
        _ if !s.is_empty() => out.push(Segment::Text(s.to_owned())),
        _ => {}
    };
    for piece in text.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end_matches(char::is_whitespace);
        let is_link =
            (word.starts_with("https://") || word.starts_with("http://")) && word.len() > 8;
        if !is_link {
            push_text(&mut out, piece);
            continue;
        }
        let url = word.trim_end_matches(['.', ',', ')', '!', '?', ';', ':', '\'', '"']);
        out.push(Segment::Link(url.to_owned()));
        push_text(&mut out, &piece[url.len()..]);
    }
    out
}

#[component]
pub fn MessageText(text: String) -> impl IntoView {
    segments(&text)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text.into_any(),
            Segment::Link(url) => {
                let href = url.clone();
                view! {
                    <a href=href target="_blank" rel="noopener noreferrer">
                        {url}
                    </a>
                }
                .into_any()
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_and_punctuation_is_left_out() {
        assert_eq!(
            segments("see https://example.com/a?b=1, ok"),
            vec![
                Segment::Text("see ".into()),
                Segment::Link("https://example.com/a?b=1".into()),
                Segment::Text(", ok".into()),
            ]
        );
    }

    #[test]
    fn markup_and_other_schemes_stay_text() {
        let text = "<img src=x onerror=alert(1)> javascript:alert(1) http://";
        assert_eq!(segments(text), vec![Segment::Text(text.into())]);
    }
}
