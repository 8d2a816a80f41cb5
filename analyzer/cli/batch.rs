//! `appvet scan` over many inputs: a rayon pool of workers, each holding one
//! app at a time (memory-mapped, hashed, skipped if stored, analysed under a
//! time guard, rendered and compressed), and one writer thread that owns
//! every output: stdout / the output file, the results database, the
//! progress bar and the summary. Workers never print; they send a [`Done`]
//! message per input over a bounded channel.
//!
//! # The per-app time guard
//! A scan is synchronous and the parsers offer no cancellation point, so a
//! stalled scan cannot be interrupted. Each scan therefore runs on its own
//! short-lived thread (spawning costs ~20 µs against milliseconds of
//! analysis) while the pool worker waits for it with a deadline. On timeout
//! the worker records a `timeout` error row and moves on to the next input;
//! the scan thread is *abandoned*: it keeps its app mapped until it ends by
//! itself and its result is dropped. Abandoned threads are counted: when as
//! many are still running as there are workers, a worker waits for one of
//! them to end before starting another scan. So the run never holds more
//! than `2 x jobs` apps or threads, whatever the input; a scan that never
//! ended would at worst take a worker's place, which the parser rules
//! (every loop makes progress, every size is capped by the inflate budget)
//! exclude. `--timeout 0` runs scans on the worker itself with no guard.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use appvet::context::sha256_hex;
use appvet::report::{cyclonedx, json, party_table, sarif, text, Decision};
use appvet::scan::{ScanError, ScanOutput, Scanner};

use appvet::store::{self, AppRecord, Known, Location, Lookup, Versions, Writer};

use super::inputs::InputFile;
use super::progress::{Progress, Summary};
use super::{Error, Format, EXIT_ALL_FAILED, EXIT_BLOCK, EXIT_OK, EXIT_REVIEW, EXIT_SOME_FAILED};

/// Stack for scan threads: nested archives recurse, and the main thread's
/// 8 MiB is what the single-input path has always had (it is only reserved,
/// not touched).
const SCAN_STACK: usize = 8 << 20;
/// Messages in flight between workers and the writer: enough to keep
/// workers busy, few enough that a slow writer bounds memory.
const CHANNEL_DEPTH: usize = 64;

pub struct BatchOptions {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub db: Option<Location>,
    pub jobs: usize,
    /// Zero: no guard.
    pub timeout: Duration,
    pub progress: bool,
    pub summary: bool,
    pub retry_errors: bool,
    /// The policy and exceptions every report is judged by.
    pub judge: appvet::policy::Judge,
    /// Colour in text output.
    pub colour: bool,
    /// The least strict verdict that makes the run exit 10 / 11
    /// (`--fail-on`); `None`: verdicts never change the exit code.
    pub fail_on: Option<Decision>,
}

/// The result of one input.
pub(super) enum Outcome {
    Analysed {
        rendered: Option<String>,
        /// SARIF runs, written as one log at the end.
        sarif_runs: Vec<serde_json::Value>,
        record: Option<Box<AppRecord>>,
        facts: Facts,
    },
    /// Stored already under the same versions (resume).
    Skipped,
    /// Identical content already stored or analysed in this run.
    Duplicate {
        sha256: String,
        size: u64,
        mtime_ns: i64,
    },
    Failed {
        error: String,
        size: u64,
        mtime_ns: i64,
        timeout: bool,
    },
}

/// What the summary needs from a report (so the report can be dropped early).
#[derive(Default)]
pub(super) struct Facts {
    verdict: Option<Decision>,
    /// Name, id and path, for naming a blocked app.
    label: String,
    /// SDK owners rolled up to their controlling parent, each once.
    sdk_owners: Vec<String>,
    /// Controlling countries of the parties, each once.
    countries: Vec<String>,
}

impl Facts {
    fn of(report: &appvet::report::Report) -> Facts {
        let mut sdk_owners: Vec<String> =
            report.sdks.iter().filter_map(party_table::rolled_up_owner).collect();
        sdk_owners.sort();
        sdk_owners.dedup();
        let mut countries: Vec<String> = party_table::parties(report)
            .iter()
            .filter_map(|p| p.controlling_country().map(str::to_string))
            .collect();
        countries.sort();
        countries.dedup();
        let name = report.app.name.as_deref().or(report.app.id.as_deref()).unwrap_or("(no name)");
        let label = match &report.app.id {
            Some(id) if Some(id.as_str()) != Some(name) => format!("{name} ({id}, {})", report.input.path),
            _ => format!("{name} ({})", report.input.path),
        };
        Facts { verdict: report.verdict.as_ref().map(|v| v.decision), label, sdk_owners, countries }
    }
}

