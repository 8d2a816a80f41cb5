//! One input in, one report out: identifies the input by content and runs
//! the stages over it. Never prints; failures become diagnostics, and only
//! an input that cannot be analysed at all becomes a [`ScanError`].

use std::path::Path;

use crate::android::{self, bundle, code, Role};
use crate::archive::zip::{Limits, ZipArchive};
use crate::archive::{self, ContainerKind, Sniffed};
use crate::context::{sha256_hex, Context};
use crate::database::Database;
use crate::evidence::AppEvidence;
use crate::ios;
use crate::policy::ExceptionSet;
use crate::report::{Input, InputKind, Report};
use crate::risk::{RiskTables, TableError};

/// Why an input yielded no report at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not an app or binary appvet understands ({0})")]
    UnknownFormat(String),
}

/// A finished analysis: the report and the evidence later stages match.
pub struct ScanOutput {
    pub report: Report,
    pub evidence: AppEvidence,
}

/// Analyses inputs with one signature database; shared by all workers.
pub struct Scanner {
    pub db: Database,
    pub limits: Limits,
    /// Capability and weight tables; `None` means the embedded ones.
    pub risk_tables: Option<RiskTables>,
}

/// Maps an input file read-only: apps are read in place, never copied or
/// extracted. The project's one unsafe block.
pub fn map_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and private to its caller; a file
    // truncated underneath us by another process could fault, which store
    // mirrors do not do to files being scanned.
    #[allow(unsafe_code)]
    unsafe {
        memmap2::Mmap::map(file)
    }
}

/// Runs the post-scan stages over what the platform stage gathered.
/// `tables` are the embedded ones unless `--signatures DIR` gave others;
/// they are parsed only here, so an input that is not an app never pays for them.
fn finish(mut ctx: Context, tables: Option<&RiskTables>) -> ScanOutput {
    let db = ctx.db;
    let (hosts, diags) = ctx.hosts.finish_with_diagnostics(|host| {
        db.entities.domain_owner(host).is_some() || db.sdks.match_host(host).is_some()
    });
    ctx.report.hosts = hosts;
    ctx.report.diagnostics.extend(diags);
    let tables = tables.unwrap_or_else(|| RiskTables::embedded());
    attribute_with_tables(ctx.db, tables, &mut ctx.report, &ctx.evidence);
    ScanOutput { report: ctx.report, evidence: ctx.evidence }
}

/// The post-scan stage that derives everything the signature database
/// decides (SDK matches, owners and countries of SDKs and hosts, scores,
/// verdict) from the evidence and the facts already in `report`. It must
/// depend on nothing but its arguments: `appvet rescore` rebuilds `report`
/// and `evidence` from a results database and calls it again under a newer
/// signature database, without reading the app.
pub fn attribute(db: &Database, report: &mut Report, evidence: &AppEvidence) {
    attribute_with_tables(db, crate::risk::RiskTables::embedded(), report, evidence);
}

/// [`attribute`] with risk tables other than the embedded ones (`--signatures DIR`).
pub fn attribute_with_tables(
    db: &Database,
    tables: &crate::risk::RiskTables,
    report: &mut Report,
    evidence: &AppEvidence,
) {
    report.tool.signatures_version = db.version.clone();
    crate::attribution::attribute(db, report, evidence);
    // Risk and verdict come last: they read SDKs, hosts and everything above.
    crate::risk::assess(db, report, evidence, tables);
    report.analysis = crate::policy::completeness::assess(report);
    report.verdict = Some(crate::policy::Policy::baseline().evaluate(report, &ExceptionSet::none()));
}

impl Scanner {
    /// The embedded risk tables and policy presets are parsed on first use.
    pub fn new(db: Database, limits: Limits) -> Self {
        Scanner { db, limits, risk_tables: None }
    }

    /// Uses the risk tables of a signature directory (`--signatures DIR`):
    /// each table file present in `dir` replaces the embedded one, so a
    /// directory holding only `risk/weights.toml` still works. `None` keeps
    /// the embedded tables.
    pub fn with_signature_dir(mut self, dir: Option<&Path>) -> Result<Self, TableError> {
        if let Some(dir) = dir {
            self.risk_tables = Some(RiskTables::load_dir_over_embedded(dir)?);
        }
        Ok(self)
    }

