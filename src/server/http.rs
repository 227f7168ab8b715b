//! The JSON HTTP API for clients other than the Leptos app (mobile apps, bots, tests). It calls
//! the same server logic as the server functions; the caller is always the person the host's
//! identity names.
//! Errors: `{"error": {"code", "message"}}`. The table of endpoints is in docs/API.md.

use axum::extract::Request;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde_json::json;
use uuid::Uuid;

use super::auth::{CurrentUser, Viewer};
use super::error::{status_code, ServerError};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::limits::Action;
use super::manage::{self, Actor};
use super::people::{self, PeopleQuery};
use super::state::Chat;
use super::{attachments, chat, realtime, search};
use crate::model::{
    ApiError, ChannelQuery, HistoryQuery, MemberChange, MessageEdit, Mute, NewChannel, NewMessage,
    NewReport, ReactionChange, ReadUpTo, Rename, RoleChange, SearchQuery, UserQuery,
};

/// The chat's JSON API, WebSocket and SSE routes (merged by [`Chat::routes`]).
pub fn api_routes() -> Router<Chat> {
    Router::new()
        .route("/api/chat/me", get(me))
        .route("/api/chat/users", get(users))
        // The first version's address and shape: the users of the same page, without `more`.
        .route("/api/users", get(users_v0))
        .route(
            "/api/chat/channels",
            get(list_channels).post(create_channel),
        )
        .route(
            "/api/chat/channels/{id}",
            get(get_channel).patch(rename_channel),
        )
        .route(
            "/api/chat/channels/{id}/members",
            get(channel_members).post(change_members),
        )
        .route("/api/chat/channels/{id}/members/{user_id}", put(set_role))
        .route("/api/chat/channels/{id}/leave", post(leave_channel))
        .route("/api/chat/channels/{id}/mute", put(mute_channel))
        .route("/api/chat/blocks", get(blocks))
        .route("/api/chat/blocks/{user_id}", put(block).delete(unblock))
        .route("/api/chat/messages/{id}/report", post(report_message))
        .route("/api/chat/messages/{id}/reactions", post(react))
        .route("/api/chat/channels/{id}/messages", get(history))
        .route("/api/chat/channels/{id}/read", post(mark_read))
        .route("/api/chat/messages", post(send_message))
        .route(
            "/api/chat/messages/{id}",
            patch(edit_message).delete(delete_message),
        )
        .route("/api/chat/unread", get(unread))
        .route("/api/chat/search", get(search_messages))
        .route("/api/chat/channels/{id}/uploads", post(upload))
        .route("/api/chat/attachments/{id}", get(download))
        .route("/api/chat/attachments/{id}/thumbnail", get(thumbnail))
        .route("/api/chat/ws", get(realtime::ws::websocket))
        .route("/api/chat/events", get(realtime::sse::events))
}

type ApiResult = Result<Response, ServerError>;

