//! The chat's stylesheet at `/parley.css` (what `chat::ChatStylesheet` links): `style/parley.css`
//! compiled into the binary and served as written. Its address never changes, so browsers keep
//! it but ask again on each use (`no-cache`) with the ETag of its content: a 304 without a body
//! while it is unchanged, the new file right after an upgrade (never an old sheet beside new
//! markup).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The stylesheet, as the browser gets it.
const CSS: &str = include_str!("../../style/parley.css");

/// `W/"<16 hex digits>"`, from the content at compile time. Weak: the compression layer may
/// send the same sheet gzipped or not, which a strong tag would have to tell apart.
const ETAG_VALUE: &str = match std::str::from_utf8(&etag(CSS.as_bytes())) {
    Ok(tag) => tag,
    Err(_) => panic!("an ETag is ASCII"),
};
const ETAG_HEADER: HeaderValue = HeaderValue::from_static(ETAG_VALUE);

/// FNV-1a: cheap, stable, and computable in a `const`.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const fn etag(bytes: &[u8]) -> [u8; 20] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = fnv1a(bytes);
    let mut tag = *b"W/\"0000000000000000\"";
    let mut i = 0;
    while i < 16 {
        tag[3 + i] = HEX[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    tag
}

/// `GET /parley.css`, for any router state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/parley.css", get(stylesheet))
}

async fn stylesheet(headers: HeaderMap) -> Response {
    let cache = [
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (ETAG, ETAG_HEADER),
    ];
    if is_current(&headers) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let css_type = (
        CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    (cache, [css_type], CSS).into_response()
}

/// Whether `If-None-Match` names this version (compared weakly, as the header requires).
fn is_current(headers: &HeaderMap) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(ETAG_VALUE);
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == "*" || opaque(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_if_none_match(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[tokio::test]
    async fn the_sheet_is_css_with_its_etag_and_revalidates_to_304() {
        let first = stylesheet(HeaderMap::new()).await;
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(first.headers()[CACHE_CONTROL], "no-cache");
        let tag = first.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(tag.starts_with("W/\"") && tag.len() == 20, "{tag}");

        let again = stylesheet(with_if_none_match(&tag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[ETAG], tag.as_str());
        // A strong form of the same tag, in a list, matches too (weak comparison).
        let strong = tag.trim_start_matches("W/");
        let listed = stylesheet(with_if_none_match(&format!("\"other\", {strong}"))).await;
        assert_eq!(listed.status(), StatusCode::NOT_MODIFIED);

        let stale = stylesheet(with_if_none_match("W/\"0123456789abcdef\"")).await;
        assert_eq!(stale.status(), StatusCode::OK);
    }

    #[test]
    fn the_etag_follows_the_content() {
        assert_ne!(etag(b"a{color:red}"), etag(b"a{color:blue}"));
        assert_eq!(&etag(b""), b"W/\"cbf29ce484222325\"");
    }

    /// The dark theme is written twice (for `prefers-color-scheme` and for `.parley-dark`):
    /// both must say the same, and name every colour the light theme names.
    #[test]
    fn both_dark_themes_match_the_light_one() {
        let block = |start: &str| {
            let from = CSS.find(start).expect(start) + start.len();
            let body = &CSS[from..from + CSS[from..].find('}').expect("a closing brace")];
            let mut names: Vec<&str> = body
                .split(';')
                .filter_map(|d| d.split_once(':'))
                .map(|(name, _)| name.trim())
                .collect();
            names.sort_unstable();
            (body.to_owned(), names)
        };
        let (_, light) = block(":where(:root),.parley-light{");
        let (media, media_names) = block("@media (prefers-color-scheme:dark){:where(:root){");
        let (class, _) = block(".parley-dark{");
        assert_eq!(media, class);
        assert_eq!(media_names, light);
        assert!(light.len() >= 16, "{light:?}");
        assert!(light.iter().all(|name| name.starts_with("--parley-")));
    }
}
