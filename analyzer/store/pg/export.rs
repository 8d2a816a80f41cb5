//! `appvet export`: a PostgreSQL results database copied into a new SQLite
//! file of the embedded schema, for analysts without database access (the
//! `sqlite3` queries, `rescore --db` and `merge` read it like any other).
//! The queue is not copied: it is the fleet's working state, not a result.

use std::path::Path;

use postgres::types::Type;
use rusqlite::types::Value;

use super::Conn;
use crate::store::sqlite::{open_rw, CHILD_TABLES};
use crate::store::{Error, Result};

/// Rows fetched per round trip.
const FETCH: i32 = 2_000;

/// What an export copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exported {
    pub apps: u64,
    pub inputs: u64,
}

/// Copies every result row into `out`, which must not exist yet; one read
/// transaction (a consistent snapshot while workers keep writing).
pub fn export(conn: &mut Conn, out: &Path) -> Result<Exported> {
    if out.exists() {
        return Err(Error::Unsupported("the export file exists already: give a new path"));
    }
    let mut lite = open_rw(out)?;
    let tx = lite.transaction()?;
    let mut pg = conn
        .client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    // The SQLite column order: `apps` keeps its blobs in the row.
    let apps = "SELECT a.sha256, a.size, a.kind, a.platform, a.package, a.label, a.version, a.version_code, \
                a.min_sdk, a.target_sdk, a.tool_version, a.signatures_version, a.verdict, a.spy_sensitive, \
                a.data_collection_score, a.jurisdiction_score, a.dex_files, a.classes, a.native_libs, \
                a.signing_verified, a.diagnostic_errors, a.scan_ms, a.scanned_at, b.report, b.evidence, a.policy \
                FROM apps a JOIN app_blobs b ON b.sha256 = a.sha256";
    let mut stats = Exported { apps: copy(&mut pg, &tx, apps, "apps", 26)?, ..Exported::default() };
    stats.inputs = copy(
        &mut pg,
        &tx,
        "SELECT path, size, mtime_ns, sha256, status, error, tool_version, signatures_version, scanned_at FROM inputs",
        "inputs",
        9,
    )?;
    for table in CHILD_TABLES {
        let columns = match *table {
            "permissions" => "sha256, name, protection, source",
            "sdks" => "sha256, id, name, owner, country, categories",
            "hosts" => "sha256, host, domain, owner, country, evidence_total",
            "capabilities" => "sha256, id, declared, observed",
            "certificates" => "sha256, cert_sha256, subject, issuer, organization, country, debug",
            _ => "sha256, level, code, message, location",
        };
        let n = columns.split(',').count();
        copy(&mut pg, &tx, &format!("SELECT {columns} FROM {table}"), table, n)?;
    }
    pg.commit()?;
    tx.commit()?;
    Ok(stats)
}

/// Streams one query's rows into a SQLite table; returns the row count.
fn copy(
    pg: &mut postgres::Transaction,
    lite: &rusqlite::Transaction,
    query: &str,
    table: &str,
    columns: usize,
) -> Result<u64> {
    let marks = (1..=columns).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let mut insert = lite.prepare(&format!("INSERT INTO {table} VALUES({marks})"))?;
    let portal = pg.bind(query, &[])?;
    let mut count = 0u64;
    loop {
        let rows = pg.query_portal(&portal, FETCH)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let mut values = Vec::with_capacity(columns);
            for (i, col) in row.columns().iter().enumerate() {
                let ty = col.type_();
                values.push(if *ty == Type::INT8 {
                    row.get::<_, Option<i64>>(i).map_or(Value::Null, Value::Integer)
                } else if *ty == Type::BOOL {
                    row.get::<_, Option<bool>>(i).map_or(Value::Null, |b| Value::Integer(i64::from(b)))
                } else if *ty == Type::BYTEA {
                    row.get::<_, Option<Vec<u8>>>(i).map_or(Value::Null, Value::Blob)
                } else {
                    row.get::<_, Option<String>>(i).map_or(Value::Null, Value::Text)
                });
            }
            insert.execute(rusqlite::params_from_iter(values))?;
            count += 1;
        }
    }
    Ok(count)
}
