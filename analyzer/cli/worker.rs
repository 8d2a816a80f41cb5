//! `appvet worker --pg URL`: leases jobs from the shared queue and does
//! them, `--jobs` threads each with its own connection, plus a heartbeat
//! thread that keeps this process's leases alive.
//!
//! One job, one transaction: a scan job hashes its input, opens the
//! transaction with an advisory lock on the app's SHA-256 (see
//! `PgLookup`), analyses, writes the rows and marks the job done, then
//! commits. A kill anywhere before the commit leaves nothing behind but a
//! lease that runs out; after the commit the job is done. A dropped
//! connection is reopened with backoff and the result written again, as
//! long as this worker still holds the lease.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use appvet::archive::zip::Limits;
use appvet::policy::{Date, Judge};
use appvet::scan::Scanner;
use appvet::store::pg::backend::{lock_key, PgLookup};
use appvet::store::pg::queue::{Job, Kind};
use appvet::store::pg::{is_connection_error, Conn, Target};
use appvet::store::rescore::rescore_one;
use appvet::store::{self, Location, Versions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::batch::{self, Abandoned, BatchOptions, Outcome, Shared};
use super::fleet::{store_error, PgArg};
use super::inputs::InputFile;
use super::{load_signatures, Error, Format, EXIT_OK};

/// How long a worker keeps trying to reach the database before it gives up.
const RECONNECT_FOR: Duration = Duration::from_secs(600);
/// Waits between empty polls of the queue, doubling up to the last.
const IDLE_POLL: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(1));

#[derive(clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pg: PgArg,
    /// Jobs at once (threads, each with its own connection; default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Stop when nothing is queued or running (for batch schedulers, e.g. a Kubernetes Job).
    #[arg(long)]
    exit_when_empty: bool,
    /// Use the signature database, risk tables and policy presets in this directory.
    #[arg(long)]
    signatures: Option<PathBufArg>,
    /// Policy for jobs queued without one (default baseline).
    #[arg(long)]
    policy: Option<String>,
    /// Exceptions file (TOML), as for `scan`.
    #[arg(long)]
    exceptions: Option<PathBufArg>,
    /// The day of the verdicts (YYYY-MM-DD); default today (UTC).
    #[arg(long)]
    today: Option<String>,
    /// Give up on one app after this many seconds (an error row; 0: no limit).
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// Seconds a lease lasts without a heartbeat: how soon the jobs of a
    /// dead worker go back to the queue.
    #[arg(long, default_value_t = 60.0)]
    lease: f64,
    /// Leases of one job before it is given up as an error row (a worker
    /// died or hung on it every time).
    #[arg(long, default_value_t = 3)]
    max_attempts: i32,
    /// Analyse again inputs the database records as failed.
    #[arg(long)]
    retry_errors: bool,
    /// No progress bar and no per-input error lines.
    #[arg(long, short)]
    quiet: bool,
}

type PathBufArg = std::path::PathBuf;

/// What every thread of the worker shares.
struct Fleet {
    target: Target,
    threads: usize,
    id: String,
    lease: Duration,
    max_attempts: i32,
    exit_when_empty: bool,
    quiet: bool,
    scanner: Arc<Scanner>,
    /// Batch options per policy name (the judge differs).
    options: Mutex<HashMap<String, Arc<BatchOptions>>>,
    default_policy: String,
    today: Date,
    args_exceptions: Option<PathBufArg>,
    args_signatures: Option<PathBufArg>,
    timeout: Duration,
    retry_errors: bool,
    tool: String,
    abandoned: Abandoned,
    /// Jobs this process holds leases on (the heartbeat renews these only).
    held: Mutex<HashSet<i64>>,
    stop: AtomicBool,
    done: AtomicU64,
    failed: AtomicU64,
}

