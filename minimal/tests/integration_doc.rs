//! docs/INTEGRATION.md stays true: every ```rust block in it is an excerpt of the minimal
//! host's source (one file of minimal/src), and every ```toml block an excerpt of
//! minimal/Cargo.toml, whitespace aside. Uses only the standard library.

use std::fs;
use std::path::{Path, PathBuf};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every whitespace run becomes one space, so reflowed code still matches.
fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fenced blocks of `markdown` in `language`, in order.
fn blocks<'a>(markdown: &'a str, language: &str) -> Vec<&'a str> {
    let fence = format!("```{language}\n");
    let mut found = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```").unwrap_or(body.len());
        found.push(&body[..end]);
        rest = &body[end..];
    }
    found
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn guide() -> String {
    read(&manifest_dir().join("../docs/INTEGRATION.md"))
}

#[test]
fn every_rust_snippet_is_cut_from_the_minimal_host() {
    let mut files = Vec::new();
    rust_files(&manifest_dir().join("src"), &mut files);
    let sources: Vec<String> = files.iter().map(|f| normalised(&read(f))).collect();
    let guide = guide();
    let snippets = blocks(&guide, "rust");
    assert!(
        snippets.len() >= 10,
        "only {} rust snippets in docs/INTEGRATION.md",
        snippets.len()
    );
    let drifted: Vec<&&str> = snippets
        .iter()
        .filter(|snippet| {
            let snippet = normalised(snippet);
            !sources.iter().any(|source| source.contains(&snippet))
        })
        .collect();
    assert!(
        drifted.is_empty(),
        "these snippets of docs/INTEGRATION.md are no longer in minimal/src (update the guide):\n\n{}",
        drifted
            .iter()
            .map(|s| s.trim_end())
            .collect::<Vec<_>>()
            .join("\n\n-----\n\n")
    );
}

#[test]
fn every_toml_snippet_is_cut_from_the_minimal_manifest() {
    let manifest = normalised(&read(&manifest_dir().join("Cargo.toml")));
    let guide = guide();
    let snippets = blocks(&guide, "toml");
    assert!(
        !snippets.is_empty(),
        "no toml snippets in docs/INTEGRATION.md"
    );
    for snippet in snippets {
        assert!(
            manifest.contains(&normalised(snippet)),
            "this snippet of docs/INTEGRATION.md is no longer in minimal/Cargo.toml:\n\n{snippet}"
        );
    }
}

#[test]
fn the_blocks_are_found() {
    let markdown = "a\n```rust\nfn a() {}\n```\nb\n```toml\nx = 1\n```\n```rust\nfn b() {}\n```\n";
    assert_eq!(blocks(markdown, "rust"), ["fn a() {}\n", "fn b() {}\n"]);
    assert_eq!(blocks(markdown, "toml"), ["x = 1\n"]);
    assert_eq!(normalised("  a\n\t b  "), "a b");
}