struct Done {
    path: String,
    bytes_read: u64,
    elapsed: Duration,
    outcome: Outcome,
}

/// Everything the workers share.
pub(super) struct Shared<'a> {
    scanner: Arc<Scanner>,
    files: &'a [InputFile],
    next: AtomicUsize,
    opts: &'a BatchOptions,
    several: bool,
    versions: Versions,
    /// SHA-256 of every app claimed in this run (dedupe within the run).
    claimed: Mutex<HashSet<[u8; 32]>>,
    abandoned: Abandoned,
}

/// The stall guard's count of abandoned scans (one per process).
pub(super) type Abandoned = Arc<(Mutex<usize>, Condvar)>;

impl<'a> Shared<'a> {
    /// What a fleet worker needs to analyse one input at a time with
    /// [`process`]: no input list, and `abandoned` shared by its threads.
    pub(super) fn for_worker(
        scanner: Arc<Scanner>,
        opts: &'a BatchOptions,
        versions: Versions,
        abandoned: Abandoned,
    ) -> Self {
        Shared {
            scanner,
            files: &[],
            next: AtomicUsize::new(0),
            opts,
            several: false,
            versions,
            claimed: Mutex::new(HashSet::new()),
            abandoned,
        }
    }
}

pub fn run(
    scanner: Scanner,
    files: Vec<InputFile>,
    expand_errors: Vec<(PathBuf, String)>,
    opts: BatchOptions,
) -> Result<i32, Error> {
    let versions = Versions {
        tool: env!("CARGO_PKG_VERSION").to_string(),
        signatures: scanner.db.version.clone(),
        policy: Some(opts.judge.policy().name.clone()),
    };
    let store = match &opts.db {
        Some(at) => Some(store::open_writer(at, versions.clone()).map_err(Error::store(at))?),
        None => None,
    };
    let sink: Option<Box<dyn Write + Send>> = match (&opts.output, &opts.db) {
        (Some(p), _) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(io::BufWriter::new(f))),
            Err(source) => return Err(Error::File { path: p.clone(), source }),
        },
        // With a database the reports go there; stdout stays quiet.
        (None, Some(_)) => None,
        (None, None) => Some(Box::new(io::BufWriter::new(io::stdout()))),
    };
    let several = files.len() + expand_errors.len() > 1;
    let total = (files.len() + expand_errors.len()) as u64;
    let shared = Shared {
        scanner: Arc::new(scanner),
        files: &files,
        next: AtomicUsize::new(0),
        opts: &opts,
        several,
        versions: versions.clone(),
        claimed: Mutex::new(HashSet::new()),
        abandoned: Arc::new((Mutex::new(0), Condvar::new())),
    };
    let (tx, rx) = mpsc::sync_channel::<Done>(CHANNEL_DEPTH);
    let started = Instant::now();
    let writer = {
        let opts_format = opts.format;
        let progress = opts.progress;
        move || {
            write_all(rx, sink, store, expand_errors, opts_format, several, Progress::new(total, progress))
        }
    };
    // No more workers than inputs; one worker runs on this thread, which
    // saves a one-app run the cost of starting a pool.
    let workers = opts.jobs.min(files.len()).max(1);
    let pool =
        (workers > 1).then(|| rayon::ThreadPoolBuilder::new().num_threads(workers).build().ok()).flatten();
    let written = if files.len() <= 1 {
        // One app leaves nothing to overlap: its single message fits the
        // channel, so the writer runs after the worker, on this thread too.
        worker(&shared, tx);
        Ok(writer())
    } else {
        let writer = std::thread::spawn(writer);
        match pool {
            Some(pool) => {
                pool.broadcast(|_| worker(&shared, tx.clone()));
            }
            None => worker(&shared, tx.clone()),
        }
        drop(tx);
        writer.join()
    };
    // The process ends right after the run: freeing the signature database's
    // many small allocations would only cost time (a measurable share of a
    // one-app run), so its last reference is deliberately leaked.
    std::mem::forget(Arc::clone(&shared.scanner));
    let (summary, output_failed) = written.map_err(|_| Error::Internal("the output thread failed"))?;
    if opts.summary {
        eprint!("{}", summary.render(started.elapsed()));
    }
    if output_failed {
        return Err(Error::Reported);
    }
    // Precedence (documented in cli/mod.rs): 2, 4, 11, 10, 3, 0. Verdicts
    // count only when the pipeline opted in with --fail-on.
    let ok = summary.analysed + summary.skipped + summary.duplicates;
    let count = |d: Decision| summary.verdicts.get(d.as_str()).copied().unwrap_or(0);
    let fails = |d: Decision| opts.fail_on.is_some_and(|f| d >= f) && count(d) > 0;
    Ok(if summary.errors > 0 && ok == 0 {
        EXIT_ALL_FAILED
    } else if fails(Decision::Block) {
        EXIT_BLOCK
    } else if fails(Decision::Review) {
        EXIT_REVIEW
    } else if summary.errors > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    })
}

