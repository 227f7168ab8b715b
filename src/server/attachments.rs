//! Attachments (SPEC §7.4): uploads, downloads, and the sweep that deletes the bytes of files
//! whose rows are gone (uploads no message took, deleted messages' files, cascades).
//!
//! - **Where bytes live**: an [`ObjectStore`] (`object_store`), by default the local
//!   filesystem under `PARLEY_DATA_DIR/attachments`; a host may hand [`Chat::with_file_store`]
//!   any other (an S3-compatible one built with `object_store`'s `aws` feature in its own
//!   crate: that feature brings a second reqwest and aws-lc-rs, which this crate refuses).
//!   Keys are `files/<id>` and `thumbnails/<id>` with ids we generate: never a user's path.
//! - **Uploads** (`POST /api/chat/channels/{id}/uploads?name=`, the raw bytes as the body): a
//!   member only; rate-limited per user ([`Action::Upload`]); at most
//!   [`UploadSettings::max_bytes`] a file (413) and [`UploadSettings::quota_bytes`] a person
//!   (413). The content type is sniffed from the bytes. PNG, JPEG and WebP are decoded
//!   (bounded by [`image::Limits`]) and re-encoded, which drops EXIF/GPS and every other
//!   metadata; those and GIFs (first frame) get a thumbnail. Work on pixels runs on the
//!   blocking pool.
//! - **Sending**: a send names upload ids; [`check_for_send`] validates them before the writer,
//!   which attaches them in the statement (or transaction) that stores the message.
//! - **Downloads** (`GET /api/chat/attachments/{id}` and `…/thumbnail`): membership checked at
//!   request time (404 for anyone else and for unknown ids alike), the content type we
//!   determined, `nosniff`, a sandboxing CSP, and `Content-Disposition: attachment` for all
//!   but the images we re-encoded.
//! - **Deletion**: deleting a message deletes its attachment rows; a conversation or person
//!   deleted takes theirs by cascade; uploads no message took go after
//!   [`UploadSettings::unattached_after`]. Each gone row's bytes are queued by a trigger
//!   (`chat_attachment_garbage`) and deleted from the store by [`sweep`].

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use image::{DynamicImage, ImageFormat};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use thiserror::Error;
use uuid::Uuid;

use super::db;
use super::error::ServerError;
use super::lifecycle::Lifecycle;
use super::limits::Action;
use super::state::Chat;
use crate::model::chat::human_size;
use crate::model::{Attachment, MAX_ATTACHMENTS};

/// Thumbnails fit in this square (pixels).
pub const THUMBNAIL_SIDE: u32 = 320;
/// Widest and tallest image we decode (pixels).
pub const MAX_IMAGE_SIDE: u32 = 12_000;
/// Most memory one decode may allocate.
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest file name kept (characters).
pub const MAX_NAME_CHARS: usize = 255;

/// How uploads are stored and bounded (`PARLEY_DATA_DIR`, `PARLEY_MAX_UPLOAD_BYTES`,
/// `PARLEY_UPLOAD_QUOTA_BYTES`, `PARLEY_UNATTACHED_UPLOAD_SECS`, `PARLEY_UPLOAD_TIMEOUT_SECS`).
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// The folder of the default (local filesystem) store.
    pub dir: PathBuf,
    /// Largest file (bytes).
    pub max_bytes: u64,
    /// Most bytes one person may have stored, attached or not.
    pub quota_bytes: u64,
    /// Uploads no message took are deleted after this.
    pub unattached_after: Duration,
    /// An upload must arrive within this (instead of the request timeout).
    pub timeout: Duration,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            // Hosts read `PARLEY_DATA_DIR` through `ChatConfig`; bare defaults (tests) keep
            // files in the system's temporary folder.
            dir: std::env::temp_dir().join("parley-attachments"),
            max_bytes: 25 * 1024 * 1024,
            quota_bytes: 1024 * 1024 * 1024,
            unattached_after: Duration::from_secs(60 * 60),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Why an upload, a download or a send's attachments were refused.
