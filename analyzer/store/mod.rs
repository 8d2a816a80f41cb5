//! The results store of batch runs (`appvet scan --db`, `rescore`, `merge`):
//! one record per app keyed by SHA-256, with the report and the evidence
//! `rescore` re-matches, and one record per input path (analysed, duplicate
//! or error), which is what makes a killed run resumable.
//!
//! The interface is backend-neutral: [`Writer`] (the one thread that writes
//! results, in batched transactions), [`Lookup`] (what workers ask before
//! reading an input), [`RescoreTarget`] (what [`rescore()`] reads and writes)
//! and [`merge()`]. [`sqlite`] is the embedded backend; a [`Location`] names
//! where the results live, so another backend (a server database for a
//! fleet of machines) is a new variant and a new module beside it.
//!
//! Never prints: it returns what happened and the caller reports it.

pub mod blob;
pub mod evidence_codec;
pub mod merge;
pub mod pg;
pub mod reports;
pub mod rescore;
pub mod sqlite;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::evidence::AppEvidence;
use crate::report::{Report, Score};

pub use merge::{merge, MergeStats};
pub use reports::{open_reports, Reports, StoredEntry};
pub use rescore::{rescore, Failure, Rejudge, RescoreSummary};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    // These two read as rusqlite worded them when they were rusqlite
    // errors, so that what a user sees does not change.
    #[error("Invalid parameter name: database schema version {found}, this appvet writes {expected}")]
    SchemaVersion { found: String, expected: &'static str },
    #[error("Invalid path: {}", .0.display())]
    NotFound(PathBuf),
    #[error("a rescore worker stopped unexpectedly")]
    Stopped,
    #[error("{}", pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    #[error("connection settings: {0}")]
    PgConfig(String),
    #[error(
        "database schema version {}, this appvet needs {expected}: run `appvet db init --pg URL`",
        found.map_or("none".to_string(), |v| v.to_string())
    )]
    PgSchema { found: Option<i32>, expected: i32 },
    #[error("{0}")]
    Unsupported(&'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where results live.
#[derive(Clone, Debug)]
pub enum Location {
    /// A SQLite file (created if missing where a writer opens it).
    Sqlite(PathBuf),
    /// A PostgreSQL database (its schema made by `appvet db init`).
    Postgres(Box<pg::Target>),
}

impl Location {
    /// The location a `--db` argument names: a `postgres://` (or
    /// `postgresql://`) URL, else a SQLite file.
    pub fn from_arg(arg: &Path) -> Result<Self> {
        let text = arg.to_string_lossy();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(Location::Postgres(Box::new(pg::Target::resolve(&text)?)))
        } else {
            Ok(Location::Sqlite(arg.to_path_buf()))
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(target) => write!(f, "{target}"),
        }
    }
}

/// The single writer of a run (created if missing).
pub fn open_writer(at: &Location, versions: Versions) -> Result<Box<dyn Writer>> {
    match at {
        Location::Sqlite(path) => Ok(Box::new(sqlite::SqliteWriter::open(path, versions)?)),
        Location::Postgres(target) => Ok(Box::new(pg::backend::PgWriter::open(target, versions)?)),
    }
}

/// A worker's read-only view; `retry_errors`: a recorded failure does not
/// count as done.
pub fn open_lookup(at: &Location, versions: Versions, retry_errors: bool) -> Result<Box<dyn Lookup>> {
    match at {
        Location::Sqlite(path) => Ok(Box::new(sqlite::SqliteLookup::open(path, versions, retry_errors)?)),
        Location::Postgres(target) => {
            Ok(Box::new(pg::backend::PgLookup::open(target, versions, retry_errors)?))
        }
    }
}

/// An existing store, for [`rescore()`].
pub fn open_rescore(at: &Location) -> Result<Box<dyn RescoreTarget>> {
    match at {
        Location::Sqlite(path) => Ok(Box::new(sqlite::SqliteRescore::open(path)?)),
        Location::Postgres(_) => Err(Error::Unsupported(
            "rescore of a PostgreSQL database runs on its workers: `appvet rescore --pg URL`",
        )),
    }
}