/// Server functions whose arguments do not even parse are answered by Leptos with a 500; the
/// body is already our error (`bad_request`), so give it that code's status.
async fn server_fn_status(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return ServerError::Internal("unreadable server function error".into()).into_response();
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status = status_code(error.code);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Gives every error under `/api/` our JSON shape, including those made by layers and routing
/// (unknown path, wrong method, body over the limit).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let server_fn = request.uri().path().starts_with("/api/fn/");
    let response = next.run(request).await;
    if server_fn && response.status().is_server_error() {
        return server_fn_status(response).await;
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let text = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    ServerError::from_status(status, &text).into_response()
}

async fn users(
    State(state): State<Chat>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> ApiResult {
    let query = PeopleQuery::parse(&query)?;
    Ok(Json(people::search(&state, &viewer, &query).await?).into_response())
}

async fn users_v0(
    State(state): State<Chat>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> ApiResult {
    let query = PeopleQuery::parse(&query)?;
    Ok(Json(people::search(&state, &viewer, &query).await?.users).into_response())
}

async fn me(CurrentUser(user): CurrentUser) -> Response {
    Json(user).into_response()
}

async fn list_channels(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiQuery(query): ApiQuery<ChannelQuery>,
) -> ApiResult {
    Ok(Json(chat::channels(&state.pool, &me, &query).await?).into_response())
}

async fn create_channel(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiJson(input): ApiJson<NewChannel>,
) -> ApiResult {
    let (channel, created) = chat::create_channel(&state, &me, &input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(channel)).into_response())
}

async fn get_channel(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult {
    Ok(Json(chat::channel(&state.pool, &me, id).await?).into_response())
}

async fn history(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult {
    Ok(Json(chat::history(&state.pool, &me, id, &query).await?).into_response())
}

async fn mark_read(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ReadUpTo>,
) -> ApiResult {
    Ok(Json(chat::mark_read(&state, &me, id, input.seq).await?).into_response())
}

async fn send_message(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiJson(input): ApiJson<NewMessage>,
) -> ApiResult {
    Ok(Json(chat::send(&state, &me, &input).await?).into_response())
}

/// `?name=` of an upload: the file's name as the person knows it (display only).
#[derive(serde::Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    pub name: String,
}

/// The declared `Content-Length`, if any.
pub fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `POST /api/chat/channels/{id}/uploads?name=`: the file's bytes as the body (any
/// `Content-Type`; it is not read). 201 with the [`crate::model::Attachment`].
async fn upload(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> ApiResult {
    let declared = declared_length(&headers);
    let attachment = attachments::upload(
        &state,
        attachments::Uploader::Person(me.id),
        id,
        &query.name,
        declared,
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(attachment)).into_response())
}

async fn download(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult {
    attachments::download(&state, me.id, id, false).await
}

async fn thumbnail(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult {
    attachments::download(&state, me.id, id, true).await
}

async fn edit_message(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MessageEdit>,
) -> ApiResult {
    Ok(Json(chat::edit(&state, &me, id, &input.text).await?).into_response())
}

/// Sets my reaction on or off; answers the message with its reactions as they are now.
async fn react(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ReactionChange>,
) -> ApiResult {
    Ok(Json(chat::react(&state, &me, id, &input.emoji, input.on).await?).into_response())
}

async fn delete_message(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult {
    Ok(Json(chat::delete(&state, &me, id).await?).into_response())
}

async fn search_messages(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult {
    state.limits.check(Action::Search, me.id)?;
    Ok(Json(search::search(&state.pool, me.id, &query).await?).into_response())
}

async fn unread(State(state): State<Chat>, CurrentUser(me): CurrentUser) -> ApiResult {
    Ok(
        Json(json!({ "unread": chat::unread_total(&state.pool, &me, None).await? }))
            .into_response(),
    )
}

async fn channel_members(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult {
    Ok(Json(manage::members(&state, &me, id).await?).into_response())
}

async fn change_members(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MemberChange>,
) -> ApiResult {
    manage::change_members(&state, Actor::Person(&me), id, input).await?;
    Ok(Json(chat::channel(&state.pool, &me, id).await?).into_response())
}

async fn set_role(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(input): ApiJson<RoleChange>,
) -> ApiResult {
    manage::set_role(&state, &me, id, user_id, input.role).await?;
    Ok(Json(manage::members(&state, &me, id).await?).into_response())
}

async fn leave_channel(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult {
    manage::leave(&state, &me, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rename_channel(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<Rename>,
) -> ApiResult {
    manage::rename(&state, Actor::Person(&me), id, &input.name).await?;
    Ok(Json(chat::channel(&state.pool, &me, id).await?).into_response())
}

async fn mute_channel(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<Mute>,
) -> ApiResult {
    manage::mute(&state, &me, id, input.muted).await?;
    Ok(Json(chat::channel(&state.pool, &me, id).await?).into_response())
}

async fn blocks(State(state): State<Chat>, CurrentUser(me): CurrentUser) -> ApiResult {
    Ok(Json(manage::blocked(&state, &me).await?).into_response())
}

async fn block(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult {
    manage::set_block(&state, &me, user_id, true).await?;
    Ok(Json(manage::blocked(&state, &me).await?).into_response())
}

async fn unblock(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(user_id): ApiPath<Uuid>,
) -> ApiResult {
    manage::set_block(&state, &me, user_id, false).await?;
    Ok(Json(manage::blocked(&state, &me).await?).into_response())
}

async fn report_message(
    State(state): State<Chat>,
    CurrentUser(me): CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<NewReport>,
) -> ApiResult {
    let report = manage::report(&state, &me, id, &input.reason).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": report }))).into_response())
}