pub fn run(args: WorkerArgs) -> Result<i32, Error> {
    let (target, mut conn) = args.pg.connect()?;
    let db = load_signatures(args.signatures.as_ref())?;
    let scanner = Scanner::new(db, Limits::default())
        .with_signature_dir(args.signatures.as_deref())
        .map_err(|e| Error::Signatures(e.to_string()))?;
    let today = super::parse_today(args.today.as_deref()).map_err(Error::Usage)?;
    let jobs = match args.jobs {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    if !(args.lease.is_finite() && args.lease >= 1.0) {
        return Err(Error::Usage("--lease needs at least 1 second".into()));
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let id = format!("{host}:{}:{nonce:08x}", std::process::id());
    let fleet = Fleet {
        target: target.clone(),
        threads: jobs,
        id: id.clone(),
        lease: Duration::from_secs_f64(args.lease.min(86_400.0)),
        max_attempts: args.max_attempts.max(1),
        exit_when_empty: args.exit_when_empty,
        quiet: args.quiet,
        scanner: Arc::new(scanner),
        options: Mutex::new(HashMap::new()),
        default_policy: args.policy.clone().unwrap_or_else(|| appvet::policy::DEFAULT_POLICY.to_string()),
        today,
        args_exceptions: args.exceptions.clone(),
        args_signatures: args.signatures.clone(),
        timeout: if args.timeout.is_finite() && args.timeout > 0.0 {
            Duration::from_secs_f64(args.timeout.min(1e9))
        } else {
            Duration::ZERO
        },
        retry_errors: args.retry_errors,
        tool: env!("CARGO_PKG_VERSION").to_string(),
        abandoned: Arc::new((Mutex::new(0), Condvar::new())),
        held: Mutex::new(HashSet::new()),
        stop: AtomicBool::new(false),
        done: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    };
    // The default policy must load before any job is leased.
    fleet.options_for(None).map_err(Error::Usage)?;
    conn.register_worker(&id, &host, std::process::id(), jobs).map_err(store_error(&target))?;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !args.quiet;
    let started = Instant::now();
    let result = std::thread::scope(|s| {
        let fleet = &fleet;
        let heart = s.spawn(move || heartbeat(fleet));
        let workers: Vec<_> = (0..jobs).map(|_| s.spawn(move || work(fleet))).collect();
        let bar = tty.then(|| progress_bar(fleet, &mut conn));
        let mut first_error = None;
        for w in workers {
            match w.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    first_error.get_or_insert(Error::Internal("a worker thread failed"));
                }
            }
        }
        fleet.stop.store(true, Ordering::Relaxed);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let _ = heart.join();
        first_error.map_or(Ok(()), Err)
    });
    if let Ok(mut c) = target.connect() {
        let _ = c.stop_worker(&id);
    }
    if !args.quiet {
        eprintln!(
            "appvet: worker {id}: {} jobs done, {} failed in {:.1} s",
            fleet.done.load(Ordering::Relaxed),
            fleet.failed.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64()
        );
    }
    std::mem::forget(Arc::clone(&fleet.scanner));
    result.map(|()| EXIT_OK)
}

/// A bar of the whole queue's progress, redrawn from the database by a
/// thread of its own. Counting a queue of millions of jobs takes the server
/// a while, so only a worker on a terminal draws it, every few seconds.
fn progress_bar(fleet: &Fleet, conn: &mut Conn) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(2));
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} jobs (fleet)  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let show = |bar: &ProgressBar, conn: &mut Conn| {
        if let Ok(s) = conn.status(Duration::from_secs(60)) {
            bar.set_length(s.queued + s.running + s.done + s.failed);
            bar.set_position(s.done + s.failed);
            let eta = s.eta.map_or("-".to_string(), |d| format!("{}s", d.as_secs()));
            bar.set_message(format!("{:.1} jobs/s  ETA {eta}", s.rate));
        }
    };
    show(&bar, conn);
    let (b, target) = (bar.clone(), fleet.target.clone());
    std::thread::spawn(move || {
        let Ok(mut conn) = target.connect() else { return };
        while !b.is_finished() {
            std::thread::sleep(Duration::from_secs(5));
            show(&b, &mut conn);
        }
    });
    bar
}

impl Fleet {
    /// The batch options (judge) for a job's policy, made on first use.
    fn options_for(&self, policy: Option<&str>) -> Result<Arc<BatchOptions>, String> {
        let name = policy.unwrap_or(&self.default_policy);
        let mut map = self.options.lock().map_err(|_| "internal: lock poisoned".to_string())?;
        if let Some(o) = map.get(name) {
            return Ok(Arc::clone(o));
        }
        let judge = Judge::load_with_signatures(
            Some(name),
            self.args_exceptions.as_deref(),
            Some(self.today),
            self.args_signatures.as_deref(),
        )
        .map_err(|e| format!("policy {name}: {e}"))?;
        let opts = Arc::new(BatchOptions {
            format: Format::Json,
            output: None,
            db: Some(Location::Postgres(Box::new(self.target.clone()))),
            // The stall guard's cap on abandoned scans: one per thread.
            jobs: self.threads,
            timeout: self.timeout,
            progress: false,
            summary: false,
            retry_errors: self.retry_errors,
            judge,
            colour: false,
            // A worker has no exit code per verdict: it runs until the queue is empty.
            fail_on: None,
        });
        map.insert(name.to_string(), Arc::clone(&opts));
        Ok(opts)
    }

    fn versions(&self, opts: &BatchOptions) -> Versions {
        Versions {
            tool: self.tool.clone(),
            signatures: self.scanner.db.version.clone(),
            policy: Some(opts.judge.policy().name.clone()),
        }
    }

