//! `appvet worker --pg URL`: leases jobs from the shared queue and does
//! them, `--jobs` threads each with its own connection, plus a heartbeat
//! thread that keeps this process's leases alive.
//!
//! One job, one transaction: a scan job hashes its input, opens the
//! transaction with an advisory lock on the app's SHA-256 (see
//! `PgLookup`), analyses, writes the rows and marks the job done in one
//! statement, then commits. A kill anywhere before the commit leaves
//! nothing behind but a lease that runs out; after the commit the job is
//! done. A dropped connection is reopened with backoff and the result
//! written again, as long as this worker still holds the lease.
//!
//! Round trips are what a job costs the queue, so a thread leases several
//! jobs at once (as many as fit in [`PREFETCH_WINDOW`] at its recent pace,
//! at most `--prefetch`); jobs leased but not started are held like the
//! others (heartbeat) and given back uncounted when the worker stops.
//!
//! SIGTERM or SIGINT stops the worker gracefully: no more leases, the
//! jobs in progress finish (for up to `--grace` seconds, then they go back
//! to the queue), the unstarted ones go back, the worker is marked stopped
//! and exits 0. A second signal exits at once (its leases then run out as
//! a killed worker's do).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use appvet::archive::zip::Limits;
use appvet::policy::{Date, Judge};
use appvet::scan::Scanner;
use appvet::store::pg::backend::{lock_key, PgLookup};
use appvet::store::pg::queue::{InputRow, Job, Kind, Leased};
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
/// The work a thread leases ahead, at the pace of its recent jobs: enough
/// that small apps cost one lease round trip per several jobs, little
/// enough that a worker never sits on jobs another could be doing (at the
/// end of a queue the others wait at most about this long for it).
const PREFETCH_WINDOW: Duration = Duration::from_millis(100);

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
    /// Most jobs a thread leases at once (one round trip); fewer when jobs
    /// take long, so that a thread holds about 0.1 s of work it has not started.
    #[arg(long, default_value_t = 8)]
    prefetch: usize,
    /// Seconds a worker told to stop (SIGTERM, SIGINT) lets its jobs in
    /// progress finish before it puts them back in the queue and exits.
    #[arg(long, default_value_t = 20.0)]
    grace: f64,
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
    /// Jobs this process holds leases on (the heartbeat renews these only),
    /// each with whether a thread has started it.
    held: Mutex<HashMap<i64, bool>>,
    /// Most jobs a thread leases at once.
    prefetch: usize,
    /// Set by SIGTERM / SIGINT: lease nothing more, finish, give back.
    stopping: Arc<AtomicBool>,
    /// Set when the threads are done: the heartbeat ends.
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
    if !(args.grace.is_finite() && args.grace >= 0.0) {
        return Err(Error::Usage("--grace needs a number of seconds".into()));
    }
    let stopping = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // The exit must be registered first: it fires only when the flag is
        // already set, that is on the second signal (as a shell reports a
        // death by that signal: 128 + its number).
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&stopping))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stopping)))
            .map_err(|_| Error::Internal("cannot install the SIGTERM / SIGINT handlers"))?;
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
        held: Mutex::new(HashMap::new()),
        prefetch: args.prefetch.max(1),
        stopping,
        stop: AtomicBool::new(false),
        done: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    };
    // The default policy must load before any job is leased.
    fleet.options_for(None).map_err(Error::Usage)?;
    conn.register_worker(&id, &host, std::process::id(), jobs).map_err(store_error(&target))?;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !args.quiet;
    let started = Instant::now();
    let grace = Duration::from_secs_f64(args.grace.min(86_400.0));
    let fleet = Arc::new(fleet);
    let heart = {
        let fleet = Arc::clone(&fleet);
        std::thread::spawn(move || heartbeat(&fleet))
    };
    let workers: Vec<JoinHandle<Result<(), Error>>> = (0..jobs)
        .map(|_| {
            let fleet = Arc::clone(&fleet);
            std::thread::spawn(move || work(&fleet))
        })
        .collect();
    let bar = tty.then(|| progress_bar(&fleet, &mut conn));
    let cut = wait_for_threads(&fleet, &workers, grace);
    let mut first_error = None;
    if !cut {
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
    }
    fleet.stop.store(true, Ordering::Relaxed);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Ok(mut c) = target.connect() {
        if cut {
            // The grace period ran out: every job still held goes back, the
            // unstarted as never leased, the others with their attempt.
            let unstarted = fleet.unstarted();
            if let Ok(n) = c.release_all(&id, &unstarted) {
                fleet.say(&format!("worker {id}: grace period over; {n} jobs put back in the queue"));
            }
        }
        let _ = c.stop_worker(&id);
    }
    if !cut {
        let _ = heart.join();
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
    first_error.map_or(Ok(EXIT_OK), Err)
}

