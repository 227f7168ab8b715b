//! `NextPath`: where to send a person after signing in, parsed once from the `next` query
//! parameter (or form field) and shared by the pages and the server's form handling, so that
//! a sign-in can never end on another site (an "open redirect").
//!
//! Only a plain path on this site is accepted: printable ASCII starting with one `/`, no
//! backslash, no `//` or `/\` start, no control characters or whitespace, no malformed
//! percent-escapes — checked again after decoding every level of percent-encoding, because
//! browsers and proxies drop tabs and newlines from URLs (`/\t/evil.example` becomes
//! `//evil.example`) and some layers decode `%2F` or `%5C` once more.

/// Where to go after signing in when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/people";

/// Longest `next` accepted; our own targets (a page path and query) are far shorter.
const MAX_LEN: usize = 2048;

/// How many levels of percent-encoding are undone before giving up (and refusing).
const MAX_DECODINGS: usize = 4;

/// A path on this site, safe to redirect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPath(String);

impl NextPath {
    /// `raw` as it reads after the query string was decoded once, if it is a plain path on
    /// this site.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return None;
        }
        let mut level = raw.as_bytes().to_vec();
        for _ in 0..MAX_DECODINGS {
            if !is_plain_path(&level) {
                return None;
            }
            match percent_decode(&level)? {
                decoded if decoded == level => return Some(Self(raw.to_owned())),
                decoded => level = decoded,
            }
        }
        None
    }

    /// The parsed `next`, or [`DEFAULT_NEXT`] when it is missing or refused.
    pub fn or_default(raw: Option<&str>) -> Self {
        raw.and_then(Self::parse)
            .unwrap_or_else(|| Self(DEFAULT_NEXT.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One `/`, then anything but a second `/` or `\`; no control characters, whitespace or
/// backslashes anywhere (bytes of one decoding level; non-ASCII bytes are letters here).
fn is_plain_path(bytes: &[u8]) -> bool {
    let starts_well = bytes.first() == Some(&b'/') && !matches!(bytes.get(1), Some(b'/' | b'\\'));
    let clean = bytes
        .iter()
        .all(|&b| !(b.is_ascii_control() || b.is_ascii_whitespace() || b == b'\\'));
    // Whitespace outside ASCII (U+00A0, U+2028, U+3000 …), when the bytes spell text.
    let no_unicode_space = std::str::from_utf8(bytes)
        .map(|text| !text.chars().any(|c| c.is_whitespace() || c.is_control()))
        .unwrap_or(true);
    starts_well && clean && no_unicode_space
}

/// Undoes one level of percent-encoding; `None` when an escape is malformed (`%`, `%4`, `%zz`).
fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes.iter();
    while let Some(&b) = rest.next() {
        if b == b'%' {
            let high = hex_value(*rest.next()?)?;
            let low = hex_value(*rest.next()?)?;
            out.push(high << 4 | low);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each of these leaves this site, or may once some layer decodes or cleans it. The first
    /// group passed the filter this type replaced (`starts_with('/') && !starts_with("//") &&
    /// !contains('\\')`).
    const ATTACKS: &[&str] = &[
        // Browsers drop tabs and newlines from URLs: these become `//evil.example`.
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "/\r\n/evil.example",
        "/\t\t/evil.example/path?x=1",
        // Other control characters and whitespace.
        "/\u{0}/evil.example",
        "/\u{7f}/evil.example",
        "/ /evil.example",
        "/\u{a0}/evil.example",
        "/\u{3000}/evil.example",
        "/\u{2028}/evil.example",
        // Percent-encoded slashes, backslashes and controls that a later decoding turns into
        // the above.
        "/%2F/evil.example",
        "/%2f/evil.example",
        "/%5C/evil.example",
        "/%5cevil.example",
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0d%0a/evil.example",
        "/%252F/evil.example",
        "/%25252F%25252Fevil.example",
        "/%2509/evil.example",
        "/%E3%80%80/evil.example",
        // Malformed escapes are not a plain path.
        "/%",
        "/%zz",
        "/%4",
        // Caught by the old filter too.
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "evil.example",
        "\t//evil.example",
        " /people",
        "",
    ];

    #[test]
    fn refuses_every_way_off_this_site() {
        for attack in ATTACKS {
            assert_eq!(NextPath::parse(attack), None, "{attack:?} was accepted");
        }
    }

    #[test]
    fn refuses_overlong_and_deeply_encoded_values() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        assert_eq!(NextPath::parse(&long), None);
        let mut deep = "/%2F".to_owned();
        for _ in 0..MAX_DECODINGS {
            deep = deep.replace('%', "%25");
        }
        assert_eq!(NextPath::parse(&deep), None);
    }

    #[test]
    fn keeps_paths_on_this_site_as_given() {
        for path in [
            "/",
            "/people",
            "/chat",
            "/chat/0b9ec8a2-5d51-4b8e-9a55-6a3ec7ff0c11",
            "/chat?x=1&y=two#end",
            "/chat/%3Fx%3D1",
            "/search?q=caf%C3%A9",
            "/a/../b",
            "/@evil.example",
            "/people:8080",
        ] {
            assert_eq!(
                NextPath::parse(path).as_ref().map(NextPath::as_str),
                Some(path)
            );
        }
    }

    #[test]
    fn missing_or_refused_means_people() {
        assert_eq!(NextPath::or_default(None).as_str(), DEFAULT_NEXT);
        assert_eq!(
            NextPath::or_default(Some("/\t/evil.example")).as_str(),
            DEFAULT_NEXT
        );
        assert_eq!(NextPath::or_default(Some("/chat")).as_str(), "/chat");
    }
}
