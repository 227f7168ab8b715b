//! The run: a scratch database, then each scenario with its own fresh server process and data,
//! and the report: every figure beside its floor, as `results.json` and `table.md` in the output
//! folder (the Markdown table is also printed). `--smoke` runs the same code with tiny sizes
//! and a few seconds per scenario, so the tool cannot rot; its figures mean nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::client::{open_all, Recorder};
use crate::dataset::{self, Size};
use crate::fixture::{self, Layout};
use crate::process::Served;
use crate::stats::round3;
use crate::{actions, amplify, bundle, floor, idle, latency, throughput, uploads, Failure};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Latency,
    Throughput,
    Idle,
    Dataset,
    Bundle,
    Actions,
    Amplify,
    Uploads,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Latency,
        Scenario::Throughput,
        Scenario::Idle,
        Scenario::Bundle,
        Scenario::Dataset,
        Scenario::Actions,
        Scenario::Amplify,
        Scenario::Uploads,
    ];

    pub fn parse(name: &str) -> Result<Self, Failure> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| format!("unknown scenario {name:?}").into())
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::Latency => "latency",
            Scenario::Throughput => "throughput",
            Scenario::Idle => "idle",
            Scenario::Dataset => "dataset",
            Scenario::Bundle => "bundle",
            Scenario::Actions => "actions",
            Scenario::Amplify => "amplify",
            Scenario::Uploads => "uploads",
        }
    }
}

pub struct Plan {
    pub scenarios: Vec<Scenario>,
    pub smoke: bool,
    pub out: PathBuf,
    pub server_bin: PathBuf,
    pub site_root: PathBuf,
    pub database_url: String,
    /// The results' file name without extension (default `results`, `smoke` with `--smoke`).
    pub name: Option<String>,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub figure: String,
    pub value: f64,
    pub unit: &'static str,
    pub floor: String,
    pub floor_value: f64,
    /// `value / floor_value`.
    pub ratio: f64,
    pub target: String,
    pub met: Option<bool>,
    pub command: String,
}

struct Report {
    figures: Vec<Figure>,
    details: serde_json::Map<String, Value>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        scenario: Scenario,
        figure: &str,
        value: f64,
        unit: &'static str,
        floor: &str,
        floor_value: f64,
        target: &str,
        met: Option<bool>,
    ) {
        self.figures.push(Figure {
            figure: figure.to_owned(),
            value: round3(value),
            unit,
            floor: floor.to_owned(),
            floor_value: round3(floor_value),
            ratio: round3(value / floor_value),
            target: target.to_owned(),
            met,
            command: format!("bash scripts/bench.sh {}", scenario.name()),
        });
    }
}

pub async fn run(plan: Plan) -> Result<(), Failure> {
    std::fs::create_dir_all(&plan.out)?;
    let logs = PathBuf::from("target/bench-logs");
    std::fs::create_dir_all(&logs)?;
    let name = if plan.smoke {
        "parley_bench_smoke"
    } else {
        "parley_bench"
    };
    let url = fixture::scratch_database(&plan.database_url, name).await?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await?;
    parley::server::db::migrate(&pool).await?;
    parley_demo::server::db::MIGRATOR.run(&pool).await?;

    let mut report = Report {
        figures: Vec::new(),
        details: serde_json::Map::new(),
    };
    let context = Context {
        plan: &plan,
        url: &url,
        pool: &pool,
        logs: &logs,
    };
    for &scenario in &plan.scenarios {
        eprintln!("==> {}", scenario.name());
        fixture::reset(&pool).await?;
        let details = match scenario {
            Scenario::Latency => context.latency(&mut report).await?,
            Scenario::Throughput => context.throughput(&mut report).await?,
            Scenario::Idle => context.idle(&mut report).await?,
            Scenario::Dataset => context.dataset(&mut report).await?,
            Scenario::Bundle => context.bundle(&mut report).await?,
            Scenario::Actions => context.actions(&mut report).await?,
            Scenario::Amplify => context.amplify(&mut report).await?,
            Scenario::Uploads => context.uploads(&mut report).await?,
        };
        report.details.insert(scenario.name().to_owned(), details);
    }

    let machine = machine(&pool).await?;
    let table = markdown(&report.figures, &machine);
    let results = json!({
        "smoke": plan.smoke,
        "machine": machine,
        "figures": report.figures,
        "details": report.details,
    });
    let stem = match &plan.name {
        Some(name) => name.as_str(),
        None if plan.smoke => "smoke",
        None => "results",
    };
    std::fs::write(
        plan.out.join(format!("{stem}.json")),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    std::fs::write(plan.out.join(format!("{stem}.md")), &table)?;
    println!("{table}");
    Ok(())
}

struct Context<'a> {
    plan: &'a Plan,
    url: &'a str,
    pool: &'a PgPool,
    logs: &'a Path,
}