#[derive(Debug, Error)]
pub enum UploadError {
    #[error("file over {max} bytes")]
    TooLarge { max: u64 },
    #[error("upload quota of {quota} bytes used")]
    QuotaExceeded { quota: u64 },
    #[error("an unreadable {0} image")]
    BadImage(&'static str),
    #[error("an image over the decoding limits")]
    ImageTooLarge,
    #[error("more than {MAX_ATTACHMENTS} attachments")]
    TooMany,
    #[error("an attachment that is not the sender's unsent upload to this channel")]
    NotAttachable,
    #[error("no file store")]
    NoStore,
    #[error("file store: {0}")]
    Store(#[from] object_store::Error),
    #[error("image encoding: {0}")]
    Encode(String),
}

impl UploadError {
    /// What the person is told, and the status it takes (`server::error` maps it).
    pub fn message(&self) -> String {
        match self {
            Self::TooLarge { max } => {
                format!("The file is too large: at most {} a file.", human_size(*max as i64))
            }
            Self::QuotaExceeded { quota } => format!(
                "You have used all your upload space ({}). Delete messages with files to make room.",
                human_size(*quota as i64)
            ),
            Self::BadImage(kind) => {
                format!("The file looks like a {kind} image but cannot be read (damaged or cut short).")
            }
            Self::ImageTooLarge => format!(
                "The image is too large to process (at most {MAX_IMAGE_SIDE} × {MAX_IMAGE_SIDE} pixels)."
            ),
            Self::TooMany => format!("At most {MAX_ATTACHMENTS} files can be sent with one message."),
            Self::NotAttachable => {
                "An attachment must be your own upload to this conversation, not yet sent.".into()
            }
            Self::NoStore | Self::Store(_) | Self::Encode(_) => {
                "The file could not be stored. Please try again.".into()
            }
        }
    }
}

/// Where attachments' bytes are kept. Cheap to clone.
#[derive(Clone)]
pub struct Files {
    store: Option<Arc<dyn ObjectStore>>,
}

impl Files {
    /// The local filesystem under `dir` (created if missing). A folder that cannot be made is
    /// logged and leaves uploads answering 503.
    pub fn local(dir: &std::path::Path) -> Self {
        let store = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| e.to_string())
            });
        match store {
            Ok(store) => Self::new(Arc::new(store)),
            Err(error) => {
                tracing::error!(%error, dir = %dir.display(), "no attachment folder: uploads are off");
                Self { store: None }
            }
        }
    }

    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store: Some(store) }
    }

    fn store(&self) -> Result<&dyn ObjectStore, UploadError> {
        self.store.as_deref().ok_or(UploadError::NoStore)
    }
}

fn file_key(id: Uuid) -> StorePath {
    StorePath::from(format!("files/{id}"))
}

fn thumbnail_key(id: Uuid) -> StorePath {
    StorePath::from(format!("thumbnails/{id}"))
}

impl Chat {
    /// Keeps attachments in `store` (e.g. an S3-compatible bucket) instead of the local
    /// folder. Call before serving.
    pub fn with_file_store(mut self, store: Arc<dyn ObjectStore>) -> Self {
        self.files = Files::new(store);
        self
    }
}

/// The file name as given, made displayable: its last path segment, without control
/// characters, at most [`MAX_NAME_CHARS`]; "file" when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let name: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." {
        "file".to_owned()
    } else {
        name.to_owned()
    }
}

/// What the bytes are: an image format we process, or a content type to serve as a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Image(ImageFormat),
    Other(String),
}

/// Sniffs the content type from the bytes alone. Images we process by their signature;
/// other known signatures by `infer`, except markup and scripts (served as octet streams);
/// UTF-8 without NUL as plain text; anything else as an octet stream.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if let Ok(format) = image::guess_format(bytes) {
        if matches!(
            format,
            ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif
        ) {
            return Sniffed::Image(format);
        }
    }
    if let Some(kind) = infer::get(bytes) {
        let mime = kind.mime_type();
        let active = ["html", "xml", "svg", "javascript", "ecmascript", "x-sh"]
            .iter()
            .any(|word| mime.contains(word));
        return Sniffed::Other(if active || mime.starts_with("text/") {
            "application/octet-stream".to_owned()
        } else {
            mime.to_owned()
        });
    }
    if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return Sniffed::Other("text/plain; charset=utf-8".to_owned());
    }
    Sniffed::Other("application/octet-stream".to_owned())
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::WebP => "WebP",
        ImageFormat::Gif => "GIF",
        _ => "image",
    }
}

fn mime_of(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::WebP => "image/webp",
        ImageFormat::Gif => "image/gif",
        _ => "application/octet-stream",
    }
}

/// An image made ready to store.
pub struct Processed {
    /// What to store as the file: our re-encoding (PNG, JPEG, WebP) or, for a GIF, the
    /// original (animation kept; it is then served as a download).
    pub bytes: Vec<u8>,
    pub reencoded: bool,
    pub width: u32,
    pub height: u32,
    /// PNG when the image has transparency, else JPEG.
    pub thumbnail: Vec<u8>,
}

