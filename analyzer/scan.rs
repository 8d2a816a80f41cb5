//! One input in, one report out: identifies the input by content and runs
//! the stages over it. Never prints; failures become diagnostics, and only
//! an input that cannot be analysed at all becomes a [`ScanError`].

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::android::{self, bundle, code, Role};
use crate::archive::zip::{Budget, Limits, ZipArchive};
use crate::archive::{self, ContainerKind, Sniffed};
use crate::evidence::hosts::HostExtractor;
use crate::evidence::AppEvidence;
use crate::ios;
use crate::policy::ExceptionSet;
use crate::report::{App, Code, Diagnostic, Input, InputKind, Report, Risk, Signing, Tool, SCHEMA};
use crate::risk::{RiskTables, TableError};
use crate::signatures::Database;

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

/// Per-input state threaded through the stages.
pub struct Context<'a> {
    pub db: &'a Database,
    /// `None`: the embedded tables, parsed only when an app is scored (an
    /// input that is not an app never pays for them).
    pub risk_tables: Option<&'a RiskTables>,
    pub limits: &'a Limits,
    pub budget: Budget,
    pub report: Report,
    pub evidence: AppEvidence,
    pub hosts: HostExtractor,
    /// Archive nesting depth of what is being read (0 = the input itself).
    pub depth: u32,
}

impl<'a> Context<'a> {
    fn new(db: &'a Database, risk_tables: Option<&'a RiskTables>, limits: &'a Limits, input: Input) -> Self {
        Context {
            db,
            risk_tables,
            limits,
            budget: Budget::new(limits),
            report: empty_report(db, input),
            evidence: AppEvidence::default(),
            hosts: HostExtractor::new(&[]),
            depth: 0,
        }
    }

    pub fn diag(&mut self, d: Diagnostic) {
        self.report.diagnostics.push(d);
    }

    /// Adds diagnostics from a parser of `entry` inside the archive at `prefix`.
    pub fn diags_at(&mut self, prefix: &str, entry: &str, diags: Vec<Diagnostic>) {
        for mut d in diags {
            let base = format!("{prefix}{entry}");
            let base = base.trim_end_matches('!');
            d.location = match (d.location.take(), base.is_empty()) {
                (Some(loc), true) => Some(loc),
                (Some(loc), false) if loc.starts_with(base) => Some(loc),
                (Some(loc), false) => Some(format!("{base}: {loc}")),
                (None, true) => None,
                (None, false) => Some(base.to_string()),
            };
            self.report.diagnostics.push(d);
        }
    }

    /// A context for an app embedded in this one, sharing the inflate budget.
    pub fn child(&mut self) -> Context<'a> {
        let mut c = Context::new(self.db, self.risk_tables, self.limits, self.report.input.clone());
        c.budget = Budget { remaining: self.budget.remaining };
        c.depth = self.depth + 1;
        c
    }

    /// Folds an embedded app's code, hosts and diagnostics into this report
    /// (its manifest facts stay in its `embedded[]` summary).
    pub fn absorb_child(&mut self, child: Context<'a>) {
        self.budget.remaining = child.budget.remaining;
        let r = child.report;
        self.report.code.dex.extend(r.code.dex);
        self.report.code.native.extend(r.code.native);
        self.report.diagnostics.extend(r.diagnostics);
        self.report.embedded.extend(r.embedded);
        self.evidence.units.extend(child.evidence.units);
        self.evidence.config_keys.extend(child.evidence.config_keys);
        self.evidence.entry_names.append(&child.evidence.entry_names);
        for h in child.hosts.finish() {
            for ev in &h.evidence {
                self.hosts.scan(&ev.source, ev.kind, &ev.value);
            }
        }
    }

    fn finish(mut self) -> ScanOutput {
        let (hosts, diags) = self.hosts.finish_with_diagnostics();
        self.report.hosts = hosts;
        self.report.diagnostics.extend(diags);
        let tables = self.risk_tables.unwrap_or_else(|| RiskTables::embedded());
        attribute_with_tables(self.db, tables, &mut self.report, &self.evidence);
        ScanOutput { report: self.report, evidence: self.evidence }
    }
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
    crate::signatures::attribution::attribute(db, report, evidence);
    // Risk and verdict come last: they read SDKs, hosts and everything above.
    crate::risk::assess(report, evidence, tables);
    report.verdict = Some(crate::policy::Policy::baseline().evaluate(report, &ExceptionSet::none()));
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn empty_report(db: &Database, input: Input) -> Report {
    Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: "appvet".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            signatures_version: db.version.clone(),
        },
        input,
        app: App::default(),
        permissions: Vec::new(),
        signing: Signing::default(),
        code: Code::default(),
        sdks: Vec::new(),
        hosts: Vec::new(),
        publisher: Default::default(),
        capabilities: Vec::new(),
        risk: Risk::default(),
        verdict: None,
        embedded: Vec::new(),
        diagnostics: Vec::new(),
    }
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
        // SAFETY: the map is read-only and private to this call; a file
        // truncated underneath us by another process could fault, which
        // store mirrors do not do to files being scanned.
        let map = unsafe { memmap2::Mmap::map(&file)? };
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
        let mut ctx = Context::new(&self.db, self.risk_tables.as_ref(), &self.limits, input);
        let file_name =
            Path::new(display_path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let sniffed = archive::sniff(data);
        // A ZIP trailer wins over a DEX/ELF magic: that is how Janus files are built.
        if sniffed == Sniffed::Zip || archive::has_zip_trailer(data) {
            match ZipArchive::parse(data, &self.limits) {
                Ok(zip) => {
                    scan_zip(&mut ctx, &zip, &file_name)?;
                    let r = ctx.finish();
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
        Ok(ctx.finish())
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
