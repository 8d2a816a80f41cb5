//! `appvet rescore --db FILE`: re-runs attribution (SDK matching, owners,
//! scores, verdict; [`appvet::scan::attribute`]) over every stored app from
//! its stored report and evidence, under the current signature database,
//! without reading any APK.
//!
//! Each worker takes the next app as soon as it is done with the last (apps
//! differ in size a hundredfold, so fixed batches would leave workers
//! waiting on the largest): it reads the app's row, rescores it, and writes
//! the result, holding the one database connection's lock only to read and
//! to write. There are no reader or writer threads: handing every app from
//! thread to thread cost more than the reads and writes (a corpus rescore
//! scaled 1.4x from one worker to two; each hand-off is a wake-up, and on a
//! virtual machine a cross-CPU wake-up is a trapped interrupt), and every
//! extra connection parses the schema again. Results are
//! committed every [`COMMIT_EVERY`] apps and at the end. A kill loses only
//! what was not committed yet, which a new rescore redoes; the database ends
//! the same whatever order the results arrive in (every write is keyed by the
//! app's SHA-256). A failed write stops every worker and rolls back.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rusqlite::{params, Connection, OptionalExtension};

use appvet::database::Database;
use appvet::report::{Capability, Host, Report, Risk, Sdk, Verdict};
use appvet::scan::attribute;

use super::db::{self, inflate_report};
use super::evidence_codec;
use super::{EXIT_ALL_FAILED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE};

/// A rescored app (report and its compressed form), or (sha256, error).
type Rescored = Result<(Report, Option<Vec<u8>>), (String, String)>;

/// What attribution may change in a report.
type Attribution = (Vec<Sdk>, Vec<Host>, Vec<Capability>, Risk, Option<Verdict>);

fn attribution_of(r: &Report) -> Attribution {
    (r.sdks.clone(), r.hosts.clone(), r.capabilities.clone(), r.risk.clone(), r.verdict.clone())
}

const STOPPED: &str = "a rescore worker stopped unexpectedly";

/// Apps per write transaction.
const COMMIT_EVERY: usize = 256;