/// Decodes (bounded), applies the EXIF orientation, re-encodes without any metadata and
/// makes the thumbnail. Blocking: run it on the blocking pool.
pub fn process_image(bytes: Vec<u8>, format: ImageFormat) -> Result<Processed, UploadError> {
    use image::ImageDecoder;
    let kind = format_name(format);
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => UploadError::ImageTooLarge,
        _ => UploadError::BadImage(kind),
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(&bytes[..]), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    picture.apply_orientation(orientation);
    let (width, height) = (picture.width(), picture.height());
    let encode_error = |e: image::ImageError| UploadError::Encode(e.to_string());
    let (stored, reencoded) = match format {
        ImageFormat::Gif => (bytes, false),
        ImageFormat::Jpeg => (jpeg(&picture, 90).map_err(encode_error)?, true),
        ImageFormat::WebP => {
            let mut out = Cursor::new(Vec::new());
            let pixels = if picture.color().has_alpha() {
                DynamicImage::ImageRgba8(picture.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(picture.to_rgb8())
            };
            pixels
                .write_to(&mut out, ImageFormat::WebP)
                .map_err(encode_error)?;
            (out.into_inner(), true)
        }
        _ => {
            let mut out = Cursor::new(Vec::new());
            picture
                .write_to(&mut out, ImageFormat::Png)
                .map_err(encode_error)?;
            (out.into_inner(), true)
        }
    };
    let small = if width <= THUMBNAIL_SIDE && height <= THUMBNAIL_SIDE {
        picture
    } else {
        picture.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    };
    let thumbnail = if small.color().has_alpha() {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(small.to_rgba8())
            .write_to(&mut out, ImageFormat::Png)
            .map_err(encode_error)?;
        out.into_inner()
    } else {
        jpeg(&small, 80).map_err(encode_error)?
    };
    Ok(Processed {
        bytes: stored,
        reencoded,
        width,
        height,
        thumbnail,
    })
}

fn jpeg(picture: &DynamicImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    picture.to_rgb8().write_with_encoder(encoder)?;
    Ok(out)
}

/// Reads a body to its end and drops it (its length was checked by the caller).
async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    while let Some(Ok(_)) = stream.next().await {}
}

