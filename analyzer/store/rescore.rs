//! Rescoring: re-runs attribution (SDK matching, owners, scores, verdict;
//! [`crate::scan::attribute`]) over every stored app from its stored report
//! and evidence, under the current signature database, without reading any
//! app.
//!
//! Each worker takes the next app as soon as it is done with the last (apps
//! differ in size a hundredfold, so fixed batches would leave workers
//! waiting on the largest): it reads the app's record, rescores it, and
//! writes the result, holding the store's lock only to read and to write.
//! There are no reader or writer threads: handing every app from thread to
//! thread cost more than the reads and writes (a corpus rescore scaled 1.4x
//! from one worker to two; each hand-off is a wake-up, and on a virtual
//! machine a cross-CPU wake-up is a trapped interrupt), and every extra
//! SQLite connection parses the schema again. Results are committed every
//! `COMMIT_EVERY` (256) apps and at the end. A kill loses only what was not
//! committed yet, which a new rescore redoes; the store ends the same
//! whatever order the results arrive in (every write is keyed by the app's
//! SHA-256). A failed write stops every worker and rolls back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{blob, evidence_codec, Error, RescoreTarget, Result};
use crate::database::Database;
use crate::report::{Capability, Host, Report, Risk, Sdk, Verdict};
use crate::scan::attribute;

/// Apps per write transaction.
const COMMIT_EVERY: usize = 256;

/// Gives a rescored report its verdict: called with the name of the policy
/// the app's stored verdict was given under (`None` for a record that has
/// none) once attribution is redone. An error leaves the app as it was.
pub type Rejudge<'a> = &'a (dyn Fn(Option<&str>, &mut Report) -> Result<(), String> + Sync);

/// An app whose stored record could not be rescored (it is left as it was).
pub struct Failure<'a> {
    pub sha256: &'a str,
    pub error: &'a str,
}

/// What a rescore did.
#[derive(Clone, Debug)]
pub struct RescoreSummary {
    pub rescored: u64,
    pub failed: u64,
    /// The signature version the apps are now current under.
    pub signatures_version: String,
    /// From the first app on (listing the apps is not counted).
    pub elapsed: Duration,
}

/// Rescores every app of `target` with `jobs` workers (0: one per core).
/// `on_failure` hears of each app that could not be rescored, as it happens
/// (from any worker); the run goes on without it. An error is a failed read
/// or write of the store: then nothing uncommitted is kept.
pub fn rescore(
    target: &mut dyn RescoreTarget,
    signatures: &Database,
    rejudge: Rejudge,
    jobs: usize,
    on_failure: &(dyn Fn(Failure) + Sync),
) -> Result<RescoreSummary> {
    let shas = target.app_ids()?;
    let jobs = match jobs {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        n => n,
    };
    let workers = jobs.min(shas.len()).max(1);
    let started = Instant::now();
    let version = signatures.version.clone();
    let writes = Mutex::new(Writes { target, version: &version, uncommitted: 0, done: 0, failed: 0 });
    let shared = Shared {
        shas: &shas,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        signatures,
        rejudge,
        writes: &writes,
        on_failure,
    };
    let outcome = run_workers(&shared, workers);
    // A worker that panicked holding the lock left the store as it was.
    let writes = writes.into_inner().unwrap_or_else(|e| e.into_inner());
    let (rescored, failed) = match outcome {
        Ok(()) => writes.finish()?,
        Err(e) => {
            writes.abort();
            return Err(e);
        }
    };
    Ok(RescoreSummary { rescored, failed, signatures_version: version, elapsed: started.elapsed() })
}

/// What the workers share: the apps to do, the next one to take, the stop
/// signal after a failed read or write, and the store.
struct Shared<'a, 'b> {
    shas: &'a [String],
    next: AtomicUsize,
    stop: AtomicBool,
    signatures: &'a Database,
    rejudge: Rejudge<'a>,
    writes: &'a Mutex<Writes<'b>>,
    on_failure: &'a (dyn Fn(Failure) + Sync),
}