fn worker(shared: &Shared, tx: mpsc::SyncSender<Done>) {
    let lookup = shared
        .opts
        .db
        .as_ref()
        .and_then(|at| store::open_lookup(at, shared.versions.clone(), shared.opts.retry_errors).ok());
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(input) = shared.files.get(i) else { break };
        let started = Instant::now();
        let (outcome, bytes_read) = process(shared, lookup.as_deref(), input);
        let done =
            Done { path: input.path.display().to_string(), bytes_read, elapsed: started.elapsed(), outcome };
        if tx.send(done).is_err() {
            break;
        }
    }
}

/// One input: skipped, a duplicate, analysed, or failed; and the bytes read.
pub(super) fn process(shared: &Shared, lookup: Option<&dyn Lookup>, input: &InputFile) -> (Outcome, u64) {
    let path = input.path.display().to_string();
    let fail =
        |error: String, size: u64, mtime_ns: i64| Outcome::Failed { error, size, mtime_ns, timeout: false };
    let meta = match std::fs::metadata(&input.path) {
        Ok(m) => m,
        Err(e) => return (fail(ScanError::Io(e).to_string(), 0, 0), 0),
    };
    let (size, mtime_ns) = (meta.len(), store::mtime_ns(&meta));
    if let Some(l) = lookup {
        if let Known::Done = l.by_path(&path, size, mtime_ns) {
            return (Outcome::Skipped, 0);
        }
    }
    if meta.is_dir() {
        return (fail(ScanError::UnknownFormat("a directory".into()).to_string(), size, mtime_ns), 0);
    }
    if size == 0 {
        return (fail(ScanError::UnknownFormat("empty file".into()).to_string(), size, mtime_ns), 0);
    }
    let map = match std::fs::File::open(&input.path).and_then(|f| appvet::scan::map_file(&f)) {
        Ok(m) => m,
        Err(e) => return (fail(ScanError::Io(e).to_string(), size, mtime_ns), 0),
    };
    let sha256 = sha256_hex(&map);
    if let Some(l) = lookup {
        let mut digest = [0u8; 32];
        let _ = hex::decode_to_slice(&sha256, &mut digest);
        let fresh = shared.claimed.lock().map(|mut c| c.insert(digest)).unwrap_or(true);
        if !fresh || matches!(l.by_sha256(&sha256), Known::Done) {
            return (Outcome::Duplicate { sha256, size, mtime_ns }, size);
        }
    }
    let scan_started = Instant::now();
    let result = if shared.opts.timeout.is_zero() {
        shared.scanner.scan_bytes_hashed(&map, &path, sha256).map_err(|e| (e.to_string(), false))
    } else {
        guarded_scan(shared, map, path.clone(), sha256)
    };
    let scan_ms = scan_started.elapsed().as_millis() as u64;
    let outcome = match result {
        Ok(out) => finish_app(shared, out, mtime_ns, scan_ms),
        Err((error, timeout)) => Outcome::Failed { error, size, mtime_ns, timeout },
    };
    (outcome, size)
}