/// Tool and signature versions (and the policy of the verdict) a stored
/// record must carry to count as done.
#[derive(Clone, Debug)]
pub struct Versions {
    pub tool: String,
    pub signatures: String,
    /// The name of the policy verdicts are given under (`None`: a record
    /// of any policy counts, as for records from before policies were stored).
    pub policy: Option<String>,
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// (data-collection, jurisdiction) scores: null until the risk stage fills
/// the report (a zero score with no factors means "not computed").
pub(crate) fn scores(r: &Report) -> (Option<u32>, Option<u32>) {
    let s = |sc: &Score| (sc.score > 0 || !sc.factors.is_empty()).then_some(sc.score);
    (s(&r.risk.data_collection), s(&r.risk.jurisdiction))
}

/// What a worker prepared for one analysed app: the report plus its
/// encoded forms (encoding happens in the workers, not the writer).
pub struct AppRecord {
    pub report: Report,
    pub path: String,
    pub mtime_ns: i64,
    pub scan_ms: u64,
    /// Classes over all code units (the report lists code units, not classes).
    pub classes: u64,
    pub report_blob: Vec<u8>,
    pub evidence_blob: Vec<u8>,
}

impl AppRecord {
    pub fn new(report: Report, evidence: &AppEvidence, mtime_ns: i64, scan_ms: u64) -> Self {
        AppRecord {
            path: report.input.path.clone(),
            report_blob: blob::encode_report(&report),
            evidence_blob: evidence_codec::encode(evidence),
            classes: evidence.class_count() as u64,
            report,
            mtime_ns,
            scan_ms,
        }
    }
}

/// What a worker learns about an input before reading it.
pub enum Known {
    /// Stored under the current versions: nothing to do.
    Done,
    /// Not stored (or stored under other versions).
    New,
}

/// Modification time in nanoseconds since the epoch (0 when unknown), part
/// of what identifies an input on the resume fast path.
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

/// The one writer of a run. Records go into a batch that is committed
/// whole; a kill loses at most the uncommitted batch (those inputs are
/// simply analysed again on resume). Dropping the writer commits.
pub trait Writer: Send {
    /// Stores one analysed app and the input path it came from.
    fn put_app(&mut self, rec: &AppRecord) -> Result<()>;
    /// Records an input whose content is stored already (`sha256`).
    fn put_duplicate(&mut self, path: &str, size: u64, mtime_ns: i64, sha256: &str) -> Result<()>;
    /// Records an input that could not be analysed.
    fn put_error(&mut self, path: &str, size: u64, mtime_ns: i64, error: &str) -> Result<()>;
    /// Called after every input: commits when the batch is big or old enough.
    fn maybe_commit(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
}

/// What a worker asks before reading an input. A failed query answers
/// [`Known::New`]: the input is then analysed again, which costs time but
/// never loses a result.
pub trait Lookup {
    /// The fast path: same path, size and mtime already recorded under these
    /// versions (an error counts unless errors are being retried).
    fn by_path(&self, path: &str, size: u64, mtime_ns: i64) -> Known;
    /// The content path: an identical file was analysed under these versions.
    fn by_sha256(&self, sha256: &str) -> Known;
}

/// An app's stored report and evidence, as stored ([`blob`] framing).
pub struct StoredApp {
    pub report: Vec<u8>,
    pub evidence: Vec<u8>,
}

/// What [`rescore()`] needs of a store. Writes go between [`begin`] and
/// [`commit`] (or [`rollback`]); every write is keyed by the app's SHA-256,
/// so the order of apps does not matter.
///
/// [`begin`]: RescoreTarget::begin
/// [`commit`]: RescoreTarget::commit
/// [`rollback`]: RescoreTarget::rollback
pub trait RescoreTarget: Send {
    /// Every stored app, in SHA-256 order.
    fn app_ids(&mut self) -> Result<Vec<String>>;
    /// One app's stored blobs, if it is still there.
    fn read_app(&mut self, sha256: &str) -> Result<Option<StoredApp>>;
    fn begin(&mut self) -> Result<()>;
    /// Replaces an app's attribution (SDKs, hosts, capabilities, scores,
    /// verdict, the report) and marks it and its inputs current under `signatures`.
    fn put_attribution(&mut self, report: &Report, report_blob: &[u8], signatures: &str) -> Result<()>;
    /// Marks an app whose attribution and verdict did not change as current
    /// under `signatures`, judged under `policy`.
    fn put_signatures_version(&mut self, sha256: &str, signatures: &str, policy: Option<&str>) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::zip::Limits;
    use crate::database::Database;
    use crate::scan::Scanner;

