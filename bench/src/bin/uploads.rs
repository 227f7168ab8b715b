//! Attachments' cost (issue 16's benchmark line): the time to process a 5 MB JPEG (decode,
//! re-encode without metadata, thumbnail: `parley::server::attachments::process_image`, as
//! the server runs it on its blocking pool), and upload throughput against a running demo
//! host over loopback HTTP/1.1: the same 5 MB JPEG (sniffed, processed, stored) beside 5 MB
//! of bytes that are no image (sniffed and stored only), one upload at a time.
//!
//! `cargo run --release -p parley-bench --bin parley-uploads -- http://127.0.0.1:3000`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use image::{ImageFormat, Rgb, RgbImage};
use tokio::net::TcpStream;

type Failure = Box<dyn std::error::Error + Send + Sync>;

const RUNS: usize = 8;

/// A photo-like JPEG (gradients and noise) of at least 5,000,000 bytes.
fn five_mb_jpeg() -> Vec<u8> {
    let mut side = 2000u32;
    loop {
        let mut seed = 0x2545_f491_u32;
        let picture = RgbImage::from_fn(side * 4 / 3, side, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed % 96) as u8;
            Rgb([
                ((x / 7) as u8).wrapping_add(noise),
                ((y / 5) as u8).wrapping_add(noise / 2),
                (((x + y) / 11) as u8) ^ noise,
            ])
        });
        let mut bytes = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92);
        if picture.write_with_encoder(encoder).is_err() {
            return bytes;
        }
        if bytes.len() >= 5_000_000 {
            return bytes;
        }
        side = side * 11 / 10;
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

struct Http {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    cookie: Option<String>,
}

impl Http {
    async fn connect(addr: SocketAddr) -> Result<Self, Failure> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: addr.to_string(),
            cookie: None,
        })
    }

    async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(u16, String, Duration), Failure> {
        let mut request = Request::post(path)
            .header("host", &self.host)
            .header("origin", format!("http://{}", self.host))
            .header("content-type", content_type)
            .header("content-length", body.len());
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let started = Instant::now();
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        if let Some(cookie) = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
        {
            self.cookie = Some(cookie.to_owned());
        }
        let body = response.into_body().collect().await?.to_bytes();
        Ok((
            status,
            String::from_utf8_lossy(&body).into_owned(),
            started.elapsed(),
        ))
    }
}

async fn signed_up(addr: SocketAddr, name: &str) -> Result<(Http, String), Failure> {
    let mut http = Http::connect(addr).await?;
    let username = format!("{name}-{}", std::process::id());
    let body = serde_json::json!({"username": username, "display_name": name, "password": "correct horse battery"});
    let (status, text, _) = http
        .post(
            "/api/auth/signup",
            "application/json",
            body.to_string().into_bytes(),
        )
        .await?;
    if status != 201 {
        return Err(format!("sign-up: {status} {text}").into());
    }
    let id = serde_json::from_str::<serde_json::Value>(&text)?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((http, id))
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:3000".into());
    let addr: SocketAddr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()?;
    let jpeg = five_mb_jpeg();
    println!("JPEG: {} bytes", jpeg.len());

    let mut processing = Vec::new();
    for _ in 0..RUNS {
        let bytes = jpeg.clone();
        let started = Instant::now();
        let processed = parley::server::attachments::process_image(bytes, ImageFormat::Jpeg)?;
        processing.push(started.elapsed());
        assert!(processed.thumbnail.len() < 100_000);
    }
    println!(
        "process_image (decode, re-encode, thumbnail), median of {RUNS}: {:.0} ms",
        median(processing).as_secs_f64() * 1000.0
    );

    let (mut ann, _) = signed_up(addr, "bench-ann").await?;
    let (_, bob) = signed_up(addr, "bench-bob").await?;
    let body = serde_json::json!({"members": [bob]});
    let (status, text, _) = ann
        .post(
            "/api/chat/channels",
            "application/json",
            body.to_string().into_bytes(),
        )
        .await?;
    if status != 201 {
        return Err(format!("channel: {status} {text}").into());
    }
    let channel = serde_json::from_str::<serde_json::Value>(&text)?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut other = jpeg.clone();
    // Same size, not an image: bytes that no signature matches (and are not UTF-8).
    for (i, byte) in other.iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(31) | 0x80;
    }
    other[0] = 0xFE;
    for (label, bytes, kind) in [
        ("5 MB JPEG", &jpeg, "image/jpeg"),
        ("5 MB other bytes", &other, "application/octet-stream"),
    ] {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let path = format!("/api/chat/channels/{channel}/uploads?name=bench");
            let (status, text, elapsed) = ann.post(&path, kind, bytes.clone()).await?;
            if status != 201 {
                return Err(format!("upload: {status} {text}").into());
            }
            times.push(elapsed);
        }
        let total: Duration = times.iter().sum();
        let mb = (bytes.len() * RUNS) as f64 / 1_000_000.0;
        println!(
            "upload {label}: median {:.0} ms, {:.1} MB/s over {RUNS} sequential uploads",
            median(times).as_secs_f64() * 1000.0,
            mb / total.as_secs_f64()
        );
    }
    Ok(())
}