/// Renders and compresses on the worker, so the writer only writes.
fn finish_app(shared: &Shared, out: ScanOutput, mtime_ns: i64, scan_ms: u64) -> Outcome {
    let ScanOutput { mut report, evidence } = out;
    shared.opts.judge.apply(&mut report);
    let wanted = shared.opts.output.is_some() || shared.opts.db.is_none();
    let rendered = wanted.then(|| match (shared.opts.format, shared.several) {
        (Format::Json, true) => json::render_line(&report),
        (Format::Cyclonedx, true) => cyclonedx::render_line(&report),
        (Format::Text, _) => text::render_styled(&report, shared.opts.colour) + "\n",
        // SARIF is one log for the whole run, written at the end.
        (Format::Sarif, _) => String::new(),
        (format, _) => super::show::render(&report, format),
    });
    let sarif_runs =
        if wanted && shared.opts.format == Format::Sarif { sarif::runs_of(&report) } else { Vec::new() };
    let facts = Facts::of(&report);
    let record =
        shared.opts.db.as_ref().map(|_| Box::new(AppRecord::new(report, &evidence, mtime_ns, scan_ms)));
    drop(evidence);
    Outcome::Analysed { rendered, sarif_runs, record, facts }
}

/// Where a guarded scan stands, shared by the pool worker and the scan thread.
#[derive(PartialEq)]
enum GuardState {
    Running,
    Abandoned,
    Finished,
}

type ScanResult = Result<ScanOutput, (String, bool)>;

fn guarded_scan(shared: &Shared, map: memmap2::Mmap, path: String, sha256: String) -> ScanResult {
    let limit = shared.opts.timeout;
    let cap = shared.opts.jobs.max(1);
    {
        // Wait while too many abandoned scans are still running.
        let (lock, cv) = &*shared.abandoned;
        let mut n = lock.lock().map_err(|_| ("internal: lock poisoned".to_string(), false))?;
        while *n >= cap {
            n = cv.wait(n).map_err(|_| ("internal: lock poisoned".to_string(), false))?;
        }
    }
    let state = Arc::new(Mutex::new(GuardState::Running));
    let (tx, rx) = mpsc::sync_channel::<Result<ScanOutput, ScanError>>(1);
    let scanner = Arc::clone(&shared.scanner);
    let abandoned = Arc::clone(&shared.abandoned);
    let thread_state = Arc::clone(&state);
    let spawned =
        std::thread::Builder::new().name("appvet-scan".into()).stack_size(SCAN_STACK).spawn(move || {
            let result = scanner.scan_bytes_hashed(&map, &path, sha256);
            drop(map);
            let _ = tx.send(result);
            if let Ok(mut st) = thread_state.lock() {
                if *st == GuardState::Abandoned {
                    let (lock, cv) = &*abandoned;
                    if let Ok(mut n) = lock.lock() {
                        *n = n.saturating_sub(1);
                        cv.notify_all();
                    }
                }
                *st = GuardState::Finished;
            }
        });
    if let Err(e) = spawned {
        return Err((format!("cannot start a scan thread: {e}"), false));
    }
    match rx.recv_timeout(limit) {
        Ok(r) => r.map_err(|e| (e.to_string(), false)),
        Err(RecvTimeoutError::Disconnected) => Err(("internal: the scan thread failed".into(), false)),
        Err(RecvTimeoutError::Timeout) => {
            let mut st = state.lock().map_err(|_| ("internal: lock poisoned".to_string(), false))?;
            if *st == GuardState::Running {
                *st = GuardState::Abandoned;
                let (lock, _) = &*shared.abandoned;
                if let Ok(mut n) = lock.lock() {
                    *n += 1;
                }
                Err((format!("timeout: analysis took longer than {} s; skipped", limit.as_secs_f64()), true))
            } else {
                // It finished just now: take the result.
                drop(st);
                match rx.recv() {
                    Ok(r) => r.map_err(|e| (e.to_string(), false)),
                    Err(_) => Err(("internal: the scan thread failed".into(), false)),
                }
            }
        }
    }
}

