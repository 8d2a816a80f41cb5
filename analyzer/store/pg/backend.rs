//! The store interface ([`Writer`], [`Lookup`]) on PostgreSQL, for
//! `appvet scan --db postgres://...` (one machine writing into the shared
//! database) and for fleet workers, which look up through the connection
//! they then write with.

use std::borrow::BorrowMut;
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

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
/// with its connection.
pub struct PgLookup<C> {
    conn: RefCell<C>,
    versions: Versions,
    retry_errors: bool,
    claim: bool,
    in_transaction: Cell<bool>,
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
        PgLookup { conn: RefCell::new(conn), versions, retry_errors, claim, in_transaction: Cell::new(false) }
    }

    /// Whether a claim opened the transaction (the caller commits it).
    pub fn in_transaction(&self) -> bool {
        self.in_transaction.get()
    }

    fn stored(&self, sha256: &str) -> Result<bool> {
        let mut conn = self.conn.borrow_mut();
        let conn: &mut Conn = (*conn).borrow_mut();
        if self.claim && !self.in_transaction.get() {
            conn.begin()?;
            self.in_transaction.set(true);
            conn.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(sha256)])?;
        }
        let v = &self.versions;
        Ok(conn
            .query_opt(
                "SELECT 1 FROM apps WHERE sha256 = $1 AND tool_version = $2 AND signatures_version = $3 \
                 AND ($4::text IS NULL OR policy = $4)",
                &[&sha256, &v.tool, &v.signatures, &v.policy],
            )?
            .is_some())
    }
}

/// The advisory lock key of an app: its SHA-256's first eight bytes.
pub fn lock_key(sha256: &str) -> i64 {
    let mut b = [0u8; 8];
    let _ = hex::decode_to_slice(sha256.get(..16).unwrap_or("0000000000000000"), &mut b);
    i64::from_be_bytes(b)
}

impl<C: BorrowMut<Conn>> Lookup for PgLookup<C> {
    fn by_path(&self, path: &str, size: u64, mtime_ns: i64) -> Known {
        let mut conn = self.conn.borrow_mut();
        let conn: &mut Conn = (*conn).borrow_mut();
        let v = &self.versions;
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        // An analysed or duplicate input counts only if its app's verdict
        // is under this policy (otherwise a resumed run with another policy
        // would keep the old verdicts).
        let row = conn.query_opt(
            "SELECT i.status FROM inputs i LEFT JOIN apps a ON a.sha256 = i.sha256 \
             WHERE i.path = $1 AND i.size = $2 AND i.mtime_ns = $3 AND i.tool_version = $4 \
             AND i.signatures_version = $5 AND (i.status = 'error' OR $6::text IS NULL OR a.policy = $6)",
            &[&path, &size, &mtime_ns, &v.tool, &v.signatures, &v.policy],
        );
        match row.ok().flatten().map(|r| r.get::<_, String>(0)).as_deref() {
            Some("error") if self.retry_errors => Known::New,
            Some(_) => Known::Done,
            None => Known::New,
        }
    }

    fn by_sha256(&self, sha256: &str) -> Known {
        match self.stored(sha256) {
            Ok(true) => Known::Done,
            _ => Known::New,
        }
    }
}