pub fn run(path: &Path, signatures: Database, jobs: usize) -> i32 {
    let conn = match db::open_existing(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("appvet: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let shas: Vec<String> = match conn
        .prepare("SELECT sha256 FROM apps ORDER BY sha256")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("appvet: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let jobs = match jobs {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        n => n,
    };
    let workers = jobs.min(shas.len()).max(1);
    let started = Instant::now();
    let version = signatures.version.clone();
    let apps = Mutex::new(Apps { conn, version: version.clone(), uncommitted: 0, done: 0, failed: 0 });
    let shared = Shared {
        shas: &shas,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        signatures: &signatures,
        apps: &apps,
    };
    let outcome = run_workers(&shared, workers);
    // A worker that panicked holding the lock left the connection as it was.
    let apps = apps.into_inner().unwrap_or_else(|e| e.into_inner());
    let counts = match outcome {
        Ok(()) => apps.finish(),
        Err(e) => {
            apps.abort();
            Err(e)
        }
    };
    let (done, failed) = match counts {
        Ok(c) => c,
        Err(e) => {
            eprintln!("appvet: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "appvet: rescored {done} apps ({failed} failed) under signatures {version} in {secs:.2} s ({:.0} apps/s)",
        done as f64 / secs.max(1e-3)
    );
    if failed == 0 {
        EXIT_OK
    } else if done == 0 {
        EXIT_ALL_FAILED
    } else {
        EXIT_SOME_FAILED
    }
}

/// What the workers share: the apps to do, the next one to take, the stop
/// signal after a failed read or write, and the connection.
struct Shared<'a> {
    shas: &'a [String],
    next: AtomicUsize,
    stop: AtomicBool,
    signatures: &'a Database,
    apps: &'a Mutex<Apps>,
}

/// Runs `workers` workers, one of them on this thread; the first error any
/// of them met.
fn run_workers(shared: &Shared, workers: usize) -> Result<(), String> {
    std::thread::scope(|s| {
        let others: Vec<_> = (1..workers).map(|_| s.spawn(|| work(shared))).collect();
        let mut result = work(shared);
        for h in others {
            let r = h.join().unwrap_or_else(|_| Err(STOPPED.into()));
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

/// Takes apps until none are left or a read or write failed.
fn work(shared: &Shared) -> Result<(), String> {
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(sha) = shared.shas.get(shared.next.fetch_add(1, Ordering::Relaxed)) else { break };
        let row = match shared.apps.lock() {
            Ok(mut w) => w.read(sha).map_err(|e| e.to_string()),
            Err(_) => Err(STOPPED.to_string()),
        };
        // A row deleted since the list was read is not an error.
        let (report_blob, evidence_blob) = match row {
            Ok(Some(row)) => row,
            Ok(None) => continue,
            Err(e) => {
                shared.stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
        };
        let result = rescore(shared.signatures, sha, &report_blob, &evidence_blob);
        let written = match shared.apps.lock() {
            Ok(mut w) => w.write(result).map_err(|e| e.to_string()),
            Err(_) => Err(STOPPED.to_string()),
        };
        if let Err(e) = written {
            shared.stop.store(true, Ordering::Relaxed);
            return Err(e);
        }
    }
    Ok(())
}

/// Decodes, attributes and (when its attribution changed) re-encodes one app.
fn rescore(signatures: &Database, sha: &str, report_blob: &[u8], evidence_blob: &[u8]) -> Rescored {
    let mut report = inflate_report(report_blob).map_err(|e| (sha.to_string(), e))?;
    let evidence = evidence_codec::decode(evidence_blob).map_err(|e| (sha.to_string(), e.to_string()))?;
    let before = attribution_of(&report);
    attribute(signatures, &mut report, &evidence);
    // Most apps keep their attribution under a new signature version: then
    // only the version is written, not the report.
    let blob = if attribution_of(&report) == before {
        None
    } else {
        Some(db::compress_report(&serde_json::to_vec(&report).unwrap_or_default()))
    };
    Ok((report, blob))
}

/// The database connection: rows read one by one, results written in
/// transactions of [`COMMIT_EVERY`] apps.
struct Apps {
    conn: Connection,
    version: String,
    uncommitted: usize,
    done: u64,
    failed: u64,
}

impl Apps {
    /// The stored report and evidence of one app, if it is still there.
    fn read(&mut self, sha: &str) -> rusqlite::Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.conn
            .prepare_cached("SELECT report, evidence FROM apps WHERE sha256 = ?1")?
            .query_row(params![sha], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
    }

    fn write(&mut self, r: Rescored) -> rusqlite::Result<()> {
        if self.uncommitted == 0 {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        self.uncommitted += 1;
        match r {
            Ok((report, Some(blob))) => {
                db::update_attribution(&self.conn, &report, &blob, &self.version)?;
                self.done += 1;
            }
            Ok((report, None)) => {
                db::update_signatures_version(&self.conn, &report.input.sha256, &self.version)?;
                self.done += 1;
            }
            Err((sha, e)) => {
                eprintln!("appvet: app {sha}: {e}");
                self.failed += 1;
            }
        }
        if self.uncommitted == COMMIT_EVERY {
            self.conn.execute_batch("COMMIT")?;
            self.uncommitted = 0;
        }
        Ok(())
    }

    /// Commits what is left; returns (apps rescored, apps failed).
    fn finish(self) -> Result<(u64, u64), String> {
        if self.uncommitted > 0 {
            if let Err(e) = self.conn.execute_batch("COMMIT") {
                self.abort();
                return Err(e.to_string());
            }
        }
        Ok((self.done, self.failed))
    }

    fn abort(self) {
        if self.uncommitted > 0 {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}
