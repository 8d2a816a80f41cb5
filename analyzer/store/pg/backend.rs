//! The store interface ([`Writer`], [`Lookup`]) on PostgreSQL, for
//! `appvet scan --db postgres://...` (one machine writing into the shared
//! database) and for fleet workers, which look up through the connection
//! they then write with.

use std::borrow::BorrowMut;
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use postgres::SimpleQueryMessage;

use super::queue::PathRecord;
use super::{Conn, Target};
use crate::store::{AppRecord, Known, Lookup, Result, Versions, Writer};

/// Commit a batch after this many inputs or this much time, like SQLite.
const BATCH_ROWS: usize = 256;
const BATCH_TIME: Duration = Duration::from_millis(500);

/// The single writer of a `scan --db` run.
pub struct PgWriter {
    conn: Conn,
    versions: Versions,
    pending: usize,
    started: Instant,
    in_transaction: bool,
}

impl PgWriter {
    pub fn open(target: &Target, versions: Versions) -> Result<Self> {
        let mut conn = target.connect()?;
        super::schema::check(&mut conn.client)?;
        Ok(PgWriter { conn, versions, pending: 0, started: Instant::now(), in_transaction: false })
    }

    fn begin(&mut self) -> Result<()> {
        if !self.in_transaction {
            self.conn.begin()?;
            self.in_transaction = true;
            self.pending = 0;
            self.started = Instant::now();
        }
        self.pending += 1;
        Ok(())
    }
}

impl Writer for PgWriter {
    fn put_app(&mut self, rec: &AppRecord) -> Result<()> {
        self.begin()?;
        self.conn.put_app(rec, &self.versions)
    }

    fn put_duplicate(&mut self, path: &str, size: u64, mtime_ns: i64, sha256: &str) -> Result<()> {
        self.begin()?;
        self.conn.put_input(path, size, mtime_ns, Some(sha256), "duplicate", None, &self.versions)
    }

    fn put_error(&mut self, path: &str, size: u64, mtime_ns: i64, error: &str) -> Result<()> {
        self.begin()?;
        self.conn.put_input(path, size, mtime_ns, None, "error", Some(error), &self.versions)
    }

    fn maybe_commit(&mut self) -> Result<()> {
        if self.in_transaction && (self.pending >= BATCH_ROWS || self.started.elapsed() >= BATCH_TIME) {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.in_transaction {
            self.in_transaction = false;
            self.conn.commit()?;
        }
        Ok(())
    }
}

impl Drop for PgWriter {
    fn drop(&mut self) {
        let _ = self.commit();
    }
}

/// What a worker asks before reading an input, through its own connection.
///
/// With `claim` set (fleet workers), [`Lookup::by_sha256`] opens the
/// transaction the results will be written in and takes an advisory lock
/// on the app's SHA-256 first: a worker on another machine that meets the
/// same content waits until this one commits, then finds it stored. So no
/// app is analysed twice at once, and a worker that dies releases the lock
/// with its connection. A worker also hands over what its lease read of
/// the input's path ([`PgLookup::with_path_record`]), so asking by path
/// costs no round trip.
pub struct PgLookup<C> {
    conn: RefCell<C>,
    versions: Versions,
    retry_errors: bool,
    claim: bool,
    in_transaction: Cell<bool>,
    /// `Some`: the path's record as the lease read it (`Some(None)`: none).
    path_record: Option<Option<PathRecord>>,
}

impl PgLookup<Conn> {
    pub fn open(target: &Target, versions: Versions, retry_errors: bool) -> Result<Self> {
        let mut conn = target.connect()?;
        super::schema::check(&mut conn.client)?;
        Ok(PgLookup::new(conn, versions, retry_errors, false))
    }
}

impl<C: BorrowMut<Conn>> PgLookup<C> {
    pub fn new(conn: C, versions: Versions, retry_errors: bool, claim: bool) -> Self {
        PgLookup {
            conn: RefCell::new(conn),
            versions,
            retry_errors,
            claim,
            in_transaction: Cell::new(false),
            path_record: None,
        }
    }

    /// Answers [`Lookup::by_path`] from `record` (what the lease read)
    /// instead of asking the database.
    pub fn with_path_record(mut self, record: Option<PathRecord>) -> Self {
        self.path_record = Some(record);
        self
    }

