//! The SQLite results store (`appvet scan --db results.sqlite`): one row per
//! app keyed by SHA-256, child tables for what analysts query, the stored
//! evidence `rescore` re-matches, and one `inputs` row per path (analysed,
//! duplicate or error), which is what makes a killed run resumable.
//!
//! Only the writer thread writes (one connection, batched transactions);
//! workers open read-only connections to skip inputs already stored. WAL
//! journaling: a kill loses at most the uncommitted batch (those inputs are
//! simply analysed again on resume) and never corrupts the file.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use appvet::report::Report;

/// Bumped when the schema changes incompatibly.
pub const SCHEMA_VERSION: &str = "1";

/// Commit a batch after this many rows or this much time, whichever first.
const BATCH_ROWS: usize = 256;
const BATCH_TIME: Duration = Duration::from_millis(500);
/// A stored report larger than this when inflated is refused on rescore.
const MAX_REPORT_JSON: u64 = 256 << 20;

pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS apps(
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL,
    platform TEXT,
    package TEXT,
    label TEXT,
    version TEXT,
    version_code TEXT,
    min_sdk INTEGER,
    target_sdk INTEGER,
    tool_version TEXT NOT NULL,
    signatures_version TEXT NOT NULL,
    verdict TEXT,
    spy_sensitive INTEGER,
    data_collection_score INTEGER,
    jurisdiction_score INTEGER,
    dex_files INTEGER NOT NULL,
    classes INTEGER NOT NULL,
    native_libs INTEGER NOT NULL,
    signing_verified INTEGER,
    diagnostic_errors INTEGER NOT NULL,
    scan_ms INTEGER,
    scanned_at INTEGER NOT NULL,
    report BLOB NOT NULL,
    evidence BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS apps_package ON apps(package);
CREATE TABLE IF NOT EXISTS inputs(
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,
    error TEXT,
    tool_version TEXT NOT NULL,
    signatures_version TEXT NOT NULL,
    scanned_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inputs_sha256 ON inputs(sha256);
CREATE VIEW IF NOT EXISTS errors AS
    SELECT path, size, error, tool_version, signatures_version, scanned_at FROM inputs WHERE status = 'error';
CREATE TABLE IF NOT EXISTS permissions(sha256 TEXT NOT NULL, name TEXT NOT NULL, protection TEXT, source TEXT);
CREATE INDEX IF NOT EXISTS permissions_sha256 ON permissions(sha256);
CREATE INDEX IF NOT EXISTS permissions_name ON permissions(name);
CREATE TABLE IF NOT EXISTS sdks(
    sha256 TEXT NOT NULL, id TEXT NOT NULL, name TEXT, owner TEXT, country TEXT, categories TEXT);
CREATE INDEX IF NOT EXISTS sdks_sha256 ON sdks(sha256);
CREATE INDEX IF NOT EXISTS sdks_country ON sdks(country);
CREATE TABLE IF NOT EXISTS hosts(
    sha256 TEXT NOT NULL, host TEXT NOT NULL, domain TEXT, owner TEXT, country TEXT, evidence_total INTEGER);
CREATE INDEX IF NOT EXISTS hosts_sha256 ON hosts(sha256);
CREATE INDEX IF NOT EXISTS hosts_domain ON hosts(domain);
CREATE TABLE IF NOT EXISTS capabilities(
    sha256 TEXT NOT NULL, id TEXT NOT NULL, declared INTEGER NOT NULL, observed INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS capabilities_sha256 ON capabilities(sha256);
CREATE INDEX IF NOT EXISTS capabilities_id ON capabilities(id);
CREATE TABLE IF NOT EXISTS certificates(
    sha256 TEXT NOT NULL, cert_sha256 TEXT NOT NULL, subject TEXT, issuer TEXT,
    organization TEXT, country TEXT, debug INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS certificates_sha256 ON certificates(sha256);
CREATE TABLE IF NOT EXISTS diagnostics(
    sha256 TEXT NOT NULL, level TEXT NOT NULL, code TEXT NOT NULL, message TEXT, location TEXT);
CREATE INDEX IF NOT EXISTS diagnostics_sha256 ON diagnostics(sha256);
"#;

/// Tables whose rows belong to one app (`sha256`) and follow it on replace,
/// merge and rescore.
pub const CHILD_TABLES: &[&str] =
    &["permissions", "sdks", "hosts", "capabilities", "certificates", "diagnostics"];

/// Tool and signature versions a stored row must carry to count as done.
#[derive(Clone, Debug)]
pub struct Versions {
    pub tool: String,
    pub signatures: String,
}

/// What a worker prepared for one analysed app: the report plus its
/// compressed forms (compression happens in the workers, not the writer).
pub struct AppRecord {
    pub report: Report,
    pub path: String,
    pub mtime_ns: i64,
    pub scan_ms: u64,
    pub classes: u64,
    pub report_blob: Vec<u8>,
    pub evidence_blob: Vec<u8>,
}

impl AppRecord {
    pub fn new(report: Report, evidence_blob: Vec<u8>, mtime_ns: i64, scan_ms: u64, classes: u64) -> Self {
        let report_blob = compress_report(&serde_json::to_vec(&report).unwrap_or_default());
        AppRecord {
            path: report.input.path.clone(),
            report,
            mtime_ns,
            scan_ms,
            classes,
            report_blob,
            evidence_blob,
        }
    }
}

/// A stored report written now starts with this, then one zstd frame of
/// the JSON. Rows written before are a raw deflate stream, which never
/// starts like this (the low bits of `7f` give deflate block type 3, which
/// is reserved as invalid), so both are read.
const REPORT_MAGIC_ZSTD: &[u8; 4] = b"\x7fAR2";
/// Zstd level 3: as small as deflate level 6 on reports (corpus: 193 KB
/// against 188 KB for 71 apps) at twice its compression speed, and it
/// decodes three times as fast as inflate, which `rescore` pays per app.
const REPORT_ZSTD_LEVEL: i32 = 3;

/// The stored form of a report's JSON.
pub fn compress_report(json: &[u8]) -> Vec<u8> {
    match zstd::bulk::compress(json, REPORT_ZSTD_LEVEL) {
        Ok(frame) => {
            let mut out = Vec::with_capacity(REPORT_MAGIC_ZSTD.len() + frame.len());
            out.extend_from_slice(REPORT_MAGIC_ZSTD);
            out.extend_from_slice(&frame);
            out
        }
        // Not expected (compressing into memory); the deflate form is still read.
        Err(_) => deflate(json),
    }
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Reports compress about 7:1 (corpus: 2:1 to 15:1): reserving this many
/// times the stored size saves most regrowth without trusting the blob.
const REPORT_RESERVE_RATIO: usize = 8;

/// A recorded report size up to this many times its frame is allocated up
/// front; beyond, the report is decoded as a stream (a damaged or hostile
/// frame could claim anything up to [`MAX_REPORT_JSON`]).
const REPORT_TRUSTED_RATIO: u64 = 64;

thread_local! {
    /// One zstd decoding context per thread, reused from report to report.
    static REPORT_DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A stored report's JSON (either encoding), at most [`MAX_REPORT_JSON`] bytes.
pub fn report_json(blob: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw;
    match blob.strip_prefix(REPORT_MAGIC_ZSTD) {
        Some(frame) => {
            let claimed = zstd::zstd_safe::get_frame_content_size(frame).ok().flatten();
            let bound = (frame.len() as u64).saturating_mul(REPORT_TRUSTED_RATIO).min(MAX_REPORT_JSON);
            match claimed.and_then(|n| usize::try_from(n).ok()).filter(|&n| n as u64 <= bound) {
                // The usual report: one call into a buffer of the size the
                // frame records, which fails if the frame holds more.
                Some(n) => {
                    raw = Vec::with_capacity(n);
                    REPORT_DECOMPRESSOR.with(|cell| {
                        let mut slot = cell.borrow_mut();
                        if slot.is_none() {
                            *slot = zstd::bulk::Decompressor::new().ok();
                        }
                        let d = slot.as_mut().ok_or("stored report: no zstd decoder")?;
                        d.decompress_to_buffer(frame, &mut raw).map_err(|e| format!("stored report: {e}"))
                    })?;
                }
                // No recorded size, or an implausible one: grow as the data comes.
                None => {
                    raw = Vec::with_capacity(frame.len().saturating_mul(REPORT_RESERVE_RATIO));
                    zstd::stream::read::Decoder::with_buffer(frame)
                        .map_err(|e| format!("stored report: {e}"))?
                        .take(MAX_REPORT_JSON)
                        .read_to_end(&mut raw)
                        .map_err(|e| format!("stored report: {e}"))?;
                }
            }
        }
        None => {
            raw = Vec::with_capacity(blob.len().saturating_mul(REPORT_RESERVE_RATIO));
            flate2::read::DeflateDecoder::new(blob)
                .take(MAX_REPORT_JSON)
                .read_to_end(&mut raw)
                .map_err(|e| format!("stored report: {e}"))?;
        }
    }
    Ok(raw)
}

pub fn inflate_report(blob: &[u8]) -> Result<Report, String> {
    let raw = report_json(blob)?;
    serde_json::from_slice(&raw).map_err(|e| format!("stored report: {e}"))
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Modification time in nanoseconds since the epoch (0 when unknown), for the
/// resume fast path.
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

fn open_rw(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;")?;
    let version = |conn: &Connection| -> rusqlite::Result<Option<String>> {
        conn.query_row("SELECT value FROM meta WHERE key='schema_version'", [], |r| r.get(0)).optional()
    };
    // A database at this schema version has its tables: creating them "if
    // not exists" parses every statement of the schema, ~0.5 ms of each
    // rescore or one-app run that opens an existing database.
    if version(&conn).ok().flatten().as_deref() == Some(SCHEMA_VERSION) {
        return Ok(conn);
    }
    conn.execute_batch(SCHEMA)?;
    let stored = version(&conn)?;
    match stored {
        None => {
            conn.execute("INSERT INTO meta(key, value) VALUES('schema_version', ?1)", [SCHEMA_VERSION])?;
        }
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v) => {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "database schema version {v}, this appvet writes {SCHEMA_VERSION}"
            )))
        }
    }
    Ok(conn)
}

/// The single writer.
pub struct Store {
    conn: Connection,
    versions: Versions,
    pending_rows: usize,
    batch_started: Instant,
    in_transaction: bool,
}

impl Store {
    pub fn open(path: &Path, versions: Versions) -> rusqlite::Result<Self> {
        Ok(Store {
            conn: open_rw(path)?,
            versions,
            pending_rows: 0,
            batch_started: Instant::now(),
            in_transaction: false,
        })
    }

    fn begin(&mut self) -> rusqlite::Result<()> {
        if !self.in_transaction {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.in_transaction = true;
            self.batch_started = Instant::now();
            self.pending_rows = 0;
        }
        Ok(())
    }

    /// Commits when the batch is big or old enough.
    pub fn maybe_commit(&mut self) -> rusqlite::Result<()> {
        if self.in_transaction
            && (self.pending_rows >= BATCH_ROWS || self.batch_started.elapsed() >= BATCH_TIME)
        {
            self.commit()?;
        }
        Ok(())
    }

    pub fn commit(&mut self) -> rusqlite::Result<()> {
        if self.in_transaction {
            self.conn.execute_batch("COMMIT")?;
            self.in_transaction = false;
        }
        Ok(())
    }

    /// Stores one analysed app and the input path it came from.
    pub fn put_app(&mut self, rec: &AppRecord) -> rusqlite::Result<()> {
        self.begin()?;
        let r = &rec.report;
        let sha = &r.input.sha256;
        let v = &self.versions;
        let c = &self.conn;
        for t in CHILD_TABLES {
            c.prepare_cached(&format!("DELETE FROM {t} WHERE sha256 = ?1"))?.execute([sha])?;
        }
        c.prepare_cached(
            "INSERT OR REPLACE INTO apps(sha256, size, kind, platform, package, label, version, version_code, \
             min_sdk, target_sdk, tool_version, signatures_version, verdict, spy_sensitive, data_collection_score, \
             jurisdiction_score, dex_files, classes, native_libs, signing_verified, diagnostic_errors, scan_ms, \
             scanned_at, report, evidence) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
             ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
        )?
        .execute(params![
            sha,
            r.input.size as i64,
            r.input.kind.as_str(),
            r.app.platform.map(|p| p.as_str()),
            r.app.id,
            r.app.name,
            r.app.version,
            r.app.version_code,
            r.app.min_sdk.as_ref().map(|s| s.api_or_preview()),
            r.app.target_sdk.as_ref().map(|s| s.api_or_preview()),
            v.tool,
            v.signatures,
            r.verdict.as_ref().map(|v| v.decision.as_str()),
            r.verdict.as_ref().map(|v| v.spy_sensitive),
            scores(r).0,
            scores(r).1,
            r.code.dex.len() as i64,
            rec.classes as i64,
            r.code.native.len() as i64,
            r.signing.verified,
            r.diagnostics.iter().filter(|d| d.level == appvet::report::Level::Error).count() as i64,
            rec.scan_ms as i64,
            now_secs(),
            rec.report_blob,
            rec.evidence_blob,
        ])?;
        insert_children(c, r)?;
        self.put_input(&rec.path, r.input.size, rec.mtime_ns, Some(sha), "analysed", None)?;
        Ok(())
    }

    /// Records an input path: `analysed` / `duplicate` (its SHA-256 is stored)
    /// or `error` (with the message).
    pub fn put_input(
        &mut self,
        path: &str,
        size: u64,
        mtime_ns: i64,
        sha256: Option<&str>,
        status: &str,
        error: Option<&str>,
    ) -> rusqlite::Result<()> {
        self.begin()?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO inputs(path, size, mtime_ns, sha256, status, error, tool_version, \
                 signatures_version, scanned_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                path,
                size as i64,
                mtime_ns,
                sha256,
                status,
                error,
                self.versions.tool,
                self.versions.signatures,
                now_secs()
            ])?;
        self.pending_rows += 1;
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.commit();
    }
}

/// (data-collection, jurisdiction) scores: null until the risk stage fills
/// the report (a zero score with no factors means "not computed").
fn scores(r: &Report) -> (Option<u32>, Option<u32>) {
    let s = |sc: &appvet::report::Score| (sc.score > 0 || !sc.factors.is_empty()).then_some(sc.score);
    (s(&r.risk.data_collection), s(&r.risk.jurisdiction))
}

/// Rows derived from the report that rescore may change.
pub const ATTRIBUTION_TABLES: &[&str] = &["sdks", "hosts", "capabilities"];

fn insert_children(c: &Connection, r: &Report) -> rusqlite::Result<()> {
    let sha = &r.input.sha256;
    let mut st =
        c.prepare_cached("INSERT INTO permissions(sha256, name, protection, source) VALUES(?1, ?2, ?3, ?4)")?;
    for p in &r.permissions {
        st.execute(params![sha, p.name, p.protection, p.source])?;
    }
    let mut st = c.prepare_cached(
        "INSERT INTO certificates(sha256, cert_sha256, subject, issuer, organization, country, debug) \
         VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for cert in &r.signing.certificates {
        st.execute(params![
            sha,
            cert.sha256,
            cert.subject,
            cert.issuer,
            cert.organization,
            cert.country,
            cert.debug
        ])?;
    }
    let mut st = c.prepare_cached(
        "INSERT INTO diagnostics(sha256, level, code, message, location) VALUES(?1, ?2, ?3, ?4, ?5)",
    )?;
    for d in &r.diagnostics {
        let level = match d.level {
            appvet::report::Level::Info => "info",
            appvet::report::Level::Warning => "warning",
            appvet::report::Level::Error => "error",
        };
        st.execute(params![sha, level, d.code, d.message, d.location])?;
    }
    insert_attribution(c, r)
}

/// The rows `rescore` replaces: SDKs, hosts (owners/countries), capabilities.
pub fn insert_attribution(c: &Connection, r: &Report) -> rusqlite::Result<()> {
    let sha = &r.input.sha256;
    let mut st = c.prepare_cached(
        "INSERT INTO sdks(sha256, id, name, owner, country, categories) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for s in &r.sdks {
        st.execute(params![sha, s.id, s.name, s.owner, s.country, s.categories.join(",")])?;
    }
    let mut st = c.prepare_cached(
        "INSERT INTO hosts(sha256, host, domain, owner, country, evidence_total) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for h in &r.hosts {
        st.execute(params![sha, h.host, h.domain, h.owner, h.country, h.evidence_total])?;
    }
    let mut st =
        c.prepare_cached("INSERT INTO capabilities(sha256, id, declared, observed) VALUES(?1, ?2, ?3, ?4)")?;
    for cap in &r.capabilities {
        st.execute(params![sha, cap.id, cap.declared, cap.observed])?;
    }
    Ok(())
}

/// Replaces the attribution of one stored app (rescore).
pub fn update_attribution(
    c: &Connection,
    r: &Report,
    report_blob: &[u8],
    signatures: &str,
) -> rusqlite::Result<()> {
    let sha = &r.input.sha256;
    for t in ATTRIBUTION_TABLES {
        c.prepare_cached(&format!("DELETE FROM {t} WHERE sha256 = ?1"))?.execute([sha])?;
    }
    insert_attribution(c, r)?;
    let (dc, jur) = scores(r);
    c.prepare_cached(
        "UPDATE apps SET signatures_version = ?2, verdict = ?3, spy_sensitive = ?4, data_collection_score = ?5, \
         jurisdiction_score = ?6, report = ?7 WHERE sha256 = ?1",
    )?
    .execute(params![
        sha,
        signatures,
        r.verdict.as_ref().map(|v| v.decision.as_str()),
        r.verdict.as_ref().map(|v| v.spy_sensitive),
        dc,
        jur,
        report_blob
    ])?;
    c.prepare_cached("UPDATE inputs SET signatures_version = ?2 WHERE sha256 = ?1 AND status != 'error'")?
        .execute(params![sha, signatures])?;
    Ok(())
}

/// Marks a stored app as current under `signatures` when rescoring changed
/// nothing in it.
pub fn update_signatures_version(c: &Connection, sha256: &str, signatures: &str) -> rusqlite::Result<()> {
    // Updating a column rewrites the whole row, stored blobs included: a row
    // already at this version (a rescore run again, or resumed after a kill)
    // is left alone.
    c.prepare_cached(
        "UPDATE apps SET signatures_version = ?2 WHERE sha256 = ?1 AND signatures_version IS NOT ?2",
    )?
    .execute(params![sha256, signatures])?;
    c.prepare_cached(
        "UPDATE inputs SET signatures_version = ?2 WHERE sha256 = ?1 AND status != 'error' \
         AND signatures_version IS NOT ?2",
    )?
    .execute(params![sha256, signatures])?;
    Ok(())
}

/// What a worker learns about an input before reading it.
pub enum Known {
    /// Stored under the current versions: nothing to do.
    Done,
    /// Not stored (or stored under other versions).
    New,
}

/// A worker's read-only view, to skip what is stored already.
pub struct Lookup {
    conn: Connection,
    versions: Versions,
    retry_errors: bool,
}

impl Lookup {
    pub fn open(path: &Path, versions: Versions, retry_errors: bool) -> rusqlite::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(30))?;
        Ok(Lookup { conn, versions, retry_errors })
    }

    /// The fast path: same path, size and mtime already recorded under these
    /// versions (an error counts unless errors are being retried).
    pub fn by_path(&self, path: &str, size: u64, mtime_ns: i64) -> Known {
        let row: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT status FROM inputs WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3 AND tool_version = ?4 \
                 AND signatures_version = ?5",
            )
            .and_then(|mut st| {
                st.query_row(
                    params![path, size as i64, mtime_ns, self.versions.tool, self.versions.signatures],
                    |r| r.get(0),
                )
                .optional()
            })
            .ok()
            .flatten();
        match row.as_deref() {
            Some("error") if self.retry_errors => Known::New,
            Some(_) => Known::Done,
            None => Known::New,
        }
    }

    /// The content path: an identical file was analysed under these versions.
    pub fn by_sha256(&self, sha256: &str) -> Known {
        let found = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM apps WHERE sha256 = ?1 AND tool_version = ?2 AND signatures_version = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![sha256, self.versions.tool, self.versions.signatures], |_| Ok(()))
                    .optional()
            })
            .ok()
            .flatten();
        if found.is_some() {
            Known::Done
        } else {
            Known::New
        }
    }
}

