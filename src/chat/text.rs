//! Message text as people see it: the safe formatting subset (`model::format`) rendered as
//! elements, never as HTML; links open in a new tab, mentions show the member's name.

use std::sync::Arc;

use leptos::prelude::*;

use crate::model::format::{mention_name, parse, Block, Inline};
use crate::model::User;

/// A message's text. One paragraph renders as its inline content (so what follows it, like
/// "(edited)", stays on its line); more blocks render as `p`, `pre`, `blockquote` and `ul`, so
/// the parent must be a `div`, not a `p`. `people` name the mentions ("@someone" without).
#[component]
pub fn MessageText(text: String, #[prop(optional)] people: Option<Arc<[User]>>) -> impl IntoView {
    let people = people.unwrap_or_else(|| Arc::from([]));
    let mut blocks = parse(&text);
    if let [Block::Paragraph(inlines)] = blocks.as_mut_slice() {
        return inline_views(std::mem::take(inlines), &people).into_any();
    }
    blocks
        .into_iter()
        .map(|block| block_view(block, &people))
        .collect_view()
        .into_any()
}

fn block_view(block: Block, people: &[User]) -> AnyView {
    match block {
        Block::Paragraph(inlines) => view! { <p>{inline_views(inlines, people)}</p> }.into_any(),
        Block::Code(code) => view! {
            <pre>
                <code>{code}</code>
            </pre>
        }
        .into_any(),
        Block::Quote(blocks) => {
            let inner = blocks
                .into_iter()
                .map(|block| block_view(block, people))
                .collect_view();
            view! { <blockquote>{inner}</blockquote> }.into_any()
        }
        Block::List(items) => {
            let items = items
                .into_iter()
                .map(|item| view! { <li>{inline_views(item, people)}</li> })
                .collect_view();
            view! { <ul>{items}</ul> }.into_any()
        }
    }
}

fn inline_views(inlines: Vec<Inline>, people: &[User]) -> Vec<AnyView> {
    inlines
        .into_iter()
        .map(|inline| inline_view(inline, people))
        .collect()
}

fn inline_view(inline: Inline, people: &[User]) -> AnyView {
    match inline {
        Inline::Text(text) => text.into_any(),
        Inline::Strong(inner) => {
            view! { <strong>{inline_views(inner, people)}</strong> }.into_any()
        }
        Inline::Em(inner) => view! { <em>{inline_views(inner, people)}</em> }.into_any(),
        Inline::Code(code) => view! { <code>{code}</code> }.into_any(),
        // The parser makes links of http, https and mailto addresses only.
        Inline::Link { href, text } => view! {
            <a href=href target="_blank" rel="noopener noreferrer">
                {text}
            </a>
        }
        .into_any(),
        Inline::Mention(user) => {
            view! { <span class="parley-mention">{mention_name(user, people)}</span> }.into_any()
        }
        Inline::LineBreak => view! { <br /> }.into_any(),
    }
}