    /// Whether a claim opened the transaction (the caller commits it).
    pub fn in_transaction(&self) -> bool {
        self.in_transaction.get()
    }

    fn stored(&self, sha256: &str) -> Result<bool> {
        let mut conn = self.conn.borrow_mut();
        let conn: &mut Conn = (*conn).borrow_mut();
        let v = &self.versions;
        if self.claim && !self.in_transaction.get() && is_sha256_hex(sha256) {
            // Begin, lock and look up in one round trip (the simple-query
            // protocol takes several statements, each with a fresh snapshot,
            // so the lookup sees what the lock's last holder committed). Only
            // an integer and a checked hex digest are written into the text;
            // the versions are compared here.
            let sql = format!(
                "BEGIN; SELECT pg_advisory_xact_lock({}); \
                 SELECT tool_version, signatures_version, policy FROM apps WHERE sha256 = '{sha256}'",
                lock_key(sha256)
            );
            let messages = conn.client.simple_query(&sql);
            self.in_transaction.set(true);
            let stored = messages?.iter().any(|m| match m {
                SimpleQueryMessage::Row(r) if r.len() == 3 => {
                    r.get(0) == Some(v.tool.as_str())
                        && r.get(1) == Some(v.signatures.as_str())
                        && (v.policy.is_none() || r.get(2) == v.policy.as_deref())
                }
                _ => false,
            });
            return Ok(stored);
        }
        if self.claim && !self.in_transaction.get() {
            conn.begin()?;
            self.in_transaction.set(true);
            conn.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(sha256)])?;
        }
        Ok(conn
            .query_opt(
                "SELECT 1 FROM apps WHERE sha256 = $1 AND tool_version = $2 AND signatures_version = $3 \
                 AND ($4::text IS NULL OR policy = $4)",
                &[&sha256, &v.tool, &v.signatures, &v.policy],
            )?
            .is_some())
    }

    /// Whether a path's record says it is done under these versions: an
    /// analysed or duplicate input counts only if its app's verdict is
    /// under this policy (otherwise a resumed run with another policy would
    /// keep the old verdicts).
    fn path_done(&self, r: &PathRecord, size: i64, mtime_ns: i64) -> Known {
        let v = &self.versions;
        let current = r.size == size
            && r.mtime_ns == mtime_ns
            && r.tool_version == v.tool
            && r.signatures_version == v.signatures
            && (r.status == "error" || v.policy.is_none() || r.app_policy == v.policy);
        match (current, r.status.as_str()) {
            (false, _) => Known::New,
            (true, "error") if self.retry_errors => Known::New,
            (true, _) => Known::Done,
        }
    }
}

/// 64 lowercase hex digits (what `sha256_hex` makes).
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The advisory lock key of an app: its SHA-256's first eight bytes.
pub fn lock_key(sha256: &str) -> i64 {
    let mut b = [0u8; 8];
    let _ = hex::decode_to_slice(sha256.get(..16).unwrap_or("0000000000000000"), &mut b);
    i64::from_be_bytes(b)
}

impl<C: BorrowMut<Conn>> Lookup for PgLookup<C> {
    fn by_path(&self, path: &str, size: u64, mtime_ns: i64) -> Known {
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        if let Some(record) = &self.path_record {
            return record.as_ref().map_or(Known::New, |r| self.path_done(r, size, mtime_ns));
        }
        let mut conn = self.conn.borrow_mut();
        let conn: &mut Conn = (*conn).borrow_mut();
        let row = conn.query_opt(
            "SELECT i.size, i.mtime_ns, i.status, i.tool_version, i.signatures_version, a.policy \
             FROM inputs i LEFT JOIN apps a ON a.sha256 = i.sha256 WHERE i.path = $1",
            &[&path],
        );
        let record = row.ok().flatten().map(|r| PathRecord {
            size: r.get(0),
            mtime_ns: r.get(1),
            status: r.get(2),
            tool_version: r.get(3),
            signatures_version: r.get(4),
            app_policy: r.get(5),
        });
        record.map_or(Known::New, |r| self.path_done(&r, size, mtime_ns))
    }

    fn by_sha256(&self, sha256: &str) -> Known {
        match self.stored(sha256) {
            Ok(true) => Known::Done,
            _ => Known::New,
        }
    }
}
