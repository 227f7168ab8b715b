//! Message formatting, which every reader's browser runs on any message: any text parses and
//! reads as plain text without a panic, and every link it makes is http, https or mailto.

#![no_main]

use libfuzzer_sys::fuzz_target;
use parley::model::format::{parse, plain, Block, Inline};

fn check_inlines(inlines: &[Inline]) {
    for inline in inlines {
        match inline {
            Inline::Link { href, .. } => {
                let scheme = href.to_ascii_lowercase();
                assert!(
                    ["http://", "https://", "mailto:"]
                        .iter()
                        .any(|s| scheme.starts_with(s)),
                    "{href}"
                );
            }
            Inline::Strong(inner) | Inline::Em(inner) => check_inlines(inner),
            _ => {}
        }
    }
}

fn check_blocks(blocks: &[Block]) {
    for block in blocks {
        match block {
            Block::Paragraph(inlines) => check_inlines(inlines),
            Block::Quote(inner) => check_blocks(inner),
            Block::List(items) => items.iter().for_each(|item| check_inlines(item)),
            Block::Code(_) => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_blocks(&parse(text));
        let _ = plain(text, &[]);
    }
});
