//! The SQLite backend of the results store: one file, WAL journaling (a
//! kill loses at most the uncommitted batch and never corrupts the file).
//! Only the writer writes (one connection, batched transactions); workers
//! open read-only connections to skip inputs already stored.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{
    now_secs, scores, AppRecord, Error, Known, Lookup, RescoreTarget, Result, StoredApp, Versions, Writer,
};
use crate::report::{Level, Report};

/// Bumped when the schema changes incompatibly.
/// Version 2 added `apps.policy` (the policy the verdict was given under);
/// a version 1 database is migrated when opened for writing.
pub const SCHEMA_VERSION: &str = "2";

/// Commit a batch after this many rows or this much time, whichever first.
const BATCH_ROWS: usize = 256;
const BATCH_TIME: Duration = Duration::from_millis(500);

/// The authoritative schema (README "Database schema" describes it).
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
    evidence BLOB NOT NULL,
    policy TEXT
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

/// Opens (creating if missing) a database of this schema for writing.
pub(super) fn open_rw(path: &Path) -> Result<Connection> {
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
        // Verdicts stored before version 2 do not say their policy: NULL,
        // which no run counts as current (they are re-judged, not kept).
        Some(v) if v == "1" => conn.execute_batch(
            "BEGIN IMMEDIATE; ALTER TABLE apps ADD COLUMN policy TEXT; \
             UPDATE meta SET value = '2' WHERE key = 'schema_version'; COMMIT",
        )?,
        Some(found) => return Err(Error::SchemaVersion { found, expected: SCHEMA_VERSION }),
    }
    Ok(conn)
}

/// Opens a database that must exist already.
pub(super) fn open_existing(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::NotFound(path.to_path_buf()));
    }
    open_rw(path)
}

/// The single writer.
pub struct SqliteWriter {
    conn: Connection,
    versions: Versions,
    pending_rows: usize,
    batch_started: Instant,
    in_transaction: bool,
}

impl SqliteWriter {
    pub fn open(path: &Path, versions: Versions) -> Result<Self> {
        Ok(SqliteWriter {
            conn: open_rw(path)?,
            versions,
            pending_rows: 0,
            batch_started: Instant::now(),
            in_transaction: false,
        })
    }

    fn begin(&mut self) -> Result<()> {
        if !self.in_transaction {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.in_transaction = true;
            self.batch_started = Instant::now();
            self.pending_rows = 0;
        }
        Ok(())
    }

    /// Records an input path: `analysed` / `duplicate` (its SHA-256 is stored)
    /// or `error` (with the message).
    fn put_input(
        &mut self,
        path: &str,
        size: u64,
        mtime_ns: i64,
        sha256: Option<&str>,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
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

impl Writer for SqliteWriter {
    fn put_app(&mut self, rec: &AppRecord) -> Result<()> {
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
             scanned_at, report, evidence, policy) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
             ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
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
            r.diagnostics.iter().filter(|d| d.level == Level::Error).count() as i64,
            rec.scan_ms as i64,
            now_secs(),
            rec.report_blob,
            rec.evidence_blob,
            r.verdict.as_ref().map(|v| v.policy.as_str()),
        ])?;
        insert_children(c, r)?;
        self.put_input(&rec.path, r.input.size, rec.mtime_ns, Some(sha), "analysed", None)
    }

    fn put_duplicate(&mut self, path: &str, size: u64, mtime_ns: i64, sha256: &str) -> Result<()> {
        self.put_input(path, size, mtime_ns, Some(sha256), "duplicate", None)
    }

    fn put_error(&mut self, path: &str, size: u64, mtime_ns: i64, error: &str) -> Result<()> {
        self.put_input(path, size, mtime_ns, None, "error", Some(error))
    }

    fn maybe_commit(&mut self) -> Result<()> {
        if self.in_transaction
            && (self.pending_rows >= BATCH_ROWS || self.batch_started.elapsed() >= BATCH_TIME)
        {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.in_transaction {
            self.conn.execute_batch("COMMIT")?;
            self.in_transaction = false;
        }
        Ok(())
    }
}

impl Drop for SqliteWriter {
    fn drop(&mut self) {
        let _ = self.commit();
    }
}

/// Rows derived from the report that rescore may change.
const ATTRIBUTION_TABLES: &[&str] = &["sdks", "hosts", "capabilities"];

fn insert_children(c: &Connection, r: &Report) -> Result<()> {
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
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        st.execute(params![sha, level, d.code, d.message, d.location])?;
    }
    insert_attribution(c, r)
}

/// The rows `rescore` replaces: SDKs, hosts (owners/countries), capabilities.
fn insert_attribution(c: &Connection, r: &Report) -> Result<()> {
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

/// A worker's read-only view, to skip what is stored already.
pub struct SqliteLookup {
    conn: Connection,
    versions: Versions,
    retry_errors: bool,
}

impl SqliteLookup {
    pub fn open(path: &Path, versions: Versions, retry_errors: bool) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(30))?;
        Ok(SqliteLookup { conn, versions, retry_errors })
    }
}