/// The writer thread: the only place that prints or writes the database.
/// Returns the summary and whether writing the output failed.
fn write_all(
    rx: mpsc::Receiver<Done>,
    mut sink: Option<Box<dyn Write + Send>>,
    mut store: Option<Box<dyn Writer>>,
    expand_errors: Vec<(PathBuf, String)>,
    format: Format,
    several: bool,
    mut progress: Progress,
) -> (Summary, bool) {
    let mut summary = Summary::default();
    let mut all_sarif_runs = Vec::new();
    let mut output_failed = false;
    let mut db_failed = false;
    let mut emit = |sink: &mut Option<Box<dyn Write + Send>>, text: &str, progress: &Progress| {
        if let Some(w) = sink {
            if let Err(e) = w.write_all(text.as_bytes()) {
                // A closed pipe (`| head`) is not an error; stop writing.
                if e.kind() != io::ErrorKind::BrokenPipe {
                    progress.println(&format!("appvet: writing output: {e}"));
                    output_failed = true;
                }
                *sink = None;
            }
        }
    };
    let db_error = |e: store::Error, progress: &Progress, failed: &mut bool| {
        if !*failed {
            progress.println(&format!("appvet: results database: {e}"));
        }
        *failed = true;
    };
    for (path, error) in &expand_errors {
        let path = path.display().to_string();
        summary.inputs += 1;
        summary.errors += 1;
        progress.advance(0, true);
        progress.println(&format!("appvet: {path}: {error}"));
        if format == Format::Json && several {
            emit(&mut sink, &json::render_error_line(&path, error), &progress);
        }
        if let Some(s) = store.as_mut() {
            if let Err(e) = s.put_error(&path, 0, 0, error) {
                db_error(e, &progress, &mut db_failed);
            }
        }
    }
    for done in rx {
        summary.inputs += 1;
        summary.bytes_read += done.bytes_read;
        let failed = matches!(done.outcome, Outcome::Failed { .. });
        progress.advance(done.bytes_read, failed);
        let db_result = match done.outcome {
            Outcome::Analysed { rendered, sarif_runs, record, facts } => {
                all_sarif_runs.extend(sarif_runs);
                summary.analysed += 1;
                summary.note_time(done.elapsed, &done.path);
                if let Some(v) = facts.verdict {
                    *summary.verdicts.entry(v.as_str().to_string()).or_default() += 1;
                    if v == Decision::Block {
                        summary.blocked.push(facts.label);
                    }
                }
                for o in facts.sdk_owners {
                    *summary.sdk_owners.entry(o).or_default() += 1;
                }
                for c in facts.countries {
                    *summary.countries.entry(c).or_default() += 1;
                }
                if let Some(text) = rendered.filter(|t| !t.is_empty()) {
                    emit(&mut sink, &text, &progress);
                }
                match (store.as_mut(), record) {
                    (Some(s), Some(rec)) => s.put_app(&rec),
                    _ => Ok(()),
                }
            }
            Outcome::Skipped => {
                summary.skipped += 1;
                Ok(())
            }
            Outcome::Duplicate { sha256, size, mtime_ns } => {
                summary.duplicates += 1;
                match store.as_mut() {
                    Some(s) => s.put_duplicate(&done.path, size, mtime_ns, &sha256),
                    None => Ok(()),
                }
            }
            Outcome::Failed { error, size, mtime_ns, timeout } => {
                summary.errors += 1;
                summary.timeouts += u64::from(timeout);
                summary.note_time(done.elapsed, &done.path);
                progress.println(&format!("appvet: {}: {error}", done.path));
                if format == Format::Json && several {
                    emit(&mut sink, &json::render_error_line(&done.path, &error), &progress);
                }
                match store.as_mut() {
                    Some(s) => s.put_error(&done.path, size, mtime_ns, &error),
                    None => Ok(()),
                }
            }
        };
        if let Err(e) = db_result.and_then(|()| store.as_mut().map_or(Ok(()), |s| s.maybe_commit())) {
            db_error(e, &progress, &mut db_failed);
        }
    }
    if format == Format::Sarif {
        emit(&mut sink, &sarif::render_runs(std::mem::take(&mut all_sarif_runs)), &progress);
    }
    if let Some(s) = store.as_mut() {
        if let Err(e) = s.commit() {
            db_error(e, &progress, &mut db_failed);
        }
    }
    if let Some(w) = sink.as_mut() {
        if let Err(e) = w.flush() {
            if e.kind() != io::ErrorKind::BrokenPipe {
                progress.println(&format!("appvet: writing output: {e}"));
                output_failed = true;
            }
        }
    }
    progress.finish();
    (summary, output_failed || db_failed)
}