impl Context<'_> {
    async fn parley(&self, name: &str) -> Result<Served, Failure> {
        self.parley_limited(name, false).await
    }

    /// The server, with every abuse limit at its default when `all_limits`.
    async fn parley_limited(&self, name: &str, all_limits: bool) -> Result<Served, Failure> {
        let served = Served::parley(
            &self.plan.server_bin,
            &self.plan.site_root,
            self.url,
            &self.logs.join(format!("{name}.log")),
            all_limits,
        )
        .await?;
        eprintln!("  parley server: pid {} on {}", served.pid(), served.addr);
        Ok(served)
    }

    async fn bare(&self, name: &str) -> Result<Served, Failure> {
        let served = Served::bare(self.url, &self.logs.join(format!("{name}.log"))).await?;
        eprintln!("  bare server: pid {} on {}", served.pid(), served.addr);
        Ok(served)
    }

    /// Send → receive at 1,000 users and 200 msg/s, the sweep for p99 ≤ 25 ms, both on the
    /// product and on the in-memory server, and the INSERT + NOTIFY → LISTEN floor.
    async fn latency(&self, report: &mut Report) -> Result<Value, Failure> {
        let smoke = self.plan.smoke;
        let (users, rate, window, sweep_window, rounds) = if smoke {
            (20, 50.0, secs(2), secs(1), 20)
        } else {
            (1_000, 200.0, secs(10), secs(4), 500)
        };
        let (sweep_start, sweep_max) = if smoke {
            (100.0, 100.0)
        } else {
            (400.0, 12_800.0)
        };
        eprintln!("  floor: INSERT + NOTIFY → LISTEN, {rounds} rounds");
        let floor = floor::insert_notify_listen(self.pool, rounds).await?;
        let fixture =
            fixture::build(self.pool, users, Layout::RingAndGroups { group_size: 10 }).await?;

        let mut runs = serde_json::Map::new();
        let mut at_rate = Vec::new();
        let mut highest = Vec::new();
        for bare in [false, true] {
            let served = if bare {
                self.bare("latency-bare").await?
            } else {
                self.parley("latency").await?
            };
            let recorder = Recorder::new();
            let sockets = open_all(served.addr, &fixture, &recorder, 64).await?;
            if !bare {
                wait_for_presence(self.pool, users).await?;
            }
            eprintln!("  {}: {users} users, {rate} msg/s", served.name);
            let result = latency::drive(&fixture, &sockets, &recorder, rate, window).await?;
            eprintln!("  {}: sweep for p99 ≤ 25 ms", served.name);
            let sweep = latency::sweep(
                &fixture,
                &sockets,
                &recorder,
                sweep_start,
                sweep_max,
                25.0,
                sweep_window,
            )
            .await?;
            highest.push(sweep.highest_ok_per_s.unwrap_or(0.0));
            at_rate.push(result.clone());
            runs.insert(
                served.name.to_owned(),
                json!({"at_rate": result, "sweep": sweep}),
            );
        }
        let (product, bare) = (&at_rate[0], &at_rate[1]);
        let p50 = product.send_to_receive.p50_ms;
        report.add(
            Scenario::Latency,
            &format!("send → receive p50, {users} users, {rate} msg/s"),
            p50,
            "ms",
            "INSERT + NOTIFY → LISTEN p50",
            floor.p50_ms,
            "≤ 1.5× floor",
            Some(p50 <= 1.5 * floor.p50_ms),
        );
        report.add(
            Scenario::Latency,
            &format!("send → receive p50, {users} users, {rate} msg/s"),
            p50,
            "ms",
            "in-memory broadcast (no database) p50",
            bare.send_to_receive.p50_ms,
            "cost of persistence",
            None,
        );
        let p99 = product.send_to_receive.p99_ms;
        report.add(
            Scenario::Latency,
            &format!("send → receive p99, {users} users, {rate} msg/s"),
            p99,
            "ms",
            "INSERT + NOTIFY → LISTEN p99",
            floor.p99_ms,
            "≤ 25 ms",
            Some(p99 <= 25.0),
        );
        report.add(
            Scenario::Latency,
            &format!("highest rate with p99 ≤ 25 ms, {users} users"),
            highest[0],
            "msg/s",
            "in-memory broadcast (no database), same bound",
            highest[1],
            "as high as possible (capped at the sweep's top)",
            None,
        );
        Ok(json!({
            "users": users,
            "channels": fixture.channels.len(),
            "floor_insert_notify_listen": floor,
            "runs": runs,
        }))
    }

    /// Closed-loop peak throughput over many 1:1 channels (product and in-memory), and the
    /// pgbench floors with and without NOTIFY.
    async fn throughput(&self, report: &mut Report) -> Result<Value, Failure> {
        let smoke = self.plan.smoke;
        let (users, in_flight, window, pgbench_s) = if smoke {
            (20, 2, secs(2), 1)
        } else {
            (2_000, 4, secs(10), 8)
        };
        eprintln!("  floors: pgbench, {pgbench_s} s each");
        let pgbench =
            floor::pgbench_all(self.pool, self.url, &std::env::temp_dir(), pgbench_s).await?;
        sqlx::raw_sql("TRUNCATE bench_floor")
            .execute(self.pool)
            .await?;
        let fixture = fixture::build(self.pool, users, Layout::Ring).await?;
        let mut runs = Vec::new();
        for bare in [false, true] {
            let served = if bare {
                self.bare("throughput-bare").await?
            } else {
                self.parley("throughput").await?
            };
            let recorder = Recorder::new();
            let sockets = open_all(served.addr, &fixture, &recorder, 64).await?;
            if !bare {
                wait_for_presence(self.pool, users).await?;
            }
            let pool = (!bare).then_some(self.pool);
            let result = throughput::closed_loop(
                &fixture, &sockets, &recorder, &served, pool, in_flight, window,
            )
            .await?;
            eprintln!(
                "  {}: {:.0} acked/s, {:?} persisted/s, {:.2} cores",
                served.name, result.acked_per_s, result.persisted_per_s, result.server_cpu_cores
            );
            runs.push(result);
        }
        let rows = |name: &str| {
            pgbench
                .iter()
                .find(|p| p.script == name)
                .map_or(f64::NAN, |p| p.rows_per_s)
        };
        let persisted = runs[0].persisted_per_s.unwrap_or(0.0);
        report.add(
            Scenario::Throughput,
            &format!("persisted msg/s, {users} sockets on {users} 1:1 channels"),
            persisted,
            "msg/s",
            "pgbench single-row INSERT tps (32 clients)",
            rows("insert_1"),
            "≥ 0.5× floor and ≥ 5,000",
            Some(persisted >= 0.5 * rows("insert_1") && persisted >= 5_000.0),
        );
        report.add(
            Scenario::Throughput,
            "persisted msg/s (as above)",
            persisted,
            "msg/s",
            "in-memory broadcast (no database) msg/s",
            runs[1].acked_per_s,
            "cost of persistence",
            None,
        );
        report.add(
            Scenario::Throughput,
            "pgbench single-row INSERT + NOTIFY tps",
            rows("insert_1_notify"),
            "rows/s",
            "pgbench single-row INSERT tps",
            rows("insert_1"),
            "cost of NOTIFY (1 row per commit)",
            None,
        );
        report.add(
            Scenario::Throughput,
            "pgbench 64-row INSERT + NOTIFY rows/s",
            rows("insert_64_notify"),
            "rows/s",
            "pgbench 64-row INSERT rows/s",
            rows("insert_64"),
            "cost of NOTIFY (group commit)",
            None,
        );
        Ok(json!({"pgbench": pgbench, "runs": runs}))
    }

    /// Idle signed-in sockets in one process: the product and the bare axum floor.
    async fn idle(&self, report: &mut Report) -> Result<Value, Failure> {
        // One descriptor per socket, in the server and in this process: where the hard limit
        // is below 50,000 (a container without CAP_SYS_RESOURCE), hold as many as it allows.
        let wanted = if self.plan.smoke { 200 } else { 50_000 };
        let limit = open_files_limit()?;
        let count = wanted.min(limit.saturating_sub(1_000));
        if count < wanted {
            eprintln!("  the open-files limit is {limit}: holding {count} sockets, not {wanted}");
        }
        let users = fixture::users(self.pool, count).await?;
        let mut results = Vec::new();
        for bare in [false, true] {
            let served = if bare {
                self.bare("idle-bare").await?
            } else {
                self.parley("idle").await?
            };
            let (result, held) = idle::hold(&served, &users).await?;
            eprintln!(
                "  {}: {} sockets in {:.1} s, {:.0} bytes each",
                served.name, result.sockets, result.connect_s, result.bytes_per_socket
            );
            // Close the clients before the server goes, so its RSS is not counted twice.
            drop(held);
            drop(served);
            results.push(result);
        }
        let (product, bare) = (&results[0], &results[1]);
        report.add(
            Scenario::Idle,
            &format!("RSS per idle signed-in WebSocket, {count} in one process"),
            product.bytes_per_socket,
            "bytes",
            "bare axum WebSocket, same 4 KiB buffers",
            bare.bytes_per_socket,
            "≤ 8 KB (8,000 bytes)",
            Some(product.bytes_per_socket <= 8_000.0),
        );
        Ok(json!({"wanted": wanted, "open_files_limit": limit, "runs": results}))
    }

    /// Channel list and history pages on a database of 1M messages in 10k channels.
    async fn dataset(&self, report: &mut Report) -> Result<Value, Failure> {
        let size = if self.plan.smoke {
            Size {
                channels: 100,
                messages_per_channel: 10,
                my_channels: 20,
                others: 30,
                requests: 10,
            }
        } else {
            Size {
                channels: 10_000,
                messages_per_channel: 100,
                my_channels: 1_000,
                others: 2_000,
                requests: 200,
            }
        };
        eprintln!(
            "  loading {} messages with COPY",
            size.channels * size.messages_per_channel
        );
        let (token, mine, copy_s, rows) = dataset::load(self.pool, size).await?;
        let served = self.parley("dataset").await?;
        let result =
            dataset::measure(self.pool, &served, size, &token, &mine, copy_s, rows).await?;
        report.add(
            Scenario::Dataset,
            &format!(
                "channel list p99 (first page of 50), {} channels, {} messages",
                size.my_channels, rows
            ),
            result.channel_list.p99_ms,
            "ms",
            "the same rows by bare SQL p99",
            result.channel_list_sql_floor.p99_ms,
            "≤ 10 ms",
            Some(result.channel_list.p99_ms <= 10.0),
        );
        report.add(
            Scenario::Dataset,
            &format!(
                "sidebar's first load p99 (page of 50 + unread count of all {} channels)",
                size.my_channels
            ),
            result.sidebar_first_load.p99_ms,
            "ms",
            "the same page and count by bare SQL p99",
            result.sidebar_first_load_sql_floor.p99_ms,
            "—",
            None,
        );
        report.add(
            Scenario::Dataset,
            "history page (50 messages) p99",
            result.history_page.p99_ms,
            "ms",
            "the same page by bare SQL p99",
            result.history_page_sql_floor.p99_ms,
            "≤ 5 ms",
            Some(result.history_page.p99_ms <= 5.0),
        );
        report.add(
            Scenario::Dataset,
            &format!(
                "search p99, a rare word (~1 message in 1,000), in {} channels",
                size.my_channels
            ),
            result.search_rare_word.p99_ms,
            "ms",
            "the same search by bare SQL p99",
            result.search_rare_word_sql_floor.p99_ms,
            "—",
            None,
        );
        report.add(
            Scenario::Dataset,
            "search p99, a word every message holds (worst case)",
            result.search_common_word.p99_ms,
            "ms",
            "the same search by bare SQL p99",
            result.search_common_word_sql_floor.p99_ms,
            "—",
            None,
        );
        Ok(serde_json::to_value(result)?)
    }

    /// The page and assets a browser downloads for /chat.
    async fn bundle(&self, report: &mut Report) -> Result<Value, Failure> {
        if !self.plan.site_root.join("pkg").is_dir() {
            return Err(format!(
                "{} has no pkg/: build the site first (cargo leptos build --release --precompress --project parley-demo)",
                self.plan.site_root.display()
            )
            .into());
        }
        let users = fixture::users(self.pool, 1).await?;
        let served = self.parley("bundle").await?;
        let result = bundle::measure(&served, &users[0].token).await?;
        // DESIGN.md: the hosted competitor's minimal React app is 626 KiB gzip.
        let competitor = 626.0 * 1024.0;
        report.add(
            Scenario::Bundle,
            "/chat download, gzip (page + WASM + JS + CSS)",
            result.total_gzip_bytes as f64,
            "bytes",
            "hosted competitor's minimal React app (626 KiB gzip)",
            competitor,
            "≤ 1/3 of it",
            Some((result.total_gzip_bytes as f64) <= competitor / 3.0),
        );
        report.add(
            Scenario::Bundle,
            "/chat download, a browser offering br (brotli copies of the site's files)",
            result.total_browser_bytes as f64,
            "bytes",
            "the same download, gzip",
            result.total_gzip_bytes as f64,
            "what browsers get",
            None,
        );
        Ok(serde_json::to_value(result)?)
    }

    /// A 5 MB JPEG's processing and uploads, beside decoding alone and a bare HTTP upload.
    async fn uploads(&self, report: &mut Report) -> Result<Value, Failure> {
        let size = if self.plan.smoke {
            uploads::Size {
                min_bytes: 100_000,
                runs: 2,
            }
        } else {
            uploads::Size {
                min_bytes: 5_000_000,
                runs: 10,
            }
        };
        // Files of earlier runs would only fill the disk.
        match std::fs::remove_dir_all(crate::process::DATA_DIR) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let fixture = fixture::build(self.pool, 2, Layout::Ring).await?;
        let channel = fixture.channels.first().ok_or("no channel")?.id;
        let parley = self.parley("uploads").await?;
        let bare = self.bare("uploads-bare").await?;
        let result = uploads::measure(&parley, &bare, &fixture.users[0], channel, size).await?;
        let mb = result.jpeg_bytes as f64 / 1e6;
        report.add(
            Scenario::Uploads,
            &format!(
                "{mb:.1} MB JPEG ({}×{}) processed: decode, re-encode without metadata, thumbnail, p50",
                result.width, result.height
            ),
            result.process_image.p50_ms,
            "ms",
            "decoding the same JPEG alone p50",
            result.decode_only_floor.p50_ms,
            "—",
            None,
        );
        report.add(
            Scenario::Uploads,
            &format!("upload of that {mb:.1} MB JPEG (sniffed, processed, stored) p50"),
            result.upload_jpeg.time.p50_ms,
            "ms",
            "the same bytes posted to the bare server p50",
            result.upload_bare_floor.time.p50_ms,
            "—",
            None,
        );
        report.add(
            Scenario::Uploads,
            &format!("upload of {mb:.1} MB that is no image (sniffed, stored) p50"),
            result.upload_other.time.p50_ms,
            "ms",
            "the same size posted to the bare server p50",
            result.upload_bare_floor.time.p50_ms,
            "—",
            None,
        );
        report.add(
            Scenario::Uploads,
            "upload throughput, JPEGs one after another on one connection",
            result.upload_jpeg.mb_per_s,
            "MB/s",
            "the bare server's",
            result.upload_bare_floor.mb_per_s,
            "—",
            None,
        );
        Ok(serde_json::to_value(result)?)
    }
}