impl Lookup for SqliteLookup {
    fn by_path(&self, path: &str, size: u64, mtime_ns: i64) -> Known {
        let row: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT i.status FROM inputs i LEFT JOIN apps a ON a.sha256 = i.sha256 WHERE i.path = ?1 \
                 AND i.size = ?2 AND i.mtime_ns = ?3 AND i.tool_version = ?4 AND i.signatures_version = ?5 \
                 AND (i.status = 'error' OR ?6 IS NULL OR a.policy = ?6)",
            )
            .and_then(|mut st| {
                let v = &self.versions;
                st.query_row(params![path, size as i64, mtime_ns, v.tool, v.signatures, v.policy], |r| {
                    r.get(0)
                })
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

    fn by_sha256(&self, sha256: &str) -> Known {
        let found = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM apps WHERE sha256 = ?1 AND tool_version = ?2 AND signatures_version = ?3 \
                 AND (?4 IS NULL OR policy = ?4)",
            )
            .and_then(|mut st| {
                let v = &self.versions;
                st.query_row(params![sha256, v.tool, v.signatures, v.policy], |_| Ok(())).optional()
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

/// One connection that `rescore` reads and writes through.
pub struct SqliteRescore {
    conn: Connection,
}

impl SqliteRescore {
    pub fn open(path: &Path) -> Result<Self> {
        Ok(SqliteRescore { conn: open_existing(path)? })
    }
}

impl RescoreTarget for SqliteRescore {
    fn app_ids(&mut self) -> Result<Vec<String>> {
        let mut st = self.conn.prepare("SELECT sha256 FROM apps ORDER BY sha256")?;
        let ids = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn read_app(&mut self, sha256: &str) -> Result<Option<StoredApp>> {
        Ok(self
            .conn
            .prepare_cached("SELECT report, evidence FROM apps WHERE sha256 = ?1")?
            .query_row(params![sha256], |r| Ok(StoredApp { report: r.get(0)?, evidence: r.get(1)? }))
            .optional()?)
    }

    fn begin(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn put_attribution(&mut self, r: &Report, report_blob: &[u8], signatures: &str) -> Result<()> {
        let c = &self.conn;
        let sha = &r.input.sha256;
        for t in ATTRIBUTION_TABLES {
            c.prepare_cached(&format!("DELETE FROM {t} WHERE sha256 = ?1"))?.execute([sha])?;
        }
        insert_attribution(c, r)?;
        let (dc, jur) = scores(r);
        c.prepare_cached(
            "UPDATE apps SET signatures_version = ?2, verdict = ?3, spy_sensitive = ?4, data_collection_score = ?5, \
             jurisdiction_score = ?6, report = ?7, policy = ?8 WHERE sha256 = ?1",
        )?
        .execute(params![
            sha,
            signatures,
            r.verdict.as_ref().map(|v| v.decision.as_str()),
            r.verdict.as_ref().map(|v| v.spy_sensitive),
            dc,
            jur,
            report_blob,
            r.verdict.as_ref().map(|v| v.policy.as_str()),
        ])?;
        c.prepare_cached(
            "UPDATE inputs SET signatures_version = ?2 WHERE sha256 = ?1 AND status != 'error'",
        )?
        .execute(params![sha, signatures])?;
        Ok(())
    }

    fn put_signatures_version(&mut self, sha256: &str, signatures: &str, policy: Option<&str>) -> Result<()> {
        let c = &self.conn;
        // Updating a column rewrites the whole row, stored blobs included: a row
        // already at this version and policy (a rescore run again, or resumed
        // after a kill) is left alone.
        c.prepare_cached(
            "UPDATE apps SET signatures_version = ?2, policy = ?3 WHERE sha256 = ?1 \
             AND (signatures_version IS NOT ?2 OR policy IS NOT ?3)",
        )?
        .execute(params![sha256, signatures, policy])?;
        c.prepare_cached(
            "UPDATE inputs SET signatures_version = ?2 WHERE sha256 = ?1 AND status != 'error' \
             AND signatures_version IS NOT ?2",
        )?
        .execute(params![sha256, signatures])?;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("ROLLBACK")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database of schema 1 (no `apps.policy`) is migrated when opened for
    /// writing, its rows kept with no policy (so no run takes them as current).
    #[test]
    fn a_version_1_database_gains_the_policy_column() {
        let path = std::env::temp_dir().join(format!("appvet-sqlite-v1-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&SCHEMA.replace(",\n    policy TEXT\n);", "\n);")).unwrap();
            conn.execute_batch(
                "INSERT INTO meta VALUES('schema_version', '1'); \
                 INSERT INTO apps(sha256, size, kind, tool_version, signatures_version, dex_files, classes, \
                 native_libs, diagnostic_errors, scanned_at, report, evidence) \
                 VALUES('ab', 1, 'apk', 't', 's', 0, 0, 0, 0, 0, x'', x'')",
            )
            .unwrap();
        }
        let conn = open_rw(&path).unwrap();
        let version: String =
            conn.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let policy: Option<String> = conn.query_row("SELECT policy FROM apps", [], |r| r.get(0)).unwrap();
        assert_eq!(policy, None);
        drop(conn);
        let versions = Versions { tool: "t".into(), signatures: "s".into(), policy: Some("baseline".into()) };
        assert!(matches!(SqliteLookup::open(&path, versions, false).unwrap().by_sha256("ab"), Known::New));
        std::fs::remove_file(&path).unwrap();
    }
}
