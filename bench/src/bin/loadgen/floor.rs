//! The database floors, measured in the same run as the figures they bound:
//! - latency: a bare `INSERT` + `pg_notify` + `COMMIT` on one connection, received by `LISTEN`
//!   on another (what a durable, fanned-out message cannot beat);
//! - throughput: pgbench inserting one row per transaction, with and without `NOTIFY` (NOTIFY
//!   takes a cluster-wide lock until after commit), and the group-commit shape (64 rows and one
//!   `NOTIFY` per transaction) with and without it.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::stats::{round3, Samples, Summary};
use crate::Failure;

const PGBENCH: &str = "/usr/lib/postgresql/15/bin/pgbench";

/// A durable insert with a notification, timed from BEGIN to the listener's receipt.
pub async fn insert_notify_listen(pool: &PgPool, rounds: usize) -> Result<Summary, Failure> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, body text NOT NULL)",
    )
    .execute(pool)
    .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen("bench_floor").await?;
    let warm = rounds / 10;
    let mut samples = Samples::default();
    for i in 0..rounds + warm {
        let body = format!("round {i}");
        let started = Instant::now();
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO bench_floor (body) VALUES ($1)")
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_notify('bench_floor', $1)")
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let notification = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await??;
        if i >= warm {
            samples.push(started.elapsed());
        }
        if notification.payload() != body {
            return Err("notifications out of order".into());
        }
    }
    Ok(samples.summary())
}

#[derive(Debug, Clone, Serialize)]
pub struct Pgbench {
    pub script: &'static str,
    pub clients: u32,
    pub seconds: u32,
    pub rows_per_transaction: u32,
    pub transactions_per_s: f64,
    pub rows_per_s: f64,
}

/// The four pgbench runs: one row or 64 rows per transaction, each with and without NOTIFY.
pub async fn pgbench_all(
    pool: &PgPool,
    database_url: &str,
    work: &Path,
    seconds: u32,
) -> Result<Vec<Pgbench>, Failure> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, body text NOT NULL)",
    )
    .execute(pool)
    .await?;
    let batch = "INSERT INTO bench_floor (body) SELECT 'a benchmark message of typical length, \
                 sixty characters' FROM generate_series(1, 64);";
    let runs = [
        (
            "insert_1",
            1,
            "INSERT INTO bench_floor (body) VALUES ('a benchmark message of typical length, sixty characters');".to_owned(),
        ),
        (
            "insert_1_notify",
            1,
            "BEGIN;\nINSERT INTO bench_floor (body) VALUES ('a benchmark message of typical length, sixty characters');\nSELECT pg_notify('bench_floor', 'x');\nCOMMIT;".to_owned(),
        ),
        ("insert_64", 64, batch.to_owned()),
        (
            "insert_64_notify",
            64,
            format!("BEGIN;\n{batch}\nSELECT pg_notify('bench_floor', 'x');\nCOMMIT;"),
        ),
    ];
    let mut results = Vec::new();
    for (name, rows, script) in runs {
        let file = work.join(format!("pgbench-{name}.sql"));
        std::fs::write(&file, script)?;
        let clients = 32;
        let mut command = std::process::Command::new(PGBENCH);
        command
            .args(["-n", "-f"])
            .arg(&file)
            .args([
                "-c",
                &clients.to_string(),
                "-j",
                "2",
                "-T",
                &seconds.to_string(),
            ])
            .arg(database_url);
        let output = output_of(command).await?;
        let tps = output
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .ok_or_else(|| format!("pgbench printed no tps:\n{output}"))?;
        eprintln!("    pgbench {name}: {tps:.0} tps");
        results.push(Pgbench {
            script: name,
            clients,
            seconds,
            rows_per_transaction: rows,
            transactions_per_s: round3(tps),
            rows_per_s: round3(tps * f64::from(rows)),
        });
    }
    Ok(results)
}

/// Runs a command to completion off the async workers; its stdout, or an error with stderr.
pub async fn output_of(mut command: std::process::Command) -> Result<String, Failure> {
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    if !output.status.success() {
        return Err(format!(
            "command failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
