//! Combining stores (e.g. from `--shard` runs) into one.

use super::sqlite::{open_rw, CHILD_TABLES};
use super::{Error, Location, Result};

/// What a merge added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Apps not in `out` before.
    pub apps: u64,
    /// Input records added or replaced.
    pub inputs: u64,
}

/// Combines stores into `out` (created if missing). An app present in
/// several inputs keeps the record met first; input paths are unioned, a
/// successful record winning over an error for the same path. Each input is
/// merged in one transaction.
pub fn merge(out: &Location, inputs: &[Location]) -> Result<MergeStats> {
    let Location::Sqlite(out) = out else {
        return Err(Error::Unsupported(
            "merge writes SQLite files; `appvet export` copies PostgreSQL into one",
        ));
    };
    let conn = open_rw(out)?;
    let mut stats = MergeStats::default();
    for input in inputs {
        let Location::Sqlite(input) = input else {
            return Err(Error::Unsupported(
                "merge reads SQLite files; `appvet export` copies PostgreSQL into one",
            ));
        };
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
        stats.apps += a;
        stats.inputs += p;
    }
    Ok(stats)
}
