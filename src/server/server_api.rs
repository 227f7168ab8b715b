//! The server API (SPEC §7.1): what the host's backend calls, authenticated by
//! `Authorization: Bearer <PARLEY_SERVER_SECRET>` (401 otherwise) and mounted by
//! [`Chat::routes`](super::Chat::routes) only when that secret is set (404 otherwise):
//! upsert users, mint user tokens, create channels, change members, post messages (system
//! messages without `user_id`), read a user's unread count, search for a user. The caller is trusted: no
//! per-person limits apply. Every id is the chat's own uuid, except the host's `external_id`
//! in the upsert's path. Uses the chat logic, `db`, `store`, `bus` and `webhook`; errors leave
//! through `ServerError` like every other route's.

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::attachments;
use super::auth;
use super::chat;
use super::db;
use super::error::ServerError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::identity::HostUser;
use super::manage::{self, Actor};
use super::search;
use super::state::Chat;
use super::store::{self, Draft};
use super::token;
use crate::model::{
    ChannelKind, MemberChange, Message, MessageText, NewChannel, Rename, SearchQuery, User,
};

/// The server API's routes (merged by [`Chat::routes`](super::Chat::routes) when the server
/// secret is set).
pub fn routes() -> Router<Chat> {
    Router::new()
        .route("/api/server/users/{external_id}", put(upsert_user))
        .route("/api/server/users/{id}/unread", get(unread))
        .route("/api/server/users/{id}/search", get(search_for))
        .route("/api/server/tokens", post(mint_token))
        .route("/api/server/channels", post(create_channel))
        .route("/api/server/channels/{id}", patch(rename_channel))
        .route("/api/server/channels/{id}/members", post(change_members))
        .route("/api/server/messages", post(post_message))
        .route("/api/server/uploads", post(upload))
        .route("/api/server/messages/{id}", delete(delete_message))
        .route("/api/server/reports", get(list_reports))
}

type ApiResult = Result<Response, ServerError>;

/// The host's backend: the request carries the server secret.
pub struct ServerCaller;

impl<S> FromRequestParts<S> for ServerCaller
where
    Chat: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let chat = Chat::from_ref(state);
        let Some(secret) = chat.settings.server_secret.as_ref() else {
            return Err(ServerError::NotFound);
        };
        match auth::bearer(&parts.headers) {
            Some(presented) if secret.matches(presented) => Ok(ServerCaller),
            _ => Err(ServerError::WrongServerSecret),
        }
    }
}

/// `PUT /api/server/users/{external_id}`.
#[derive(Debug, Deserialize)]
pub struct UpsertUser {
    pub display_name: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// A chat user with the host's id for them.
#[derive(Debug, Serialize)]
pub struct ServerUser {
    pub id: Uuid,
    pub external_id: String,
    pub username: String,
    pub display_name: String,
}

/// `POST /api/server/tokens`.
#[derive(Debug, Deserialize)]
pub struct NewToken {
    pub user_id: Uuid,
    /// 1–86,400 (3,600 when absent).
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// `POST /api/server/channels`: as the chat API's, on behalf of `created_by` (always a
/// member; two members and no name: the 1:1, created or reused).
#[derive(Debug, Deserialize)]
pub struct NewServerChannel {
    pub members: Vec<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    pub created_by: Uuid,
}

/// `GET /api/server/reports?offset=&limit=`.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub offset: Option<i64>,
    /// 1–100 (50 when absent).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A report as listed: who reported what, why, and the message as it is now.
#[derive(Debug, Serialize)]
pub struct ServerReport {
    #[serde(flatten)]
    pub report: db::reports::ReportRow,
    pub message: Option<Message>,
}

/// `POST /api/server/messages`: without `user_id`, a system message. `id` (optional, as in
/// the chat API) makes a retry store it once.
#[derive(Debug, Deserialize)]
pub struct ServerMessage {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub channel_id: Uuid,
    #[serde(default)]
    pub user_id: Option<Uuid>,
    #[serde(default)]
    pub text: String,
    /// Uploads by `user_id` to this channel (`POST /api/server/uploads`) to send with it; not
    /// for system messages. With any, the text may be empty.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
}

/// `POST /api/server/uploads?user_id=&channel_id=&name=`: a file uploaded on behalf of a member.
#[derive(Debug, Deserialize)]
pub struct ServerUpload {
    pub user_id: Uuid,
    pub channel_id: Uuid,
    #[serde(default)]
    pub name: String,
}

/// A channel as the host's backend sees it: no member's own standing (unread, read marks).
#[derive(Debug, Serialize)]
pub struct ServerChannel {
    pub id: Uuid,
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub members: Vec<User>,
    pub created_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_seq: i64,
}

impl From<db::channels::ChannelInfo> for ServerChannel {
    fn from(c: db::channels::ChannelInfo) -> Self {
        Self {
            id: c.id,
            kind: c.kind,
            name: c.name,
            members: c.members,
            created_at: c.created_at,
            last_message_at: c.last_message_at,
            last_seq: c.last_seq,
        }
    }
}

async fn upsert_user(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiPath(external_id): ApiPath<String>,
    ApiJson(input): ApiJson<UpsertUser>,
) -> ApiResult {
    let user = state
        .upsert_user(&HostUser {
            external_id: external_id.clone(),
            username: input.username,
            display_name: input.display_name,
        })
        .await?;
    Ok(Json(ServerUser {
        id: user.id,
        external_id,
        username: user.username,
        display_name: user.display_name,
    })
    .into_response())
}

async fn mint_token(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiJson(input): ApiJson<NewToken>,
) -> ApiResult {
    let ttl = input
        .ttl_seconds
        .map_or(token::DEFAULT_TTL, Duration::from_secs);
    Ok(Json(state.mint_token(input.user_id, ttl).await?).into_response())
}

async fn create_channel(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiJson(input): ApiJson<NewServerChannel>,
) -> ApiResult {
    let creator = db::users::find(&state.pool, input.created_by)
        .await?
        .ok_or_else(|| ServerError::BadRequest("created_by names no user.".into()))?
        .user();
    let wanted = NewChannel {
        members: input.members,
        name: input.name,
    };
    let (channel, created) = chat::create_channel_for(&state, &creator, &wanted).await?;
    let channel = server_channel(&state, channel.id).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(channel)).into_response())
}

