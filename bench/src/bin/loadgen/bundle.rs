//! What a browser downloads for `/chat`: the page, then every asset it names (the WASM, its JS
//! glue and the demo's CSS under `/pkg/`, the chat's CSS at `/parley.css`), each fetched three
//! times from the real server: without compression (raw bytes), with `Accept-Encoding: gzip`
//! (bytes on the wire for a gzip-only client, the figure compared with the competitor's) and
//! with `gzip, deflate, br` as Chromium and Firefox offer it (the brotli copies of the site's
//! files).

use serde::Serialize;

use crate::http::Http;
use crate::process::Served;
use crate::Failure;

#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub path: String,
    pub raw_bytes: usize,
    pub gzip_bytes: usize,
    /// What the server actually sent when gzip was offered.
    pub content_encoding: Option<String>,
    /// Bytes on the wire when a browser's `gzip, deflate, br` was offered.
    pub browser_bytes: usize,
    /// What the server sent then.
    pub browser_encoding: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    pub assets: Vec<Asset>,
    pub total_raw_bytes: usize,
    pub total_gzip_bytes: usize,
    pub total_browser_bytes: usize,
}

/// What Chromium 156 offers on every request (zstd aside, which the server does not send).
const BROWSER_ENCODINGS: &str = "gzip, deflate, br";

pub async fn measure(served: &Served, token: &str) -> Result<Bundle, Failure> {
    let mut http = Http::connect(served.addr, Some(token)).await?;
    let page = http.get("/chat", false).await?;
    if page.status != 200 {
        return Err(format!("/chat answered {}", page.status).into());
    }
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let mut paths = vec!["/chat".to_owned()];
    for piece in html.split(['"', '\'']) {
        let asset = piece.starts_with("/pkg/") || piece == "/parley.css";
        if asset && !paths.iter().any(|p| p == piece) {
            paths.push(piece.to_owned());
        }
    }
    let mut assets = Vec::new();
    for path in paths {
        let raw = http.get(&path, false).await?;
        let gzip = http.get(&path, true).await?;
        let browser = http.get_encoded(&path, BROWSER_ENCODINGS).await?;
        if [raw.status, gzip.status, browser.status] != [200; 3] {
            return Err(format!(
                "{path} answered {} / {} / {}",
                raw.status, gzip.status, browser.status
            )
            .into());
        }
        assets.push(Asset {
            path,
            raw_bytes: raw.body.len(),
            gzip_bytes: gzip.body.len(),
            content_encoding: gzip.content_encoding,
            browser_bytes: browser.body.len(),
            browser_encoding: browser.content_encoding,
        });
    }
    Ok(Bundle {
        total_raw_bytes: assets.iter().map(|a| a.raw_bytes).sum(),
        total_gzip_bytes: assets.iter().map(|a| a.gzip_bytes).sum(),
        total_browser_bytes: assets.iter().map(|a| a.browser_bytes).sum(),
        assets,
    })
}
