//! The minimal host's server binary: configuration → database (the chat's migrations) → the
//! chat with this host's sessions as its identity → serve, until Ctrl-C or SIGTERM.
//!
//! Configuration: `DATABASE_URL` (required), `MINIMAL_PASSWORD` (the shared password, default
//! `minimal`), the `[package.metadata.leptos]` section of minimal/Cargo.toml (read from the
//! workspace root, overridden by `LEPTOS_*` variables) and the chat's `PARLEY_*` variables.
//! Uses this crate's `server` and `parley::server`; only wires them together.

use std::error::Error;
use std::process::ExitCode;

use leptos::config::get_configuration;
use parley::server::config::ChatConfig;
use parley::server::{db, serve, Chat};
use parley_minimal::server::{router, AppState, Sessions};
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tracing_subscriber::EnvFilter;

const DEFAULT_PASSWORD: &str = "minimal";

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let leptos_options = get_configuration(Some("minimal/Cargo.toml"))?.leptos_options;
    let database_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let password = std::env::var("MINIMAL_PASSWORD").unwrap_or_else(|_| DEFAULT_PASSWORD.into());
    let chat_config = ChatConfig::from_env(leptos_options.site_addr)?;
    for warning in chat_config.warnings() {
        tracing::warn!("{warning}");
    }
    let settings = chat_config.settings();

    let pool = PgPoolOptions::new().connect(&database_url).await?;
    db::migrate(&pool).await?;
    let sessions = Sessions::new(&password, settings.secure_cookies);
    let chat = Chat::start(pool.clone(), sessions.clone(), settings.clone());

    let addr = leptos_options.site_addr;
    let state = AppState {
        leptos_options,
        chat: chat.clone(),
        sessions,
    };
    let listener = TcpListener::bind(addr).await?;
    tracing::info!("serving http://{addr}");
    // The chat stops with the signal, so its sockets close (1001) while the server drains.
    let stopping = {
        let chat = chat.clone();
        async move {
            shutdown_signal().await;
            chat.stop();
        }
    };
    serve(listener, router(state), &settings.serve, stopping).await;
    chat.shut_down().await;
    pool.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    // A failed Ctrl-C listener disables only its own branch.
    tokio::select! {
        Ok(()) = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