/// This process's soft limit on open files (raised by scripts/bench.sh as far as allowed).
fn open_files_limit() -> Result<usize, Failure> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .ok_or("no open-files limit in /proc/self/limits")?;
    Ok(line
        .split_whitespace()
        .nth(3)
        .ok_or("unreadable open-files limit")?
        .parse()?)
}

impl Context<'_> {
    /// The action mix at growing user counts until an action's p99 passes 100 ms.
    async fn actions(&self, report: &mut Report) -> Result<Value, Failure> {
        let (counts, window): (&[usize], _) = if self.plan.smoke {
            (&[20], secs(3))
        } else {
            (&[1_000, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000], secs(20))
        };
        let mut steps = Vec::new();
        let mut most = 0;
        for &users in counts {
            fixture::reset(self.pool).await?;
            let fixture = Arc::new(
                fixture::build(self.pool, users, Layout::RingAndGroups { group_size: 10 }).await?,
            );
            let served = self.parley(&format!("actions-{users}")).await?;
            let recorder = Recorder::new();
            let sockets = open_all(served.addr, &fixture, &recorder, 64).await?;
            wait_for_presence(self.pool, users).await?;
            let result = actions::run(served.addr, &fixture, sockets, &recorder, window).await?;
            eprintln!(
                "  {users} users: {:.0} actions/s, worst p99 {:.1} ms, {} errors",
                result.actions_per_s, result.worst_p99_ms, result.errors
            );
            let ok = result.worst_p99_ms <= 100.0 && result.errors == 0;
            steps.push(result);
            if !ok {
                break;
            }
            most = users;
        }
        let tried = counts.last().copied().unwrap_or(0) as f64;
        report.add(
            Scenario::Actions,
            "most active users with every action's p99 ≤ 100 ms (steps 1,000, 1,500 … 3,000, 4,000, 5,000)",
            most as f64,
            "users",
            "largest step tried",
            tried,
            "≥ 5,000",
            Some(most >= 5_000),
        );
        Ok(json!({"bound_p99_ms": 100.0, "steps": steps}))
    }
}