    fn hold(&self, id: i64, held: bool) {
        if let Ok(mut h) = self.held.lock() {
            if held {
                h.insert(id);
            } else {
                h.remove(&id);
            }
        }
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("appvet: {line}");
        }
    }

    /// A connection, retried with backoff for up to [`RECONNECT_FOR`].
    fn connect(&self) -> Result<Conn, Error> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            match self.target.connect() {
                Ok(c) => return Ok(c),
                Err(e) if started.elapsed() < RECONNECT_FOR && !self.stop.load(Ordering::Relaxed) => {
                    self.say(&format!(
                        "worker {}: cannot reach {}: {e}; retrying in {wait:?}",
                        self.id, self.target
                    ));
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
                Err(e) => return Err(store_error(&self.target)(e)),
            }
        }
    }
}

/// Renews this process's leases every third of a lease.
fn heartbeat(fleet: &Fleet) {
    let mut conn: Option<Conn> = None;
    let beat = fleet.lease / 3;
    let mut last = Instant::now();
    while !fleet.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100).min(beat));
        if last.elapsed() < beat {
            continue;
        }
        last = Instant::now();
        let held: Vec<i64> = fleet.held.lock().map(|h| h.iter().copied().collect()).unwrap_or_default();
        if conn.as_ref().is_none_or(Conn::is_closed) {
            conn = fleet.target.connect().ok();
        }
        if let Some(c) = conn.as_mut() {
            if c.heartbeat(&fleet.id, &held, fleet.lease).is_err() {
                conn = None;
            }
        }
    }
}

