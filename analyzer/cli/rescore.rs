//! `appvet rescore --db FILE`: re-runs attribution (SDK matching, owners,
//! scores, verdict; [`appvet::scan::attribute`]) over every stored app from
//! its stored report and evidence, under the current signature database,
//! without reading any APK.
//!
//! Apps flow one by one through three overlapping stages: a reader thread
//! reads rows (its own read-only connection; WAL lets it read while the
//! writer writes), each worker takes the next row as soon as it is done with
//! the last (apps differ in size a hundredfold, so fixed batches would leave
//! workers waiting on the largest), and a writer thread writes results as
//! they come, committing every [`COMMIT_EVERY`] apps and at the end. A kill
//! loses only what was not committed yet, which a new rescore redoes; the
//! database ends the same whatever order the results arrive in (every
//! write is keyed by the app's SHA-256).

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;
use std::time::Instant;

use rusqlite::{params, Connection};

use appvet::report::{Capability, Host, Report, Risk, Sdk, Verdict};
use appvet::scan::attribute;
use appvet::signatures::Database;

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

/// Apps per write transaction.
const COMMIT_EVERY: usize = 256;
/// Rows read ahead of the workers, and results waiting for the writer:
/// enough to keep every stage busy, few enough to bound memory.
const IN_FLIGHT: usize = 16;

/// One stored app as read: (sha256, report blob, evidence blob).
type Row = (String, Vec<u8>, Vec<u8>);

pub fn run(path: &Path, signatures: Database, jobs: usize) -> i32 {
    let conn = match db::open_existing(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("appvet: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let reader = match db::open_reader(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("appvet: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("appvet: {e}");
            return EXIT_USAGE;
        }
    };
    let started = Instant::now();
    let version = &signatures.version;
    let (read, written) = std::thread::scope(|s| {
        let (rows_tx, rows_rx) = sync_channel::<Row>(IN_FLIGHT);
        let (results_tx, results_rx) = sync_channel::<Rescored>(IN_FLIGHT);
        let reading = s.spawn(move || read_rows(&reader, rows_tx));
        let writing = s.spawn(move || write_results(&conn, version, results_rx));
        let rows_rx = Mutex::new(rows_rx);
        pool.broadcast(|_| loop {
            let row = match rows_rx.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => break,
            };
            // No more rows, or the writer stopped on an error.
            let Ok(row) = row else { break };
            if results_tx.send(rescore(&signatures, &row)).is_err() {
                break;
            }
        });
        // Dropping the receiving ends stops a reader or writer still waiting on them.
        drop(rows_rx);
        drop(results_tx);
        const STOPPED: &str = "a rescore thread stopped unexpectedly";
        (
            reading.join().unwrap_or_else(|_| Err(STOPPED.into())),
            writing.join().unwrap_or_else(|_| Err(STOPPED.into())),
        )
    });
    let (done, failed) = match (read, written) {
        (Ok(()), Ok(counts)) => counts,
        (Err(e), _) | (_, Err(e)) => {
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

/// Sends the stored apps one by one, in SHA-256 order, until done or until
/// the receiver is gone.
fn read_rows(conn: &Connection, out: SyncSender<Row>) -> Result<(), String> {
    let shas: Vec<String> = conn
        .prepare("SELECT sha256 FROM apps ORDER BY sha256")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    let mut st = conn
        .prepare_cached("SELECT report, evidence FROM apps WHERE sha256 = ?1")
        .map_err(|e| e.to_string())?;
    for sha in shas {
        let Ok(row) = st.query_row(params![sha], |r| Ok((sha.clone(), r.get(0)?, r.get(1)?))) else {
            continue;
        };
        if out.send(row).is_err() {
            break;
        }
    }
    Ok(())
}

/// Decodes, attributes and (when its attribution changed) re-encodes one app.
fn rescore(signatures: &Database, (sha, report_blob, evidence_blob): &Row) -> Rescored {
    let mut report = inflate_report(report_blob).map_err(|e| (sha.clone(), e))?;
    let evidence = evidence_codec::decode(evidence_blob).map_err(|e| (sha.clone(), e.to_string()))?;
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

/// Writes results as they come, [`COMMIT_EVERY`] apps per transaction;
/// returns (apps rescored, apps failed).
fn write_results(
    conn: &Connection,
    version: &str,
    results: Receiver<Rescored>,
) -> Result<(u64, u64), String> {
    let (mut done, mut failed) = (0u64, 0u64);
    let mut uncommitted = 0usize;
    let write = (|| -> rusqlite::Result<()> {
        for r in results {
            if uncommitted == 0 {
                conn.execute_batch("BEGIN IMMEDIATE")?;
            }
            uncommitted += 1;
            match r {
                Ok((report, Some(blob))) => {
                    db::update_attribution(conn, &report, &blob, version)?;
                    done += 1;
                }
                Ok((report, None)) => {
                    db::update_signatures_version(conn, &report.input.sha256, version)?;
                    done += 1;
                }
                Err((sha, e)) => {
                    eprintln!("appvet: app {sha}: {e}");
                    failed += 1;
                }
            }
            if uncommitted == COMMIT_EVERY {
                conn.execute_batch("COMMIT")?;
                uncommitted = 0;
            }
        }
        if uncommitted > 0 {
            conn.execute_batch("COMMIT")?;
        }
        Ok(())
    })();
    if let Err(e) = write {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e.to_string());
    }
    Ok((done, failed))
}