impl Context<'_> {
    /// Issue 12's replay amplification: another person's figures, quiet and while 8 sockets
    /// of one account send 500-cursor `resume` frames (see `amplify.rs`).
    async fn amplify(&self, report: &mut Report) -> Result<Value, Failure> {
        let size = if self.plan.smoke {
            amplify::Size {
                channels: 2,
                messages_per_channel: 501,
                text_chars: 20,
                sockets: 8,
                cursors: 500,
                window: secs(2),
                resume_every: Duration::from_millis(250),
            }
        } else {
            amplify::Size {
                channels: 10,
                messages_per_channel: 501,
                text_chars: 4_000,
                sockets: 8,
                cursors: 500,
                window: secs(30),
                resume_every: Duration::from_millis(250),
            }
        };
        eprintln!(
            "  loading {} messages of {} 4-byte characters with COPY",
            size.channels * size.messages_per_channel,
            size.text_chars
        );
        let cast = amplify::load(self.pool, size).await?;
        // Every limit at its default: they are what is measured. (The person sends 5 a second,
        // under the default send limit of 10.)
        let served = self.parley_limited("amplify", true).await?;
        let result = amplify::run(self.pool, &served, &cast, size).await?;
        let (quiet, attacked) = (&result.quiet, &result.attacked);
        let attack = format!(
            "{} sockets of one account each resuming {} cursors",
            size.sockets, size.cursors
        );
        let lines = [
            (
                "all its requests (/api/auth/me, sign-in, send → ack)",
                quiet.mix,
                attacked.mix,
            ),
            ("GET /api/auth/me", quiet.auth_me, attacked.auth_me),
            ("sign-in", quiet.sign_in, attacked.sign_in),
            ("send → ack", quiet.send_to_ack, attacked.send_to_ack),
            (
                "send → its friend receives",
                quiet.send_to_receive,
                attacked.send_to_receive,
            ),
        ];
        for (what, quiet, attacked) in lines {
            report.add(
                Scenario::Amplify,
                &format!("another person's p99, {what}, while {attack}"),
                attacked.p99_ms,
                "ms",
                "the same, quiet p99",
                quiet.p99_ms,
                "≤ 2× floor",
                Some(attacked.p99_ms <= 2.0 * quiet.p99_ms),
            );
        }
        let asked = attacked.mix.count as u64 + attacked.sends.saturating_sub(attacked.acks);
        report.add(
            Scenario::Amplify,
            "another person's 503s, unanswered requests and lost sends under the attack",
            attacked.failures as f64,
            "",
            "its requests under the attack",
            asked as f64,
            "none",
            Some(attacked.failures == 0),
        );
        report.add(
            Scenario::Amplify,
            "database tuples fetched per second under the attack",
            attacked.db_tuples_fetched_per_s,
            "/s",
            "the same, quiet",
            quiet.db_tuples_fetched_per_s,
            "the amplification (resets decided without reading rows)",
            None,
        );
        Ok(serde_json::to_value(result)?)
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Waits (up to a minute) until the server has stored everyone's presence: opening sockets
/// queues that work, and it should not leak into what is measured next.
async fn wait_for_presence(pool: &PgPool, users: usize) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    loop {
        let online: i64 = sqlx::query_scalar("SELECT count(DISTINCT user_id) FROM chat_presence")
            .fetch_one(pool)
            .await?;
        if online as usize >= users {
            eprintln!(
                "  presence of {users} stored after {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed() > secs(60) {
            return Err(format!("only {online} of {users} presences stored after 60 s").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn machine(pool: &PgPool) -> Result<Value, Failure> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let postgres: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(pool)
        .await?;
    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings
          WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')",
    )
    .fetch_all(pool)
    .await?;
    Ok(json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(usize::from).unwrap_or(0),
        "memory_gib": round3(memory_kib as f64 / 1024.0 / 1024.0),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "postgres": postgres,
        "postgres_settings": settings
            .into_iter()
            .map(|(name, setting)| (name, Value::String(setting)))
            .collect::<serde_json::Map<String, Value>>(),
        "note": "server, PostgreSQL and load generator share the same cores (loopback)",
    }))
}

fn markdown(figures: &[Figure], machine: &Value) -> String {
    let mut table = String::from(
        "| figure | value | floor | floor value | ratio | target | met | command |\n\
         |---|---:|---|---:|---:|---|---|---|\n",
    );
    for f in figures {
        let met = match f.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        table.push_str(&format!(
            "| {} | {} {} | {} | {} | {}× | {} | {} | `{}` |\n",
            f.figure, f.value, f.unit, f.floor, f.floor_value, f.ratio, f.target, met, f.command
        ));
    }
    table.push_str(&format!(
        "\nMachine: {}, {} cores, {} GiB; {}.\n",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        machine["memory_gib"],
        machine["postgres"]
            .as_str()
            .and_then(|v| v.split(" on ").next())
            .unwrap_or("?"),
    ));
    table
}
