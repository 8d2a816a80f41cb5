//! `appvet rescore --db FILE`: re-runs attribution (SDK matching, owners,
//! scores, verdict; [`appvet::scan::attribute`]) over every stored app from
//! its stored report and evidence, under the current signature database,
//! without reading any APK. Work goes in chunks: the main thread reads a
//! chunk of rows, rayon workers decode, attribute and re-encode them, and the
//! main thread writes the chunk back in one transaction (a kill loses at
//! most one chunk, which a new rescore redoes).

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use rusqlite::params;

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

pub fn run(path: &Path, signatures: Database, jobs: usize) -> i32 {
    let conn = match db::open_existing(path) {
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
    let shas: Vec<String> = match conn
        .prepare("SELECT sha256 FROM apps ORDER BY sha256")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("appvet: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let (mut done, mut failed) = (0u64, 0u64);
    for chunk in shas.chunks(CHUNK) {
        let rows: Vec<(String, Vec<u8>, Vec<u8>)> = {
            let Ok(mut st) = conn.prepare_cached("SELECT report, evidence FROM apps WHERE sha256 = ?1")
            else {
                return EXIT_USAGE;
            };
            chunk
                .iter()
                .filter_map(|sha| {
                    st.query_row(params![sha], |r| Ok((sha.clone(), r.get(0)?, r.get(1)?))).ok()
                })
                .collect()
        };
        let results: Vec<Rescored> = pool.install(|| {
            rows.par_iter()
                .map(|(sha, report_blob, evidence_blob)| {
                    let mut report = inflate_report(report_blob).map_err(|e| (sha.clone(), e))?;
                    let evidence =
                        evidence_codec::decode(evidence_blob).map_err(|e| (sha.clone(), e.to_string()))?;
                    let before = attribution_of(&report);
                    attribute(&signatures, &mut report, &evidence);
                    // Most apps keep their attribution under a new signature
                    // version: then only the version is written, not the report.
                    let blob = if attribution_of(&report) == before {
                        None
                    } else {
                        Some(db::deflate(&serde_json::to_vec(&report).unwrap_or_default()))
                    };
                    Ok((report, blob))
                })
                .collect()
        });
        let write = (|| -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            for r in &results {
                match r {
                    Ok((report, Some(blob))) => {
                        db::update_attribution(&conn, report, blob, &signatures.version)?;
                        done += 1;
                    }
                    Ok((report, None)) => {
                        db::update_signatures_version(&conn, &report.input.sha256, &signatures.version)?;
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
            eprintln!("appvet: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "appvet: rescored {done} apps ({failed} failed) under signatures {} in {secs:.2} s ({:.0} apps/s)",
        signatures.version,
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
