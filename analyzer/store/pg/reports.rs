//! The read side of a PostgreSQL results database (`appvet show`,
//! `appvet report`): the same three questions the SQLite file answers,
//! with the report blob read from `app_blobs`.

use std::cell::RefCell;

use super::{Conn, Target};
use crate::store::reports::{Reports, StoredEntry};
use crate::store::Result;

pub struct PgReports {
    // `Reports` takes `&self`; a connection prepares statements as it goes.
    conn: RefCell<Conn>,
}

impl PgReports {
    pub fn open(target: &Target) -> Result<Self> {
        let mut conn = target.connect()?;
        super::schema::check(&mut conn.client)?;
        Ok(PgReports { conn: RefCell::new(conn) })
    }
}

impl Reports for PgReports {
    fn sha256_of_path(&self, path: &str) -> Result<Option<String>> {
        let row = self
            .conn
            .borrow_mut()
            .query_opt("SELECT sha256 FROM inputs WHERE path = $1 AND sha256 IS NOT NULL", &[&path])?;
        Ok(row.map(|r| r.get(0)))
    }

    fn report_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let row =
            self.conn.borrow_mut().query_opt("SELECT report FROM app_blobs WHERE sha256 = $1", &[&sha256])?;
        Ok(row.map(|r| r.get(0)))
    }

    fn entries(&self) -> Result<Vec<StoredEntry>> {
        let rows = self.conn.borrow_mut().query(
            "SELECT a.sha256, (SELECT min(i.path) FROM inputs i WHERE i.sha256 = a.sha256) \
             FROM apps a ORDER BY a.sha256",
            &[],
        )?;
        Ok(rows.into_iter().map(|r| StoredEntry { sha256: r.get(0), path: r.get(1) }).collect())
    }
}
