//! The PostgreSQL fleet against a real server, driving the `appvet` binary:
//! workers sharing a queue; one killed between lease and commit; every
//! connection cut mid-run; an input that stops its worker every time; no
//! app analysed twice; rows equal to a SQLite run; rescore and export.
//!
//! Each test makes a fresh database and drops it. The server is
//! `APPVET_TEST_PG` (default postgres://postgres@127.0.0.1:5432/postgres);
//! when none answers, the tests print a notice and pass.
//!
//! To stop a worker at a chosen point without a hook in the product, the
//! test holds the advisory lock a worker takes on an app's SHA-256 before
//! it analyses it: the worker that leases that app waits inside its
//! transaction, after its lease and before its commit.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use sha2::Digest;

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

fn server_url() -> String {
    std::env::var("APPVET_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test, dropped at the end.
struct TestDb {
    admin: Client,
    name: String,
    url: String,
}

impl TestDb {
    fn new() -> Option<TestDb> {
        let admin_url = server_url();
        let mut admin = match Client::connect(&admin_url, NoTls) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("NOTICE: no PostgreSQL at {admin_url} ({e}): fleet test skipped");
                return None;
            }
        };
        let name = format!("appvet_t_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url = match admin_url.rsplit_once('/') {
            Some((head, _)) => format!("{head}/{name}"),
            None => panic!("APPVET_TEST_PG must be a postgres:// URL"),
        };
        Some(TestDb { admin, name, url })
    }

    fn client(&self) -> Client {
        Client::connect(&self.url, NoTls).unwrap()
    }

    /// A fresh database with the schema (`appvet db init`), and a client.
    fn initialised() -> Option<(TestDb, Client)> {
        let db = TestDb::new()?;
        appvet(&["db", "init", "--pg", &db.url]);
        let c = db.client();
        Some((db, c))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_appvet")
}

fn appvet(args: &[&str]) -> std::process::Output {
    let out = Command::new(bin()).args(args).current_dir(common::root()).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| [0, 3, 10, 11].contains(&c)),
        "appvet {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn worker(url: &str, extra: &[&str]) -> Child {
    Command::new(bin())
        .args(["worker", "--pg", url, "--jobs", "1", "--exit-when-empty", "--quiet"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn wait_all(children: Vec<Child>) {
    for mut c in children {
        let status = c.wait().unwrap();
        assert!(status.success(), "worker exited with {status:?}");
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("appvet-fleet-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Inputs: `copies` distinct variants of each well-formed sample (bytes
/// appended, so each is a distinct app) plus one exact duplicate of the first.
fn make_inputs(dir: &Path, copies: usize) -> Vec<PathBuf> {
    let samples: Vec<PathBuf> =
        common::sample_files().into_iter().filter(|p| !p.to_string_lossy().contains("malformed")).collect();
    let mut out = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let data = std::fs::read(s).unwrap();
        let ext = s.extension().unwrap().to_string_lossy().into_owned();
        for k in 0..copies {
            let mut d = data.clone();
            d.extend(std::iter::repeat_n(0u8, k));
            let p = dir.join(format!("s{i}-{k}.{ext}"));
            std::fs::write(&p, d).unwrap();
            out.push(p);
        }
    }
    let dup = dir.join(format!("dup-{}", out[0].file_name().unwrap().to_string_lossy()));
    std::fs::copy(&out[0], &dup).unwrap();
    out.push(dup);
    out
}

fn sha_of(p: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

/// The advisory lock key a worker takes for an app (first 8 bytes of its SHA-256).
fn lock_key(sha: &str) -> i64 {
    let mut b = [0u8; 8];
    hex::decode_to_slice(&sha[..16], &mut b).unwrap();
    i64::from_be_bytes(b)
}

/// sha256 -> verdict of a SQLite run over the same inputs.
fn sqlite_verdicts(db: &Path) -> BTreeMap<String, Option<String>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn.prepare("SELECT sha256, verdict FROM apps").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn pg_verdicts(c: &mut Client) -> BTreeMap<String, Option<String>> {
    c.query("SELECT sha256, verdict FROM apps", &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// Every input path recorded exactly once (the primary key), every job
/// finished, and one app row per distinct content.
fn assert_exactly_once(c: &mut Client, inputs: &[PathBuf]) {
    let paths: BTreeSet<String> =
        c.query("SELECT path FROM inputs", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    let want: BTreeSet<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(paths, want);
    let unfinished: i64 =
        c.query_one("SELECT count(*) FROM jobs WHERE state NOT IN ('done', 'failed')", &[]).unwrap().get(0);
    assert_eq!(unfinished, 0);
    let shas: BTreeSet<String> = inputs.iter().map(|p| sha_of(p)).collect();
    let apps: i64 = c.query_one("SELECT count(*) FROM apps", &[]).unwrap().get(0);
    assert_eq!(apps as usize, shas.len(), "one row per distinct app");
    let dup: i64 = c.query_one("SELECT count(*) FROM inputs WHERE status = 'duplicate'", &[]).unwrap().get(0);
    assert_eq!(dup, 1, "the one copy is a duplicate, analysed once");
}

/// The server process of a worker waiting for the advisory lock `key` in
/// this test's database (tests run at once, on the same apps), other than
/// `exclude`.
fn lock_waiter(c: &mut Client, key: i64, exclude: &[i32]) -> Option<i32> {
    c.query_opt(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND ((classid::bigint << 32) | objid::bigint) = $1 AND NOT (pid = ANY($2)) LIMIT 1",
        &[&key, &exclude],
    )
    .unwrap()
    .map(|r| r.get(0))
}

/// Waits until `cond` holds (polling), or fails after a minute.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_workers_match_a_sqlite_run_then_rescore_and_export() {
    let Some((db, mut c)) = TestDb::initialised() else { return };
    let dir = temp_dir("equal");
    let inputs = make_inputs(&dir, 3);
    appvet(&["db", "init", "--pg", &db.url]); // idempotent
    let dir_arg = dir.display().to_string();
    appvet(&["enqueue", &dir_arg, "--pg", &db.url]);
    wait_all(vec![worker(&db.url, &[]), worker(&db.url, &[])]);
    assert_exactly_once(&mut c, &inputs);
    // No job was leased twice: nothing died, so every job took one attempt.
    let attempts: i64 = c.query_one("SELECT max(attempts)::bigint FROM jobs", &[]).unwrap().get(0);
    assert_eq!(attempts, 1);

    let lite = dir.join("x.sqlite");
    appvet(&["scan", &dir_arg, "--db", lite.to_str().unwrap(), "-q"]);
    assert_eq!(pg_verdicts(&mut c), sqlite_verdicts(&lite));
    let rows = |c: &mut Client, q: &str| -> i64 { c.query_one(q, &[]).unwrap().get(0) };
    let lite_conn = rusqlite::Connection::open(&lite).unwrap();
    for table in ["permissions", "sdks", "hosts", "capabilities", "certificates", "diagnostics"] {
        let q = format!("SELECT count(*) FROM {table}");
        let want: i64 = lite_conn.query_row(&q, [], |r| r.get(0)).unwrap();
        assert_eq!(rows(&mut c, &q), want, "{table}");
    }

    // Re-judge under another policy, on the workers, and on SQLite: equal.
    appvet(&["rescore", "--pg", &db.url, "--policy", "nl-aivd"]);
    let queued = rows(&mut c, "SELECT count(*) FROM jobs WHERE kind = 'rescore' AND state = 'queued'");
    assert_eq!(queued, rows(&mut c, "SELECT count(*) FROM apps"));
    wait_all(vec![worker(&db.url, &[])]);
    assert_eq!(rows(&mut c, "SELECT count(*) FROM apps WHERE policy IS DISTINCT FROM 'nl-aivd'"), 0);
    appvet(&["rescore", "--db", lite.to_str().unwrap(), "--policy", "nl-aivd"]);
    assert_eq!(pg_verdicts(&mut c), sqlite_verdicts(&lite));
    // Nothing left to rescore under the same signatures and policy.
    appvet(&["rescore", "--pg", &db.url, "--policy", "nl-aivd"]);
    assert_eq!(rows(&mut c, "SELECT count(*) FROM jobs WHERE state = 'queued'"), 0);

    // A worker of another policy does not take a stored verdict as current.
    appvet(&["enqueue", &dir_arg, "--pg", &db.url, "--policy", "baseline"]);
    wait_all(vec![worker(&db.url, &[])]);
    assert_eq!(rows(&mut c, "SELECT count(*) FROM apps WHERE policy IS DISTINCT FROM 'baseline'"), 0);

    // The export is a SQLite database the existing commands read.
    let out = dir.join("export.sqlite");
    appvet(&["export", "--pg", &db.url, "--sqlite", out.to_str().unwrap()]);
    let exported = sqlite_verdicts(&out);
    assert_eq!(exported, pg_verdicts(&mut c));
    appvet(&["rescore", "--db", out.to_str().unwrap()]);
    let merged = dir.join("merged.sqlite");
    appvet(&["merge", merged.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(sqlite_verdicts(&merged).len(), exported.len());

    let status = String::from_utf8(appvet(&["status", "--pg", &db.url]).stdout).unwrap();
    assert!(status.contains("queued 0"), "{status}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn killed_worker_and_cut_connections_lose_and_duplicate_nothing() {
    let Some((db, mut c)) = TestDb::initialised() else { return };
    let dir = temp_dir("faults");
    let inputs = make_inputs(&dir, 4);
    // Two apps the test holds: the first catches a worker to kill, the
    // second one whose connection is then cut while it waits.
    let held: Vec<String> = vec![sha_of(&inputs[2]), sha_of(&inputs[5])];
    for sha in &held {
        c.execute("SELECT pg_advisory_lock($1)", &[&lock_key(sha)]).unwrap();
    }
    appvet(&["enqueue", &dir.display().to_string(), "--pg", &db.url]);
    let lease = ["--lease", "2"];
    let mut workers: Vec<Child> = (0..3).map(|_| worker(&db.url, &lease)).collect();

    // A worker blocked on the first held app: leased, not committed.
    let waiting_pid = |c: &mut Client, sha: &str| lock_waiter(c, lock_key(sha), &[]);
    wait_for("a worker to wait on the first held app", || waiting_pid(&mut c, &held[0]).is_some());
    let victim: String = c
        .query_one("SELECT leased_by FROM jobs WHERE target = $1", &[&inputs[2].display().to_string()])
        .unwrap()
        .get(0);
    let victim_pid: u32 = victim.split(':').nth(1).unwrap().parse().unwrap();
    let i = workers.iter().position(|w| w.id() == victim_pid).unwrap();
    let mut killed = workers.remove(i);
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    c.execute("SELECT pg_advisory_unlock($1)", &[&lock_key(&held[0])]).unwrap();

    // Cut every worker connection while one waits on the second app.
    wait_for("a worker to wait on the second held app", || waiting_pid(&mut c, &held[1]).is_some());
    let cut: i64 = c
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'appvet' AND datname = current_database() AND pid <> pg_backend_pid()) t",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(cut >= 2, "connections cut: {cut}");
    c.execute("SELECT pg_advisory_unlock($1)", &[&lock_key(&held[1])]).unwrap();
    // Another worker joins, as a restarted machine would.
    workers.push(worker(&db.url, &lease));
    wait_all(workers);

    assert_exactly_once(&mut c, &inputs);
    let attempts: i32 = c
        .query_one("SELECT attempts FROM jobs WHERE target = $1", &[&inputs[2].display().to_string()])
        .unwrap()
        .get(0);
    assert_eq!(attempts, 2, "the killed worker's job went back to the queue once");
    let lite = dir.join("x.sqlite");
    appvet(&["scan", &dir.display().to_string(), "--db", lite.to_str().unwrap(), "-q"]);
    assert_eq!(pg_verdicts(&mut c), sqlite_verdicts(&lite));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_input_that_stops_its_worker_every_time_becomes_an_error_row() {
    let Some((db, mut c)) = TestDb::initialised() else { return };
    let dir = temp_dir("poison");
    let inputs = make_inputs(&dir, 1);
    let poison = inputs[1].display().to_string();
    let key = lock_key(&sha_of(&inputs[1]));
    c.execute("SELECT pg_advisory_lock($1)", &[&key]).unwrap();
    appvet(&["enqueue", &dir.display().to_string(), "--pg", &db.url]);
    let args = ["--lease", "1", "--max-attempts", "2"];
    let mut current = worker(&db.url, &args);
    // Each time a worker has leased the poison input (and waits on it),
    // it dies; a new worker takes over.
    let mut kills = 0;
    let mut seen: Vec<i32> = Vec::new();
    loop {
        let state: (String, i32) = {
            let r = c.query_one("SELECT state, attempts FROM jobs WHERE target = $1", &[&poison]).unwrap();
            (r.get(0), r.get(1))
        };
        if state.0 == "failed" {
            break;
        }
        // The server process of a killed worker may wait on for a moment:
        // only a new waiter is a new lease.
        let waiter = lock_waiter(&mut c, key, &seen);
        if let Some(pid) = waiter {
            seen.push(pid);
            current.kill().unwrap();
            current.wait().unwrap();
            kills += 1;
            assert!(kills <= 2, "the job was leased after its attempts ran out");
            current = worker(&db.url, &args);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    c.execute("SELECT pg_advisory_unlock($1)", &[&key]).unwrap();
    wait_all(vec![current]);
    assert_eq!(kills, 2);
    let error: String = c
        .query_one("SELECT error FROM inputs WHERE path = $1 AND status = 'error'", &[&poison])
        .unwrap()
        .get(0);
    assert!(error.contains("gave up after 2 attempts"), "{error}");
    // Everything else was done.
    let done: i64 = c.query_one("SELECT count(*) FROM jobs WHERE state = 'done'", &[]).unwrap().get(0);
    assert_eq!(done as usize, inputs.len() - 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sends `signal` (a `kill` name: TERM, INT) to a worker process.
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// Holds the claim of every input's app (so that a worker leases, starts
/// its first job and waits), enqueues them and starts a worker; returns it
/// with the claim it waits on and the server process that waits.
fn worker_waiting_on_a_claim(
    db: &TestDb,
    c: &mut Client,
    dir: &Path,
    inputs: &[PathBuf],
    extra: &[&str],
) -> (Child, i64, i32) {
    let keys: BTreeSet<i64> = inputs.iter().map(|p| lock_key(&sha_of(p))).collect();
    for k in &keys {
        c.execute("SELECT pg_advisory_lock($1)", &[k]).unwrap();
    }
    appvet(&["enqueue", &dir.display().to_string(), "--pg", &db.url]);
    let w = worker(&db.url, extra);
    let mut waited = None;
    wait_for("the worker to wait on a claim", || {
        waited = keys.iter().find_map(|k| lock_waiter(c, *k, &[]).map(|pid| (*k, pid)));
        waited.is_some()
    });
    let (key, pid) = waited.unwrap();
    (w, key, pid)
}

/// (state, attempts) -> jobs.
fn job_states(c: &mut Client) -> BTreeMap<(String, i32), i64> {
    c.query("SELECT state, attempts, count(*) FROM jobs GROUP BY state, attempts", &[])
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect()
}

#[test]
fn sigterm_finishes_the_job_in_progress_and_gives_back_the_prefetched_ones() {
    let Some((db, mut c)) = TestDb::initialised() else { return };
    let dir = temp_dir("sigterm");
    let inputs = make_inputs(&dir, 2);
    let (mut w, waited, _) = worker_waiting_on_a_claim(&db, &mut c, &dir, &inputs, &["--prefetch", "4"]);
    // Its first lease took four jobs: one started, three ahead.
    assert_eq!(job_states(&mut c).get(&("running".into(), 1)), Some(&4));
    signal(&w, "TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(w.try_wait().unwrap().is_none(), "the worker waits for its job in progress");
    c.execute("SELECT pg_advisory_unlock($1)", &[&waited]).unwrap();
    let status = w.wait().unwrap();
    assert!(status.success(), "a stopped worker exits 0: {status:?}");
    // The job in progress was done; the three it had not started are queued
    // as if never leased; nothing is left leased; the worker says it stopped.
    let states = job_states(&mut c);
    assert_eq!(states.get(&("done".into(), 1)), Some(&1), "{states:?}");
    assert_eq!(states.get(&("queued".into(), 0)), Some(&(inputs.len() as i64 - 1)), "{states:?}");
    assert_eq!(states.len(), 2, "{states:?}");
    let stopped: i64 =
        c.query_one("SELECT count(*) FROM workers WHERE stopped_at IS NOT NULL", &[]).unwrap().get(0);
    assert_eq!(stopped, 1);

    c.execute("SELECT pg_advisory_unlock_all()", &[]).unwrap();
    wait_all(vec![worker(&db.url, &[])]);
    assert_exactly_once(&mut c, &inputs);
    let attempts: i64 = c.query_one("SELECT max(attempts)::bigint FROM jobs", &[]).unwrap().get(0);
    assert_eq!(attempts, 1, "no job was counted twice");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_puts_a_job_back_after_the_grace_period_and_a_second_signal_stops_at_once() {
    let Some((db, mut c)) = TestDb::initialised() else { return };
    let dir = temp_dir("grace");
    let inputs = make_inputs(&dir, 2);
    let (mut w, _, first) =
        worker_waiting_on_a_claim(&db, &mut c, &dir, &inputs, &["--prefetch", "4", "--grace", "1"]);
    let asked = Instant::now();
    signal(&w, "TERM");
    let status = w.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(asked.elapsed() < Duration::from_secs(10), "stopped after the grace period");
    // The job cut in progress is queued again with its attempt counted; the
    // unstarted ones without.
    let states = job_states(&mut c);
    assert_eq!(states.get(&("queued".into(), 1)), Some(&1), "{states:?}");
    assert_eq!(states.get(&("queued".into(), 0)), Some(&(inputs.len() as i64 - 1)), "{states:?}");

    // A second signal: the worker exits at once, as a killed one would
    // (128 + SIGTERM), and its leases run out.
    let mut w = worker(&db.url, &["--prefetch", "4", "--lease", "1"]);
    // (The first worker's server process may still wait for a moment.)
    wait_for("the second worker to wait on a claim", || {
        inputs.iter().any(|p| lock_waiter(&mut c, lock_key(&sha_of(p)), &[first]).is_some())
    });
    signal(&w, "TERM");
    std::thread::sleep(Duration::from_millis(200));
    signal(&w, "TERM");
    let status = w.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "{status:?}");
    let running: i64 = c.query_one("SELECT count(*) FROM jobs WHERE state = 'running'", &[]).unwrap().get(0);
    assert_eq!(running, 4, "its leases are left to run out");

    c.execute("SELECT pg_advisory_unlock_all()", &[]).unwrap();
    wait_all(vec![worker(&db.url, &[])]);
    assert_exactly_once(&mut c, &inputs);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concern_location_lists_android_and_ios_apps_that_ask_for_location() {
    let Some((_db, mut c)) = TestDb::initialised() else { return };
    // Three apps with an SDK owned from China, judged under nl-aivd: an
    // Android app with a location permission, an iOS app with a location
    // usage description (both: a declared location capability), and an iOS
    // app whose code reaches location without asking for it.
    for (sha, platform, cap, declared) in [
        ("a1", "android", "location", true),
        ("i1", "ios", "location_background", true),
        ("i2", "ios", "location", false),
    ] {
        c.execute(
            "INSERT INTO apps(sha256, size, kind, platform, package, tool_version, signatures_version, \
             dex_files, classes, native_libs, diagnostic_errors, scanned_at, policy) \
             VALUES($1, 1, 'apk', $2, $1, 't', 's', 0, 0, 0, 0, 0, 'nl-aivd')",
            &[&sha, &platform],
        )
        .unwrap();
        c.execute(
            "INSERT INTO sdks(sha256, id, name, owner, country) VALUES($1, 'x', 'X', 'X Co', 'CN')",
            &[&sha],
        )
        .unwrap();
        c.execute(
            "INSERT INTO capabilities(sha256, id, declared, observed) VALUES($1, $2, $3, true)",
            &[&sha, &cap, &declared],
        )
        .unwrap();
    }
    let listed: BTreeSet<(String, String)> = c
        .query("SELECT sha256, platform FROM concern_location", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want: BTreeSet<(String, String)> =
        [("a1", "android"), ("i1", "ios")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(listed, want);
}