/// Runs `workers` workers, one of them on this thread; the first error any
/// of them met.
fn run_workers(shared: &Shared, workers: usize) -> Result<()> {
    std::thread::scope(|s| {
        let others: Vec<_> = (1..workers).map(|_| s.spawn(|| work(shared))).collect();
        let mut result = work(shared);
        for h in others {
            let r = h.join().unwrap_or(Err(Error::Stopped));
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

/// Takes apps until none are left or a read or write failed.
fn work(shared: &Shared) -> Result<()> {
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(sha) = shared.shas.get(shared.next.fetch_add(1, Ordering::Relaxed)) else { break };
        let row = match shared.writes.lock() {
            Ok(mut w) => w.target.read_app(sha),
            Err(_) => Err(Error::Stopped),
        };
        // A record deleted since the list was read is not an error.
        let stored = match row {
            Ok(Some(stored)) => stored,
            Ok(None) => continue,
            Err(e) => {
                shared.stop.store(true, Ordering::Relaxed);
                return Err(e);
            }
        };
        let result = rescore_one(shared.signatures, shared.rejudge, &stored.report, &stored.evidence);
        if let Err(e) = &result {
            (shared.on_failure)(Failure { sha256: sha, error: e });
        }
        let written = match shared.writes.lock() {
            Ok(mut w) => w.write(result.ok()),
            Err(_) => Err(Error::Stopped),
        };
        if let Err(e) = written {
            shared.stop.store(true, Ordering::Relaxed);
            return Err(e);
        }
    }
    Ok(())
}

/// What attribution may change in a report.
type Attribution = (Vec<Sdk>, Vec<Host>, Vec<Capability>, Risk, Option<Verdict>);

fn attribution_of(r: &Report) -> Attribution {
    (r.sdks.clone(), r.hosts.clone(), r.capabilities.clone(), r.risk.clone(), r.verdict.clone())
}

/// A rescored app, with its re-encoded report when its attribution changed.
pub type Rescored = (Report, Option<Vec<u8>>);

/// Decodes, attributes, judges and (when its attribution or verdict
/// changed) re-encodes one app.
pub fn rescore_one(
    signatures: &Database,
    rejudge: Rejudge,
    report_blob: &[u8],
    evidence_blob: &[u8],
) -> Result<Rescored, String> {
    let mut report = blob::decode_report(report_blob)?;
    let evidence = evidence_codec::decode(evidence_blob).map_err(|e| e.to_string())?;
    let before = attribution_of(&report);
    let stored_policy = report.verdict.as_ref().map(|v| v.policy.clone());
    attribute(signatures, &mut report, &evidence);
    rejudge(stored_policy.as_deref(), &mut report)?;
    // Most apps keep their attribution under a new signature version: then
    // only the version is written, not the report.
    let blob = (attribution_of(&report) != before).then(|| blob::encode_report(&report));
    Ok((report, blob))
}

/// The store's write side: results written in transactions of
/// [`COMMIT_EVERY`] apps (a failed app counts towards one, as it did when
/// it was written as a row of its own).
struct Writes<'a> {
    target: &'a mut dyn RescoreTarget,
    version: &'a str,
    uncommitted: usize,
    done: u64,
    failed: u64,
}

impl Writes<'_> {
    /// One app's result; `None`: it failed (and was reported).
    fn write(&mut self, r: Option<Rescored>) -> Result<()> {
        if self.uncommitted == 0 {
            self.target.begin()?;
        }
        self.uncommitted += 1;
        match r {
            Some((report, Some(blob))) => {
                self.target.put_attribution(&report, &blob, self.version)?;
                self.done += 1;
            }
            Some((report, None)) => {
                let policy = report.verdict.as_ref().map(|v| v.policy.as_str());
                self.target.put_signatures_version(&report.input.sha256, self.version, policy)?;
                self.done += 1;
            }
            None => self.failed += 1,
        }
        if self.uncommitted == COMMIT_EVERY {
            self.target.commit()?;
            self.uncommitted = 0;
        }
        Ok(())
    }

    /// Commits what is left; returns (apps rescored, apps failed).
    fn finish(self) -> Result<(u64, u64)> {
        if self.uncommitted > 0 {
            if let Err(e) = self.target.commit() {
                self.abort();
                return Err(e);
            }
        }
        Ok((self.done, self.failed))
    }

    fn abort(self) {
        if self.uncommitted > 0 {
            let _ = self.target.rollback();
        }
    }
}