async fn change_members(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiPath(channel_id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MemberChange>,
) -> ApiResult {
    manage::change_members(&state, Actor::Host, channel_id, input).await?;
    Ok(Json(server_channel(&state, channel_id).await?).into_response())
}

async fn rename_channel(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiPath(channel_id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<Rename>,
) -> ApiResult {
    manage::rename(&state, Actor::Host, channel_id, &input.name).await?;
    Ok(Json(server_channel(&state, channel_id).await?).into_response())
}

async fn delete_message(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiPath(message_id): ApiPath<Uuid>,
) -> ApiResult {
    Ok(Json(manage::delete_any(&state, message_id).await?).into_response())
}

/// Reports, newest first, each with its message as it is now (`null` once deleted for good).
async fn list_reports(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult {
    let limit = query.limit.unwrap_or(50);
    let offset = query.offset.unwrap_or(0);
    if !(1..=100).contains(&limit) || offset < 0 {
        return Err(ServerError::BadRequest(
            "limit is 1–100 and offset at least 0.".into(),
        ));
    }
    let (rows, more) = db::page_of(
        db::reports::page(&state.pool, offset, limit + 1).await?,
        limit,
    );
    let mut reports = Vec::with_capacity(rows.len());
    for report in rows {
        let message = db::messages::find(&state.pool, report.message_id)
            .await?
            .map(db::messages::message_view);
        reports.push(ServerReport { report, message });
    }
    Ok(Json(json!({ "reports": reports, "more": more })).into_response())
}

async fn post_message(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiJson(input): ApiJson<ServerMessage>,
) -> ApiResult {
    Ok(Json(send(&state, input).await?).into_response())
}

/// Uploads a file as `user_id` (a member of `channel_id`): the same checks and limits as a
/// person's upload but the rate. 201 with the attachment, to name in a `POST /api/server/messages`.
async fn upload(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiQuery(query): ApiQuery<ServerUpload>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> ApiResult {
    let attachment = attachments::upload(
        &state,
        attachments::Uploader::Server(query.user_id),
        query.channel_id,
        &query.name,
        super::http::declared_length(&headers),
        body,
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(attachment)).into_response())
}

async fn unread(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult {
    if db::users::find(&state.pool, user_id).await?.is_none() {
        return Err(ServerError::NotFound);
    }
    let unread = db::channels::unread_total(&state.pool, user_id, None).await?;
    Ok(Json(json!({ "unread": unread })).into_response())
}

/// Searches for a person, as they would (their channels, their blocks): a host's own search.
async fn search_for(
    _: ServerCaller,
    State(state): State<Chat>,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult {
    if db::users::find(&state.pool, user_id).await?.is_none() {
        return Err(ServerError::NotFound);
    }
    Ok(Json(search::search(&state.pool, user_id, &query).await?).into_response())
}

async fn server_channel(state: &Chat, channel_id: Uuid) -> Result<ServerChannel, ServerError> {
    Ok(db::channels::info(&state.pool, channel_id)
        .await?
        .ok_or(ServerError::NotFound)?
        .into())
}

/// Posts a message: as `user_id` (a member) through the group-commit writer like any send,
/// or, without one, a system message. Delivered live and to webhooks like any message.
pub async fn send(state: &Chat, input: ServerMessage) -> Result<Message, ServerError> {
    let text = MessageText::parse_with_attachments(&input.text, input.attachments.len())?;
    let id = input.id.unwrap_or_else(Uuid::new_v4);
    let Some(user_id) = input.user_id else {
        if !input.attachments.is_empty() {
            return Err(ServerError::BadRequest(
                "A system message has no attachments: name the `user_id` who sends them.".into(),
            ));
        }
        return store::write_system_message(
            &state.pool,
            &state.outbox,
            id,
            input.channel_id,
            &text,
        )
        .await;
    };
    if !db::channels::is_member(&state.pool, input.channel_id, user_id).await? {
        return Err(
            if db::channels::exists(&state.pool, input.channel_id).await? {
                ServerError::BadRequest("That user is not a member of the channel.".into())
            } else {
                ServerError::NotFound
            },
        );
    }
    let attachments = attachments::check_for_send(
        &state.pool,
        user_id,
        input.channel_id,
        id,
        &input.attachments,
    )
    .await?;
    state
        .realtime
        .writer
        .send(Draft {
            id,
            channel_id: input.channel_id,
            user_id,
            text,
            reply_to: None,
            attachments,
        })
        .await
}