    /// The risk tables this scanner applies.
    pub fn risk_tables(&self) -> &RiskTables {
        self.risk_tables.as_ref().unwrap_or_else(|| RiskTables::embedded())
    }

    /// Memory-maps and analyses one file.
    pub fn scan_path(&self, path: &Path) -> Result<ScanOutput, ScanError> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(ScanError::UnknownFormat("a directory".into()));
        }
        if meta.len() == 0 {
            return Err(ScanError::UnknownFormat("empty file".into()));
        }
        let map = map_file(&file)?;
        self.scan_bytes(&map, &path.display().to_string())
    }

    /// Analyses an input held in memory; `display_path` names it in the report.
    pub fn scan_bytes(&self, data: &[u8], display_path: &str) -> Result<ScanOutput, ScanError> {
        self.scan_bytes_hashed(data, display_path, sha256_hex(data))
    }

    /// Like [`Scanner::scan_bytes`] for a caller that already hashed `data`
    /// (the batch runner hashes first to skip inputs it has stored).
    pub fn scan_bytes_hashed(
        &self,
        data: &[u8],
        display_path: &str,
        sha256: String,
    ) -> Result<ScanOutput, ScanError> {
        let input = Input {
            path: display_path.to_string(),
            sha256,
            size: data.len() as u64,
            kind: InputKind::Unknown,
        };
        let mut ctx = Context::new(&self.db, &self.limits, input);
        // Call sites are recorded for the APIs the capability tables name.
        let tables = self.risk_tables();
        let sensitive = |api: &str| tables.apis.contains_key(api);
        ctx.sensitive_apis = &sensitive;
        let file_name =
            Path::new(display_path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let sniffed = archive::sniff(data);
        // A ZIP trailer wins over a DEX/ELF magic: that is how Janus files are built.
        if sniffed == Sniffed::Zip || archive::has_zip_trailer(data) {
            match ZipArchive::parse(data, &self.limits) {
                Ok(zip) => {
                    scan_zip(&mut ctx, &zip, &file_name)?;
                    let r = finish(ctx, self.risk_tables.as_ref());
                    return Ok(r);
                }
                Err(e) if sniffed == Sniffed::Zip => {
                    return Err(ScanError::UnknownFormat(format!("damaged ZIP: {e}")))
                }
                Err(_) => {}
            }
        }
        match sniffed {
            Sniffed::Dex => {
                ctx.report.input.kind = InputKind::Dex;
                code::add_dex(&mut ctx, &file_name, data, true);
            }
            Sniffed::Elf => {
                ctx.report.input.kind = InputKind::Elf;
                code::add_native(&mut ctx, &file_name, data, None);
            }
            Sniffed::Macho => {
                ctx.report.input.kind = InputKind::Macho;
                ios::analyze_bare_macho(&mut ctx, &file_name, data);
            }
            Sniffed::Zip | Sniffed::Unknown => {
                return Err(ScanError::UnknownFormat(describe_unknown(data)));
            }
        }
        Ok(finish(ctx, self.risk_tables.as_ref()))
    }
}

fn describe_unknown(data: &[u8]) -> String {
    let head: String = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes starting {head}", data.len())
}

fn scan_zip(ctx: &mut Context, zip: &ZipArchive, file_name: &str) -> Result<(), ScanError> {
    match archive::classify_zip(zip, file_name) {
        ContainerKind::Apk => {
            ctx.report.input.kind = InputKind::Apk;
            android::analyze_apk(ctx, zip, "", Role::Base, false);
        }
        ContainerKind::Aab => {
            ctx.report.input.kind = InputKind::Aab;
            android::analyze_apk(ctx, zip, "", Role::Base, true);
        }
        ContainerKind::Bundle(kind) => {
            ctx.report.input.kind = if kind == "xapk" { InputKind::Xapk } else { InputKind::Apks };
            bundle::analyze_bundle(ctx, zip);
        }
        kind @ (ContainerKind::Ipa | ContainerKind::App) => {
            ctx.report.input.kind = if kind == ContainerKind::Ipa { InputKind::Ipa } else { InputKind::App };
            ios::analyze_zip(ctx, zip);
        }
        ContainerKind::Unknown => {
            return Err(ScanError::UnknownFormat(format!(
                "a ZIP archive with {} entries but no app inside",
                zip.entries.len()
            )));
        }
    }
    Ok(())
}