    /// The interface end to end on SQLite: what a batch run records is what
    /// its lookups, a rescore and a merge see.
    #[test]
    fn recorded_inputs_are_found_rescored_and_merged() {
        let dir = std::env::temp_dir().join(format!("appvet-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/benign.apk")).unwrap();
        let scanner = Scanner::new(Database::embedded(), Limits::default());
        let out = scanner.scan_bytes(&data, "benign.apk").unwrap();
        let (size, sha) = (out.report.input.size, out.report.input.sha256.clone());
        let versions = Versions {
            tool: "test".into(),
            signatures: scanner.db.version.clone(),
            policy: Some("baseline".into()),
        };
        let at = Location::Sqlite(dir.join("a.sqlite"));
        {
            let mut w = open_writer(&at, versions.clone()).unwrap();
            w.put_app(&AppRecord::new(out.report.clone(), &out.evidence, 7, 1)).unwrap();
            w.put_duplicate("copy.apk", size, 8, &sha).unwrap();
            w.put_error("bad.apk", 3, 9, "not an app").unwrap();
            // Dropping the writer commits.
        }
        let lookup = open_lookup(&at, versions.clone(), false).unwrap();
        assert!(matches!(lookup.by_path("benign.apk", size, 7), Known::Done));
        assert!(matches!(lookup.by_path("copy.apk", size, 8), Known::Done));
        assert!(matches!(lookup.by_path("benign.apk", size, 8), Known::New), "touched since");
        assert!(matches!(lookup.by_path("bad.apk", 3, 9), Known::Done));
        assert!(matches!(lookup.by_sha256(&sha), Known::Done));
        assert!(matches!(lookup.by_sha256(&"0".repeat(64)), Known::New));
        let retrying = open_lookup(&at, versions.clone(), true).unwrap();
        assert!(matches!(retrying.by_path("bad.apk", 3, 9), Known::New));
        let newer = Versions { signatures: "newer".into(), ..versions };
        assert!(matches!(open_lookup(&at, newer, false).unwrap().by_sha256(&sha), Known::New));

        let mut target = open_rescore(&at).unwrap();
        let summary =
            rescore(&mut *target, &scanner.db, &|_, _| Ok(()), 2, &|f| panic!("{}: {}", f.sha256, f.error))
                .unwrap();
        assert_eq!((summary.rescored, summary.failed), (1, 0));
        drop(target);

        let merged = Location::Sqlite(dir.join("m.sqlite"));
        let stats = merge(&merged, &[at.clone(), at]).unwrap();
        assert_eq!(stats, MergeStats { apps: 1, inputs: 3 });
        let lookup = open_lookup(
            &merged,
            Versions { tool: "test".into(), signatures: summary.signatures_version, policy: None },
            false,
        )
        .unwrap();
        assert!(matches!(lookup.by_path("copy.apk", size, 8), Known::Done));

        assert!(matches!(
            open_rescore(&Location::Sqlite(dir.join("missing.sqlite"))),
            Err(Error::NotFound(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
