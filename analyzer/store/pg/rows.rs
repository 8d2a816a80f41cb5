//! Writing result rows: one app (its row, blobs and child rows, with its
//! job marked done), an input record, a rescored attribution. Child rows
//! go as arrays unnested server-side, all in one statement, so an app costs
//! one round trip whatever its size.

use std::borrow::Cow;

use postgres::types::ToSql;

use super::Conn;
use crate::report::{Level, Report};
use crate::store::{now_secs, scores, AppRecord, Result, Versions};

/// PostgreSQL text cannot hold NUL, which SQLite stores: a NUL in a string
/// a (hostile) app supplied becomes U+FFFD.
pub(super) fn no_nul(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn no_nul_opt(s: Option<&str>) -> Option<Cow<'_, str>> {
    s.map(no_nul)
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

fn i64_of(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// One analysed app in one statement: its `apps` row, blobs, child rows
/// (the old ones deleted) and input path, and, for a fleet worker, the
/// job marked done. Every part but the job's own update runs only when
/// `ok` has a row: the job was still leased by this worker (`$1`, `$2`),
/// or there is no job (`$1` null: `scan --db`). One statement is one
/// atomic step, so results and "done" go together whatever dies when; and
/// it is one round trip where a statement per table cost ~20.
///
/// The deletes and inserts of one child table do not see each other (a
/// statement's parts share one snapshot): the deletes remove the rows the
/// app had before, the inserts add the new ones. Parameters are cast
/// because `INSERT ... SELECT` does not infer their types.
const STORE_APP: &str = "WITH fin AS (UPDATE jobs SET state = 'done', outcome = 'analysed', error = NULL, \
     finished_at = now(), lease_until = NULL WHERE id = $1 AND leased_by = $2 AND state = 'running' RETURNING id), \
   ok AS (SELECT 1 FROM fin UNION ALL SELECT 1 WHERE $1::bigint IS NULL), \
   counted AS (UPDATE workers SET jobs_done = jobs_done + 1 WHERE id = $2 AND EXISTS (SELECT 1 FROM fin)), \
   d1 AS (DELETE FROM sdks WHERE sha256 = $3 AND EXISTS (SELECT 1 FROM ok)), \
   d2 AS (DELETE FROM hosts WHERE sha256 = $3 AND EXISTS (SELECT 1 FROM ok)), \
   d3 AS (DELETE FROM capabilities WHERE sha256 = $3 AND EXISTS (SELECT 1 FROM ok)), \
   d4 AS (DELETE FROM permissions WHERE sha256 = $3 AND EXISTS (SELECT 1 FROM ok)), \
   d5 AS (DELETE FROM certificates WHERE sha256 = $3 AND EXISTS (SELECT 1 FROM ok)), \
   d6 AS (DELETE FROM diagnostics WHERE sha256 = $3 AND EXISTS (SELECT 1 FROM ok)), \
   app AS (INSERT INTO apps(sha256, size, kind, platform, package, label, version, version_code, min_sdk, \
     target_sdk, tool_version, signatures_version, verdict, spy_sensitive, data_collection_score, \
     jurisdiction_score, dex_files, classes, native_libs, signing_verified, diagnostic_errors, scan_ms, \
     scanned_at, policy) SELECT $3::text, $4::bigint, $5::text, $6::text, $7::text, $8::text, $9::text, \
     $10::text, $11::bigint, $12::bigint, $13::text, $14::text, $15::text, $16::boolean, $17::bigint, \
     $18::bigint, $19::bigint, $20::bigint, $21::bigint, $22::boolean, $23::bigint, $24::bigint, $25::bigint, \
     $26::text WHERE EXISTS (SELECT 1 FROM ok) \
     ON CONFLICT (sha256) DO UPDATE SET size = excluded.size, kind = excluded.kind, \
     platform = excluded.platform, package = excluded.package, label = excluded.label, \
     version = excluded.version, version_code = excluded.version_code, min_sdk = excluded.min_sdk, \
     target_sdk = excluded.target_sdk, tool_version = excluded.tool_version, \
     signatures_version = excluded.signatures_version, verdict = excluded.verdict, \
     spy_sensitive = excluded.spy_sensitive, data_collection_score = excluded.data_collection_score, \
     jurisdiction_score = excluded.jurisdiction_score, dex_files = excluded.dex_files, \
     classes = excluded.classes, native_libs = excluded.native_libs, \
     signing_verified = excluded.signing_verified, diagnostic_errors = excluded.diagnostic_errors, \
     scan_ms = excluded.scan_ms, scanned_at = excluded.scanned_at, policy = excluded.policy), \
   blobs AS (INSERT INTO app_blobs(sha256, report, evidence) SELECT $3::text, $27::bytea, $28::bytea \
     WHERE EXISTS (SELECT 1 FROM ok) \
     ON CONFLICT (sha256) DO UPDATE SET report = excluded.report, evidence = excluded.evidence), \
   p AS (INSERT INTO permissions(sha256, name, protection, source) \
     SELECT $3, * FROM unnest($29::text[], $30::text[], $31::text[]) WHERE EXISTS (SELECT 1 FROM ok)), \
   c AS (INSERT INTO certificates(sha256, cert_sha256, subject, issuer, organization, country, debug) \
     SELECT $3, * FROM unnest($32::text[], $33::text[], $34::text[], $35::text[], $36::text[], $37::bool[]) \
     WHERE EXISTS (SELECT 1 FROM ok)), \
   g AS (INSERT INTO diagnostics(sha256, level, code, message, location) \
     SELECT $3, * FROM unnest($38::text[], $39::text[], $40::text[], $41::text[]) WHERE EXISTS (SELECT 1 FROM ok)), \
   s AS (INSERT INTO sdks(sha256, id, name, owner, country, categories) \
     SELECT $3, * FROM unnest($42::text[], $43::text[], $44::text[], $45::text[], $46::text[]) \
     WHERE EXISTS (SELECT 1 FROM ok)), \
   h AS (INSERT INTO hosts(sha256, host, domain, owner, country, evidence_total) \
     SELECT $3, * FROM unnest($47::text[], $48::text[], $49::text[], $50::text[], $51::bigint[]) \
     WHERE EXISTS (SELECT 1 FROM ok)), \
   k AS (INSERT INTO capabilities(sha256, id, declared, observed) \
     SELECT $3, * FROM unnest($52::text[], $53::bool[], $54::bool[]) WHERE EXISTS (SELECT 1 FROM ok)), \
   i AS (INSERT INTO inputs(path, size, mtime_ns, sha256, status, error, tool_version, signatures_version, \
     scanned_at) SELECT $55::text, $4::bigint, $56::bigint, $3::text, 'analysed', NULL, $13::text, $14::text, \
     $25::bigint WHERE EXISTS (SELECT 1 FROM ok) ON CONFLICT (path) DO UPDATE SET \
     size = excluded.size, mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, \
     status = excluded.status, error = excluded.error, tool_version = excluded.tool_version, \
     signatures_version = excluded.signatures_version, scanned_at = excluded.scanned_at) \
   SELECT count(*) FROM ok";

/// The attribution rows of a report (SDKs, hosts, capabilities) as the
/// column arrays the statements unnest.
struct AttributionColumns<'r> {
    sdk_id: Vec<Cow<'r, str>>,
    sdk_name: Vec<Cow<'r, str>>,
    sdk_owner: Vec<Option<Cow<'r, str>>>,
    sdk_country: Vec<Option<Cow<'r, str>>>,
    sdk_categories: Vec<String>,
    host: Vec<Cow<'r, str>>,
    host_domain: Vec<Option<Cow<'r, str>>>,
    host_owner: Vec<Option<Cow<'r, str>>>,
    host_country: Vec<Option<Cow<'r, str>>>,
    host_total: Vec<i64>,
    cap_id: Vec<Cow<'r, str>>,
    cap_declared: Vec<bool>,
    cap_observed: Vec<bool>,
}

impl<'r> AttributionColumns<'r> {
    /// The arrays as statement parameters, in the order both statements
    /// number them: SDKs (id, name, owner, country, categories), hosts
    /// (host, domain, owner, country, evidence total), capabilities (id,
    /// declared, observed).
    fn params(&self) -> [&(dyn ToSql + Sync); 13] {
        [
            &self.sdk_id,
            &self.sdk_name,
            &self.sdk_owner,
            &self.sdk_country,
            &self.sdk_categories,
            &self.host,
            &self.host_domain,
            &self.host_owner,
            &self.host_country,
            &self.host_total,
            &self.cap_id,
            &self.cap_declared,
            &self.cap_observed,
        ]
    }

    fn of(r: &'r Report) -> Self {
        let (s, h, c) = (&r.sdks, &r.hosts, &r.capabilities);
        AttributionColumns {
            sdk_id: s.iter().map(|s| no_nul(&s.id)).collect(),
            sdk_name: s.iter().map(|s| no_nul(&s.name)).collect(),
            sdk_owner: s.iter().map(|s| no_nul_opt(s.owner.as_deref())).collect(),
            sdk_country: s.iter().map(|s| no_nul_opt(s.country.as_deref())).collect(),
            sdk_categories: s.iter().map(|s| no_nul(&s.categories.join(",")).into_owned()).collect(),
            host: h.iter().map(|h| no_nul(&h.host)).collect(),
            host_domain: h.iter().map(|h| no_nul_opt(h.domain.as_deref())).collect(),
            host_owner: h.iter().map(|h| no_nul_opt(h.owner.as_deref())).collect(),
            host_country: h.iter().map(|h| no_nul_opt(h.country.as_deref())).collect(),
            host_total: h.iter().map(|h| i64::from(h.evidence_total)).collect(),
            cap_id: c.iter().map(|c| no_nul(&c.id)).collect(),
            cap_declared: c.iter().map(|c| c.declared).collect(),
            cap_observed: c.iter().map(|c| c.observed).collect(),
        }
    }
}

impl Conn {
    /// Stores one analysed app (replacing an older record of it) and the
    /// input path it came from.
    pub fn put_app(&mut self, rec: &AppRecord, v: &Versions) -> Result<()> {
        self.store_app(rec, v, None).map(|_| ())
    }

    /// [`Conn::put_app`] that also marks `job` done for `worker`, in one
    /// statement. `false`: the lease was lost and nothing was written.
    pub fn store_app(&mut self, rec: &AppRecord, v: &Versions, job: Option<(i64, &str)>) -> Result<bool> {
        let r = &rec.report;
        let sha = &r.input.sha256;
        let (dc, jur) = scores(r);
        let perms = &r.permissions;
        let perm_name: Vec<_> = perms.iter().map(|p| no_nul(&p.name)).collect();
        let perm_protection: Vec<_> = perms.iter().map(|p| no_nul_opt(p.protection.as_deref())).collect();
        let perm_source: Vec<_> = perms.iter().map(|p| no_nul(&p.source)).collect();
        let certs = &r.signing.certificates;
        let cert_col =
            |f: fn(&crate::formats::summary::Certificate) -> Option<&str>| -> Vec<Option<Cow<str>>> {
                certs.iter().map(|c| no_nul_opt(f(c))).collect()
            };
        let cert_sha: Vec<&str> = certs.iter().map(|c| c.sha256.as_str()).collect();
        let cert_debug: Vec<bool> = certs.iter().map(|c| c.debug).collect();
        let d = &r.diagnostics;
        let diag_level: Vec<&str> = d.iter().map(|d| level_name(d.level)).collect();
        let diag_code: Vec<_> = d.iter().map(|d| no_nul(&d.code)).collect();
        let diag_message: Vec<_> = d.iter().map(|d| no_nul(&d.message)).collect();
        let diag_location: Vec<_> = d.iter().map(|d| no_nul_opt(d.location.as_deref())).collect();
        let a = AttributionColumns::of(r);
        // The attribution arrays are $42-$54, as in `replace_attribution`
        // (where they are $2-$14).
        let head: &[&(dyn ToSql + Sync)] = &[
            &job.map(|j| j.0),
            &job.map(|j| j.1),
            sha,
            &i64_of(r.input.size),
            &r.input.kind.as_str(),
            &r.app.platform.map(|p| p.as_str()),
            &no_nul_opt(r.app.id.as_deref()),
            &no_nul_opt(r.app.name.as_deref()),
            &no_nul_opt(r.app.version.as_deref()),
            &no_nul_opt(r.app.version_code.as_deref()),
            &r.app.min_sdk.as_ref().map(|s| i64::from(s.api_or_preview())),
            &r.app.target_sdk.as_ref().map(|s| i64::from(s.api_or_preview())),
            &v.tool,
            &v.signatures,
            &r.verdict.as_ref().map(|v| v.decision.as_str()),
            &r.verdict.as_ref().map(|v| v.spy_sensitive),
            &dc.map(i64::from),
            &jur.map(i64::from),
            &i64_of(r.code.dex.len()),
            &i64_of(rec.classes),
            &i64_of(r.code.native.len()),
            &r.signing.verified,
            &i64_of(r.diagnostics.iter().filter(|d| d.level == Level::Error).count()),
            &i64_of(rec.scan_ms),
            &now_secs(),
            &r.verdict.as_ref().map(|v| v.policy.as_str()),
            &rec.report_blob,
            &rec.evidence_blob,
            &perm_name,
            &perm_protection,
            &perm_source,
            &cert_sha,
            &cert_col(|c| Some(c.subject.as_str())),
            &cert_col(|c| Some(c.issuer.as_str())),
            &cert_col(|c| c.organization.as_deref()),
            &cert_col(|c| c.country.as_deref()),
            &cert_debug,
            &diag_level,
            &diag_code,
            &diag_message,
            &diag_location,
        ];
        let path = no_nul(&rec.path);
        let tail: [&(dyn ToSql + Sync); 2] = [&path, &rec.mtime_ns];
        let params = [head, &a.params(), &tail].concat();
        let row = self.query_opt(STORE_APP, &params)?;
        Ok(row.is_some_and(|r| r.get::<_, i64>(0) > 0))
    }

    /// Records an input path: `analysed` / `duplicate` (its SHA-256 is
    /// stored) or `error` (with the message).
    #[allow(clippy::too_many_arguments)]
    pub fn put_input(
        &mut self,
        path: &str,
        size: u64,
        mtime_ns: i64,
        sha256: Option<&str>,
        status: &str,
        error: Option<&str>,
        v: &Versions,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO inputs(path, size, mtime_ns, sha256, status, error, tool_version, signatures_version, \
             scanned_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (path) DO UPDATE SET \
             size = excluded.size, mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, \
             status = excluded.status, error = excluded.error, tool_version = excluded.tool_version, \
             signatures_version = excluded.signatures_version, scanned_at = excluded.scanned_at",
            &[&no_nul(path), &i64_of(size), &mtime_ns, &sha256, &status, &no_nul_opt(error), &v.tool, &v.signatures, &now_secs()],
        )?;
        Ok(())
    }

    /// The rows a rescore replaces: SDKs, hosts, capabilities (the old ones
    /// deleted in the same statement).
    fn replace_attribution(&mut self, r: &Report) -> Result<()> {
        let a = AttributionColumns::of(r);
        self.execute(
            "WITH d1 AS (DELETE FROM sdks WHERE sha256 = $1), d2 AS (DELETE FROM hosts WHERE sha256 = $1), \
             d3 AS (DELETE FROM capabilities WHERE sha256 = $1), \
             s AS (INSERT INTO sdks(sha256, id, name, owner, country, categories) \
               SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])), \
             h AS (INSERT INTO hosts(sha256, host, domain, owner, country, evidence_total) \
               SELECT $1, * FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])) \
             INSERT INTO capabilities(sha256, id, declared, observed) \
               SELECT $1, * FROM unnest($12::text[], $13::bool[], $14::bool[])",
            &[&[&r.input.sha256 as &(dyn ToSql + Sync)][..], &a.params()].concat(),
        )?;
        Ok(())
    }

    /// Replaces an app's attribution and verdict after a rescore; its
    /// inputs become current under `signatures`. The blobs are rewritten
    /// only when the report changed (`report_blob`).
    pub fn put_attribution(
        &mut self,
        r: &Report,
        report_blob: Option<&[u8]>,
        signatures: &str,
    ) -> Result<()> {
        let sha = &r.input.sha256;
        if let Some(blob) = report_blob {
            self.replace_attribution(r)?;
            self.execute("UPDATE app_blobs SET report = $2 WHERE sha256 = $1", &[sha, &blob])?;
        }
        let (dc, jur) = scores(r);
        self.execute(
            "UPDATE apps SET signatures_version = $2, verdict = $3, spy_sensitive = $4, \
             data_collection_score = $5, jurisdiction_score = $6, policy = $7 WHERE sha256 = $1",
            &[
                sha,
                &signatures,
                &r.verdict.as_ref().map(|v| v.decision.as_str()),
                &r.verdict.as_ref().map(|v| v.spy_sensitive),
                &dc.map(i64::from),
                &jur.map(i64::from),
                &r.verdict.as_ref().map(|v| v.policy.as_str()),
            ],
        )?;
        self.execute(
            "UPDATE inputs SET signatures_version = $2 WHERE sha256 = $1 AND status != 'error' \
             AND signatures_version IS DISTINCT FROM $2",
            &[sha, &signatures],
        )?;
        Ok(())
    }

    /// An app's stored report and evidence blobs.
    pub fn read_blobs(&mut self, sha256: &str) -> Result<Option<crate::store::StoredApp>> {
        Ok(self
            .query_opt("SELECT report, evidence FROM app_blobs WHERE sha256 = $1", &[&sha256])?
            .map(|row| crate::store::StoredApp { report: row.get(0), evidence: row.get(1) }))
    }
}