/// One worker thread: leases and does jobs until told to stop or, with
/// `--exit-when-empty`, until the queue is empty.
fn work(fleet: &Fleet) -> Result<(), Error> {
    let mut conn = fleet.connect()?;
    let mut idle = IDLE_POLL.0;
    while !fleet.stop.load(Ordering::Relaxed) {
        let job = match conn.lease(&fleet.id, fleet.lease) {
            Ok(job) => job,
            Err(e) if is_connection_error(&e) => {
                conn = fleet.connect()?;
                continue;
            }
            Err(e) => return Err(store_error(&fleet.target)(e)),
        };
        let Some(job) = job else {
            if fleet.exit_when_empty {
                match conn.pending_jobs() {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if is_connection_error(&e) => {
                        conn = fleet.connect()?;
                        continue;
                    }
                    Err(e) => return Err(store_error(&fleet.target)(e)),
                }
            }
            std::thread::sleep(idle);
            idle = (idle * 2).min(IDLE_POLL.1);
            continue;
        };
        idle = IDLE_POLL.0;
        fleet.hold(job.id, true);
        let result = do_job(fleet, &mut conn, &job);
        fleet.hold(job.id, false);
        match result {
            Ok(()) => {}
            Err(Error::Usage(msg)) => {
                fleet.say(&format!("job {}: {msg}", job.target));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What a job wrote.
enum Result1 {
    Scan(Outcome),
    Rescored(Box<store::rescore::Rescored>, String),
    RescoreFailed(String),
}

fn do_job(fleet: &Fleet, conn: &mut Conn, job: &Job) -> Result<(), Error> {
    let opts = match fleet.options_for(job.policy.as_deref()) {
        Ok(o) => o,
        Err(e) => {
            // A job naming a policy this worker cannot load fails (closed).
            write_with_retry(fleet, conn, job, &Result1::RescoreFailed(e.clone()), None)?;
            return Err(Error::Usage(e));
        }
    };
    let versions = fleet.versions(&opts);
    if job.attempts > fleet.max_attempts {
        let wrote = with_reconnect(fleet, conn, |c| c.give_up(job, &fleet.id, &versions))?;
        if wrote {
            fleet.failed.fetch_add(1, Ordering::Relaxed);
            fleet.say(&format!("{}: gave up after {} attempts", job.target, job.attempts - 1));
        }
        return Ok(());
    }
    match job.kind {
        Kind::Scan => {
            let shared = Shared::for_worker(
                Arc::clone(&fleet.scanner),
                &opts,
                versions.clone(),
                Arc::clone(&fleet.abandoned),
            );
            let input = InputFile { path: job.target.clone().into(), shard_key: job.target.clone() };
            let lookup = PgLookup::new(&mut *conn, versions.clone(), fleet.retry_errors, true);
            let (outcome, _) = batch::process(&shared, Some(&lookup), &input);
            let in_tx = lookup.in_transaction();
            drop(lookup);
            if let Outcome::Failed { error, .. } = &outcome {
                fleet.say(&format!("{}: {error}", job.target));
            }
            write_with_retry(fleet, conn, job, &Result1::Scan(outcome), Some((in_tx, &versions)))
        }
        Kind::Rescore => {
            let stored = with_reconnect(fleet, conn, |c| c.read_blobs(&job.target))?;
            let result = match stored {
                None => Result1::RescoreFailed("the app is no longer stored".into()),
                Some(stored) => {
                    let rejudge = |_stored: Option<&str>, report: &mut appvet::report::Report| {
                        opts.judge.apply(report);
                        Ok(())
                    };
                    match rescore_one(&fleet.scanner.db, &rejudge, &stored.report, &stored.evidence) {
                        Ok(r) => Result1::Rescored(Box::new(r), fleet.scanner.db.version.clone()),
                        Err(e) => Result1::RescoreFailed(e),
                    }
                }
            };
            write_with_retry(fleet, conn, job, &result, None)
        }
    }
}

/// Runs `f`, reconnecting and running it again while the connection is
/// what failed.
fn with_reconnect<T>(
    fleet: &Fleet,
    conn: &mut Conn,
    mut f: impl FnMut(&mut Conn) -> store::Result<T>,
) -> Result<T, Error> {
    loop {
        match f(conn) {
            Ok(v) => return Ok(v),
            Err(e) if is_connection_error(&e) => *conn = fleet.connect()?,
            Err(e) => return Err(store_error(&fleet.target)(e)),
        }
    }
}

/// Writes a job's result and marks it done in one transaction (the one a
/// claim opened, if any); after a lost connection, in a new one.
fn write_with_retry(
    fleet: &Fleet,
    conn: &mut Conn,
    job: &Job,
    result: &Result1,
    scan: Option<(bool, &Versions)>,
) -> Result<(), Error> {
    let mut in_tx = scan.is_some_and(|(t, _)| t);
    let wrote = with_reconnect(fleet, conn, |c| {
        let open = std::mem::take(&mut in_tx);
        if !open || c.is_closed() {
            c.begin()?;
            // Written again after a lost connection: the claim is retaken.
            if let Result1::Scan(Outcome::Analysed { record: Some(rec), .. }) = result {
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(&rec.report.input.sha256)])?;
            }
        }
        let written = write_result(c, fleet, job, result, scan.map(|(_, v)| v));
        c.end(written)
    });
    // Rows the database refuses (not a lost connection) would fail the same
    // way on every attempt: the input becomes an error row instead.
    let wrote = match wrote {
        Err(Error::Store { source, .. }) => {
            let error = format!("results could not be stored: {source}");
            fleet.say(&format!("{}: {error}", job.target));
            let (size, mtime_ns) = match result {
                Result1::Scan(Outcome::Analysed { record: Some(rec), .. }) => {
                    (rec.report.input.size, rec.mtime_ns)
                }
                _ => (0, 0),
            };
            let failed = Result1::Scan(Outcome::Failed { error, size, mtime_ns, timeout: false });
            with_reconnect(fleet, conn, |c| {
                c.begin()?;
                let written = write_result(c, fleet, job, &failed, scan.map(|(_, v)| v));
                c.end(written)
            })?
        }
        other => other?,
    };
    if wrote {
        let failed = matches!(result, Result1::RescoreFailed(_) | Result1::Scan(Outcome::Failed { .. }));
        if failed { &fleet.failed } else { &fleet.done }.fetch_add(1, Ordering::Relaxed);
    } else {
        fleet.say(&format!("{}: lease lost (another worker has the job); result dropped", job.target));
    }
    Ok(())
}

fn write_result(
    c: &mut Conn,
    fleet: &Fleet,
    job: &Job,
    result: &Result1,
    versions: Option<&Versions>,
) -> store::Result<bool> {
    let w = &fleet.id;
    let outcome = match result {
        Result1::Rescored(r, signatures) => {
            let (report, blob) = &**r;
            c.put_attribution(report, blob.as_deref(), signatures)?;
            return c.finish(job, w, "rescored", None);
        }
        Result1::RescoreFailed(e) => return c.finish(job, w, "failed", Some(e)),
        Result1::Scan(outcome) => outcome,
    };
    let Some(v) = versions else {
        return c.finish(job, w, "failed", Some("internal: a scan result without versions"));
    };
    match outcome {
        Outcome::Skipped => c.finish(job, w, "skipped", None),
        Outcome::Duplicate { sha256, size, mtime_ns } => {
            c.put_input(&job.target, *size, *mtime_ns, Some(sha256), "duplicate", None, v)?;
            c.finish(job, w, "duplicate", None)
        }
        Outcome::Analysed { record: Some(rec), .. } => {
            c.put_app(rec, v)?;
            c.finish(job, w, "analysed", None)
        }
        Outcome::Analysed { record: None, .. } => c.finish(job, w, "analysed", None),
        Outcome::Failed { error, size, mtime_ns, .. } => {
            c.put_input(&job.target, *size, *mtime_ns, None, "error", Some(error), v)?;
            c.finish(job, w, "error", Some(error))
        }
    }
}