/// Waits until every worker thread has ended; after a stop signal, for at
/// most `grace`. `true`: the grace period ran out with threads still busy
/// (they are left to the process's exit).
fn wait_for_threads(fleet: &Fleet, workers: &[JoinHandle<Result<(), Error>>], grace: Duration) -> bool {
    let mut asked: Option<Instant> = None;
    while !workers.iter().all(JoinHandle::is_finished) {
        if asked.is_none() && fleet.stopping() {
            asked = Some(Instant::now());
            fleet.say(&format!(
                "worker {}: stopping: finishing the jobs in progress (up to {} s; a second signal stops at once)",
                fleet.id,
                grace.as_secs_f64()
            ));
        }
        if asked.is_some_and(|t| t.elapsed() >= grace) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
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

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Records leases just taken (not started).
    fn hold(&self, ids: impl Iterator<Item = i64>) {
        if let Ok(mut h) = self.held.lock() {
            h.extend(ids.map(|id| (id, false)));
        }
    }

    fn start(&self, id: i64) {
        if let Ok(mut h) = self.held.lock() {
            h.insert(id, true);
        }
    }

    /// Forgets leases (the job finished, or went back to the queue).
    fn forget(&self, ids: &[i64]) {
        if let Ok(mut h) = self.held.lock() {
            for id in ids {
                h.remove(id);
            }
        }
    }

    /// Jobs held and not started.
    fn unstarted(&self) -> Vec<i64> {
        self.held
            .lock()
            .map(|h| h.iter().filter(|(_, s)| !**s).map(|(id, _)| *id).collect())
            .unwrap_or_default()
    }

    /// Sleeps for `d`, or less when the worker is told to stop.
    fn nap(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopping() {
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(20)));
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
                Err(e)
                    if started.elapsed() < RECONNECT_FOR
                        && !self.stop.load(Ordering::Relaxed)
                        && !self.stopping() =>
                {
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
        let held: Vec<i64> = fleet.held.lock().map(|h| h.keys().copied().collect()).unwrap_or_default();
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

/// How many jobs a thread leases at once: as many as fit in
/// [`PREFETCH_WINDOW`] at the pace of its recent jobs, from 1 to
/// `--prefetch` (the most until a job has been timed).
struct Pace {
    max: usize,
    /// Moving average of a job's time.
    job: Option<Duration>,
}

impl Pace {
    fn jobs(&self) -> usize {
        match self.job {
            None => self.max,
            Some(t) => {
                let fit = PREFETCH_WINDOW.as_secs_f64() / t.as_secs_f64().max(1e-6);
                (fit.ceil().min(self.max as f64) as usize).max(1)
            }
        }
    }

    fn record(&mut self, took: Duration) {
        self.job = Some(self.job.map_or(took, |t| t.mul_f64(0.8) + took.mul_f64(0.2)));
    }
}

/// One worker thread: leases and does jobs until told to stop or, with
/// `--exit-when-empty`, until the queue is empty; then gives back what it
/// leased and did not start.
fn work(fleet: &Fleet) -> Result<(), Error> {
    let mut conn = fleet.connect()?;
    let mut ahead: VecDeque<Leased> = VecDeque::new();
    let result = work_on(fleet, &mut conn, &mut ahead);
    let unstarted: Vec<i64> = ahead.iter().map(|l| l.job.id).collect();
    if !unstarted.is_empty() {
        // Best effort: if the database cannot be reached now, the leases
        // (no longer heartbeated) run out and the jobs are taken up again.
        if conn.is_closed() {
            if let Ok(c) = fleet.target.connect() {
                conn = c;
            }
        }
        let _ = conn.give_back(&fleet.id, &unstarted);
        fleet.forget(&unstarted);
    }
    result
}

fn work_on(fleet: &Fleet, conn: &mut Conn, ahead: &mut VecDeque<Leased>) -> Result<(), Error> {
    let mut idle = IDLE_POLL.0;
    let mut pace = Pace { max: fleet.prefetch, job: None };
    while !fleet.stop.load(Ordering::Relaxed) && !fleet.stopping() {
        let Some(leased) = ahead.pop_front() else {
            let leased = match conn.lease(&fleet.id, fleet.lease, pace.jobs()) {
                Ok(leased) => leased,
                Err(e) if is_connection_error(&e) => {
                    *conn = fleet.connect()?;
                    continue;
                }
                Err(e) => return Err(store_error(&fleet.target)(e)),
            };
            if leased.is_empty() {
                if fleet.exit_when_empty {
                    match conn.pending_jobs() {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) if is_connection_error(&e) => {
                            *conn = fleet.connect()?;
                            continue;
                        }
                        Err(e) => return Err(store_error(&fleet.target)(e)),
                    }
                }
                fleet.nap(idle);
                idle = (idle * 2).min(IDLE_POLL.1);
            } else {
                idle = IDLE_POLL.0;
                fleet.hold(leased.iter().map(|l| l.job.id));
                ahead.extend(leased);
            }
            continue;
        };
        let id = leased.job.id;
        fleet.start(id);
        let started = Instant::now();
        let result = do_job(fleet, conn, &leased);
        fleet.forget(&[id]);
        pace.record(started.elapsed());
        match result {
            Ok(()) => {}
            Err(Error::Usage(msg)) => {
                fleet.say(&format!("job {}: {msg}", leased.job.target));
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

fn do_job(fleet: &Fleet, conn: &mut Conn, leased: &Leased) -> Result<(), Error> {
    let job = &leased.job;
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
            let lookup = PgLookup::new(&mut *conn, versions.clone(), fleet.retry_errors, true)
                .with_path_record(leased.path.clone());
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

/// Writes a job's result and marks it done atomically: in the transaction
/// a claim opened, if any, else in one statement (a rescore's several
/// statements in a transaction of their own); after a lost connection, in
/// a new one that retakes the claim on the app.
fn write_with_retry(
    fleet: &Fleet,
    conn: &mut Conn,
    job: &Job,
    result: &Result1,
    scan: Option<(bool, &Versions)>,
) -> Result<(), Error> {
    let mut in_tx = scan.is_some_and(|(t, _)| t);
    let wrote = with_reconnect(fleet, conn, |c| {
        let mut open = std::mem::take(&mut in_tx) && !c.is_closed();
        if !open {
            let relock = match result {
                Result1::Scan(Outcome::Analysed { record: Some(rec), .. }) => Some(&rec.report.input.sha256),
                _ => None,
            };
            if relock.is_some() || matches!(result, Result1::Rescored(..)) {
                c.begin()?;
                open = true;
            }
            // Written again after a lost connection: the claim is retaken.
            if let Some(sha) = relock {
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(sha)])?;
            }
        }
        let written = write_result(c, fleet, job, result, scan.map(|(_, v)| v));
        if open {
            c.end(written)
        } else {
            written
        }
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
            with_reconnect(fleet, conn, |c| write_result(c, fleet, job, &failed, scan.map(|(_, v)| v)))?
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
            return c.finish(job, w, "rescored", None, None);
        }
        Result1::RescoreFailed(e) => return c.finish(job, w, "failed", Some(e), None),
        Result1::Scan(outcome) => outcome,
    };
    let Some(v) = versions else {
        return c.finish(job, w, "failed", Some("internal: a scan result without versions"), None);
    };
    let input = |size: u64, mtime_ns: i64, status: &'static str| InputRow {
        path: &job.target,
        size,
        mtime_ns,
        sha256: None,
        status,
        versions: v,
    };
    match outcome {
        Outcome::Skipped => c.finish(job, w, "skipped", None, None),
        Outcome::Duplicate { sha256, size, mtime_ns } => {
            let row = InputRow { sha256: Some(sha256), ..input(*size, *mtime_ns, "duplicate") };
            c.finish(job, w, "duplicate", None, Some(row))
        }
        Outcome::Analysed { record: Some(rec), .. } => c.store_app(rec, v, Some((job.id, w))),
        Outcome::Analysed { record: None, .. } => c.finish(job, w, "analysed", None, None),
        Outcome::Failed { error, size, mtime_ns, .. } => {
            c.finish(job, w, "error", Some(error), Some(input(*size, *mtime_ns, "error")))
        }
    }
}
