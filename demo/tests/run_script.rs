//! The README run command seeds the demo users (public password "parley-demo") only into the
//! embedded database it starts itself, never into a `DATABASE_URL` the operator set (SECURITY.md,
//! operator defaults). `bash scripts/run.sh --dry-run` prints that decision and exits before it
//! installs, builds or starts anything, so this costs milliseconds.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEEDED: &str = "==> demo users: seeded";
const NOT_SEEDED: &str = "==> demo users: not seeded";

/// Runs the run command's dry run with exactly the given variables for the database and
/// seeding (the test command's own `DATABASE_URL` must not leak in) and returns its output.
fn dry_run(database_url: Option<&str>, seed_demo: Option<&str>) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/run.sh"))
        .arg("--dry-run")
        .env_remove("DATABASE_URL")
        .env_remove("PARLEY_SEED_DEMO")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    if let Some(seed) = seed_demo {
        cmd.env("PARLEY_SEED_DEMO", seed);
    }
    let mut child = cmd.spawn().expect("bash runs");
    // A run command without the dry run would go on to install and build: stop it, and fail.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for bash") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("scripts/run.sh --dry-run did not exit within 20 s (no dry run?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success(),
        "run.sh --dry-run failed ({status}):\n{out}\n{err}"
    );
    out
}

#[test]
fn embedded_database_gets_the_demo_users() {
    let out = dry_run(None, None);
    assert!(
        out.contains("==> database: the embedded PostgreSQL cluster"),
        "{out}"
    );
    assert!(out.contains(SEEDED), "{out}");
}

#[test]
fn operator_database_url_never_gets_the_demo_users() {
    let out = dry_run(Some("postgres://operator@db.example/parley"), None);
    assert!(
        out.contains("==> database: DATABASE_URL from the environment"),
        "{out}"
    );
    assert!(out.contains(NOT_SEEDED) && !out.contains(SEEDED), "{out}");

    // Not even when PARLEY_SEED_DEMO=1 is left over in the operator's environment.
    for seed in ["1", "true"] {
        let out = dry_run(Some("postgres://operator@db.example/parley"), Some(seed));
        assert!(
            out.contains(NOT_SEEDED) && !out.contains(SEEDED),
            "{seed}: {out}"
        );
        assert!(
            out.contains(&format!("PARLEY_SEED_DEMO={seed} ignored")),
            "{seed}: {out}"
        );
    }
}

#[test]
fn embedded_database_seeding_can_be_turned_off() {
    let out = dry_run(None, Some("0"));
    assert!(out.contains(NOT_SEEDED) && !out.contains(SEEDED), "{out}");
}