/// Reads an upload's body, refusing it as soon as it passes `max` bytes.
pub async fn read_body(body: Body, max: u64) -> Result<Vec<u8>, ServerError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| ServerError::BadRequest("The upload was cut short.".into()))?;
        if (bytes.len() + chunk.len()) as u64 > max {
            return Err(UploadError::TooLarge { max }.into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Who uploads: a person (rate-limited) or the host's backend on a person's behalf.
#[derive(Debug, Clone, Copy)]
pub enum Uploader {
    Person(Uuid),
    Server(Uuid),
}

/// Stores one upload to `channel_id` (the uploader a member, else 404): checks, sniffs,
/// processes images, puts the bytes and records the row. The declared length, when given,
/// is checked before any byte is read.
pub async fn upload(
    state: &Chat,
    uploader: Uploader,
    channel_id: Uuid,
    name: &str,
    declared: Option<u64>,
    body: Body,
) -> Result<Attachment, ServerError> {
    let settings = &state.settings.uploads;
    let user_id = match uploader {
        Uploader::Person(id) | Uploader::Server(id) => id,
    };
    if !db::channels::is_member(&state.pool, channel_id, user_id).await? {
        return Err(ServerError::NotFound);
    }
    if let Uploader::Person(id) = uploader {
        state.limits.check(Action::Upload, id)?;
    }
    if let Some(declared) = declared.filter(|n| *n > settings.max_bytes) {
        // A file a little over the limit (the usual case) is read and dropped, so a client
        // still sending it gets this answer instead of a reset connection; one far over it
        // was refused before the handler (`routes::limit_by_route`).
        if declared <= settings.max_bytes.saturating_mul(2) {
            drain(body).await;
        }
        return Err(UploadError::TooLarge {
            max: settings.max_bytes,
        }
        .into());
    }
    let used = db::attachments::used_bytes(&state.pool, user_id)
        .await?
        .max(0) as u64;
    let over_quota = |incoming: u64| used.saturating_add(incoming) > settings.quota_bytes;
    if over_quota(declared.unwrap_or(0)) {
        return Err(UploadError::QuotaExceeded {
            quota: settings.quota_bytes,
        }
        .into());
    }
    let store = state.files.store()?;
    let bytes = read_body(body, settings.max_bytes).await?;
    if over_quota(bytes.len() as u64) {
        return Err(UploadError::QuotaExceeded {
            quota: settings.quota_bytes,
        }
        .into());
    }
    let name = clean_name(name);
    let id = Uuid::new_v4();
    let (stored, content_type, width, height, thumbnail, reencoded) = match sniff(&bytes) {
        Sniffed::Image(format) => {
            let processed = tokio::task::spawn_blocking(move || process_image(bytes, format))
                .await
                .map_err(|e| ServerError::Internal(format!("image task: {e}")))??;
            let content_type = mime_of(format).to_owned();
            (
                processed.bytes,
                content_type,
                Some(processed.width as i32),
                Some(processed.height as i32),
                Some(processed.thumbnail),
                processed.reencoded,
            )
        }
        Sniffed::Other(content_type) => (bytes, content_type, None, None, None, false),
    };
    let size = stored.len() as i64;
    if let Some(thumbnail) = &thumbnail {
        store
            .put(&thumbnail_key(id), PutPayload::from(thumbnail.clone()))
            .await
            .map_err(UploadError::from)?;
    }
    store
        .put(&file_key(id), PutPayload::from(stored))
        .await
        .map_err(UploadError::from)?;
    let row = db::attachments::NewUpload {
        id,
        user_id,
        channel_id,
        name: &name,
        content_type: &content_type,
        size,
        width,
        height,
        thumbnail: thumbnail.is_some(),
        reencoded,
    };
    if let Err(e) = db::attachments::insert(&state.pool, &row).await {
        delete_bytes(store, id, thumbnail.is_some()).await;
        return Err(e.into());
    }
    tracing::info!(%id, %channel_id, size, %content_type, "file uploaded");
    Ok(Attachment {
        id,
        name,
        content_type,
        size,
        width,
        height,
        thumbnail: thumbnail.is_some(),
    })
}

/// Deletes a file's bytes and its thumbnail's; `false` (logged) when the store failed and the
/// deletion is to be tried again. Bytes already gone count as deleted.
async fn delete_bytes(store: &dyn ObjectStore, id: Uuid, thumbnail: bool) -> bool {
    let mut keys = vec![file_key(id)];
    if thumbnail {
        keys.push(thumbnail_key(id));
    }
    let mut deleted = true;
    for key in keys {
        match store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => {
                tracing::warn!(%error, %id, "could not delete an attachment's bytes");
                deleted = false;
            }
        }
    }
    deleted
}

/// The attachments a send names, checked before the writer: at most [`MAX_ATTACHMENTS`],
/// each once, each the sender's own upload to this channel and not yet attached, except to
/// this very message (a retried send). Returns them in the order given.
pub async fn check_for_send(
    pool: &sqlx::PgPool,
    user_id: Uuid,
    channel_id: Uuid,
    message_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, ServerError> {
    let mut wanted: Vec<Uuid> = Vec::with_capacity(ids.len());
    for id in ids {
        if !wanted.contains(id) {
            wanted.push(*id);
        }
    }
    if wanted.len() > MAX_ATTACHMENTS {
        return Err(UploadError::TooMany.into());
    }
    if wanted.is_empty() {
        return Ok(wanted);
    }
    let owners = db::attachments::owners(pool, &wanted).await?;
    let fits = |id: &Uuid| {
        owners.iter().any(|o| {
            o.id == *id
                && o.user_id == user_id
                && o.channel_id == channel_id
                && o.message_id.is_none_or(|m| m == message_id)
        })
    };
    if wanted.iter().all(fits) {
        Ok(wanted)
    } else {
        Err(UploadError::NotAttachable.into())
    }
}

/// Serves an attachment (or its thumbnail) to `viewer` if they may read it now.
pub async fn download(
    state: &Chat,
    viewer: Uuid,
    id: Uuid,
    thumbnail: bool,
) -> Result<Response, ServerError> {
    let found = db::attachments::servable(&state.pool, id, viewer)
        .await?
        .ok_or(ServerError::NotFound)?;
    if thumbnail && !found.thumbnail {
        return Err(ServerError::NotFound);
    }
    let store = state.files.store()?;
    let key = if thumbnail {
        thumbnail_key(id)
    } else {
        file_key(id)
    };
    let got = match store.get(&key).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Err(ServerError::NotFound),
        Err(e) => return Err(UploadError::from(e).into()),
    };
    let size = got.meta.size;
    let (content_type, inline) = if thumbnail {
        // Thumbnails are ours: PNG or JPEG, told apart by their first bytes.
        let bytes = got.bytes().await.map_err(UploadError::from)?;
        let content_type = match image::guess_format(&bytes) {
            Ok(ImageFormat::Png) => "image/png",
            _ => "image/jpeg",
        };
        return Ok(respond(Body::from(bytes), content_type, size, None));
    } else {
        (found.content_type.as_str(), found.reencoded)
    };
    let disposition = (!inline).then(|| attachment_disposition(&found.name));
    Ok(respond(
        Body::from_stream(got.into_stream()),
        content_type,
        size,
        disposition,
    ))
}

fn respond(body: Body, content_type: &str, size: u64, disposition: Option<String>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Even opened directly, a file runs nothing and loads nothing.
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    // Membership is checked on every request: no shared caches, a short private one.
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    if let Some(value) = disposition.and_then(|d| HeaderValue::from_str(&d).ok()) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`: the
/// fallback keeps letters, digits, `.`, `-`, `_` and spaces (others become `_`).
pub fn attachment_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Files one round of the sweep takes.
const SWEEP_BATCH: i64 = 500;

/// Deletes the uploads no message took within `older_than`, then the bytes of every file whose
/// row is gone (those, deleted messages' files, and what went with a deleted conversation or
/// person: the table's trigger queued them all); how many files' bytes it deleted. A file the
/// store failed to delete stays queued for the next sweep. Instances sweep side by side: each
/// takes queued files the others have not locked.
pub async fn sweep(state: &Chat, older_than: Duration) -> Result<usize, ServerError> {
    loop {
        let unattached =
            db::attachments::delete_unattached(&state.pool, older_than.as_secs_f64(), SWEEP_BATCH)
                .await?;
        if unattached < SWEEP_BATCH as u64 {
            break;
        }
    }
    // Without a store (misconfigured), the queue waits for one.
    let Ok(store) = state.files.store() else {
        return Ok(0);
    };
    let mut deleted = 0;
    loop {
        let mut tx = state.pool.begin().await?;
        let queued = db::attachments::claim_garbage(&mut *tx, SWEEP_BATCH).await?;
        let mut done = Vec::with_capacity(queued.len());
        for (id, thumbnail) in &queued {
            if delete_bytes(store, *id, *thumbnail).await {
                done.push(*id);
            }
        }
        db::attachments::forget_garbage(&mut *tx, &done).await?;
        tx.commit().await?;
        deleted += done.len();
        // A short batch is the queue's end; one the store failed on is left for the next sweep.
        if queued.len() < SWEEP_BATCH as usize || done.len() < queued.len() {
            return Ok(deleted);
        }
    }
}

/// Runs [`sweep`] every few minutes (a quarter of the unattached time, 10 s to 10 min) until
/// shutdown.
pub fn start_sweeper(state: &Chat, lifecycle: &Lifecycle) {
    let state = state.clone();
    let every = (state.settings.uploads.unattached_after / 4)
        .clamp(Duration::from_secs(10), Duration::from_secs(600));
    lifecycle.spawn_until_stopped(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match sweep(&state, state.settings.uploads.unattached_after).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "files of gone attachments deleted"),
                Err(error) => tracing::warn!(%error, "sweeping attachments failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\notes.txt"), "notes.txt");
        assert_eq!(clean_name("a\u{0}b\n.txt"), "ab.txt");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name("  "), "file");
    }

    #[test]
    fn dispositions_are_safe() {
        assert_eq!(
            attachment_disposition("résumé \"x\".pdf"),
            "attachment; filename=\"r_sum_ _x_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22.pdf"
        );
    }

    #[test]
    fn sniffing_reads_bytes_only() {
        assert_eq!(
            sniff(b"hello"),
            Sniffed::Other("text/plain; charset=utf-8".into())
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n rest"),
            Sniffed::Image(ImageFormat::Png)
        );
        assert_eq!(sniff(b"%PDF-1.7"), Sniffed::Other("application/pdf".into()));
        assert_eq!(
            sniff(&[0, 1, 2, 255]),
            Sniffed::Other("application/octet-stream".into())
        );
    }

    #[test]
    fn truncated_images_are_a_clear_error() {
        let mut png = Vec::new();
        DynamicImage::new_rgb8(64, 64)
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap_or_default();
        png.truncate(png.len() / 2);
        assert!(matches!(
            process_image(png, ImageFormat::Png),
            Err(UploadError::BadImage("PNG"))
        ));
    }
}
