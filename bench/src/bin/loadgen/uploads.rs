//! Attachments' cost (issue 16): a photo-like JPEG of 5 MB, processed as the server processes
//! every image upload (`parley::server::attachments::process_image`: bounded decode, EXIF
//! orientation, re-encode without metadata, a 320 px thumbnail) beside decoding it alone (the
//! least any thumbnail needs); and uploads to the real server over loopback HTTP/1.1, one at a
//! time on one connection as a browser sends them, of that JPEG (sniffed, processed, stored)
//! and of as many bytes that are no image (sniffed, stored), beside the same bytes posted to
//! the bare server, which reads them into memory and drops them (HTTP alone).

use std::time::{Duration, Instant};

use hyper::body::Bytes;
use image::{ImageFormat, Rgb, RgbImage};
use parley::model::Attachment;
use serde::Serialize;

use crate::fixture::BenchUser;
use crate::http::Http;
use crate::process::Served;
use crate::stats::{round3, Samples, Summary};
use crate::Failure;

#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// The JPEG is made at least this large.
    pub min_bytes: usize,
    /// Each measurement is repeated this many times.
    pub runs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    pub time: Summary,
    /// Bytes uploaded over the summed request times, in MB (10^6 bytes) a second.
    pub mb_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Uploads {
    pub jpeg_bytes: usize,
    pub width: u32,
    pub height: u32,
    pub process_image: Summary,
    pub decode_only_floor: Summary,
    pub upload_jpeg: Upload,
    pub upload_other: Upload,
    pub upload_bare_floor: Upload,
}

/// A JPEG of gradients and noise (which compresses about as badly as a photo), 4:3, of at
/// least `min_bytes`.
pub fn photo_like_jpeg(min_bytes: usize) -> Result<(Vec<u8>, u32, u32), Failure> {
    // About 1.3 bytes a pixel at quality 92 with this noise: start a little below the size.
    let mut height = ((min_bytes as f64 / 1.3 * 0.75).sqrt() * 0.9).max(64.0) as u32;
    loop {
        let width = height * 4 / 3;
        let mut seed = 0x2545_f491_u32;
        let picture = RgbImage::from_fn(width, height, |x, y| {
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
        picture.write_with_encoder(encoder)?;
        if bytes.len() >= min_bytes {
            return Ok((bytes, width, height));
        }
        height = height * 21 / 20;
    }
}

/// Bytes of the same length that no signature matches and that are not UTF-8.
fn no_image(length: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..length)
        .map(|i| (i as u8).wrapping_mul(31) | 0x80)
        .collect();
    if let Some(first) = bytes.first_mut() {
        *first = 0xFE;
    }
    bytes
}

/// Runs `work` on the blocking pool `runs` times, timing each.
async fn timed_blocking(
    runs: usize,
    jpeg: &Bytes,
    work: fn(Vec<u8>) -> Result<(), Failure>,
) -> Result<Summary, Failure> {
    let mut samples = Samples::default();
    for _ in 0..runs {
        let bytes = jpeg.to_vec();
        let elapsed = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            work(bytes).map(|()| started.elapsed())
        })
        .await??;
        samples.push(elapsed);
    }
    Ok(samples.summary())
}

/// `runs` uploads of `bytes` to `path`, one after another on one connection; each must answer
/// 201 and satisfy `check`.
async fn upload(
    http: &mut Http,
    path: &str,
    content_type: &'static str,
    bytes: &Bytes,
    runs: usize,
    check: impl Fn(&[u8]) -> Result<(), Failure>,
) -> Result<Upload, Failure> {
    let mut samples = Samples::default();
    let mut total = Duration::ZERO;
    for _ in 0..runs {
        let reply = http.post_bytes(path, content_type, bytes.clone()).await?;
        if reply.status != 201 {
            return Err(format!(
                "upload to {path}: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            )
            .into());
        }
        check(&reply.body)?;
        samples.push(reply.elapsed);
        total += reply.elapsed;
    }
    Ok(Upload {
        time: samples.summary(),
        mb_per_s: round3((bytes.len() * runs) as f64 / 1e6 / total.as_secs_f64()),
    })
}

/// The attachment the server answered, checked to be what the bytes should have made.
fn expect_attachment(body: &[u8], image: bool) -> Result<(), Failure> {
    let attachment: Attachment = serde_json::from_slice(body)?;
    match (
        image,
        attachment.content_type.as_str(),
        attachment.thumbnail,
    ) {
        (true, "image/jpeg", true) | (false, "application/octet-stream", false) => Ok(()),
        _ => Err(format!("unexpected attachment: {attachment:?}").into()),
    }
}

pub async fn measure(
    parley: &Served,
    bare: &Served,
    uploader: &BenchUser,
    channel: uuid::Uuid,
    size: Size,
) -> Result<Uploads, Failure> {
    let (jpeg, width, height) = tokio::task::spawn_blocking(move || {
        photo_like_jpeg(size.min_bytes).map_err(|e| e.to_string())
    })
    .await??;
    let jpeg = Bytes::from(jpeg);
    eprintln!(
        "  a {width}×{height} JPEG of {} bytes: processing it {} times",
        jpeg.len(),
        size.runs
    );
    let process_image = timed_blocking(size.runs, &jpeg, |bytes| {
        let processed = parley::server::attachments::process_image(bytes, ImageFormat::Jpeg)?;
        if processed.thumbnail.is_empty() || !processed.reencoded {
            return Err("process_image made no thumbnail".into());
        }
        Ok(())
    })
    .await?;
    let decode_only_floor = timed_blocking(size.runs, &jpeg, |bytes| {
        image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)?;
        Ok(())
    })
    .await?;

    eprintln!(
        "  uploading it and as many other bytes, {} times each",
        size.runs
    );
    let path = format!("/api/chat/channels/{channel}/uploads?name=bench.jpg");
    let mut http = Http::connect(parley.addr, Some(&uploader.token)).await?;
    let upload_jpeg = upload(&mut http, &path, "image/jpeg", &jpeg, size.runs, |body| {
        expect_attachment(body, true)
    })
    .await?;
    let other = Bytes::from(no_image(jpeg.len()));
    let upload_other = upload(
        &mut http,
        &path,
        "application/octet-stream",
        &other,
        size.runs,
        |body| expect_attachment(body, false),
    )
    .await?;
    let mut http = Http::connect(bare.addr, None).await?;
    let length = jpeg.len().to_string();
    let upload_bare_floor = upload(&mut http, "/sink", "image/jpeg", &jpeg, size.runs, |body| {
        if body == length.as_bytes() {
            Ok(())
        } else {
            Err("the bare server read a different length".into())
        }
    })
    .await?;
    Ok(Uploads {
        jpeg_bytes: jpeg.len(),
        width,
        height,
        process_image,
        decode_only_floor,
        upload_jpeg,
        upload_other,
        upload_bare_floor,
    })
}
