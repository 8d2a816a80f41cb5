//! Writing result rows: one app (its row, blobs and child rows), an input
//! record, a rescored attribution. Child rows go in one statement per table
//! (arrays unnested server-side), so an app costs a fixed number of round
//! trips whatever its size.

use std::borrow::Cow;

use super::Conn;
use crate::report::{Level, Report};
use crate::store::{now_secs, scores, AppRecord, Result, Versions};

/// PostgreSQL text cannot hold NUL, which SQLite stores: a NUL in a string
/// a (hostile) app supplied becomes U+FFFD.
fn z(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn zo(s: Option<&str>) -> Option<Cow<'_, str>> {
    s.map(z)
}

fn i64_of(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

impl Conn {
    /// Stores one analysed app (replacing an older record of it) and the
    /// input path it came from.
    pub fn put_app(&mut self, rec: &AppRecord, v: &Versions) -> Result<()> {
        let r = &rec.report;
        let sha = &r.input.sha256;
        self.delete_children(sha, true)?;
        let (dc, jur) = scores(r);
        self.execute(
            "INSERT INTO apps(sha256, size, kind, platform, package, label, version, version_code, min_sdk, \
             target_sdk, tool_version, signatures_version, verdict, spy_sensitive, data_collection_score, \
             jurisdiction_score, dex_files, classes, native_libs, signing_verified, diagnostic_errors, scan_ms, \
             scanned_at, policy) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23, $24) \
             ON CONFLICT (sha256) DO UPDATE SET size = excluded.size, kind = excluded.kind, \
             platform = excluded.platform, package = excluded.package, label = excluded.label, \
             version = excluded.version, version_code = excluded.version_code, min_sdk = excluded.min_sdk, \
             target_sdk = excluded.target_sdk, tool_version = excluded.tool_version, \
             signatures_version = excluded.signatures_version, verdict = excluded.verdict, \
             spy_sensitive = excluded.spy_sensitive, data_collection_score = excluded.data_collection_score, \
             jurisdiction_score = excluded.jurisdiction_score, dex_files = excluded.dex_files, \
             classes = excluded.classes, native_libs = excluded.native_libs, \
             signing_verified = excluded.signing_verified, diagnostic_errors = excluded.diagnostic_errors, \
             scan_ms = excluded.scan_ms, scanned_at = excluded.scanned_at, policy = excluded.policy",
            &[
                sha,
                &i64_of(r.input.size),
                &r.input.kind.as_str(),
                &r.app.platform.map(|p| p.as_str()),
                &zo(r.app.id.as_deref()),
                &zo(r.app.name.as_deref()),
                &zo(r.app.version.as_deref()),
                &zo(r.app.version_code.as_deref()),
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
            ],
        )?;
        self.execute(
            "INSERT INTO app_blobs(sha256, report, evidence) VALUES($1, $2, $3) \
             ON CONFLICT (sha256) DO UPDATE SET report = excluded.report, evidence = excluded.evidence",
            &[sha, &rec.report_blob, &rec.evidence_blob],
        )?;
        self.insert_children(r)?;
        self.put_input(&rec.path, r.input.size, rec.mtime_ns, Some(sha), "analysed", None, v)
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
            &[&z(path), &i64_of(size), &mtime_ns, &sha256, &status, &zo(error), &v.tool, &v.signatures, &now_secs()],
        )?;
        Ok(())
    }

    fn delete_children(&mut self, sha: &str, all: bool) -> Result<()> {
        self.execute("DELETE FROM sdks WHERE sha256 = $1", &[&sha])?;
        self.execute("DELETE FROM hosts WHERE sha256 = $1", &[&sha])?;
        self.execute("DELETE FROM capabilities WHERE sha256 = $1", &[&sha])?;
        if all {
            self.execute("DELETE FROM permissions WHERE sha256 = $1", &[&sha])?;
            self.execute("DELETE FROM certificates WHERE sha256 = $1", &[&sha])?;
            self.execute("DELETE FROM diagnostics WHERE sha256 = $1", &[&sha])?;
        }
        Ok(())
    }

    fn insert_children(&mut self, r: &Report) -> Result<()> {
        let sha = &r.input.sha256;
        if !r.permissions.is_empty() {
            let names: Vec<_> = r.permissions.iter().map(|p| z(&p.name)).collect();
            let prot: Vec<_> = r.permissions.iter().map(|p| zo(p.protection.as_deref())).collect();
            let src: Vec<_> = r.permissions.iter().map(|p| z(&p.source)).collect();
            self.execute(
                "INSERT INTO permissions(sha256, name, protection, source) \
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])",
                &[sha, &names, &prot, &src],
            )?;
        }
        let certs = &r.signing.certificates;
        if !certs.is_empty() {
            let col =
                |f: fn(&crate::formats::summary::Certificate) -> Option<&str>| -> Vec<Option<Cow<str>>> {
                    certs.iter().map(|c| zo(f(c))).collect()
                };
            let cert_sha: Vec<&str> = certs.iter().map(|c| c.sha256.as_str()).collect();
            let debug: Vec<bool> = certs.iter().map(|c| c.debug).collect();
            self.execute(
                "INSERT INTO certificates(sha256, cert_sha256, subject, issuer, organization, country, debug) \
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[])",
                &[
                    sha,
                    &cert_sha,
                    &col(|c| Some(c.subject.as_str())),
                    &col(|c| Some(c.issuer.as_str())),
                    &col(|c| c.organization.as_deref()),
                    &col(|c| c.country.as_deref()),
                    &debug,
                ],
            )?;
        }
        if !r.diagnostics.is_empty() {
            let d = &r.diagnostics;
            let level: Vec<&str> = d
                .iter()
                .map(|d| match d.level {
                    Level::Info => "info",
                    Level::Warning => "warning",
                    Level::Error => "error",
                })
                .collect();
            let code: Vec<_> = d.iter().map(|d| z(&d.code)).collect();
            let message: Vec<_> = d.iter().map(|d| z(&d.message)).collect();
            let location: Vec<_> = d.iter().map(|d| zo(d.location.as_deref())).collect();
            self.execute(
                "INSERT INTO diagnostics(sha256, level, code, message, location) \
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])",
                &[sha, &level, &code, &message, &location],
            )?;
        }
        self.insert_attribution(r)
    }

    /// The rows a rescore replaces: SDKs, hosts, capabilities.
    fn insert_attribution(&mut self, r: &Report) -> Result<()> {
        let sha = &r.input.sha256;
        if !r.sdks.is_empty() {
            let s = &r.sdks;
            let id: Vec<_> = s.iter().map(|s| z(&s.id)).collect();
            let name: Vec<_> = s.iter().map(|s| z(&s.name)).collect();
            let owner: Vec<_> = s.iter().map(|s| zo(s.owner.as_deref())).collect();
            let country: Vec<_> = s.iter().map(|s| zo(s.country.as_deref())).collect();
            let categories: Vec<String> = s.iter().map(|s| z(&s.categories.join(",")).into_owned()).collect();
            self.execute(
                "INSERT INTO sdks(sha256, id, name, owner, country, categories) \
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
                &[sha, &id, &name, &owner, &country, &categories],
            )?;
        }
        if !r.hosts.is_empty() {
            let h = &r.hosts;
            let host: Vec<_> = h.iter().map(|h| z(&h.host)).collect();
            let domain: Vec<_> = h.iter().map(|h| zo(h.domain.as_deref())).collect();
            let owner: Vec<_> = h.iter().map(|h| zo(h.owner.as_deref())).collect();
            let country: Vec<_> = h.iter().map(|h| zo(h.country.as_deref())).collect();
            let total: Vec<i64> = h.iter().map(|h| i64::from(h.evidence_total)).collect();
            self.execute(
                "INSERT INTO hosts(sha256, host, domain, owner, country, evidence_total) \
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
                &[sha, &host, &domain, &owner, &country, &total],
            )?;
        }
        if !r.capabilities.is_empty() {
            let c = &r.capabilities;
            let id: Vec<_> = c.iter().map(|c| z(&c.id)).collect();
            let declared: Vec<bool> = c.iter().map(|c| c.declared).collect();
            let observed: Vec<bool> = c.iter().map(|c| c.observed).collect();
            self.execute(
                "INSERT INTO capabilities(sha256, id, declared, observed) \
                 SELECT $1, * FROM unnest($2::text[], $3::bool[], $4::bool[])",
                &[sha, &id, &declared, &observed],
            )?;
        }
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
            self.delete_children(sha, false)?;
            self.insert_attribution(r)?;
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