/// Combines shard databases into `out` (created if missing). An app present
/// in several inputs keeps the row met first; input paths are unioned, a
/// successful record winning over an error for the same path. Each input is
/// merged in one transaction.
pub fn merge(out: &Path, inputs: &[std::path::PathBuf]) -> rusqlite::Result<(u64, u64)> {
    let conn = open_rw(out)?;
    let (mut apps, mut paths) = (0u64, 0u64);
    for input in inputs {
        // Make sure the input is an appvet database of this schema (and in
        // WAL mode its committed rows are visible through ATTACH).
        drop(open_rw(input)?);
        conn.execute("ATTACH DATABASE ?1 AS src", [input.to_string_lossy()])?;
        let result = (|| -> rusqlite::Result<(u64, u64)> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            conn.execute_batch(
                "CREATE TEMP TABLE new_apps AS SELECT sha256 FROM src.apps \
                 WHERE sha256 NOT IN (SELECT sha256 FROM main.apps)",
            )?;
            let added = conn
                .execute("INSERT INTO main.apps SELECT * FROM src.apps WHERE sha256 IN temp.new_apps", [])?;
            for t in CHILD_TABLES {
                conn.execute(
                    &format!("INSERT INTO main.{t} SELECT * FROM src.{t} WHERE sha256 IN temp.new_apps"),
                    [],
                )?;
            }
            let p = conn.execute(
                "INSERT INTO main.inputs SELECT * FROM src.inputs WHERE true ON CONFLICT(path) DO UPDATE SET \
                 size = excluded.size, mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, \
                 status = excluded.status, error = excluded.error, tool_version = excluded.tool_version, \
                 signatures_version = excluded.signatures_version, scanned_at = excluded.scanned_at \
                 WHERE main.inputs.status = 'error' AND excluded.status != 'error'",
                [],
            )?;
            conn.execute_batch("DROP TABLE temp.new_apps; COMMIT")?;
            Ok((added as u64, p as u64))
        })();
        if result.is_err() {
            let _ = conn.execute_batch("ROLLBACK; DROP TABLE IF EXISTS temp.new_apps");
        }
        conn.execute_batch("DETACH DATABASE src")?;
        let (a, p) = result?;
        apps += a;
        paths += p;
    }
    Ok((apps, paths))
}

