//! The servers under test, each a separate process on a free loopback port: the real `parley`
//! binary, or this binary's `bare-server` (the in-memory floor). A separate process keeps the
//! load generator's own CPU and memory out of the server's figures (its RSS is read from
//! `/proc`). A server is killed when its handle is dropped, so no run can leave one behind.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Failure;

/// How long a server may take to start listening (it applies migrations first).
const START_WITHIN: Duration = Duration::from_secs(60);

/// The servers' data folder (`PARLEY_DATA_DIR`): what the benchmarks upload lands here.
pub const DATA_DIR: &str = "target/bench-data";

pub struct Served {
    child: Child,
    pub addr: SocketAddr,
    pub name: &'static str,
}

impl Served {
    /// The real server, with its logs in `log`.
    /// With `all_limits`, every abuse limit keeps its default; otherwise the send limit and
    /// the per-address socket cap are lifted (see below).
    pub async fn parley(
        bin: &Path,
        site_root: &Path,
        database_url: &str,
        log: &Path,
        all_limits: bool,
    ) -> Result<Self, Failure> {
        let port = free_port()?;
        let mut command = Command::new(bin);
        command
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", site_root)
            // Uploads (the uploads scenario) are scratch files like the database.
            .env("PARLEY_DATA_DIR", DATA_DIR)
            .env("RUST_LOG", "warn");
        if !all_limits {
            // The per-user send limit (10/s) guards against abuse; the benchmarks measure what
            // the server can carry, so it is lifted (the check itself still runs). So is the
            // cap of 500 sockets per client address: thousands of users here come from 8
            // loopback addresses (the idle scenario holds 19,000 sockets). The other per-user
            // limits (reads, typing, replays, channels, edits, searches, uploads) are lifted
            // alike, so that no figure measures a limit instead of the server.
            command
                .env("PARLEY_SENDS_PER_MINUTE", "6000000")
                .env("PARLEY_SEND_BURST", "100000")
                .env("PARLEY_SOCKETS_PER_ADDRESS", "1000000")
                .env("PARLEY_MAX_CONNECTIONS", "1000000");
            for name in [
                "READS", "TYPING", "REPLAYS", "CONNECTS", "CHANNELS", "EDITS", "SEARCHES",
                "UPLOADS",
            ] {
                command
                    .env(format!("PARLEY_{name}_PER_MINUTE"), "6000000")
                    .env(format!("PARLEY_{name}_BURST"), "100000");
            }
        }
        Self::start(command, port, log, "parley").await
    }

    /// The bare in-memory server: it loads sessions and memberships from `database_url` at
    /// start-up and never touches the database again.
    pub async fn bare(database_url: &str, log: &Path) -> Result<Self, Failure> {
        let port = free_port()?;
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["bare-server", "--port", &port.to_string()])
            .env("DATABASE_URL", database_url);
        Self::start(command, port, log, "bare").await
    }

    async fn start(
        mut command: Command,
        port: u16,
        log: &Path,
        name: &'static str,
    ) -> Result<Self, Failure> {
        let log = File::create(log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut served = Self {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            name,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = served.child.try_wait()? {
                return Err(format!("the {name} server exited at start-up ({status})").into());
            }
            if tokio::net::TcpStream::connect(served.addr).await.is_ok() {
                return Ok(served);
            }
            if started.elapsed() > START_WITHIN {
                return Err(format!("the {name} server did not listen within a minute").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> Result<u64, Failure> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .ok_or("no VmRSS in /proc status")?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .ok_or("unreadable VmRSS")?
            .parse()?)
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu_time(&self) -> Result<Duration, Failure> {
        cpu_time_of(self.child.id())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // The process is ours; a kill error means it has already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) process `pid` has used, from `/proc/<pid>/stat`.
pub fn cpu_time_of(pid: u32) -> Result<Duration, Failure> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').ok_or("unreadable /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    // Linux reports in clock ticks of 1/100 s on every common configuration.
    Ok(Duration::from_millis(ticks * 10))
}

/// A loopback port nobody is listening on right now.
fn free_port() -> Result<u16, Failure> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}
