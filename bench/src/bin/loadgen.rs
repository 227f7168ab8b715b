//! `parley-loadgen`: the load generator and the benchmark report (issue #7).
//!
//! Drives the real server (`target/release/parley`, started here as a separate process on a
//! loopback port) through its HTTP and WebSocket API as browsers do, and measures the floors
//! beside it in the same run: a bare `INSERT` + `NOTIFY` → `LISTEN` round trip, pgbench insert
//! rates with and without `NOTIFY`, an in-memory broadcast server with no database (this binary,
//! `bare-server`) and that same bare server's idle sockets. Every figure is reported as a ratio
//! to its floor, as JSON and as a Markdown table.
//!
//! Users, sessions, channels and messages are made with SQL (signing up costs ~50 ms of argon2
//! each), in a scratch database next to the one `DATABASE_URL` names: it is dropped and created
//! again by each run, so any `DATABASE_URL` is safe to point at. Everything runs on loopback and
//! every scenario is bounded in count and time.
//!
//! ```text
//! parley-loadgen [SCENARIO…] [--smoke] [--out DIR] [--name STEM] [--server-bin PATH]
//!                [--site-root DIR]
//!   SCENARIO: latency throughput idle bundle dataset actions amplify uploads (default: all)
//!   --name: write DIR/STEM.json and DIR/STEM.md (default `results`, `smoke` with --smoke)
//! parley-loadgen bare-server --port N     (started by the scenarios themselves)
//! ```
//! See scripts/bench.sh and BENCHMARKS.md.

// The modules live in src/bin/loadgen/ (an inline module maps to that folder).
mod loadgen {
    pub mod actions;
    pub mod amplify;
    pub mod bare;
    pub mod bundle;
    pub mod client;
    pub mod dataset;
    pub mod fixture;
    pub mod floor;
    pub mod http;
    pub mod idle;
    pub mod latency;
    pub mod process;
    pub mod report;
    pub mod stats;
    pub mod throughput;
    pub mod uploads;
}

use loadgen::{
    actions, amplify, bare, bundle, client, dataset, fixture, floor, http, idle, latency, process,
    report, stats, throughput, uploads,
};

use std::error::Error;
use std::path::PathBuf;

use report::{Plan, Scenario};

pub type Failure = Box<dyn Error + Send + Sync>;

fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("bare-server") {
        let port = flag_value(args.skip(1), "--port")?.parse()?;
        // The in-memory floor is a server: give it the same runtime shape as `parley`.
        return tokio::runtime::Runtime::new()?.block_on(bare::serve(port));
    }

    let mut plan = Plan {
        scenarios: Vec::new(),
        smoke: false,
        out: PathBuf::from("bench-results"),
        server_bin: PathBuf::from("target/release/parley"),
        site_root: PathBuf::from("target/site"),
        database_url: std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?,
        name: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => plan.smoke = true,
            "--out" => plan.out = args.next().ok_or("--out needs a folder")?.into(),
            "--server-bin" => {
                plan.server_bin = args.next().ok_or("--server-bin needs a path")?.into();
            }
            "--site-root" => plan.site_root = args.next().ok_or("--site-root needs a path")?.into(),
            "--name" => plan.name = Some(args.next().ok_or("--name needs a file name")?),
            name => plan.scenarios.push(Scenario::parse(name)?),
        }
    }
    if plan.scenarios.is_empty() {
        plan.scenarios = Scenario::ALL.to_vec();
    }
    tokio::runtime::Runtime::new()?.block_on(report::run(plan))
}

/// The value after `name` in `args`.
fn flag_value(mut args: impl Iterator<Item = String>, name: &str) -> Result<String, Failure> {
    while let Some(arg) = args.next() {
        if arg == name {
            return args
                .next()
                .ok_or_else(|| format!("{name} needs a value").into());
        }
    }
    Err(format!("{name} is required").into())
}
