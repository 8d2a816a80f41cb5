//! `appvet rescore --db FILE`: re-runs attribution (SDK matching, owners,
//! scores, verdict; [`appvet::scan::attribute`]) over every stored app from
//! its stored report and evidence, under the current signature database,
//! without reading any APK.
//!
//! Work goes in chunks through three overlapping stages: a reader thread
//! reads the next chunk's rows (its own read-only connection; WAL lets it
//! read while the writer writes), rayon workers decode, attribute and
//! re-encode the current chunk, and a writer thread writes the previous
//! chunk back in one transaction. Chunks are written in order, each whole or
//! not at all: a kill loses only what was not committed yet (the chunk
//! being written and the one being processed), which a new rescore redoes.

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Instant;

use rayon::prelude::*;
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

/// Apps per read / process / write round.
const CHUNK: usize = 256;

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
        // One chunk read ahead; the writer takes a chunk only when done with the last.
        let (rows_tx, rows_rx) = sync_channel::<Vec<Row>>(1);
        let (results_tx, results_rx) = sync_channel::<Vec<Rescored>>(0);
        let reading = s.spawn(move || read_chunks(&reader, rows_tx));
        let writing = s.spawn(move || write_chunks(&conn, version, results_rx));
        for rows in rows_rx {
            let results: Vec<Rescored> =
                pool.install(|| rows.par_iter().map(|row| rescore(&signatures, row)).collect());
            if results_tx.send(results).is_err() {
                // The writer stopped on an error; dropping `rows_rx` stops the reader.
                break;
            }
        }
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

/// Sends the stored apps chunk by chunk, in SHA-256 order, until done or
/// until the receiver is gone.
fn read_chunks(conn: &Connection, out: SyncSender<Vec<Row>>) -> Result<(), String> {
    let shas: Vec<String> = conn
        .prepare("SELECT sha256 FROM apps ORDER BY sha256")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    let mut st = conn
        .prepare_cached("SELECT report, evidence FROM apps WHERE sha256 = ?1")
        .map_err(|e| e.to_string())?;
    for chunk in shas.chunks(CHUNK) {
        let rows: Vec<Row> = chunk
            .iter()
            .filter_map(|sha| st.query_row(params![sha], |r| Ok((sha.clone(), r.get(0)?, r.get(1)?))).ok())
            .collect();
        if out.send(rows).is_err() {
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
        Some(db::deflate(&serde_json::to_vec(&report).unwrap_or_default()))
    };
    Ok((report, blob))
}

/// Writes each chunk in one transaction, in the order received; returns
/// (apps rescored, apps failed).
fn write_chunks(
    conn: &Connection,
    version: &str,
    chunks: Receiver<Vec<Rescored>>,
) -> Result<(u64, u64), String> {
    let (mut done, mut failed) = (0u64, 0u64);
    for results in chunks {
        let write = (|| -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            for r in &results {
                match r {
                    Ok((report, Some(blob))) => {
                        db::update_attribution(conn, report, blob, version)?;
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
            }
            conn.execute_batch("COMMIT")
        })();
        if let Err(e) = write {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.to_string());
        }
    }
    Ok((done, failed))
}
