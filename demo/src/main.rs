//! The demo's server binary: configuration → telemetry → database (the chat's migrations and
//! the demo's) → the chat with the demo's accounts as its identity → serve, until Ctrl-C or
//! SIGTERM.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use parley::server::{db, serve, Chat};
use parley_demo::server::{db as demo_db, router, seed, Accounts, Config, DemoState};
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let config = Config::load()?;
    for warning in config.chat.warnings() {
        tracing::warn!("{warning}");
    }
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&config.database_url)
        .await?;
    db::migrate(&pool).await?;
    demo_db::MIGRATOR.run(&pool).await?;
    if config.seed_demo_users {
        seed::seed_demo_users(&pool).await?;
    }
    tokio::spawn(expire_sessions(pool.clone()));

    let addr = config.leptos_options.site_addr;
    let settings = config.settings();
    let accounts = Accounts::new(pool.clone(), config.account_settings());
    let chat = Chat::start(pool.clone(), accounts.clone(), settings.clone());
    let state = DemoState {
        leptos_options: config.leptos_options.clone(),
        chat: chat.clone(),
        accounts,
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
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Deletes expired sessions once an hour.
async fn expire_sessions(pool: sqlx::PgPool) {
    let mut tick = tokio::time::interval(Duration::from_secs(60 * 60));
    loop {
        tick.tick().await;
        match demo_db::delete_expired_sessions(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "deleted expired sessions"),
            Err(error) => tracing::warn!(%error, "could not delete expired sessions"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