pub fn open_existing(path: &Path) -> rusqlite::Result<Connection> {
    if !path.exists() {
        return Err(rusqlite::Error::InvalidPath(path.to_path_buf()));
    }
    open_rw(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json() -> Vec<u8> {
        let mut j = br#"{"schema":"x","items":["#.to_vec();
        for i in 0..500 {
            j.extend_from_slice(format!("\"item {i}\",").as_bytes());
        }
        j.extend_from_slice(b"\"end\"]}");
        j
    }

    #[test]
    fn reports_round_trip_in_both_encodings() {
        let j = json();
        let blob = compress_report(&j);
        assert!(blob.starts_with(REPORT_MAGIC_ZSTD));
        assert_eq!(report_json(&blob).unwrap(), j);
        // Rows written before zstd: raw deflate.
        assert_eq!(report_json(&deflate(&j)).unwrap(), j);
        assert_eq!(report_json(&compress_report(b"")).unwrap(), b"");
    }

    #[test]
    fn a_zstd_report_is_never_a_deflate_stream() {
        let mut out = Vec::new();
        assert!(flate2::read::DeflateDecoder::new(&compress_report(&json())[..])
            .read_to_end(&mut out)
            .is_err());
    }

    #[test]
    fn damaged_reports_are_errors_not_panics() {
        let j = json();
        let blob = compress_report(&j);
        for cut in REPORT_MAGIC_ZSTD.len()..blob.len() {
            assert!(report_json(&blob[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x55;
            if let Ok(raw) = report_json(&bad) {
                assert!(raw.len() as u64 <= MAX_REPORT_JSON);
            }
        }
        assert!(report_json(b"\x7fAR2garbage").is_err());
        assert!(inflate_report(&compress_report(b"{not json")).is_err());
    }

    #[test]
    fn a_recorded_size_is_checked_not_trusted() {
        let j = json();
        let frame = zstd::bulk::compress(&j, 1).unwrap();
        // The frame header records the content size right after its magic
        // and descriptor; rewrite the recorded size to claim more or less.
        let header = zstd::zstd_safe::get_frame_content_size(&frame).unwrap();
        assert_eq!(header, Some(j.len() as u64));
        // Single segment, two-byte size field (size - 256) right after the descriptor.
        assert_eq!(frame[4] & 0xe0, 0x60, "{:x}", frame[4]);
        for claimed in [j.len() - 1, j.len() + 1, 256, 65791] {
            let mut lying = frame.clone();
            lying[5..7].copy_from_slice(&u16::try_from(claimed - 256).unwrap().to_le_bytes());
            let mut blob = REPORT_MAGIC_ZSTD.to_vec();
            blob.extend_from_slice(&lying);
            assert!(report_json(&blob).is_err(), "claims {claimed}");
        }
        // Compresses far beyond the trusted ratio: decoded as a stream all the same.
        let zeros = vec![b'0'; 1 << 20];
        let blob = compress_report(&zeros);
        assert!(((blob.len() as u64) * REPORT_TRUSTED_RATIO) < zeros.len() as u64);
        assert_eq!(report_json(&blob).unwrap(), zeros);
        // A frame without a recorded size decodes as a stream.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(false).unwrap();
        enc.write_all(&j).unwrap();
        let unsized_frame = enc.finish().unwrap();
        assert_eq!(zstd::zstd_safe::get_frame_content_size(&unsized_frame).unwrap(), None);
        let mut blob = REPORT_MAGIC_ZSTD.to_vec();
        blob.extend_from_slice(&unsized_frame);
        assert_eq!(report_json(&blob).unwrap(), j);
    }
}
