//! Reading stored reports back out of a results database (`appvet show`,
//! `appvet report`): the read side next to [`super::Writer`] and
//! [`super::Lookup`], so a backend only has to answer three questions.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::{sqlite, Location, Result};

/// One stored app as an index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub sha256: String,
    /// The first input path recorded for it (inputs are keyed by path).
    pub path: Option<String>,
}

/// The read side of a results database.
pub trait Reports {
    /// The SHA-256 of the app analysed (or found a duplicate) at `path`.
    fn sha256_of_path(&self, path: &str) -> Result<Option<String>>;
    /// The stored report blob of an app (decode with [`super::blob::decode_report`]
    /// or [`super::blob::report_json`]).
    fn report_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
    /// Every stored app, in SHA-256 order.
    fn entries(&self) -> Result<Vec<StoredEntry>>;
}

/// Opens a database that must exist, for reading reports.
pub fn open_reports(at: &Location) -> Result<Box<dyn Reports>> {
    match at {
        Location::Sqlite(path) => Ok(Box::new(SqliteReports::open(path)?)),
        Location::Postgres(target) => Ok(Box::new(super::pg::reports::PgReports::open(target)?)),
    }
}

pub struct SqliteReports {
    conn: Connection,
}

impl SqliteReports {
    pub fn open(path: &Path) -> Result<Self> {
        Ok(SqliteReports { conn: sqlite::open_existing(path)? })
    }
}

impl Reports for SqliteReports {
    fn sha256_of_path(&self, path: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT sha256 FROM inputs WHERE path = ?1 AND sha256 IS NOT NULL",
                params![path],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn report_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT report FROM apps WHERE sha256 = ?1", params![sha256], |r| r.get(0))
            .optional()?)
    }

    fn entries(&self) -> Result<Vec<StoredEntry>> {
        let mut st = self.conn.prepare(
            "SELECT a.sha256, (SELECT min(i.path) FROM inputs i WHERE i.sha256 = a.sha256) \
             FROM apps a ORDER BY a.sha256",
        )?;
        let rows = st.query_map([], |r| Ok(StoredEntry { sha256: r.get(0)?, path: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::zip::Limits;
    use crate::database::Database;
    use crate::scan::Scanner;
    use crate::store::{blob, open_writer, AppRecord, Versions};

    #[test]
    fn a_stored_report_reads_back_equal_by_hash_and_by_path() {
        let dir = std::env::temp_dir().join(format!("appvet-reports-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/benign.apk")).unwrap();
        let scanner = Scanner::new(Database::embedded(), Limits::default());
        let out = scanner.scan_bytes(&data, "samples/benign.apk").unwrap();
        let sha = out.report.input.sha256.clone();
        let at = Location::Sqlite(dir.join("r.sqlite"));
        let versions = Versions {
            tool: "test".into(),
            signatures: scanner.db.version.clone(),
            policy: Some("baseline".into()),
        };
        open_writer(&at, versions)
            .unwrap()
            .put_app(&AppRecord::new(out.report.clone(), &out.evidence, 1, 1))
            .unwrap();

        let reports = open_reports(&at).unwrap();
        assert_eq!(reports.sha256_of_path("samples/benign.apk").unwrap().as_deref(), Some(sha.as_str()));
        assert_eq!(reports.sha256_of_path("elsewhere.apk").unwrap(), None);
        let stored = blob::decode_report(&reports.report_blob(&sha).unwrap().unwrap()).unwrap();
        assert_eq!(stored, out.report);
        assert_eq!(reports.report_blob(&"0".repeat(64)).unwrap(), None);
        assert_eq!(
            reports.entries().unwrap(),
            vec![StoredEntry { sha256: sha, path: Some("samples/benign.apk".into()) }]
        );
        assert!(open_reports(&Location::Sqlite(dir.join("missing.sqlite"))).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
