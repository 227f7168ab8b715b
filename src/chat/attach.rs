//! Attachments in the browser: the composer's files on their way up ([`Uploads`]: picked with
//! "Attach files", dropped on the conversation or pasted; each uploaded at once with
//! `XMLHttpRequest` so its progress shows; a file over the size limit is refused here without
//! uploading) and a message's files as members see them ([`AttachmentList`]: images inline as
//! their thumbnail linking to the full file, other files as links with name and size).

// Uploading is the browser's: on the server (rendering) only the lists are used.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use leptos::prelude::*;
use uuid::Uuid;

use crate::model::chat::human_size;
use crate::model::Attachment;

/// The server's default limit a file (`PARLEY_MAX_UPLOAD_BYTES`); a server set lower answers
/// 413, whose message is shown the same way.
pub const MAX_UPLOAD_BYTES: f64 = 25.0 * 1024.0 * 1024.0;

#[derive(Debug, Clone, PartialEq)]
pub enum UploadState {
    /// Percent sent.
    Uploading(u8),
    Done(Attachment),
    Failed(String),
}

#[derive(Clone)]
pub struct UploadItem {
    key: u32,
    name: String,
    state: RwSignal<UploadState>,
}

/// The files of one conversation's composer. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Uploads {
    channel: Uuid,
    items: RwSignal<Vec<UploadItem>>,
    next: StoredValue<u32>,
}

impl Uploads {
    pub fn new(channel: Uuid) -> Self {
        Self {
            channel,
            items: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    /// Whether any file is still on its way (tracked).
    pub fn uploading(&self) -> bool {
        self.items.with(|items| {
            items
                .iter()
                .any(|i| matches!(i.state.get(), UploadState::Uploading(_)))
        })
    }

    /// The files uploaded, in the order they were added.
    pub fn done(&self) -> Vec<Attachment> {
        self.items.with_untracked(|items| {
            items
                .iter()
                .filter_map(|i| match i.state.get_untracked() {
                    UploadState::Done(a) => Some(a),
                    _ => None,
                })
                .collect()
        })
    }

    pub fn clear(&self) {
        self.items.set(Vec::new());
    }

    fn remove(&self, key: u32) {
        self.items.update(|items| items.retain(|i| i.key != key));
    }

    fn push(&self, name: String, state: UploadState) -> RwSignal<UploadState> {
        let key = self.next.get_value();
        self.next.set_value(key.wrapping_add(1));
        let state = RwSignal::new(state);
        self.items
            .update(|items| items.push(UploadItem { key, name, state }));
        state
    }

    /// Adds (and starts uploading) every file of a list: an input's, a drop's, a paste's.
    #[cfg(feature = "hydrate")]
    pub fn add(&self, files: &web_sys::FileList) {
        for index in 0..files.length() {
            let Some(file) = files.item(index) else {
                continue;
            };
            let name = file.name();
            if file.size() > MAX_UPLOAD_BYTES {
                let why = format!(
                    "{name} is too large: at most {} a file.",
                    human_size(MAX_UPLOAD_BYTES as i64)
                );
                self.push(name, UploadState::Failed(why));
                continue;
            }
            let state = self.push(name, UploadState::Uploading(0));
            upload(self.channel, file, state);
        }
    }
}

/// Sends one file; `state` follows its progress and ends `Done` or `Failed`.
#[cfg(feature = "hydrate")]
fn upload(channel: Uuid, file: web_sys::File, state: RwSignal<UploadState>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let fail = move |why: &str| state.set(UploadState::Failed(why.to_owned()));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return fail("This browser cannot upload files.");
    };
    let name = String::from(js_sys::encode_uri_component(&file.name()));
    let url = format!("/api/chat/channels/{channel}/uploads?name={name}");
    if xhr.open("POST", &url).is_err() {
        return fail("The upload could not start.");
    }
    let progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                let percent = (ev.loaded() / ev.total() * 100.0).clamp(0.0, 99.0) as u8;
                state.set(UploadState::Uploading(percent));
            }
        });
    let upload = xhr.upload().ok();
    if let Some(upload) = &upload {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let answered = xhr.clone();
    // Runs once; it frees the progress closure with itself.
    let finished = Closure::once_into_js(move || {
        if let Some(upload) = &upload {
            upload.set_onprogress(None);
        }
        drop(progress);
        let status = answered.status().unwrap_or(0);
        let body = answered.response_text().ok().flatten().unwrap_or_default();
        if status == 201 {
            match serde_json::from_str::<Attachment>(&body) {
                Ok(attachment) => state.set(UploadState::Done(attachment)),
                Err(_) => fail("The server's answer could not be read."),
            }
        } else if status == 0 {
            fail("The upload failed: no connection. Try again.");
        } else {
            #[derive(serde::Deserialize)]
            struct Refusal {
                error: crate::model::ApiError,
            }
            match serde_json::from_str::<Refusal>(&body) {
                Ok(refusal) => fail(&refusal.error.message),
                Err(_) => fail(&format!("The upload failed ({status}).")),
            }
        }
    });
    xhr.set_onloadend(Some(finished.unchecked_ref()));
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        fail("The upload could not start.");
    }
}

/// "Attach files": a file input (several at once) behind its label.
#[component]
pub fn AttachButton(uploads: Uploads) -> impl IntoView {
    let _ = uploads;
    view! {
        <label class="parley-attach parley-secondary">
            "Attach files"
            <input
                type="file"
                multiple
                class="parley-visually-hidden"
                on:change=move |ev| {
                    #[cfg(feature = "hydrate")]
                    {
                        use wasm_bindgen::JsCast;
                        let input = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
                        if let Some(input) = input {
                            if let Some(files) = input.files() {
                                uploads.add(&files);
                            }
                            // The same file can be picked again.
                            input.set_value("");
                        }
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
            />
        </label>
    }
}

/// The composer's files: name, progress (or the refusal), and a way to take each out.
#[component]
pub fn UploadList(uploads: Uploads) -> impl IntoView {
    view! {
        <Show when=move || uploads.items.with(|i| !i.is_empty())>
            <ul class="parley-uploads" aria-label="Files to send">
                <For
                    each=move || uploads.items.get()
                    key=|item| item.key
                    children=move |item| {
                        let UploadItem { key, name, state } = item;
                        let label = name.clone();
                        view! {
                            <li class="parley-upload">
                                <span class="parley-upload-name">{name.clone()}</span>
                                {move || match state.get() {
                                    UploadState::Uploading(percent) => view! {
                                        <progress
                                            max="100"
                                            value=percent.to_string()
                                            aria-label=format!("Uploading {label}")
                                        ></progress>
                                    }
                                        .into_any(),
                                    UploadState::Done(file) => view! {
                                        <span class="parley-muted">{human_size(file.size)}</span>
                                    }
                                        .into_any(),
                                    UploadState::Failed(why) => view! {
                                        <span class="parley-error" role="alert">{why}</span>
                                    }
                                        .into_any(),
                                }}
                                <button
                                    type="button"
                                    class="parley-link"
                                    aria-label=format!("Remove {name}")
                                    on:click=move |_| uploads.remove(key)
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </Show>
    }
}

/// A message's files: images as their thumbnail (`alt` = the file name) linking to the full
/// image, other files as links reading "name, size".
#[component]
pub fn AttachmentList(files: Vec<Attachment>) -> impl IntoView {
    let items = files
        .into_iter()
        .map(|file| {
            if file.is_image() {
                let (width, height) = thumbnail_size(&file);
                view! {
                    <li class="parley-attachment parley-attachment-image">
                        <a href=file.url() target="_blank" rel="noopener">
                            <img
                                src=file.thumbnail_url()
                                alt=file.name.clone()
                                width=width
                                height=height
                                loading="lazy"
                            />
                        </a>
                    </li>
                }
                .into_any()
            } else {
                view! {
                    <li class="parley-attachment">
                        <a href=file.url() download=file.name.clone()>
                            {format!("{}, {}", file.name, human_size(file.size))}
                        </a>
                    </li>
                }
                .into_any()
            }
        })
        .collect_view();
    view! { <ul class="parley-attachments" aria-label="Files">{items}</ul> }
}

/// The thumbnail's size in CSS pixels (so the log does not jump when it loads): the image's
/// fitted in 320 × 320.
fn thumbnail_size(file: &Attachment) -> (Option<u32>, Option<u32>) {
    match (file.width, file.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => {
            let scale = (320.0 / w.max(h) as f64).min(1.0);
            (
                Some(((w as f64 * scale).round() as u32).max(1)),
                Some(((h as f64 * scale).round() as u32).max(1)),
            )
        }
        _ => (None, None),
    }
}
